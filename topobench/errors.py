"""Errors that reach the user: each names the thing that is wrong and the fix.

The CLI prints the message of any :class:`TopobenchError` on one line and exits
with status 2; everything else is a bug and keeps its traceback.
"""


class TopobenchError(Exception):
    """Base class of every error meant for the user, not the developer."""


class DataError(TopobenchError):
    """Reference data could not be fetched or failed its sha256 check."""


class UnknownPluginError(TopobenchError, KeyError):
    """A model, benchmark, stimulus set or dataset name that is not registered."""

    def __str__(self):  # KeyError would quote the message
        return self.args[0]


class ModelError(TopobenchError):
    """A model that cannot do what a benchmark asks (no such layer, no positions...)."""


class StimulusError(TopobenchError):
    """Stimuli that a model cannot take (aliased gratings, wrong image size...)."""


class InputError(TopobenchError):
    """An argument or input file that would make a score wrong (checked before any work)."""


class EnvironmentFault(TopobenchError):
    """A fault of the machine, not of the model: data host unreachable, disk full, database down.

    Never stored as a failure of the model; the CLI exits with status 3."""

    exit_status = 3
