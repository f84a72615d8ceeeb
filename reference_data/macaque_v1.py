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

#: Cytochrome-oxidase blobs of macaque V1: about 0.15-0.2 mm across and about 0.5 mm apart
#: (Livingstone & Hubel 1984, J Neurosci 4:309-356; Horton & Hubel 1981, Nature 292:762-764).
#: The colour-clustering benchmark counts pairs closer than a blob's radius-to-diameter scale,
#: 0.2 column widths (0.15 mm at 0.75 mm per column), as "near".
BLOB_DIAMETER_MM = (0.15, 0.2)
BLOB_SPACING_MM = 0.5
BLOB_SOURCE = ("Livingstone, M. S. & Hubel, D. H. (1984). Anatomy and physiology of a color system in the primate "
               "visual cortex. J Neurosci 4(1):309-356; Horton, J. C. & Hubel, D. H. (1981). Regular patchy "
               "distribution of cytochrome oxidase staining in primary visual cortex of macaque monkey. Nature "
               "292:762-764")
NEAR_COLUMN_WIDTHS = 0.2
