"""``resnet18-untrained``: ResNet-18 (He et al. 2016) at its seeded random initialisation.

The floor of every benchmark: whatever an untrained convolutional network scores
comes from its architecture alone. torchvision's initialisation with
``torch.manual_seed(0)``; 224 px input spanning 8 degrees (Brain-Score's and
TDANN's field); regions committed as TDANN does (V1 = layer2.0, V4 = layer3.1,
VTC = layer4.1); positions by TDANN's default retinotopic placement (seed 0, no
swap optimisation).
"""
from topobench.model_interface import PytorchModel
from topobench.nets import resnet18

IDENTIFIER = "resnet18-untrained"
REGION_LAYERS = {"V1": "layer2.0", "V4": "layer3.1", "VTC": "layer4.1"}
SEED = 0


def build(image_size: int = 224, visual_degrees: float = 8.0) -> PytorchModel:
    module = resnet18(num_classes=1000, seed=SEED)
    return PytorchModel(module, IDENTIFIER, REGION_LAYERS, visual_degrees=visual_degrees,
                        image_size=image_size, positions_seed=SEED)
