"""Spacing and density of cytochrome-oxidase blobs in macaque V1.

Murphy, K. M., Jones, D. G., Fenstemaker, S. B., Pegado, V. D., Kiorpes, L. &
Movshon, J. A. (1998). Spacing of cytochrome oxidase blobs in visual cortex of
normal and strabismic monkeys. Cerebral Cortex 8.
Abstract: https://nyuscholars.nyu.edu/en/publications/spacing-of-cytochrome-oxidase-blobs-in-visual-cortex-of-normal-an

From the abstract: the spatial distribution of blobs was examined in seven
normal and five strabismic macaques; tangential sections through the upper
layers were stained for cytochrome oxidase (CO), each blob was localized, and
"their center-to-center spacing, packing arrangement and density were
calculated using 2D nearest-neighbor spatial analyses". The mean
center-to-center spacing of blobs was 590 µm for normally reared and 598 µm for
strabismic macaques, the mean density 3.67 blobs/mm² (normal) and 3.45
blobs/mm² (strabismic), not significantly different.

The CO blobs are where V1's colour-opponent, poorly orientation-selective cells
are concentrated (Livingstone & Hubel 1984,
``topobench.reference_data.livingstonehubel1984``), so the blob lattice is the
macaque's layout of colour domains. The benchmark
``LivingstoneHubel1984.V1-color_clustering`` compares the spacing of a model's
colour domains, in units of its orientation column spacing, with
``BLOB_SPACING_MM / MACAQUE_COLUMN_WIDTH_MM`` = 0.590 / 0.75 = 0.79 (the column
width and its source: ``topobench.reference_data.macaque_v1``). These are
numbers from papers (means over animals, reported without a spread in the
abstract), not data with a reliability.

The normally reared values are the reference; the strabismic ones are kept
only to show how little the number moves. Only the abstract's numbers are used.
"""

#: Mean centre-to-centre nearest-neighbour spacing of CO blobs (mm), 7 normally reared macaques.
BLOB_SPACING_MM = 0.590
#: Mean density of CO blobs (blobs per mm^2), 7 normally reared macaques.
BLOB_DENSITY_PER_MM2 = 3.67
N_ANIMALS = 7
#: The same in 5 strabismic macaques (not significantly different).
STRABISMIC_BLOB_SPACING_MM = 0.598
STRABISMIC_BLOB_DENSITY_PER_MM2 = 3.45
N_STRABISMIC_ANIMALS = 5
MEASURE = ("centre-to-centre spacing of each CO blob to its nearest neighbour (2-D nearest-neighbour analysis) "
           "in tangential sections of the upper layers of V1")
CITATION = ("Murphy, Jones, Fenstemaker, Pegado, Kiorpes & Movshon (1998) Spacing of cytochrome oxidase blobs in "
            "visual cortex of normal and strabismic monkeys. Cerebral Cortex 8: mean centre-to-centre spacing of "
            "CO blobs 590 um and density 3.67 blobs/mm^2 in 7 normally reared macaques (2-D nearest-neighbour "
            "analysis); https://nyuscholars.nyu.edu/en/publications/"
            "spacing-of-cytochrome-oxidase-blobs-in-visual-cortex-of-normal-an")
