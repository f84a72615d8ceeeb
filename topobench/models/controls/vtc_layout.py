"""VTC controls: the VTC units of a real network laid out in the human arrangement.

``control-vtc-efficientnet-lite0-human-layout``: the units of
``efficientnet-lite0-imagenet``'s VTC layer (``_blocks.15``, 320 x 7 x 7 =
15,680 units at 224 px over 8 degrees; same weights, same preprocessing) placed
on the 70 mm VTC sheet so that face-, body-, character- and place-selective
units form the arrangement of human ventral temporal cortex (Grill-Spector &
Weiner 2014): two face patches, a body patch between them, characters lateral
and next to faces and bodies, places medial and far from faces. The positions
are a permutation of the layer's default retinotopic positions (seed 0): the
same points on the sheet, other units at them.

**Fitted on images no benchmark scores** (``make_positions``): greyscale
(fLoc is greyscale), square centre crops shown over the 8-degree field, from
the data host's ``more_training_images`` (faces: UTKFace crops; places: the
Intel scenes, 40 of each of its 6 classes; characters: Chars74K) and
``imagenet_sample`` (bodies: its 33 photographs of clothed people, classes in
``BODY_CLASSES``, the only bodies the host has; objects: 240 photographs of
other man-made object classes, 409 to 969). A unit's selectivity for a domain is d' of
its responses to that domain's images against all the others. Each region of
the template (``TEMPLATE``) takes as many units as it has positions: faces
first, then bodies, characters and places, each the not yet placed units with
the highest d' for its domain, the most selective nearest the region's core;
every other unit goes to the remaining positions at random (seed 0).

The positions ship as ``positions/vtc_human_layout.npz`` (their provenance
records the images, counts and template); ``python -m
topobench.models.controls.make_vtc_positions`` makes them again. Scoring is on the fLoc
images (``GrillSpector2014.VTC-patch_organization``), which played no part.

``control-vtc-efficientnet-lite0-human-layout-shuffled``: the same units at
those positions permuted (seed 1).
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

from topobench.errors import ModelError

IDENTIFIER = "control-vtc-efficientnet-lite0-human-layout"
SHUFFLED_IDENTIFIER = f"{IDENTIFIER}-shuffled"
REGION = "VTC"
LAYER = "_blocks.15"
SHEET_MM = 70.0
POSITIONS_FILE = Path(__file__).parent / "positions" / "vtc_human_layout.npz"
SEED = 0
SHUFFLE_SEED = 1
FIT_SIZE_PX = 112
N_PER_DOMAIN = 240
#: imagenet_sample classes whose photographs show clothed people: the host's only bodies
BODY_CLASSES = ("abaya", "academic_gown", "apron", "bikini", "brassiere", "bulletproof_vest", "cardigan", "cloak",
                "diaper", "fur_coat", "gown", "hoopskirt", "jean", "jersey", "kimono", "lab_coat", "maillot",
                "military_uniform", "miniskirt", "overskirt", "pajama", "poncho", "sarong", "stole", "suit",
                "sweatshirt", "swimming_trunks", "trench_coat", "vestment", "ballplayer", "groom", "scuba_diver")
#: the template on the 70 mm sheet (x lateral): region -> discs (x, y, radius mm), or a medial strip
#: (chosen among three candidates by the score of GrillSpector2014's measurement on the *fitting* images:
#: 0.72, against 0.66 and 0.63; fLoc played no part)
TEMPLATE = {
    "faces": {"discs": [(48.0, 16.0, 8.0), (48.0, 54.0, 8.0)]},
    "bodies": {"discs": [(48.0, 35.0, 8.0)]},
    "characters": {"discs": [(56.0, 35.0, 16.0)]},   # what faces and bodies leave of it: a lateral crescent
    "places": {"strip_x_below": 15.0},
}
DOMAINS = ("faces", "bodies", "characters", "places", "objects")


def template_labels(positions) -> np.ndarray:
    """The template's region at each position ('' outside every region); earlier regions take overlaps."""
    positions = np.asarray(positions, dtype=np.float64)
    labels = np.full(len(positions), "", dtype=object)
    for region, shape in TEMPLATE.items():
        if "discs" in shape:
            inside = np.zeros(len(positions), dtype=bool)
            for x, y, radius in shape["discs"]:
                inside |= np.hypot(positions[:, 0] - x, positions[:, 1] - y) <= radius
        else:
            inside = positions[:, 0] < shape["strip_x_below"]
        labels[(labels == "") & inside] = region
    return labels


def _coreness(positions, region: str) -> np.ndarray:
    """Distance from the region's core (nearest disc centre; the medial edge for the strip): small = core."""
    shape = TEMPLATE[region]
    if "discs" in shape:
        return np.min([np.hypot(positions[:, 0] - x, positions[:, 1] - y) for x, y, _ in shape["discs"]], axis=0)
    return positions[:, 0]


def layout(selectivity: dict, positions, seed: int = SEED) -> tuple[np.ndarray, dict]:
    """Positions per unit (a permutation of ``positions``) from per-domain d' (``{domain: (n,)}``)."""
    positions = np.asarray(positions, dtype=np.float64)
    n = len(positions)
    labels = template_labels(positions)
    placed = np.full(n, -1)            # unit -> slot
    free_units = np.ones(n, dtype=bool)
    counts = {}
    for region in TEMPLATE:
        slots = np.flatnonzero(labels == region)
        slots = slots[np.argsort(_coreness(positions[slots], region), kind="stable")]
        candidates = np.flatnonzero(free_units)
        order = candidates[np.argsort(-selectivity[region][candidates], kind="stable")][:len(slots)]
        placed[order] = slots
        free_units[order] = False
        counts[region] = {"units": int(len(slots)),
                          "least_dprime": float(selectivity[region][order].min()) if len(order) else None,
                          "median_dprime": float(np.median(selectivity[region][order])) if len(order) else None}
    rest_slots = np.flatnonzero(labels == "")
    rest_units = np.flatnonzero(free_units)
    placed[rest_units] = np.random.default_rng(seed).permutation(rest_slots)
    assert (np.sort(placed) == np.arange(n)).all()
    return positions[placed], counts


def dprime(responses: np.ndarray, labels: np.ndarray) -> dict:
    """Per domain: d' of each unit, that domain's images against all others (pooled s.d.)."""
    result = {}
    for domain in DOMAINS:
        on, off = responses[labels == domain], responses[labels != domain]
        spread = np.sqrt((on.var(axis=0) + off.var(axis=0)) / 2.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = (on.mean(axis=0) - off.mean(axis=0)) / spread
        result[domain] = np.nan_to_num(value, nan=0.0)
    return result


def fitting_stimuli(n_per_domain: int = N_PER_DOMAIN, seed: int = SEED):
    """The fitting images (written once under TOPOBENCH_HOME) as a stimulus set with a ``domain`` column."""
    import csv

    import pandas as pd
    from PIL import Image

    from topobench.data_client import fetch, topobench_home
    from topobench.stimuli.base import make_stimulus_set
    rng = np.random.default_rng(seed)
    chosen = []   # (domain, source, member)
    table_path = fetch("more_training_images", "more_training_images.csv")
    with open(table_path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_kind = {}
    for row in rows:
        by_kind.setdefault(row["kind"], []).append(row["filename"])
    more = fetch("more_training_images", "more_training_images_80px.zip")
    for domain, kind in (("faces", "faces"), ("characters", "characters")):
        names = sorted(by_kind[kind])
        chosen += [(domain, more, name) for name in rng.choice(names, n_per_domain, replace=False)]
    scenes = sorted(by_kind["scenes"])
    classes = sorted({name.split("/")[-2] for name in scenes})
    per_class = n_per_domain // len(classes)
    for cls in classes:
        members = [name for name in scenes if name.split("/")[-2] == cls]
        chosen += [("places", more, name) for name in rng.choice(members, per_class, replace=False)]
    imagenet = fetch("imagenet_sample", "imagenet_sample_144px.zip")
    with zipfile.ZipFile(imagenet) as archive:
        members = sorted(name for name in archive.namelist() if name.endswith(".JPEG"))
    def class_of(name):
        return Path(name).stem.split("_", 1)[1]
    bodies = [name for name in members if class_of(name) in BODY_CLASSES]
    # man-made objects: ImageNet classes 409 to 969 (the class order is the files' order) that are not bodies
    objects = [name for index, name in enumerate(members) if 409 <= index < 970 and name not in bodies]
    chosen += [("bodies", imagenet, name) for name in bodies]
    chosen += [("objects", imagenet, name) for name in rng.choice(objects, n_per_domain, replace=False)]
    folder = topobench_home() / "stimuli" / f"vtc_control_fit-{n_per_domain}-{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    records, paths, archives = [], {}, {}
    for index, (domain, archive_path, member) in enumerate(chosen):
        stimulus_id = f"fit-{index:04d}-{domain}"
        path = folder / f"{stimulus_id}.png"
        if not path.is_file():
            archive = archives.get(archive_path) or archives.setdefault(archive_path, zipfile.ZipFile(archive_path))
            with Image.open(io.BytesIO(archive.read(member))) as image:
                image = image.convert("L")
                side = min(image.size)
                left, top = (image.size[0] - side) // 2, (image.size[1] - side) // 2
                image = image.crop((left, top, left + side, top + side)).resize((FIT_SIZE_PX, FIT_SIZE_PX),
                                                                                 Image.BILINEAR)
                temporary = path.with_suffix(".tmp.png")
                image.convert("RGB").save(temporary)
                temporary.replace(path)
        paths[stimulus_id] = path
        records.append({"stimulus_id": stimulus_id, "domain": domain, "source": Path(archive_path).name,
                        "member": member, "degrees": 8.0})
    for archive in archives.values():
        archive.close()
    return make_stimulus_set(pd.DataFrame(records), paths, f"topobench.vtc_control_fit-{n_per_domain}-{seed}")


def make_positions(out: Path = POSITIONS_FILE, n_per_domain: int = N_PER_DOMAIN, seed: int = SEED):
    """Record the network on the fitting images, lay its VTC units out by the template, save the positions."""
    from topobench.models.efficientnet_lite0_imagenet.model import build as build_network
    network = build_network()
    start = network.layer_positions(REGION)
    stimuli = fitting_stimuli(n_per_domain, seed)
    responses = network.activations(stimuli, LAYER)
    labels = stimuli["domain"].to_numpy()
    selectivity = dprime(responses, labels)
    coordinates, counts = layout(selectivity, start.coordinates, seed)
    from topobench.positions import LayerPositions
    provenance = {
        "placement": "control: human VTC arrangement", "family": "controls",
        "network": "efficientnet-lite0-imagenet", "layer": LAYER,
        "start": "TDANN default retinotopic placement (seed 0) on the 70 mm sheet; these positions permute it",
        "stimuli": {domain: int((labels == domain).sum()) for domain in DOMAINS},
        "stimulus_sources": {"faces": "more_training_images (UTKFace crops)",
                             "places": "more_training_images (Intel scenes, equal per class)",
                             "characters": "more_training_images (Chars74K)",
                             "bodies": f"imagenet_sample classes {', '.join(BODY_CLASSES)}",
                             "objects": "imagenet_sample, classes 409 to 969 (man-made objects), not bodies"},
        "stimuli_identifier": stimuli.identifier, "stimuli_content_hash": stimuli.content_hash,
        "preprocessing": "greyscale, square centre crop, 112 px, shown over the 8-degree field",
        "selectivity": "d' of each domain's images against all other fitting images",
        "template": TEMPLATE, "region_counts": counts,
        "n_selective_fitting_dprime_above_1": {domain: int((selectivity[domain] > 1).sum()) for domain in DOMAINS},
        "seed": seed, "scored_on": "fLoc (no image of it used here)",
    }
    positions = LayerPositions(LAYER, start.dims, coordinates, SHEET_MM, provenance)
    positions.save(out)
    return positions


def _positions():
    from topobench.positions import LayerPositions
    if not POSITIONS_FILE.is_file():
        raise ModelError(f"{IDENTIFIER}: positions file {POSITIONS_FILE} is missing; make it with "
                         f"python -m topobench.models.controls.make_vtc_positions")
    return LayerPositions.load(POSITIONS_FILE)


def _model(identifier: str, positions):
    from topobench.model_interface import PytorchModel
    from topobench.models.efficientnet_lite0_imagenet.model import (IMAGE_SIZE, MEAN, STD, VISUAL_DEGREES,
                                                                     load_network)
    model = PytorchModel(load_network(), identifier, {REGION: LAYER}, visual_degrees=VISUAL_DEGREES,
                         image_size=IMAGE_SIZE, positions={LAYER: positions}, mean=MEAN, std=STD)
    model.family = "controls"
    return model


def build():
    return _model(IDENTIFIER, _positions())


def shuffled_positions(positions=None):
    from topobench.positions import LayerPositions
    positions = positions or _positions()
    permutation = np.random.default_rng(SHUFFLE_SEED).permutation(positions.n_units)
    provenance = dict(positions.provenance, placement="control: human VTC arrangement, shuffled",
                      shuffle_seed=SHUFFLE_SEED,
                      note=f"the units of {IDENTIFIER} at its positions permuted: unit i sits where unit "
                           f"permutation[i] sits there")
    return LayerPositions(positions.name, positions.dims, positions.coordinates[permutation],
                          positions.sheet_side_mm, provenance)


def build_shuffled():
    return _model(SHUFFLED_IDENTIFIER, shuffled_positions())

