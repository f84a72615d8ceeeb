"""The stimulus-set type shared by every set: BrainIO's table plus a content hash."""
from __future__ import annotations

import hashlib
from pathlib import Path

from brainscore_core.supported_data_standards.brainio.stimuli import StimulusSet


class TopoStimulusSet(StimulusSet):
    """BrainIO ``StimulusSet`` with a ``content_hash`` and a ``degrees`` column.

    ``degrees``: the visual angle (degrees) that each image spans; a model places
    the image on its own visual field accordingly (Brain-Score's convention).
    """

    _metadata = StimulusSet._metadata + ["content_hash"]

    @property
    def _constructor(self):
        return TopoStimulusSet


def content_hash_of(table, paths: dict, extra: str = "") -> str:
    """sha256 over the metadata table (as CSV) and every image file's bytes, in row order."""
    digest = hashlib.sha256(extra.encode())
    digest.update(table.to_csv(index=False).encode())
    for stimulus_id in table["stimulus_id"]:
        digest.update(Path(paths[stimulus_id]).read_bytes())
    return digest.hexdigest()


def make_stimulus_set(table, paths: dict, identifier: str) -> TopoStimulusSet:
    stimuli = TopoStimulusSet(table.reset_index(drop=True))
    stimuli.stimulus_paths = {k: Path(v) for k, v in paths.items()}
    stimuli.identifier = identifier
    stimuli.content_hash = content_hash_of(stimuli, stimuli.stimulus_paths)
    return stimuli


def subset(stimuli: TopoStimulusSet, mask) -> TopoStimulusSet:
    """Rows of ``stimuli`` selected by ``mask``, with their paths, a new identifier and hash."""
    table = stimuli[mask]
    ids = list(table["stimulus_id"])
    suffix = hashlib.sha256("\n".join(ids).encode()).hexdigest()[:10]
    return make_stimulus_set(table, {i: stimuli.stimulus_paths[i] for i in ids},
                             f"{stimuli.identifier}-subset-{suffix}")
