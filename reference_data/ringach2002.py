"""Circular variance of 308 macaque V1 cells (Ringach, Shapley & Hawken 2002).

Ringach, D. L., Shapley, R. M. & Hawken, M. J. (2002). Orientation selectivity
in macaque V1: diversity and laminar dependence. J Neurosci 22(13):5639-5651.
https://doi.org/10.1523/JNEUROSCI.22-13-05639.2002

The file is ``ringach2002_v1/ringach_2002_db.mat`` from the data host (as
shipped in neuroailab/TDANN, ``spacetorch/datasets/ringach_2002_db.mat``): a
MATLAB struct ``db`` whose fields are 1 x 308 arrays, one entry per cell
(``animal`` is 308 x 1, one string per cell). The authors' description of the
fields (Ringach lab website, quoted in TDANN's loader): 308 neurons of
M. fascicularis, the raw data of all figures of the paper; ``orivar``:
circular variance of the orientation tuning curve based on mean spike rate;
``maxdc`` / ``mindc``: maximum / minimum spike rate across orientations;
``maxfirst``: first-harmonic response at the optimal orientation; ``po``: the
ratio between the responses at the orthogonal and the preferred orientation
(not a preferred orientation, whatever the name suggests); ``bw``: bandwidth of
the tuning curve (degrees); ``spont``: spontaneous rate; ``rdepth``: normalised
cortical depth; ``animal``, ``expt``, ``chan``: animal, experiment and
electrode channel.

Checked here (``tests/test_ringach_reference.py``): 308 cells from 26 animals
(1 to 25 cells per animal: MU9 has a single cell, the next fewest 4), circular variance in
[0.050, 0.991] with median 0.605 (mean 0.559), orientation bandwidth median 23.5
deg (4 cells at the 180 deg "untuned" value), no missing values. Records
(animal, unit, expt, chan) are distinct but for 3 rows that repeat another
row's key (MU1 unit 6 twice, MV4 unit 32 once), 2 of them identical in every
field: they are kept, as TDANN kept all 308 cells; the effect on a
distribution of 308 values is negligible.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

DATASET = "ringach2002_v1"
FILENAME = "ringach_2002_db.mat"

#: Fields of ``db`` copied into the table, with the column name used here.
_COLUMNS = {
    "orivar": "circular_variance",
    "bw": "bandwidth_deg",
    "po": "orthogonal_to_preferred_ratio",
    "maxdc": "max_rate",
    "mindc": "min_rate",
    "maxfirst": "first_harmonic_at_preferred",
    "spont": "spontaneous_rate",
    "rdepth": "relative_depth",
    "unit": "unit",
    "expt": "expt",
    "chan": "chan",
}


def _field(db, name) -> np.ndarray:
    return np.ravel(db[name])


def load_ringach2002() -> pd.DataFrame:
    """One row per cell: ``cell`` (0..307), ``animal``, ``circular_variance``, and
    the other fields of ``db`` (``bandwidth_deg``, ``orthogonal_to_preferred_ratio``,
    ``spontaneous_rate``...; see the module docstring and ``_COLUMNS``).

    The file is fetched from the data host and checked by sha256 on first use.
    """
    import scipy.io

    from topobench.data_client import fetch

    db = scipy.io.loadmat(fetch(DATASET, FILENAME))["db"][0, 0]
    animals = [str(np.ravel(entry)[0]) for entry in _field(db, "animal")]
    table = pd.DataFrame({"cell": np.arange(len(animals)), "animal": animals})
    for field, column in _COLUMNS.items():
        values = _field(db, field)
        if values.size != len(animals):
            raise ValueError(f"{FILENAME}: field '{field}' has {values.size} entries, "
                             f"expected {len(animals)} (one per cell)")
        table[column] = values.astype(float) if values.dtype.kind == "f" else values.astype(int)
    return table
