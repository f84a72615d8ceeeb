"""Cardinal bias of preferred orientations in macaque V1.

De Valois, R. L., Yund, E. W. & Hepler, N. (1982). The orientation and
direction selectivity of cells in macaque visual cortex. Vision Research
22(5):531-544. PubMed 7112953, https://pubmed.ncbi.nlm.nih.gov/7112953/

From the abstract: "The foveal subsample and a high-spatial-frequency subsample
have more horizontal and vertical optimal orientations than oblique ones."
The same direction of bias is reported in several other single-unit studies
(Mansfield 1974; Poggio & Fischer 1977) and not in all (e.g. Finlay et al.
1976).

No proportion of cardinal to oblique cells is given here with enough
confidence to score a model against it (the paper's counts depend on the
subsample: foveal, high spatial frequency), so the benchmark tests only the
direction of the bias and is reported, not aggregated (issue 4: "where no
number can be cited with confidence, report the measurement in details and keep
it out of the aggregate score").
"""

#: The claim the benchmark tests: more preferred orientations near cardinal (0, 90 deg) than oblique (45, 135 deg).
CLAIM = "more horizontal and vertical optimal orientations than oblique ones (foveal and high-SF subsamples)"
CITATION = "De Valois, Yund & Hepler (1982) Vision Res 22:531-544, PubMed 7112953"
#: No cited ratio: the direction only.
CARDINAL_TO_OBLIQUE_RATIO = None
