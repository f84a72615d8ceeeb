"""The submitter's path: score a checkpoint or an ``nn.Module`` without writing a plugin.

From the command line::

    topobench score --checkpoint model.pt --arch resnet18 [BENCHMARK ...|--all]
        [--positions DIR | --layout toponets] [--layers V1=layer2.0,V4=layer3.1,VTC=layer4.1]
        [--name NAME] [--image-size 224] [--visual-degrees 8]

From Python::

    import topobench
    scores = topobench.score(model=my_module, layers={"V1": "layer2.0", ...},
                             positions="positions/", benchmarks=["Ringach2002.V1-orientation_selectivity"])

A checkpoint is a file written by ``torch.save(model.state_dict(), PATH)`` (also
accepted: a dict holding the state dict under ``state_dict``, ``model``,
``model_state_dict`` or ``net``, and keys with a ``module.`` prefix from
``DataParallel``). It is loaded with ``weights_only=True``: nothing in it is
executed. ``--positions DIR`` holds one ``<layer>.npz`` per layer
(``topobench.positions.LayerPositions.save``); a committed layer without one is
placed by TDANN's default retinotopic placement and its scores say so.
``--layout toponets`` instead places every committed layer as TopoNets (Deb et al. 2025,
ICLR) lays out its units: the channels on TopoNets' 2-D sheet (``topoloss``'s row-major
reshaping), one copy of it at each retinotopic location, in mm on TDANN's sheet of the layer
(:func:`topobench.toponets.toponets_positions`). The published TopoNets ResNet-18 checkpoints
are scored with ``--arch resnet18-blurpool --layout toponets`` (their network blurs before
its strided convolutions, so their keys read ``layer2.0.conv1.conv.weight``).

Everything a submitter can get wrong is checked before any benchmark runs, and
answered with one message that names the fix (``ModelError``; the CLI exits
with status 2): an architecture that is not known, a checkpoint that does not
exist or does not load, missing or unexpected state-dict keys (listed), a
tensor of the wrong shape, a layer that does not exist (with the closest layer
names), a positions file whose unit count does not match its layer, a positions
file for a layer the network does not have, and an image size the network
cannot take.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from topobench.errors import InputError, ModelError, TopobenchError
from topobench.model_interface import (IMAGENET_MEAN, IMAGENET_STD, PytorchModel, TopoModel, check_image_size,
                                       check_visual_degrees, closest_names, state_dict_sha256)

#: Keys under which training scripts commonly nest the state dict.
NESTED_KEYS = ("state_dict", "model_state_dict", "model", "net", "network")
#: Prefixes that wrappers add to every key (``DataParallel``, Lightning...).
STRIPPABLE_PREFIXES = ("module.", "model.", "net.")
MIN_IMAGE_SIZE = 8


def _resnet18(num_classes):
    from topobench.nets import resnet18
    return resnet18(num_classes=num_classes)


def _resnet18_blurpool(num_classes):
    from topobench.toponets import resnet18_blurpool
    return resnet18_blurpool(num_classes=num_classes)


def _efficientnet_lite0(num_classes):
    from topobench.nets.efficientnet_lite import efficientnet_lite0
    return efficientnet_lite0(num_classes=num_classes)


@dataclass(frozen=True)
class Architecture:
    """What ``--arch`` names: a builder (number of classes, or None for no classifier), the key
    prefix of its classifier, its default region layers and its input normalisation."""
    build: Callable
    classifier_prefix: str
    regions: dict
    mean: tuple = IMAGENET_MEAN
    std: tuple = IMAGENET_STD


from topobench.models.efficientnet_lite0_imagenet import model as _LITE0  # noqa: E402 (its layers, scaling)

#: ``--arch`` choices. ResNet-18 with TDANN's layers; EfficientNet-Lite0 with the layers and the
#: TensorFlow-Lite input scaling of ``efficientnet-lite0-imagenet``.
ARCHITECTURES: dict[str, Architecture] = {
    "resnet18": Architecture(_resnet18, "fc.", {"V1": "layer2.0", "V4": "layer3.1", "VTC": "layer4.1"}),
    # TopoNets' published ResNet-18s (FFCV's network: a blur before the strided convolutions)
    "resnet18-blurpool": Architecture(_resnet18_blurpool, "fc.", {"V1": "layer2.0", "V4": "layer3.1",
                                                                  "VTC": "layer4.1"}),
    "efficientnet-lite0": Architecture(_efficientnet_lite0, "_fc.", dict(_LITE0.REGION_LAYERS),
                                       mean=_LITE0.MEAN, std=_LITE0.STD),
}


# ----------------------------------------------------------------------------- state dicts
def _listing(keys: list) -> str:
    return ", ".join(keys[:8]) + (f" ... ({len(keys)} in all)" if len(keys) > 8 else "")


def load_checked_state_dict(module: torch.nn.Module, state_dict: dict, what: str, arch: str) -> None:
    """Load ``state_dict`` into ``module`` strictly; on a mismatch, list the missing and
    unexpected keys (and a prefix that would fix them, when there is one)."""
    expected = module.state_dict()
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing keys: {_listing(missing)}")
        if unexpected:
            parts.append(f"unexpected keys: {_listing(unexpected)}")
        example = next(iter(expected))
        hint = f"keys must read like '{example}' (strip any prefix; save with torch.save(model.state_dict(), PATH))"
        if unexpected and missing:
            prefix = _common_prefix_fix(unexpected, expected)
            if prefix:
                hint = f"every key carries the prefix '{prefix}': strip it"
        raise ModelError(f"{what} does not fit a {arch} ({'; '.join(parts)}); {hint}")
    for key, tensor in state_dict.items():
        if tuple(tensor.shape) != tuple(expected[key].shape):
            raise ModelError(f"{what}: {key} has shape {tuple(tensor.shape)}, the {arch} needs "
                             f"{tuple(expected[key].shape)}; is this checkpoint of a different architecture?")
    module.load_state_dict({k: v.to(expected[k].dtype) for k, v in state_dict.items()})


def _common_prefix_fix(unexpected: list, expected) -> str | None:
    first = unexpected[0]
    for cut in range(1, first.count(".") + 1):
        prefix = first.split(".", cut)[:cut]
        prefix = ".".join(prefix) + "."
        if all(k.startswith(prefix) for k in unexpected) and \
                all(k[len(prefix):] in expected for k in unexpected[:20]):
            return prefix
    return None


def read_checkpoint(path) -> dict:
    """The state dict in a checkpoint file (nested and ``module.``-prefixed ones unwrapped)."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"checkpoint {path} does not exist; give the file written by "
                         f"torch.save(model.state_dict(), PATH)")
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # pickled modules, foreign formats, truncated files
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelError(f"checkpoint {path} does not load as a state dict ({first[:200]}); save the "
                         f"weights with torch.save(model.state_dict(), PATH), not the whole model") from None
    for _ in range(3):  # unwrap {'state_dict': {...}} and the like
        if isinstance(content, dict) and not _is_state_dict(content):
            nested = next((content[k] for k in NESTED_KEYS if isinstance(content.get(k), dict)), None)
            if nested is None:
                break
            content = nested
    if not (isinstance(content, dict) and _is_state_dict(content)):
        keys = ", ".join(map(str, list(content)[:6])) if isinstance(content, dict) else type(content).__name__
        raise ModelError(f"checkpoint {path} holds no state dict (found {keys}); save the weights with "
                         f"torch.save(model.state_dict(), PATH)")
    for prefix in STRIPPABLE_PREFIXES:
        if content and all(k.startswith(prefix) for k in content):
            content = {k[len(prefix):]: v for k, v in content.items()}
    return dict(content)


def _is_state_dict(content: dict) -> bool:
    return bool(content) and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in content.items())


# ----------------------------------------------------------------------------- arguments
def parse_layers(text) -> dict:
    """``'V1=layer2.0,V4=layer3.1'`` (or a dict) -> ``{'V1': 'layer2.0', 'V4': 'layer3.1'}``."""
    if text is None:
        return {}
    if isinstance(text, dict):
        return {str(k): str(v) for k, v in text.items()}
    layers = {}
    for item in filter(None, (part.strip() for part in str(text).split(","))):
        region, sep, layer = item.partition("=")
        if not sep or not region.strip() or not layer.strip() or "=" in layer:
            raise ModelError(f"--layers item '{item}' is not REGION=LAYER; write e.g. "
                             f"--layers V1=layer2.0,V4=layer3.1,VTC=layer4.1")
        if region.strip() in layers:
            raise InputError(f"--layers names region {region.strip()} twice ({layers[region.strip()]} and "
                             f"{layer.strip()}); commit one layer per region")
        layers[region.strip()] = layer.strip()
    if not layers:
        raise InputError(f"--layers {str(text)!r} names no layer; write REGION=LAYER items, e.g. "
                         f"--layers V1=layer2.0,V4=layer3.1,VTC=layer4.1")
    return layers


def read_positions(positions) -> dict:
    """``positions``: None, a folder of ``<layer>.npz`` files, or a dict layer -> LayerPositions
    (or path) -> dict layer -> LayerPositions."""
    from topobench.positions import LayerPositions
    if positions is None:
        return {}
    if isinstance(positions, dict):
        return {layer: value if isinstance(value, LayerPositions) else LayerPositions.load(value)
                for layer, value in positions.items()}
    folder = Path(positions)
    if not folder.is_dir():
        raise ModelError(f"positions folder {folder} does not exist; give a folder of <layer>.npz files "
                         f"(topobench.positions.LayerPositions.save)")
    files = sorted(folder.glob("*.npz"))
    if not files:
        raise ModelError(f"positions folder {folder} holds no <layer>.npz file; save one per layer with "
                         f"LayerPositions.save(folder / f'{{layer}}.npz')")
    return {path.stem: LayerPositions.load(path) for path in files}


def _check_image_size(image_size) -> int:
    size = check_image_size(image_size)  # a whole number > 0 (InputError)
    if size < MIN_IMAGE_SIZE:
        raise ModelError(f"image size {image_size} px cannot be shown to a network; give the input size "
                         f"(at least {MIN_IMAGE_SIZE} px) the network was trained at, e.g. 224")
    return size


def _validated(model: PytorchModel) -> PytorchModel:
    """Probe every committed layer now (input size, positions), not in the middle of a benchmark."""
    modules = dict(model.module.named_modules())
    for layer in model._positions:
        if layer not in modules:
            raise ModelError(f"model {model.identifier}: positions are given for layer '{layer}', which the "
                             f"network does not have; closest layer names: "
                             f"{closest_names(layer, [m for m in modules if m])}; name the file <layer>.npz")
    for region, layer in model.regions.items():
        try:
            shape = model.layer_shape(layer)
        except (RuntimeError, ValueError) as error:  # what layer_shape does not already translate
            raise ModelError(f"model {model.identifier} cannot take a {model.image_size} px image: "
                             f"{str(error).splitlines()[0]}; give the input size it was built for "
                             f"(--image-size)") from None
        if min(shape[1:]) < 1:
            raise ModelError(f"model {model.identifier}: layer {layer} ({region}) is empty at "
                             f"{model.image_size} px; give a larger --image-size")
        model.check_spatial(region)  # a flat (classifier) output is no cortical map: InputError
        if layer in model._positions:
            model.layer_positions(region)  # raises on a unit-count mismatch
    return model


# ----------------------------------------------------------------------------- models
def _check_layout(layout, positions) -> str | None:
    """``layout``: None or 'tdann' (TDANN's default placement) or 'toponets'; not with ``positions``."""
    from topobench.toponets import LAYOUTS
    if layout is None:
        return None
    if layout not in LAYOUTS:
        raise InputError(f"unknown layout {layout!r}; --layout takes one of {', '.join(LAYOUTS)}")
    if layout == "toponets" and positions is not None:
        raise InputError("--layout toponets and --positions both place the units; give one of them")
    return layout


def _apply_layout(model: PytorchModel, layout: str | None) -> PytorchModel:
    if layout == "toponets":
        from topobench.toponets import toponets_layout
        model._positions.update(toponets_layout(model))
    return model


def model_from_checkpoint(checkpoint, arch: str, positions=None, layers=None, name: str | None = None,
                          image_size: int = 224, visual_degrees: float = 8.0,
                          layout: str | None = None) -> PytorchModel:
    """A checkpoint of a known architecture as a topobench model, checked before it is scored.

    ``layers``: region -> layer (dict or ``'V1=layer2.0,...'``), default the
    architecture's TDANN-like commitments; ``positions``: folder of
    ``<layer>.npz`` or dict; ``name``: the identifier (default the checkpoint's
    file stem and the first 8 hex digits of the weights' sha256); ``layout``:
    'toponets' places every committed layer as TopoNets does
    (:func:`topobench.toponets.toponets_positions`; not with ``positions``).
    """
    from topobench.naming import check_model_name, safe_name
    if name is not None:
        check_model_name(name)  # before any file is read
    layout = _check_layout(layout, positions)
    if arch not in ARCHITECTURES:
        raise ModelError(f"unknown architecture '{arch}'; --arch takes one of {', '.join(ARCHITECTURES)} "
                         f"(for another network use topobench.score(model=<nn.Module>, layers=...) or "
                         f"`topobench new-model`)")
    architecture = ARCHITECTURES[arch]
    image_size = _check_image_size(image_size)
    visual_degrees = check_visual_degrees(visual_degrees)
    regions = parse_layers(layers) if layers is not None else dict(architecture.regions)
    state_dict = read_checkpoint(checkpoint)
    classifier = f"{architecture.classifier_prefix}weight"
    num_classes = int(state_dict[classifier].shape[0]) if classifier in state_dict else None
    if arch == "resnet18" and any(key.endswith(".blur_filter") for key in state_dict):
        raise ModelError(f"checkpoint {checkpoint} holds blur filters ('...blur_filter'): it is a ResNet-18 with "
                         f"a blur before its strided convolutions, as TopoNets' published checkpoints; give "
                         f"--arch resnet18-blurpool")
    module = architecture.build(num_classes)
    load_checked_state_dict(module, state_dict, f"checkpoint {checkpoint}", arch)
    sha = state_dict_sha256(module)
    identifier = name or f"{safe_name(Path(checkpoint).stem)}-{sha[:8]}"
    model = PytorchModel(module, identifier, regions, visual_degrees=visual_degrees, image_size=image_size,
                         positions=read_positions(positions), weights_sha256=sha, mean=architecture.mean,
                         std=architecture.std)
    return _validated(_apply_layout(model, layout))


def model_from_module(module: torch.nn.Module, layers, positions=None, identifier: str | None = None,
                      image_size: int = 224, visual_degrees: float = 8.0, layout: str | None = None,
                      **kwargs) -> PytorchModel:
    """An ``nn.Module`` as a topobench model (``layers``: region -> module name), checked now;
    ``layout='toponets'``: TopoNets' placement of every committed layer (not with ``positions``)."""
    if not isinstance(module, torch.nn.Module):
        raise ModelError(f"model must be a torch.nn.Module or a topobench model, got {type(module).__name__}")
    regions = parse_layers(layers) if layers else {}
    if not regions:
        names = [n for n, _ in module.named_modules() if n]
        raise ModelError(f"give layers for the regions, e.g. layers={{'V1': '{names[0] if names else 'layer'}'}}; "
                         f"the module's layers include {', '.join(names[:8])}")
    layout = _check_layout(layout, positions)
    image_size = _check_image_size(image_size)
    visual_degrees = check_visual_degrees(visual_degrees)
    sha = state_dict_sha256(module)
    identifier = identifier or f"{type(module).__name__.lower()}-{sha[:8]}"
    model = PytorchModel(module, identifier, regions, visual_degrees=visual_degrees, image_size=image_size,
                         positions=read_positions(positions), weights_sha256=sha, **kwargs)
    return _validated(_apply_layout(model, layout))


def as_model(model, layers=None, positions=None, identifier: str | None = None, image_size: int = 224,
             visual_degrees: float = 8.0) -> TopoModel:
    """A registered name, a ``TopoModel`` or an ``nn.Module`` (with ``layers``) as a ``TopoModel``."""
    if isinstance(model, TopoModel):
        if layers is not None or positions is not None:
            raise ModelError(f"model {model.identifier} is already a topobench model with its own layers and "
                             f"positions; pass layers= and positions= only with a torch.nn.Module")
        return model
    if isinstance(model, str):
        from topobench.registry import load_model
        if layers is not None or positions is not None:
            raise ModelError(f"'{model}' is a registered model with its own layers and positions; pass "
                             f"layers= and positions= only with a torch.nn.Module")
        return load_model(model)
    return model_from_module(model, layers, positions, identifier, image_size, visual_degrees)


# ----------------------------------------------------------------------------- scoring
def score(model, layers=None, positions=None, benchmarks=None, identifier: str | None = None,
          image_size: int = 224, visual_degrees: float = 8.0, store=None, raise_errors: bool = True) -> dict:
    """Score ``model`` on ``benchmarks`` (names or objects; default every registered one).

    ``model``: a ``torch.nn.Module`` (then ``layers`` is required: region -> module
    name, and ``positions`` optional: folder or dict layer -> LayerPositions), a
    ``TopoModel``, or a registered identifier. Every result (or failure) is
    committed to ``store`` (default ``ResultsStore()``) as it is made. Returns
    ``{benchmark identifier: Score}``; with ``raise_errors=False`` a failed
    benchmark maps to None instead of raising ``BenchmarkFailed``.

    The store is opened and checked before any benchmark runs (a store that
    cannot keep a result raises ``StoreUnavailable``, exit 3 on the CLI), and
    results an earlier run had to spool are imported into it first.
    """
    from topobench.registry import load_benchmark, names
    from topobench.results import ResultsStore
    from topobench.scoring import score_model

    topo_model = as_model(model, layers, positions, identifier, image_size, visual_degrees)
    if benchmarks is None:
        benchmarks = names("benchmark")
    elif isinstance(benchmarks, str) or not isinstance(benchmarks, (list, tuple)):
        benchmarks = [benchmarks]
    loaded = [load_benchmark(b) if isinstance(b, str) else b for b in benchmarks]  # unknown names fail first
    store = store or ResultsStore()
    if isinstance(store, ResultsStore):  # before any work: the results must have somewhere to go
        store.check().import_spool()
    return {benchmark.identifier: score_model(topo_model, benchmark, store=store, raise_errors=raise_errors)
            for benchmark in loaded}


# ----------------------------------------------------------------------------- CLI
def add_checkpoint_arguments(parser) -> None:
    """The options with which ``topobench score`` (and ``report``) take a checkpoint instead of MODEL."""
    group = parser.add_argument_group("scoring a checkpoint (instead of a registered MODEL)")
    group.add_argument("--checkpoint", metavar="PATH",
                       help="state dict saved with torch.save(model.state_dict(), PATH)")
    group.add_argument("--arch", help=f"architecture of the checkpoint: {', '.join(sorted(ARCHITECTURES))}")
    group.add_argument("--positions", metavar="DIR", help="folder of <layer>.npz unit positions "
                       "(default: TDANN's retinotopic placement, recorded as default)")
    group.add_argument("--layout", metavar="toponets",
                       help="place every committed layer as TopoNets (Deb et al. 2025) lays out its units: "
                       "channels on TopoNets' 2-D sheet at each retinotopic location (instead of --positions)")
    group.add_argument("--layers", metavar="REGION=LAYER,...",
                       help="layers committed to regions, e.g. V1=layer2.0,V4=layer3.1,VTC=layer4.1")
    group.add_argument("--name", help="identifier to store the scores under (default: checkpoint name + "
                       "weights hash)")
    # read as text and checked with the model (one line naming the value, before any work)
    group.add_argument("--image-size", default=224, metavar="PX", help="input size in px (default 224)")
    group.add_argument("--visual-degrees", default=8.0, metavar="DEGREES",
                       help="visual angle the input spans, a finite number > 0 (default 8)")


def model_from_args(args):
    """The model that ``topobench score``/``report`` arguments name; returns (model, leftover names).

    Without ``--checkpoint``: ``args.model`` is a registered model. With it,
    there is no MODEL: a positional that argparse put in ``args.model`` is the
    first benchmark name and is returned in the leftovers.
    """
    from topobench.registry import load_model, names
    checkpoint = getattr(args, "checkpoint", None)
    options = {"--arch": getattr(args, "arch", None), "--positions": getattr(args, "positions", None),
               "--layers": getattr(args, "layers", None), "--name": getattr(args, "name", None),
               "--layout": getattr(args, "layout", None)}
    if checkpoint is None:
        given = [flag for flag, value in options.items() if value is not None]
        if given:
            raise TopobenchError(f"{', '.join(given)} only go with --checkpoint PATH; to score a registered "
                                 f"model give its name alone")
        if not getattr(args, "model", None):
            raise TopobenchError("name a model (`topobench list models`) or give --checkpoint PATH --arch ARCH")
        return load_model(args.model), []
    if not options["--arch"]:
        raise TopobenchError(f"--checkpoint needs --arch (one of {', '.join(sorted(ARCHITECTURES))})")
    leftover = []
    if getattr(args, "model", None):
        if args.model in names("model"):
            raise TopobenchError(f"give either a registered model ('{args.model}') or --checkpoint, not both")
        leftover = [args.model]
    model = model_from_checkpoint(checkpoint, options["--arch"], positions=options["--positions"],
                                  layers=options["--layers"], name=options["--name"],
                                  image_size=getattr(args, "image_size", 224),
                                  visual_degrees=getattr(args, "visual_degrees", 8.0),
                                  layout=options["--layout"])
    return model, leftover

