"""The spatial organisation of category selectivity in human ventral temporal cortex (VTC),
as published: the reference of ``GrillSpector2014.VTC-patch_organization``.

These are qualitative claims from papers, not data with a reliability; each
claim carries the value a benchmark compares with and its sources. The
benchmark says so in its ``details`` and states how each claim is scaled to a
sub-score in [0, 1]. Margalit et al. (2024) showed the same four properties in
TDANN's VTC-like layer, which is why these four are the ones scored.
"""
from __future__ import annotations

GRILL_SPECTOR_2014 = ("Grill-Spector, K. & Weiner, K. S. (2014). The functional architecture of the ventral "
                      "temporal cortex and its role in categorization. Nat Rev Neurosci 15(8):536-548. "
                      "https://doi.org/10.1038/nrn3747")
WEINER_2010 = ("Weiner, K. S. & Grill-Spector, K. (2010). Sparsely-distributed organization of face and limb "
               "activations in human ventral temporal cortex. NeuroImage 52(4):1559-1573.")
WEINER_2013 = ("Weiner, K. S. & Grill-Spector, K. (2013). Neural representations of faces and limbs neighbor in "
               "human high-level visual cortex: evidence for a new organization principle. Psychol Res "
               "77(1):74-97. https://doi.org/10.1007/s00426-011-0392-x")
STIGLIANI_2015 = ("Stigliani, A., Weiner, K. S. & Grill-Spector, K. (2015). Temporal processing capacity in "
                  "high-level visual cortex is domain specific. J Neurosci 35(36):12412-12424. "
                  "https://doi.org/10.1523/JNEUROSCI.4822-14.2015")
MARGALIT_2024 = ("Margalit, E., Lee, H., Finzi, D., DiCarlo, J. J., Grill-Spector, K. & Yamins, D. L. K. (2024). "
                 "A unifying framework for functional organization in early and higher ventral visual cortex. "
                 "Neuron.")

#: claim id -> the claim, the reference value it is scored against, and its sources.
CLAIMS = {
    "multiple_face_patches": {
        "claim": "face-selective cortex in VTC forms more than one patch",
        "reference_value": "at least 2 face patches (pFus-faces / FFA-1 and mFus-faces / FFA-2 on the "
                           "fusiform gyrus, in each hemisphere)",
        "sources": [GRILL_SPECTOR_2014, WEINER_2010],
    },
    "bodies_between_faces": {
        "claim": "body-selective cortex lies between face patches",
        "reference_value": "a limb/body-selective region (OTS-limbs) lies between pFus-faces and mFus-faces, "
                           "face and limb selectivity alternating along the fusiform gyrus",
        "sources": [WEINER_2010, WEINER_2013, GRILL_SPECTOR_2014],
    },
    "characters_near_faces_and_bodies": {
        "claim": "character (word) selectivity lies near face and body selectivity",
        "reference_value": "word-selective regions (pOTS-/mOTS-words) lie lateral to and adjacent to face- "
                           "and body-selective regions: positive co-localisation",
        "sources": [STIGLIANI_2015, GRILL_SPECTOR_2014],
    },
    "places_far_from_faces": {
        "claim": "place selectivity lies far from face selectivity",
        "reference_value": "place selectivity (CoS-places) lies medial to the mid-fusiform sulcus, face "
                           "selectivity lateral to it: negative co-localisation",
        "sources": [GRILL_SPECTOR_2014, STIGLIANI_2015],
    },
}
