"""fLoc localizer images (Stigliani et al. 2015, J Neurosci 35:12412), from the data host.

144 greyscale images per category (256 x 256 px here); categories adult, child
(faces), body, limb (bodies), word, number (characters), house, corridor
(places), car, instrument (objects), scrambled. The visual angle of the images is
not given by the data host; fLoc's own experiments showed them at about 10
degrees, which ``degrees`` assumes (a benchmark may state another).
"""
from __future__ import annotations

import zipfile

import pandas as pd

from topobench.data_client import fetch, topobench_home
from topobench.stimuli.base import TopoStimulusSet, make_stimulus_set

FLOC_DEGREES = 10.0


def floc_stimuli(include_scrambled: bool = False, degrees: float = FLOC_DEGREES) -> TopoStimulusSet:
    table = pd.read_csv(fetch("floc", "floc_stimuli.csv"))
    archive = fetch("floc", "floc_stimuli_256px.zip")
    folder = topobench_home() / "stimuli" / "floc_256px"
    marker = folder / ".complete"
    if not marker.is_file():
        with zipfile.ZipFile(archive) as handle:
            handle.extractall(folder)
        marker.touch()
    if not include_scrambled:
        table = table[table["category"] != "scrambled"]
    table = table.assign(degrees=float(degrees))
    names = {name for name in (p.relative_to(folder).as_posix() for p in folder.rglob("*.jpg"))}
    paths = {}
    for stimulus_id, filename in zip(table["stimulus_id"], table["filename"]):
        # the zip may hold the files at the top or inside one folder
        match = filename if filename in names else next(n for n in names if n.endswith("/" + filename))
        paths[stimulus_id] = folder / match
    identifier = "Stigliani2015.fLoc" + ("" if include_scrambled else "-no_scrambled")
    return make_stimulus_set(table.drop(columns=["upstream_path"], errors="ignore"), paths, identifier)
