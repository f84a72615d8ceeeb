"""Stimulus sets: generated (sine gratings) and fetched from the data host (fLoc).

A stimulus set is a BrainIO ``StimulusSet`` (a pandas table with a
``stimulus_id`` column, metadata columns, ``stimulus_paths``, an
``identifier``) plus a ``content_hash``: the sha256 of its metadata and image
bytes, which keys the activation cache.
"""
from topobench.registry import stimulus_set_registry
from topobench.stimuli.base import TopoStimulusSet, content_hash_of
from topobench.stimuli.gratings import sine_gratings
from topobench.stimuli.floc import floc_stimuli

stimulus_set_registry["topobench.sine_gratings"] = sine_gratings
stimulus_set_registry["Stigliani2015.fLoc"] = floc_stimuli

__all__ = ["TopoStimulusSet", "content_hash_of", "sine_gratings", "floc_stimuli"]
