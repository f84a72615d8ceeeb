"""Reference numbers of macaque V1 that the V1 benchmarks use, each beside its source.

Each value is a published number the benchmarks take as given (not data with a
reliability); a benchmark that uses one says so in its ``details``.
"""
from __future__ import annotations

#: Width of an orientation hypercolumn in macaque V1 (mm): the value TDANN's analyses use
#: to express cortical distance (Margalit et al. 2024, Neuron, "A unifying framework for
#: functional organization in early and higher ventral visual cortex"; the data host's
#: README). Published column widths vary (about 0.5 to 1 mm); a Nauhaus et al. (2012)
#: panel is about 0.77 mm wide, too small to measure the spacing from.
MACAQUE_COLUMN_WIDTH_MM = 0.75
MACAQUE_COLUMN_WIDTH_SOURCE = ("Margalit, E. et al. (2024). A unifying framework for functional organization in "
                               "early and higher ventral visual cortex. Neuron. (0.75 mm per macaque V1 "
                               "hypercolumn, as used in its analyses)")

#: The blob numbers the colour benchmark scores against (CO blob spacing 0.590 mm and
#: density 3.67 / mm^2) are in ``reference_data/murphy1998.py``, beside their source.
#: "Near" pairs for the colour-clustering index: closer than 0.2 column widths
#: (0.15 mm at 0.75 mm per column), about a blob's radius.
NEAR_COLUMN_WIDTHS = 0.2
