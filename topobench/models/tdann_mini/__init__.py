from topobench.registry import model_registry
from topobench.models.tdann_mini.model import IDENTIFIERS, builder

for _identifier in IDENTIFIERS:
    model_registry[_identifier] = builder(_identifier)
