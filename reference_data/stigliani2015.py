"""Category-selective cortex in human VTC, as published: the reference of the report-only
``Stigliani2015.VTC-category_selectivity``.

Stigliani, Weiner & Grill-Spector (2015) localised face-, body-, character-
and place-selective regions of ventral temporal cortex with the fLoc images
that topobench shows the models (2 categories per domain, contrasts of one
domain against the others, t > 3 voxelwise). Their regions are reported as
locations and sizes of contiguous clusters per subject, not as a fraction of
VTC voxels selective per domain, and such fractions depend on the voxel
threshold, the smoothing and the VTC mask. No fraction can therefore be cited
with confidence as a reference value: the benchmark reports the model's
fractions and compares them with no number (``HUMAN_FRACTIONS`` is empty on
purpose).
"""
from __future__ import annotations

CITATION = ("Stigliani, A., Weiner, K. S. & Grill-Spector, K. (2015). Temporal processing capacity in "
            "high-level visual cortex is domain specific. J Neurosci 35(36):12412-12424. "
            "https://doi.org/10.1523/JNEUROSCI.4822-14.2015")
CLAIM = ("human VTC holds regions selective for faces (pFus-/mFus-faces), bodies (OTS-limbs), characters "
         "(pOTS-/mOTS-words) and places (CoS-places) in the fLoc localiser; objects have no selective region of "
         "their own")
#: domain -> fraction of VTC selective for it in humans, with its source. Empty: none is cited with confidence.
HUMAN_FRACTIONS: dict = {}
