"""The results store: one row per (model, benchmark) run, committed at once.

A row (:class:`ScoreRecord`) says: *this model* (identifier and sha256 of its
weights) was scored on *this benchmark* (identifier and version) by *this
topobench version*, between ``started_at`` and ``finished_at`` (UTC), and either
succeeded (``status='ok'``, with the ceiled ``score``, ``raw``, ``ceiling``,
``error`` and the benchmark's ``details``) or failed (``status='failed'``, all
numbers NULL, the failure ``message`` kept). ``provenance`` holds whatever else
the caller wants to keep with the run (seed, sha256 of the reference files, how
the unit positions were made...). Rows are never updated: a re-run adds a row,
and :meth:`ResultsStore.latest` picks the newest.

**Commit at once.** Every write (:meth:`ResultsStore.record_result`,
:meth:`ResultsStore.record_failure`) is its own transaction and is committed
before the method returns, so a crash or an interrupt after it loses nothing
(DESIGN.md: "a long job never loses finished results"). On SQLite the database
runs in WAL mode with ``synchronous=FULL`` and a busy timeout, so several
processes can write to one file at the same time (on a local disk: WAL does not
work on network file systems).

**Where.** ``ResultsStore(url)``: ``url`` if given, else the environment
variable ``TOPOBENCH_DB_URL``, else the SQLite file
``topobench_home() / 'results.sqlite'``. A URL is anything
``playhouse.db_url.connect`` reads (``sqlite:////abs/path.sqlite``,
``postgresql://user:password@host:5432/dbname``...); a string without ``://`` is
taken as the path of a SQLite file. Each store binds its own database, so two
stores on two URLs in one process do not see each other.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import importlib.metadata
import json
import math
import os
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import numpy as np
import peewee
from playhouse import db_url as _db_url

from topobench.data_client import topobench_home
from topobench.errors import TopobenchError

DB_URL_VARIABLE = "TOPOBENCH_DB_URL"
DEFAULT_FILENAME = "results.sqlite"
TABLE_NAME = "score_records"
STATUS_OK = "ok"
STATUS_FAILED = "failed"
BUSY_TIMEOUT_S = 60.0
SQLITE_PRAGMAS = (
    ("busy_timeout", int(BUSY_TIMEOUT_S * 1000)),  # first: the others may wait for a lock
    ("journal_mode", "wal"),
    ("synchronous", "full"),  # a commit is on disk when it returns
)


class ResultsStoreError(TopobenchError):
    """The results database cannot be opened (bad URL, server unreachable...)."""


def utc_now() -> _dt.datetime:
    """The current time, timezone-aware, in UTC (what ``started_at`` should be)."""
    return _dt.datetime.now(_dt.timezone.utc)


def topobench_version() -> str:
    """``topobench.__version__`` if defined, else the installed distribution's version."""
    import topobench

    version = getattr(topobench, "__version__", None)
    if version:
        return str(version)
    try:
        return importlib.metadata.version("topobench")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


# ----------------------------------------------------------------------------- JSON

def to_jsonable(value):
    """``value`` as plain JSON types (dict, list, str, int, float, bool, None).

    numpy scalars become Python numbers, arrays (and anything with ``tolist``,
    such as xarray or pandas objects) nested lists, tuples and sets lists, dict
    keys strings, datetimes ISO strings, paths strings, dataclasses dicts. Floats
    that are not finite (NaN, +-inf) become ``None``, so the text is strict JSON
    that any reader (a browser included) accepts. Anything else becomes its
    ``str``: a result is never lost because one detail is of an odd type.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, (complex, np.complexfloating)):
        return {"real": to_jsonable(value.real), "imag": to_jsonable(value.imag)}
    if isinstance(value, dict):
        return {_json_key(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    if isinstance(value, (set, frozenset)):
        items = [to_jsonable(item) for item in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):  # datetime64, str_, bytes_, void...
        return to_jsonable(value.item())
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # pandas DataFrame
        return to_jsonable(value.to_dict(orient="list"))
    if hasattr(value, "tolist"):
        try:
            return to_jsonable(value.tolist())
        except Exception:  # noqa: BLE001 - fall back to str below
            pass
    return str(value)


def _json_key(key) -> str:
    if isinstance(key, str):
        return key
    plain = to_jsonable(key)
    return plain if isinstance(plain, str) else json.dumps(plain)


def _dumps(value) -> str | None:
    if value is None:
        return None
    return json.dumps(to_jsonable(value), allow_nan=False, sort_keys=True)


def _loads(text):
    return None if text is None else json.loads(text)


def _number(value) -> float | None:
    """A float for the database; NaN (no value) is stored as NULL on every backend."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


# ----------------------------------------------------------------------------- model

class UTCDateTimeField(peewee.DateTimeField):
    """A datetime stored as naive UTC text/timestamp and read back timezone-aware (UTC).

    An aware datetime is converted to UTC; a naive one is taken to be UTC already.
    Stored with microseconds always, so that text comparison on SQLite orders
    correctly.
    """

    def db_value(self, value):
        if isinstance(value, _dt.datetime):
            if value.tzinfo is not None:
                value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
            return value.strftime("%Y-%m-%d %H:%M:%S.%f")
        return super().db_value(value)

    def python_value(self, value):
        value = super().python_value(value)
        if isinstance(value, _dt.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=_dt.timezone.utc)
            else:
                value = value.astimezone(_dt.timezone.utc)
        return value


class ScoreRecord(peewee.Model):
    """One run of one model on one benchmark (see the module docstring).

    This class is not bound to a database; each :class:`ResultsStore` makes its
    own subclass bound to its own database (``store.ScoreRecord``).
    """

    id = peewee.AutoField()
    model_identifier = peewee.TextField()
    model_weights_sha256 = peewee.TextField(null=True)
    benchmark_identifier = peewee.TextField()
    benchmark_version = peewee.TextField()  # str(version): ints and "1.2" alike
    topobench_version = peewee.TextField()
    score = peewee.DoubleField(null=True)
    raw = peewee.DoubleField(null=True)
    ceiling = peewee.DoubleField(null=True)
    error = peewee.DoubleField(null=True)
    details = peewee.TextField(null=True)  # JSON
    started_at = UTCDateTimeField(null=True)
    finished_at = UTCDateTimeField()
    status = peewee.TextField()  # 'ok' | 'failed'
    message = peewee.TextField(null=True)
    provenance = peewee.TextField(null=True)  # JSON

    class Meta:
        table_name = TABLE_NAME
        indexes = (
            (("model_identifier", "benchmark_identifier", "benchmark_version"), False),
            (("finished_at",), False),
        )


COLUMNS = tuple(ScoreRecord._meta.sorted_field_names)
_JSON_COLUMNS = ("details", "provenance")


def _bound_model(database: peewee.Database) -> type[ScoreRecord]:
    meta = type("Meta", (), {"database": database, "table_name": TABLE_NAME})
    return type("ScoreRecord", (ScoreRecord,), {"Meta": meta, "__module__": __name__})


def _redacted(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for messages)."""
    parsed = urlparse(url)
    if parsed.password:
        netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@", 1)
        return urlunparse(parsed._replace(netloc=netloc))
    return url


# ----------------------------------------------------------------------------- store

class ResultsStore:
    """Where scores are kept: one :class:`ScoreRecord` row per (model, benchmark) run.

    ``url``: a database URL (``sqlite:///...``, ``postgresql://...``) or a SQLite
    file path; ``None`` reads ``TOPOBENCH_DB_URL`` and, when that is unset, uses
    ``topobench_home() / 'results.sqlite'``. The table is created on first use.

    Every ``record_*`` call is one transaction, committed before it returns: a
    crash afterwards loses nothing, and any other store (in this process or
    another) opened on the same database sees the row at once.
    """

    def __init__(self, url: str | None = None):
        if url is None:
            url = os.environ.get(DB_URL_VARIABLE) or None
        if url is None:
            url = f"sqlite:///{topobench_home() / DEFAULT_FILENAME}"
        elif "://" not in url:
            url = f"sqlite:///{Path(url).expanduser().resolve()}"
        self.url = url
        self.database = self._open(url)
        self.ScoreRecord = _bound_model(self.database)
        self._ready = False

    # -- connection

    @staticmethod
    def _open(url: str) -> peewee.Database:
        try:
            database = _db_url.connect(url)
            if isinstance(database, peewee.SqliteDatabase):
                database = _db_url.connect(url, pragmas=list(SQLITE_PRAGMAS),
                                           timeout=BUSY_TIMEOUT_S)
        except (RuntimeError, ValueError) as error:
            raise ResultsStoreError(
                f"cannot use results database {_redacted(url)!r}: {error}; set "
                f"{DB_URL_VARIABLE} to a URL such as sqlite:////path/results.sqlite or "
                f"postgresql://user:password@host:5432/dbname, or unset it") from None
        if isinstance(database, peewee.SqliteDatabase) and database.database != ":memory:":
            Path(database.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        return database

    def _ensure(self) -> None:
        """Connect and create the table the first time the store is used."""
        if self._ready:
            return
        try:
            self.database.connect(reuse_if_open=True)
        except (peewee.OperationalError, peewee.InterfaceError) as error:
            raise ResultsStoreError(
                f"cannot open results database {_redacted(self.url)}: "
                f"{' '.join(str(error).split())}; check {DB_URL_VARIABLE} (or unset it for the "
                f"local SQLite file)") from None
        try:
            self.database.create_tables([self.ScoreRecord], safe=True)
        except (peewee.IntegrityError, peewee.ProgrammingError):
            # Another process created it at the same moment (PostgreSQL races on
            # CREATE TABLE IF NOT EXISTS); it is there now.
            if not self.database.table_exists(TABLE_NAME):
                raise
        self._ready = True

    def close(self) -> None:
        """Close this thread's connection (it reopens on the next use)."""
        if not self.database.is_closed():
            self.database.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"ResultsStore({_redacted(self.url)!r})"

    # -- writes

    def _insert(self, **values) -> int:
        self._ensure()
        transaction = (self.database.atomic("IMMEDIATE")
                       if isinstance(self.database, peewee.SqliteDatabase)
                       else self.database.atomic())
        with transaction:
            return self.ScoreRecord.insert(**values).execute()

    def record_result(self, model_identifier: str, weights_sha256: str | None,
                      benchmark_identifier: str, benchmark_version, score,
                      started_at: _dt.datetime, provenance: dict | None = None,
                      finished_at: _dt.datetime | None = None) -> int:
        """Store a successful run (``status='ok'``), committed at once; returns the row id.

        ``score`` is a ``brainscore_core.metrics.Score`` as made by
        :func:`topobench.scores.ceiled_score`: its value and the attrs ``raw``,
        ``ceiling``, ``error`` and ``details`` are stored (details as JSON, numpy
        types converted by :func:`to_jsonable`; a NaN number is stored as NULL).
        ``finished_at`` defaults to now (UTC).
        """
        from topobench.scores import score_values

        values = score_values(score)
        details = score.attrs.get("details")
        return self._insert(
            model_identifier=str(model_identifier),
            model_weights_sha256=weights_sha256,
            benchmark_identifier=str(benchmark_identifier),
            benchmark_version=str(benchmark_version),
            topobench_version=topobench_version(),
            score=_number(values["score"]), raw=_number(values["raw"]),
            ceiling=_number(values["ceiling"]), error=_number(values["error"]),
            details=_dumps(details if details is not None else {}),
            started_at=started_at, finished_at=finished_at or utc_now(),
            status=STATUS_OK, message=None, provenance=_dumps(provenance))

    def record_failure(self, model_identifier: str, weights_sha256: str | None,
                       benchmark_identifier: str, benchmark_version, message: str,
                       started_at: _dt.datetime, provenance: dict | None = None,
                       finished_at: _dt.datetime | None = None) -> int:
        """Store a failed run (``status='failed'``, numbers NULL, ``message`` kept).

        Committed at once; returns the row id. ``finished_at`` defaults to now (UTC).
        """
        return self._insert(
            model_identifier=str(model_identifier),
            model_weights_sha256=weights_sha256,
            benchmark_identifier=str(benchmark_identifier),
            benchmark_version=str(benchmark_version),
            topobench_version=topobench_version(),
            score=None, raw=None, ceiling=None, error=None, details=None,
            started_at=started_at, finished_at=finished_at or utc_now(),
            status=STATUS_FAILED, message=str(message), provenance=_dumps(provenance))

    # -- reads

    def _as_dict(self, record: ScoreRecord) -> dict:
        row = {name: getattr(record, name) for name in COLUMNS}
        for name in _JSON_COLUMNS:
            row[name] = _loads(row[name])
        return row

    def _select(self, model=None, benchmark=None, status=None, version=None,
                weights_sha256=None):
        self._ensure()
        Record = self.ScoreRecord
        query = Record.select()
        if model is not None:
            query = query.where(Record.model_identifier == str(model))
        if benchmark is not None:
            query = query.where(Record.benchmark_identifier == str(benchmark))
        if version is not None:
            query = query.where(Record.benchmark_version == str(version))
        if weights_sha256 is not None:
            query = query.where(Record.model_weights_sha256 == weights_sha256)
        if status is not None:
            query = query.where(Record.status == status)
        return query

    def latest(self, model_identifier: str, benchmark_identifier: str,
               benchmark_version=None, status: str | None = None) -> dict | None:
        """The newest row (by ``finished_at``, then id) for this model and benchmark, or None.

        ``benchmark_version`` and ``status`` narrow it down when given.
        """
        Record = self.ScoreRecord
        query = (self._select(model_identifier, benchmark_identifier, status,
                              benchmark_version)
                 .order_by(Record.finished_at.desc(), Record.id.desc()).limit(1))
        record = query.first()
        return None if record is None else self._as_dict(record)

    def rows(self, model: str | None = None, benchmark: str | None = None,
             status: str | None = None) -> list[dict]:
        """All rows, oldest first (``finished_at``, then id), as dicts.

        Keys are :data:`COLUMNS`; ``details`` and ``provenance`` are parsed JSON,
        datetimes are timezone-aware UTC.
        """
        Record = self.ScoreRecord
        query = self._select(model, benchmark, status).order_by(Record.finished_at, Record.id)
        return [self._as_dict(record) for record in query]

    def has_result(self, model: str, benchmark: str, version,
                   weights_sha256: str | None = None) -> bool:
        """Whether an ``'ok'`` row exists for this model, benchmark and version.

        With ``weights_sha256``, only a row for those same weights counts.
        """
        return self._select(model, benchmark, STATUS_OK, version, weights_sha256).exists()

    def to_dataframe(self, model: str | None = None, benchmark: str | None = None,
                     status: str | None = None):
        """:meth:`rows` as a ``pandas.DataFrame`` (columns :data:`COLUMNS`)."""
        import pandas as pd

        return pd.DataFrame(self.rows(model, benchmark, status), columns=list(COLUMNS))
