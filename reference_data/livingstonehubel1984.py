"""Colour-selective cells cluster in the cytochrome-oxidase blobs of macaque V1.

Livingstone, M. S. & Hubel, D. H. (1984). Anatomy and physiology of a color
system in the primate visual cortex. Journal of Neuroscience 4(1):309-356.
https://doi.org/10.1523/JNEUROSCI.04-01-00309.1984

Cells in the cytochrome-oxidase blobs of V1 are mostly unoriented and often
colour-opponent; cells between the blobs are orientation-selective and mostly
not colour-coded: colour preference is clustered on the cortical sheet, in
patches a fraction of a hypercolumn across.

The paper gives the clustering qualitatively, and no macaque colour-preference
map is in the reference data. The strength of clustering a V1 feature map has
at the same distances is taken from the macaque spatial-frequency maps of
Nauhaus et al. (2012), the V1 feature map that the blobs share (low
spatial-frequency preference is concentrated in the blobs: Tootell, Silverman,
Hamilton, Switkes & De Valois 1988, "Functional anatomy of macaque striate
cortex. V. Spatial frequency", J Neurosci 8); the
benchmark's details say so and state how the score is scaled.
"""

CLAIM = "colour-selective cells cluster (in the cytochrome-oxidase blobs) rather than being scattered"
CITATION = ("Livingstone & Hubel (1984) J Neurosci 4:309-356, doi:10.1523/JNEUROSCI.04-01-00309.1984")
STAND_IN = ("clustering strength of the macaque spatial-frequency maps (Nauhaus et al. 2012, Fig. 2 c, d, g, h) "
            "at the same distances in column widths")
