from topobench.registry import model_registry
from topobench.models.resnet18_untrained.model import IDENTIFIER, build

model_registry[IDENTIFIER] = build
