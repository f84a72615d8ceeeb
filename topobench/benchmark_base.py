"""One benchmark skeleton: :class:`TopoBenchmark`.

Every benchmark does the same thing in the same order (DESIGN.md, "Benchmark"):

    check the region -> stimuli -> record -> measure -> compare with the reference -> ceiled Score

``TopoBenchmark.__call__`` is that sequence, written once; a plugin fills in the
steps it needs, as a scikit-learn estimator fills in ``fit`` or a PyTorch
``Module`` its ``forward``::

    class MyBenchmark(TopoBenchmark):
        identifier = "Source2024.V1-metric"      # declarations: plain class attributes
        version = 1
        region = "V1"
        bibtex = BIBTEX
        datasets = ("source2024_v1",)
        family = "topography"
        controls = V1_MAP_CONTROLS

        def make_stimuli(self): ...              # the stimulus set (cached in ``stimuli``)
        def make_ceiling(self): ...              # a topobench.ceilings object (cached in ``ceiling_object``)
        def measure(self, recording, model, layer): ...
        def compare(self, measurement): ...      # -> Comparison(raw, error, details)

**Declarations** (class attributes; an instance may override ``identifier``,
``version``, ``region``, ``parent`` and ``bibtex`` through ``__init__`` when
one class serves several benchmarks):

- ``identifier``, ``version``, ``bibtex``: as Brain-Score's ``BenchmarkBase``;
- ``region``: the region recorded and checked (``V1``, ``V4``, ``VTC``);
  ``parent`` (the aggregate the benchmark belongs to) defaults to it;
- ``datasets``: the registered reference data sets it reads (their sha256 go
  into every stored row's provenance), or ``()`` with ``no_datasets_reason``
  (e.g. a number from a paper);
- ``family``: one of :data:`FAMILIES`; ``report_only``: kept out of every
  aggregate (a bool);
- ``controls``: the identifiers of the registered control models
  (``topobench.models.controls``) that certify it, or ``()`` with
  ``no_controls_reason`` (every responses benchmark, and the topography
  benchmarks that no map control can test);
- ``cost``: a :class:`topobench.costs.Cost`: the images it records, where, how
  it keeps the features and what it fits, from which the seconds and peak memory
  of scoring a model are estimated before any work (``topobench list benchmarks
  --costs``; the leaderboard's scheduling and memory check).

The leaderboard reads ``family`` and ``report_only`` from the class
(``topobench.leaderboard.aggregate.describe_benchmark``);
``tests/test_registry.py`` checks every registered benchmark's declarations.

**Steps** (each small and overridable): :meth:`check_region` (the layer the
model commits to ``region``, or a ``ModelError``), :attr:`stimuli` (built
once by :meth:`make_stimuli`), :meth:`record` (``model.record(stimuli,
region)``), :meth:`measure` (the model's measurement: maps, matrices,
features, with the details that describe it), :meth:`compare` (the
measurement against the reference: a :class:`Comparison`), :attr:`ceiling`
(``make_ceiling().compute()``: one of the named ceilings of
``topobench.ceilings``) and :meth:`score` (``topobench.scores.ceiled_score``).
A benchmark whose flow is not this sequence keeps its own ``__call__`` and
inherits the declarations.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from brainscore_core.benchmarks import BenchmarkBase
from brainscore_core.metrics import Score

from topobench.costs import FULL, Cost, Fit
from topobench.errors import ModelError
from topobench.map_figures import V1MapFigures
from topobench.scores import ceiled_score

#: The benchmark families: topography (maps), responses (neurons, voxels), engineering (a task).
FAMILIES = ("topography", "responses", "engineering")

#: The registered V1 controls (``topobench.models.controls.v1_gabor``): band-limited maps with a
#: known spacing, pinwheel density and cardinal bias at the unit density of ResNet-18 layer2.0 at
#: 224 px and 64 px, their shuffled twins, a salt-and-pepper and a constant map.
V1_MAP_CONTROLS = ("control-v1-bandlimited-224px", "control-v1-bandlimited-224px-shuffled",
                   "control-v1-bandlimited-64px", "control-v1-bandlimited-64px-shuffled",
                   "control-v1-salt-and-pepper", "control-v1-constant")
#: The registered VTC controls (``topobench.models.controls.vtc_layout``): VTC units laid out in the
#: human arrangement of category-selective patches, and its shuffled twin.
VTC_PATCH_CONTROLS = ("control-vtc-efficientnet-lite0-human-layout",
                      "control-vtc-efficientnet-lite0-human-layout-shuffled")
#: The cost of recording V1 on the 640 gratings (``topobench.stimuli.gratings.sine_gratings``) and
#: measuring every unit's tuning: the V1 map benchmarks' and Ringach2002's (fixed part measured on tdann-mini).
V1_GRATINGS_COST = Cost(images=640, stimuli="sine gratings: 8 orientations x 8 SF x 5 phases x 2 colours",
                        region="V1", features=FULL, copies=2.0, fixed_seconds=0.0,
                        fit=Fit("orientation, SF and colour tuning of every unit over the gratings", "linear",
                                repeats=10))
#: The fLoc images without "scrambled" (``topobench.stimuli.floc``) that the VTC benchmarks record.
FLOC_IMAGES = 1440
FLOC_STIMULI = "fLoc without scrambled: 10 categories x 144"
#: Why a responses benchmark declares no controls.
RESPONSES_NO_CONTROLS = ("a responses benchmark: it compares responses with measured neurons or voxels, not a "
                         "layout, and the controls are maps with known answers")


@dataclass
class Comparison:
    """The outcome of :meth:`TopoBenchmark.compare`.

    ``raw``: the model's agreement with the reference (unceiled); ``error``: the uncertainty of
    the ceiled value; ``details``: what a report or plot needs (JSON-ready). ``ceiling``: the
    ceiling this comparison was made against when it computes its own on the same splits (e.g.
    ``SplitByAnimal.compare``); None: the benchmark's :attr:`~TopoBenchmark.ceiling`. ``value``:
    the ceiled value when it is not raw / ceiling (e.g. the mean over neurons of r / ceiling);
    None: raw / ceiling.
    """

    raw: float
    error: float
    details: dict = field(default_factory=dict)
    ceiling: float | None = None
    value: float | None = None


class TopoBenchmark(BenchmarkBase):
    """A benchmark as a fixed sequence of small steps (see the module docstring)."""

    # -- declarations -----------------------------------------------------------------------
    identifier: str = None
    version: int = None
    region: str = None
    parent: str = None            # the aggregate it belongs to; default: region
    bibtex: str = None
    datasets: tuple = ()
    no_datasets_reason: str = ""
    family: str = None
    report_only: bool = False
    controls: tuple = ()
    no_controls_reason: str = ""
    cost: Cost = None             # how time and memory grow with the model (topobench.costs)

    def __init__(self, identifier: str | None = None, version: int | None = None, region: str | None = None,
                 parent: str | None = None, bibtex: str | None = None):
        for name, value in (("identifier", identifier), ("version", version), ("region", region),
                            ("parent", parent), ("bibtex", bibtex)):
            if value is not None:
                setattr(self, name, value)
        if self.parent is None:
            self.parent = self.region
        # Brain-Score's fields too, for code that reads them; the class attributes above shadow its properties
        super().__init__(identifier=self.identifier, ceiling=None, version=self.version, parent=self.parent,
                         bibtex=self.bibtex)
        self._stimuli = None
        self._ceiling_object = None

    def declarations(self) -> dict:
        """The declarations as a JSON-ready dict."""
        return {"identifier": self.identifier, "version": self.version, "region": self.region,
                "parent": self.parent, "family": self.family, "report_only": self.report_only,
                "datasets": list(self.datasets), "no_datasets_reason": self.no_datasets_reason,
                "controls": list(self.controls), "no_controls_reason": self.no_controls_reason}

    # -- the sequence -----------------------------------------------------------------------
    def __call__(self, model) -> Score:
        layer = self.check_region(model)
        recording = self.record(model, self.stimuli)
        measurement = self.measure(recording, model, layer)
        return self.score(self.compare(measurement))

    # -- the steps --------------------------------------------------------------------------
    def check_region(self, model):
        """The layer ``model`` commits to :attr:`region`, or a ``ModelError`` naming the fix."""
        from topobench.model_interface import require_region
        return require_region(model, self.region, self.identifier)

    @property
    def stimuli(self):
        """The stimulus set, built on first use by :meth:`make_stimuli` (or given to ``__init__``)."""
        if self._stimuli is None:
            self._stimuli = self.make_stimuli()
        return self._stimuli

    def make_stimuli(self):
        raise NotImplementedError(f"{type(self).__name__} defines no make_stimuli()")

    def record(self, model, stimuli):
        """The model's responses: ``model.record(stimuli, region)`` (presentation x neuroid)."""
        return model.record(stimuli, self.region)

    def measure(self, recording, model, layer):
        """The model's measurement from ``recording`` (``layer``: what :meth:`check_region` gave)."""
        raise NotImplementedError(f"{type(self).__name__} defines no measure()")

    def compare(self, measurement) -> Comparison:
        """The measurement against the reference."""
        raise NotImplementedError(f"{type(self).__name__} defines no compare()")

    @property
    def ceiling_object(self):
        """The named ceiling (``topobench.ceilings``), made once by :meth:`make_ceiling`."""
        if self._ceiling_object is None:
            self._ceiling_object = self.make_ceiling()
        return self._ceiling_object

    def make_ceiling(self):
        raise NotImplementedError(f"{type(self).__name__} names no ceiling: define make_ceiling() "
                                  f"(one of topobench.ceilings) or the ceiling property")

    @property
    def ceiling(self) -> Score:
        """What one more individual gets (``ceiling_object.compute()``); never depends on the model."""
        return self.ceiling_object.compute()

    def score(self, comparison: Comparison) -> Score:
        """The ceiled ``Score`` (``topobench.scores.ceiled_score``): raw / ceiling, clipped to [0, 1]
        with the clipping kept in ``details``; or ``comparison.value`` clipped likewise."""
        ceiling = float(self.ceiling) if comparison.ceiling is None else float(comparison.ceiling)
        if comparison.value is None:
            return ceiled_score(comparison.raw, ceiling, comparison.error, comparison.details)
        score = ceiled_score(comparison.value, 1.0, comparison.error, comparison.details)
        score.attrs["raw"] = float(comparison.raw)
        score.attrs["ceiling"] = ceiling
        return score


class V1MapBenchmark(V1MapFigures, TopoBenchmark):
    """A benchmark of the V1 maps of ``topobench.metrics.v1_maps``: the model's V1 recorded on the
    640 gratings, its responsive units' positions and preferences (``V1Maps``); at least
    ``min_responsive`` responsive units, or a ``ModelError``. Certified by :data:`V1_MAP_CONTROLS`."""

    region = "V1"
    family = "topography"
    controls = V1_MAP_CONTROLS
    cost = V1_GRATINGS_COST
    relative_threshold = 0.1
    min_responsive = 10

    def make_stimuli(self):
        from topobench.stimuli.gratings import sine_gratings
        return sine_gratings()

    def measure(self, recording, model, layer):
        """The ``V1Maps`` of the responsive units (:meth:`map_details` describes them)."""
        from topobench.metrics.v1_maps import v1_maps_from_assembly
        maps = v1_maps_from_assembly(recording, getattr(model, "identifier", ""), self.relative_threshold,
                                     self.identifier)
        if maps.n_responsive < self.min_responsive:
            raise ModelError(f"{self.identifier}: only {maps.n_responsive} responsive V1 units in model "
                             f"{maps.model_identifier}; a map needs more")
        return maps

    def map_details(self, maps) -> dict:
        """The details every V1 map benchmark keeps: layer, unit counts, threshold."""
        return {"layer": maps.layer, "n_units": maps.n_units, "n_responsive": maps.n_responsive,
                "relative_threshold": self.relative_threshold}
