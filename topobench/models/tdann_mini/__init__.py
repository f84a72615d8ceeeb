from topobench.registry import model_registry
from topobench.models.tdann_mini.model import IDENTIFIERS, SUPERVISED, builder

for _identifier in (*IDENTIFIERS, SUPERVISED):
    model_registry[_identifier] = builder(_identifier)
