"""Colour-selective cells are concentrated in the cytochrome-oxidase blobs of macaque V1.

Livingstone, M. S. & Hubel, D. H. (1984). Anatomy and physiology of a color
system in the primate visual cortex. Journal of Neuroscience 4(1):309-356.
https://doi.org/10.1523/JNEUROSCI.04-01-00309.1984

Cells in the cytochrome-oxidase (CO) blobs of the upper layers of V1 are
mostly colour-opponent and poorly orientation-selective; cells between the
blobs are orientation-selective and mostly not colour-coded. The claim is
qualitative: colour preference is clustered on the cortical sheet, in the
blobs.

Horton, J. C. & Hubel, D. H. (1981). Regular patchy distribution of
cytochrome oxidase staining in primary visual cortex of macaque monkey.
Nature 292:762-764: the CO patches (the blobs) form a regular pattern, in
register with the ocular dominance columns. (Its spacing figures are not used
here; the blob spacing used is that of Murphy et al. 1998, measured over
seven animals: ``topobench.reference_data.murphy1998``.)

How far apart the colour domains are, relative to the orientation columns, is
a number: ``topobench.reference_data.murphy1998`` (blob spacing) over
``topobench.reference_data.macaque_v1.MACAQUE_COLUMN_WIDTH_MM`` (orientation
column width). No macaque colour-preference map is on the data host, and no
stand-in map is used (version 2 of the benchmark took the clustering strength
of the macaque spatial-frequency maps as its target; version 3 does not).
"""

CLAIM = ("colour-selective cells are concentrated in the cytochrome-oxidase blobs: colour preference clusters "
         "in domains rather than being scattered")
CITATION = ("Livingstone & Hubel (1984) J Neurosci 4:309-356, doi:10.1523/JNEUROSCI.04-01-00309.1984 "
            "(colour-opponent, poorly orientation-selective cells concentrated in the CO blobs; qualitative)")
HORTON_HUBEL_1981 = ("Horton & Hubel (1981) Regular patchy distribution of cytochrome oxidase staining in primary "
                     "visual cortex of macaque monkey. Nature 292:762-764 (regular pattern of CO patches, in "
                     "register with the ocular dominance columns; qualitative here)")
