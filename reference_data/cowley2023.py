"""Macaque V4 responses to natural and synthetic images (Cowley, Stan, Pillow & Smith 2023).

Cowley, B. R., Stan, P. L., Pillow, J. W. & Smith, M. A. (2023). Compact deep
neural network models of visual cortex. bioRxiv 2023.11.22.568315
(https://doi.org/10.1101/2023.11.22.568315); data: github.com/cowleygroup/V4_compact_models
(GPL-3.0), ``data_V4_responses/``.

The data host (dataset ``cowley2023_v4``) holds the 12 sessions whose images
survived upstream: per session ``images/images_<s>.zip`` (112 x 112 RGB JPEGs
``image0001.jpg`` ...) and ``responses_repeat_averaged/responses_<s>.npy``
(neurons x images, spike counts in one 100 ms bin, averaged over repeats);
session 210325 also has ``responses_raw/responses_210325.npy`` (neurons x images
x repeats, NaN-padded). ``images[i]`` and ``responses[:, i]`` correspond, with
images read in file-name order (the authors' own loader asks for
``image{i:04d}.jpg``): the zip of 190925 is not stored in that order, and the
zip of 190923 keeps its files in a folder.

**Visual angle.** Neither the data host nor the readme gives the images' visual
angle. ``IMAGE_DEGREES`` (8 degrees) is assumed: the images fill the field of a
model with Brain-Score's and TDANN's default field (8 degrees over the input),
as they filled the 224 px input of the authors' own task-driven models. The
model places each image by this angle (``topobench.preprocessing.place_on_field``):
a model whose input spans 8 degrees sees the 112 px image resized to its whole
input; one whose input spans more sees it smaller, centred on mid-grey. A
benchmark may state another angle (``degrees=``).

Checked here (``tests/test_cowley_reference.py``), beyond the readme:

- Every session's files hold as many images as its response array has columns;
  the readme's table lists 900 images for 190925-190929, but those files hold
  1,200. In 190925 images 901-1200 are byte-identical to images 1-300 (their
  repeat-averaged responses correlate at 0.93 against 0.54 for unrelated
  images); in 190927-190929 all 1,200 are distinct, and which of them are the
  readme's "active learning" images is not recorded (``image_type`` says so).
- Session 210621 shows two images twice (byte-identical: 101 = 536, 425 = 697).
- Session 210322's images 601-1200 are byte-identical to 210325's images 1-600
  (the Bashivan et al. 2019 images); 210325's images 601-640 are its own.
- Session 210305 ("validation experiments") shows 100 images and, for 100 of
  them, copies with local patches blurred; such near-duplicates are grouped
  with their original (``image_group``, see below) so that no fold is tested on
  an image whose near-copy it was fitted on.
- Session 210325 has 6 to 10 repeats per image (the same count for every
  neuron; 50 neurons, 640 images); its repeat-averaged file is the mean of the
  raw file over repeats. Spike counts are integers 0 to 15 per 100 ms bin,
  Fano factors 0.4 to 1.0.

**Image groups.** ``content_group``: images with identical bytes share it
(the first image index of the set). ``image_group``: connected components of
images whose pixels (RGB, resized to ``NEAR_DUPLICATE_SIZE_PX``) correlate at
``NEAR_DUPLICATE_CORRELATION`` or more, or whose bytes are identical. Folds of
the neural predictivity metric are grouped by ``image_group``. At the 0.9
threshold this joins each byte-identical pair, the blurred variants of 210305
with their originals (200 groups of 400 images), and a few unrelated but
similar images elsewhere (smooth skies, same-background Bashivan images; at most
13 images in a group), which only makes the folds more conservative.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

DATASET = "cowley2023_v4"
#: Assumed visual angle (degrees) of every 112 px image (see the module docstring).
IMAGE_DEGREES = 8.0
IMAGE_SIZE_PX = 112
#: Images whose downsampled pixels correlate at least this much share an ``image_group``.
NEAR_DUPLICATE_CORRELATION = 0.9
NEAR_DUPLICATE_SIZE_PX = 56
#: The session with per-repeat responses (Bashivan et al. 2019 images).
REPEATED_SESSION = "210325"
#: The session the authors kept for choosing hyperparameters ("validation").
VALIDATION_SESSION = "210224"
#: Bumped when the extracted files or the derived table change.
_EXTRACT_VERSION = 1


@dataclass(frozen=True)
class Session:
    """One row of the authors' table (``readme.txt``)."""
    session: str
    animal: str
    role: str  # the authors' train / test / validation split
    n_neurons: int
    repeats_per_image: int  # as the readme gives it (a typical count)
    n_images_readme: int
    image_types_readme: str


#: The readme's rows for the 12 sessions on the data host.
SESSIONS = {row.session: row for row in [
    Session("190923", "WE", "test", 33, 14, 1200, "normal (1,200)"),
    Session("190925", "WE", "train", 36, 14, 900, "normal (600), active learning (300)"),
    Session("190927", "WE", "train", 31, 11, 900, "normal (600), active learning (300)"),
    Session("190928", "WE", "train", 24, 13, 900, "normal (600), active learning (300)"),
    Session("190929", "WE", "train", 33, 15, 900, "normal (600), active learning (300)"),
    Session("201025", "PE", "test", 89, 12, 1200, "normal (1,200)"),
    Session("210224", "PE", "validation", 67, 9, 800, "normal (800)"),
    Session("210225", "PE", "test", 55, 6, 1200, "normal (1,200)"),
    Session("210305", "PE", "train", 70, 22, 400, "validation exps. (400)"),
    Session("210322", "PE", "train", 59, 4, 1200, "normal (600), Bashivan et al., 2019 (600)"),
    Session("210325", "PE", "test", 50, 8, 640, "Bashivan et al., 2019 (640)"),
    Session("210621", "RA", "train", 51, 16, 1200, "normal (1,200)"),
]}
SESSION_IDS = tuple(SESSIONS)


def _check_session(session) -> str:
    session = str(session)
    if session not in SESSIONS:
        from topobench.errors import DataError
        raise DataError(f"Cowley 2023 session '{session}' is not on the data host; "
                        f"choose from {', '.join(SESSION_IDS)}")
    return session


def image_types(session: str, n_images: int) -> np.ndarray:
    """Image type per image where the readme (and the checks above) fix it.

    Single-type sessions take that type. 190925: images 901-1200 repeat 1-300 and
    keep their type; which 300 of the first 900 are "active learning" is not
    recorded. 210322: images 601-1200 are the Bashivan et al. 2019 images shown
    again in 210325, so 1-600 are its "normal" images.
    """
    session = _check_session(session)
    single = {"190923": "normal", "201025": "normal", "210224": "normal", "210225": "normal",
              "210305": "validation_experiment", "210325": "bashivan2019", "210621": "normal"}
    if session in single:
        return np.repeat(single[session], n_images).astype(object)
    if session == "210322":
        return np.array(["normal"] * 600 + ["bashivan2019"] * (n_images - 600), dtype=object)
    # 190925-190929: the readme's 600 normal + 300 active-learning images, not told apart
    return np.repeat("normal_or_active_learning", n_images).astype(object)


# ----------------------------------------------------------------------------- images
def _image_number(name: str) -> int:
    stem = Path(name).stem  # image0001
    return int(stem.replace("image", ""))


def _extract(session: str) -> Path:
    """Folder with ``image0001.jpg`` ... of ``session`` (flattened), extracted once."""
    from topobench.data_client import fetch, topobench_home

    archive = fetch(DATASET, f"images/images_{session}.zip")
    folder = topobench_home() / "stimuli" / DATASET / session
    marker = folder / ".complete"
    stamp = f"v{_EXTRACT_VERSION}"
    if marker.is_file() and marker.read_text() == stamp:
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{session}."))
    try:
        with zipfile.ZipFile(archive) as handle:
            for name in handle.namelist():
                if name.endswith(".jpg"):
                    (temporary / Path(name).name).write_bytes(handle.read(name))
        (temporary / ".complete").write_text(stamp)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(temporary, folder)
    finally:
        if temporary.exists():
            shutil.rmtree(temporary)
    return folder


def _connected_components(n: int, pairs: np.ndarray) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n)) if len(pairs) \
        else coo_matrix((n, n))
    _, labels = connected_components(graph, directed=False)
    # renumber by first appearance so that labels follow image order
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(np.argsort(first))
    return order[labels]


def image_groups(paths: list, correlation: float = NEAR_DUPLICATE_CORRELATION,
                 size_px: int = NEAR_DUPLICATE_SIZE_PX) -> tuple[np.ndarray, np.ndarray, list]:
    """(content_group, image_group, sha256 per image) for images in ``paths`` (in order).

    ``content_group[i]``: index of the first image with the same bytes.
    ``image_group[i]``: connected components (numbered by first image) of the graph
    joining byte-identical images and images whose pixels, resized to ``size_px``
    (bilinear, RGB), correlate at ``correlation`` or more.
    """
    from PIL import Image

    digests = [hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths]
    first = {}
    content_group = np.array([first.setdefault(d, i) for i, d in enumerate(digests)], dtype=int)
    pixels = np.empty((len(paths), size_px * size_px * 3), dtype=np.float32)
    for i, path in enumerate(paths):
        with Image.open(path) as image:
            small = image.convert("RGB").resize((size_px, size_px), Image.BILINEAR, reducing_gap=None)
            pixels[i] = np.asarray(small, dtype=np.float32).ravel()
    pixels -= pixels.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(pixels, axis=1, keepdims=True)
    pixels /= np.where(norms > 0, norms, 1.0)
    similarity = pixels @ pixels.T
    upper = np.triu(similarity >= correlation, k=1)
    same_bytes = content_group[:, None] == content_group[None, :]
    pairs = np.argwhere(upper | np.triu(same_bytes, k=1))
    return content_group, _connected_components(len(paths), pairs), digests


def cowley2023_stimuli(session: str, degrees: float = IMAGE_DEGREES):
    """The images of ``session`` as a ``TopoStimulusSet``, in file-name order.

    Columns: ``stimulus_id`` (``<session>_image0001``), ``session``,
    ``image_index`` (1-based, the file number), ``filename``, ``image_sha256``,
    ``content_group`` (byte-identical images share it), ``image_group``
    (near-duplicates share it; folds are grouped by it), ``image_type``,
    ``degrees`` (the assumed visual angle). Identifier ``Cowley2023.<session>``.
    """
    from topobench.stimuli.base import make_stimulus_set

    session = _check_session(session)
    folder = _extract(session)
    names = sorted((p.name for p in folder.glob("image*.jpg")), key=_image_number)
    numbers = [_image_number(n) for n in names]
    if numbers != list(range(1, len(names) + 1)):
        from topobench.errors import DataError
        raise DataError(f"images of Cowley 2023 session {session} are not numbered 1..{len(names)} "
                        f"(found {numbers[:3]}...); remove {folder} and retry")
    paths = [folder / n for n in names]
    groups_file = folder / f"groups_v{_EXTRACT_VERSION}_{NEAR_DUPLICATE_CORRELATION:g}_{NEAR_DUPLICATE_SIZE_PX}.json"
    if groups_file.is_file():
        cached = json.loads(groups_file.read_text())
        content_group, image_group, digests = (np.array(cached["content_group"]), np.array(cached["image_group"]),
                                               cached["sha256"])
    else:
        content_group, image_group, digests = image_groups(paths)
        groups_file.write_text(json.dumps({"content_group": content_group.tolist(),
                                           "image_group": image_group.tolist(), "sha256": digests}))
    ids = [f"{session}_image{n:04d}" for n in numbers]
    table = pd.DataFrame({
        "stimulus_id": ids,
        "session": session,
        "image_index": numbers,
        "filename": names,
        "image_sha256": digests,
        "content_group": content_group.astype(int),
        "image_group": image_group.astype(int),
        "image_type": image_types(session, len(names)),
        "degrees": float(degrees),
    })
    return make_stimulus_set(table, dict(zip(ids, paths)), f"Cowley2023.{session}")


# ----------------------------------------------------------------------------- responses
def _presentation_coords(stimuli) -> dict:
    columns = ["stimulus_id", "image_index", "image_type", "content_group", "image_group"]
    return {name: ("presentation", stimuli[name].to_numpy()) for name in columns}


def _neuroid_coords(session: str, n_neurons: int) -> dict:
    info = SESSIONS[session]
    return {
        "neuroid_id": ("neuroid", np.array([f"{session}.{k}" for k in range(n_neurons)])),
        "session": ("neuroid", np.repeat(session, n_neurons)),
        "animal": ("neuroid", np.repeat(info.animal, n_neurons)),
        "neuron": ("neuroid", np.arange(n_neurons)),
        "region": ("neuroid", np.repeat("V4", n_neurons)),
    }


def cowley2023_assembly(session: str, stimuli=None):
    """Repeat-averaged spike counts of ``session`` as a ``NeuroidAssembly``
    (presentation x neuroid), presentations in the order of ``cowley2023_stimuli``.

    Presentation coords: ``stimulus_id, image_index, image_type, content_group,
    image_group``; neuroid coords: ``neuroid_id`` (``<session>.<k>``),
    ``session``, ``animal``, ``neuron`` (row index in the file), ``region``.
    """
    from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly
    from topobench.data_client import fetch
    from topobench.errors import DataError

    session = _check_session(session)
    stimuli = cowley2023_stimuli(session) if stimuli is None else stimuli
    values = np.load(fetch(DATASET, f"responses_repeat_averaged/responses_{session}.npy"))
    if values.shape[1] != len(stimuli):
        raise DataError(f"Cowley 2023 session {session}: {values.shape[1]} response columns but "
                        f"{len(stimuli)} images")
    presentation = _presentation_coords(stimuli)
    neuroid = _neuroid_coords(session, values.shape[0])
    assembly = NeuroidAssembly(values.T.astype(np.float64), coords={**presentation, **neuroid},
                               dims=["presentation", "neuroid"])
    assembly.attrs["stimulus_set_identifier"] = stimuli.identifier
    assembly.attrs["session"] = session
    assembly.attrs["animal"] = SESSIONS[session].animal
    assembly.attrs["role"] = SESSIONS[session].role
    assembly.attrs["unit"] = "spike count per 100 ms, mean over repeats"
    return assembly


def cowley2023_repeats(session: str = REPEATED_SESSION, stimuli=None):
    """Per-repeat spike counts (presentation x neuroid x repetition, NaN where an
    image had fewer repeats) as a ``NeuroidAssembly``; only 210325 has them.

    Extra presentation coord ``n_repeats``.
    """
    from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly
    from topobench.data_client import fetch
    from topobench.errors import DataError

    session = _check_session(session)
    if session != REPEATED_SESSION:
        raise DataError(f"Cowley 2023 session {session} has no per-repeat responses on the data host; "
                        f"only {REPEATED_SESSION} has")
    stimuli = cowley2023_stimuli(session) if stimuli is None else stimuli
    raw = np.load(fetch(DATASET, f"responses_raw/responses_{session}.npy"))  # neurons, images, repeats
    values = raw.transpose(1, 0, 2)
    counts = (~np.isnan(values)).sum(axis=2)
    if not (counts == counts[:, :1]).all():
        raise DataError(f"Cowley 2023 session {session}: repeat counts differ between neurons of one image")
    presentation = _presentation_coords(stimuli)
    presentation["n_repeats"] = ("presentation", counts[:, 0])
    neuroid = _neuroid_coords(session, values.shape[1])
    assembly = NeuroidAssembly(values, coords={**presentation, **neuroid,
                                               "repetition": ("repetition", np.arange(values.shape[2]))},
                               dims=["presentation", "neuroid", "repetition"])
    assembly.attrs["stimulus_set_identifier"] = stimuli.identifier
    assembly.attrs["session"] = session
    assembly.attrs["unit"] = "spike count per 100 ms"
    return assembly


def duplicate_pairs(stimuli) -> np.ndarray:
    """(k, 2) row indices of presentations whose images are byte-identical (first, later)."""
    groups = stimuli["content_group"].to_numpy()
    rows = np.arange(len(groups))
    later = rows[groups != rows]
    return np.stack([groups[later], later], axis=1) if len(later) else np.zeros((0, 2), dtype=int)
