from topobench.registry import model_registry
from topobench.models.efficientnet_lite0_imagenet.model import IDENTIFIER, SWAPOPT_IDENTIFIER, build, build_swapopt

model_registry[IDENTIFIER] = build
model_registry[SWAPOPT_IDENTIFIER] = build_swapopt
