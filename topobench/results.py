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

**Faults of the machine.** :meth:`ResultsStore.check` opens the store and proves
it works (connection, table, one cheap query, SQLite's write lock) so that
callers can refuse to start a benchmark on a store that cannot keep its result;
a store that cannot be opened, read or written is a :class:`StoreUnavailable`
(an :class:`~topobench.errors.EnvironmentFault`: one line naming the store,
credentials hidden, and the fix; exit 3).

**Never lost.** A row the store cannot take at write time (the server went away,
the disk is full) is written atomically to a spool file,
``TOPOBENCH_HOME/spool/<time>-<model>-<benchmark>.json`` (:func:`spool_row`),
holding every column and the store it was meant for; :meth:`ResultsStore.import_spool`
(``topobench results import-spool``, and the start of every ``score`` and
``leaderboard run``) inserts the spooled rows of that store and removes only the
files it imported. Importing is idempotent: a row already there is not added twice.

**Leases.** ``leaderboard run`` takes a lease on a (model, benchmark, version)
pair before scoring it (:meth:`ResultsStore.acquire_lease`, table
``score_leases``: holder ``host:pid``, a token, ``expires_at``), atomically on
SQLite and PostgreSQL; another run does not score a pair whose lease is live.
A lease expires unless renewed; one whose holder process is gone (on this host)
is taken over at once, so ``kill -9`` leaves no pair blocked.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import importlib.metadata
import json
import math
import os
import re
import socket
import tempfile
import uuid
from pathlib import Path

import numpy as np
import peewee
from playhouse import db_url as _db_url

from topobench.data_client import topobench_home
from topobench.errors import EnvironmentFault, TopobenchError
from topobench.redact import redact_url

DB_URL_VARIABLE = "TOPOBENCH_DB_URL"
DEFAULT_FILENAME = "results.sqlite"
TABLE_NAME = "score_records"
STATUS_OK = "ok"
STATUS_FAILED = "failed"
LEASE_TABLE_NAME = "score_leases"
LEASE_SECONDS = 300.0  # a lease lives this long unless renewed (leaderboard.run renews it every minute)
SPOOL_FOLDER = "spool"
SPOOL_FORMAT = 1
BUSY_TIMEOUT_S = 60.0
SQLITE_PRAGMAS = (
    ("busy_timeout", int(BUSY_TIMEOUT_S * 1000)),  # first: the others may wait for a lock
    ("journal_mode", "wal"),
    ("synchronous", "full"),  # a commit is on disk when it returns
)


class ResultsStoreError(TopobenchError):
    """The results database cannot be used (a bad URL...)."""


class StoreUnavailable(ResultsStoreError, EnvironmentFault):
    """The results store cannot be opened, read or written now (server down or unreachable, a
    corrupted or read-only SQLite file, a full disk): a fault of the machine, exit 3."""


class ResultSpooled(EnvironmentFault):
    """A result (a score or a failure) the store could not take, kept in a spool file instead.

    ``path``: the spool file (None when even that could not be written); ``row``: the column
    values; ``score``: the ``Score`` (None for a failure); ``reason``: why the store could not
    take it. The message names the store, the file and the import.
    """

    def __init__(self, message: str, path=None, row=None, score=None, reason: str | None = None):
        super().__init__(message)
        self.path, self.row, self.score, self.reason = path, row, score, reason or message


#: peewee errors that mean the store is unavailable (not a bug of the query): connection lost,
#: server down, a corrupted/read-only file, disk full. IntegrityError and ProgrammingError are not.
_UNAVAILABLE = (peewee.OperationalError, peewee.InterfaceError, peewee.InternalError)


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


def rounded_jsonable(value, digits: int = 4):
    """:func:`to_jsonable`, with every float rounded to ``digits`` decimals (for tables meant to be read)."""
    value = to_jsonable(value)
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {key: rounded_jsonable(item, digits) for key, item in value.items()}
    if isinstance(value, list):
        return [rounded_jsonable(item, digits) for item in value]
    return value


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
_TIME_COLUMNS = ("started_at", "finished_at")


class ScoreLease(peewee.Model):
    """Who is scoring a (model, benchmark, version) pair right now (see the module docstring).

    Unbound like :class:`ScoreRecord`; each store binds its own (``store.ScoreLease``).
    """

    id = peewee.AutoField()
    model_identifier = peewee.TextField()
    benchmark_identifier = peewee.TextField()
    benchmark_version = peewee.TextField()
    holder = peewee.TextField()       # host:pid
    token = peewee.TextField()        # one per acquisition: who holds it exactly
    expires_at = UTCDateTimeField()

    class Meta:
        table_name = LEASE_TABLE_NAME
        indexes = ((("model_identifier", "benchmark_identifier", "benchmark_version"), True),)


def _bound_model(database: peewee.Database) -> type[ScoreRecord]:
    meta = type("Meta", (), {"database": database, "table_name": TABLE_NAME})
    return type("ScoreRecord", (ScoreRecord,), {"Meta": meta, "__module__": __name__})


def _bound_lease(database: peewee.Database) -> type[ScoreLease]:
    meta = type("Meta", (), {"database": database, "table_name": LEASE_TABLE_NAME})
    return type("ScoreLease", (ScoreLease,), {"Meta": meta, "__module__": __name__})


def lease_holder() -> str:
    """``host:pid`` of this process: the holder of the leases it takes."""
    return f"{socket.gethostname()}:{os.getpid()}"


def holder_is_gone(holder: str) -> bool:
    """Whether the process ``host:pid`` is known to be dead: only a process of this host can be
    checked (another host's lease waits for its expiry)."""
    host, _, pid = str(holder).rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False  # alive (another user's), or unknown: wait for the expiry
    return False


# ----------------------------------------------------------------------------- rows

def result_row(model_identifier: str, weights_sha256: str | None, benchmark_identifier: str,
               benchmark_version, score, started_at: _dt.datetime | None, provenance: dict | None = None,
               finished_at: _dt.datetime | None = None) -> dict:
    """The column values :meth:`ResultsStore.record_result` inserts (``status='ok'``)."""
    from topobench.scores import score_values

    values = score_values(score)
    details = score.attrs.get("details")
    return dict(
        model_identifier=str(model_identifier), model_weights_sha256=weights_sha256,
        benchmark_identifier=str(benchmark_identifier), benchmark_version=str(benchmark_version),
        topobench_version=topobench_version(),
        score=_number(values["score"]), raw=_number(values["raw"]),
        ceiling=_number(values["ceiling"]), error=_number(values["error"]),
        details=_dumps(details if details is not None else {}),
        started_at=started_at, finished_at=finished_at or utc_now(),
        status=STATUS_OK, message=None, provenance=_dumps(provenance))


def failure_row(model_identifier: str, weights_sha256: str | None, benchmark_identifier: str,
                benchmark_version, message: str, started_at: _dt.datetime | None,
                provenance: dict | None = None, finished_at: _dt.datetime | None = None) -> dict:
    """The column values :meth:`ResultsStore.record_failure` inserts (``status='failed'``)."""
    return dict(
        model_identifier=str(model_identifier), model_weights_sha256=weights_sha256,
        benchmark_identifier=str(benchmark_identifier), benchmark_version=str(benchmark_version),
        topobench_version=topobench_version(),
        score=None, raw=None, ceiling=None, error=None, details=None,
        started_at=started_at, finished_at=finished_at or utc_now(),
        status=STATUS_FAILED, message=str(message), provenance=_dumps(provenance))


def _aware(value) -> _dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = _dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    return value.astimezone(_dt.timezone.utc)


# ----------------------------------------------------------------------------- spool

def spool_folder() -> Path:
    """``TOPOBENCH_HOME/spool``: results that could not be stored, waiting for their import."""
    return topobench_home() / SPOOL_FOLDER


def _file_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("._")[:80] or "x"


def spool_row(row: dict, store_key: str, store_name: str, reason: str, folder: Path | None = None) -> Path:
    """Write ``row`` (the column values of one result) to a new spool file, atomically; its path.

    The file is JSON: ``format``, ``store`` (the store it was meant for, credentials hidden),
    ``store_key`` (what :meth:`ResultsStore.import_spool` matches), ``reason`` and ``row``
    (datetimes ISO 8601 UTC, ``details`` and ``provenance`` parsed). Raises OSError when it
    cannot be written (then nothing is left behind).
    """
    folder = Path(folder) if folder is not None else spool_folder()
    folder.mkdir(parents=True, exist_ok=True)
    plain = {}
    for name, value in row.items():
        if name in _TIME_COLUMNS:
            value = None if value is None else _aware(value).isoformat()
        elif name in _JSON_COLUMNS:
            value = _loads(value) if isinstance(value, str) else to_jsonable(value)
        plain[name] = to_jsonable(value)
    document = {"format": SPOOL_FORMAT, "store": store_name, "store_key": store_key,
                "reason": redact_url(reason), "spooled_at": utc_now().isoformat(), "row": plain}
    stamp = utc_now().strftime("%Y%m%dT%H%M%S.%fZ")
    name = (f"{stamp}-{_file_part(row.get('model_identifier'))}-{_file_part(row.get('benchmark_identifier'))}"
            f"-{os.getpid()}-{uuid.uuid4().hex[:6]}.json")
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".part")
    try:
        with os.fdopen(handle, "w") as out:
            json.dump(document, out, indent=1, sort_keys=True, allow_nan=False)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        target = folder / name
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    try:  # the rename itself is on disk
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except OSError:
        pass
    return target


_CLAIMED = ".importing"


def _claim_name(path: Path) -> Path:
    """The name a spool file is renamed to while one process imports it (``<name>~host~pid.importing``)."""
    host, _, pid = lease_holder().rpartition(":")
    return path.with_name(f"{path.name}~{host}~{pid}{_CLAIMED}")


def _claimed_by_the_dead(path: Path) -> Path | None:
    """The spool file's own name, when ``path`` was claimed by a process of this host that is gone."""
    original, host, pid = path.name[:-len(_CLAIMED)].rsplit("~", 2) if path.name.count("~") >= 2 else ("", "", "")
    if original.endswith(".json") and holder_is_gone(f"{host}:{pid}"):
        return path.with_name(original)
    return None


def spooled_files(folder: Path | None = None) -> list[Path]:
    """The spool files waiting for import, oldest first (a file whose import was cut short by a
    process that is gone counts again, under its own name)."""
    folder = Path(folder) if folder is not None else spool_folder()
    if not folder.is_dir():
        return []
    for claimed in folder.glob(f"*{_CLAIMED}"):
        original = _claimed_by_the_dead(claimed)
        if original is not None:
            with contextlib.suppress(OSError):
                os.replace(claimed, original)
    return sorted(path for path in folder.glob("*.json") if path.is_file() and not path.name.startswith("."))


@dataclasses.dataclass
class SpoolImport:
    """What :meth:`ResultsStore.import_spool` did."""

    imported: list = dataclasses.field(default_factory=list)      # files imported (and removed)
    other_store: list = dataclasses.field(default_factory=list)   # (file, store name): left in place
    unreadable: list = dataclasses.field(default_factory=list)    # (file, why): left in place

    def text(self, store_name: str) -> str:
        parts = []
        if self.imported:
            parts.append(f"imported {len(self.imported)} spooled result(s) into {store_name}")
        if self.other_store:
            stores = sorted({name for _, name in self.other_store})
            parts.append(f"{len(self.other_store)} spooled result(s) are for another store ({', '.join(stores)}) "
                         f"and stay in {self.other_store[0][0].parent}: import them with that store "
                         f"(TOPOBENCH_DB_URL or --db)")
        if self.unreadable:
            parts.append(f"{len(self.unreadable)} spool file(s) cannot be read and stay in place "
                         f"({self.unreadable[0][0]}: {self.unreadable[0][1]})")
        return "; ".join(parts)


#: ``url`` with its password replaced by ``***`` (for messages): the one helper, topobench.redact.
_redacted = redact_url


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
        self.sqlite_path = (Path(self.database.database).expanduser().resolve()
                            if isinstance(self.database, peewee.SqliteDatabase)
                            and self.database.database != ":memory:" else None)
        self.ScoreRecord = _bound_model(self.database)
        self.ScoreLease = _bound_lease(self.database)
        self._ready = False
        self._leases_ready = False

    @property
    def name(self) -> str:
        """The store for messages: its URL with the password hidden."""
        return redact_url(self.url)

    @property
    def key(self) -> str:
        """What identifies this store in a spool file: the SQLite file's absolute path, else the
        URL with its password hidden."""
        return f"sqlite:{self.sqlite_path}" if self.sqlite_path is not None else redact_url(self.url)

    def fault(self, error: BaseException, doing: str = "opened") -> StoreUnavailable:
        """A :class:`StoreUnavailable` naming this store (credentials hidden), the cause and the fix."""
        reason = " ".join(str(error).split()) or type(error).__name__
        low = reason.lower()
        if self.sqlite_path is not None:
            path = self.sqlite_path
            if "not a database" in low or "malformed" in low or "corrupt" in low:
                fix = (f"the file is corrupted or not a results database: move it aside "
                       f"(mv '{path}' '{path}.broken') and run again to start an empty store, or set "
                       f"{DB_URL_VARIABLE} to another store")
            elif "full" in low or getattr(error, "errno", None) == 28:
                fix = "free disk space, or set TOPOBENCH_HOME (or --db) to a folder on another disk"
            elif "locked" in low or "busy" in low:
                fix = "another process holds the database locked; wait for it or stop it, then run again"
            elif not os.access(path.parent, os.W_OK | os.X_OK):
                home = os.environ.get("TOPOBENCH_HOME")
                folder = (f"TOPOBENCH_HOME {path.parent}" if home and Path(home).expanduser().resolve() ==
                          path.parent else f"the folder {path.parent}")
                fix = (f"{folder} is not writable (SQLite writes {path.name}-wal and -shm beside the file): make "
                       f"it writable, or set TOPOBENCH_HOME (or {DB_URL_VARIABLE}, --db) to a writable place")
            else:
                fix = (f"the file and its folder {path.parent} must be readable and writable (SQLite also "
                       f"writes {path.name}-wal and -shm beside it): fix their permissions, or set "
                       f"TOPOBENCH_HOME (or {DB_URL_VARIABLE}, --db) to a writable place")
        else:
            fix = (f"check that the database server is running and reachable and that {DB_URL_VARIABLE} "
                   f"(or --db) names it")
        return StoreUnavailable(redact_url(f"results store {self.name} cannot be {doing}: {reason}; {fix}"))

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
                f"cannot use results database {_redacted(url)!r}: "
                f"{error if _redacted(url) == url else 'it does not parse (a raw / ? # or @ in the password?)'}; set "
                f"{DB_URL_VARIABLE} to a URL such as sqlite:////path/results.sqlite or "
                f"postgresql://user:password@host:5432/dbname, or unset it") from None
        if isinstance(database, peewee.SqliteDatabase) and database.database != ":memory:":
            folder = Path(database.database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                from topobench.data_client import fix_of
                raise StoreUnavailable(
                    f"results store {redact_url(url)} cannot be opened: its folder {folder} cannot be made "
                    f"({error.strerror}); {fix_of(error)}") from None
        return database

    def _ensure(self) -> None:
        """Connect and create the table the first time the store is used."""
        if self._ready:
            return
        try:
            self.database.connect(reuse_if_open=True)
        except (peewee.PeeweeException, OSError) as error:  # DatabaseError: a corrupted SQLite file
            self._drop_connection()
            raise self.fault(error, "opened") from None
        self._create(self.ScoreRecord, TABLE_NAME)
        self._ready = True

    def _create(self, model, table_name: str) -> None:
        try:
            self.database.create_tables([model], safe=True)
        except (peewee.IntegrityError, peewee.ProgrammingError):
            # Another process created it at the same moment (PostgreSQL races on
            # CREATE TABLE IF NOT EXISTS); it is there now.
            if not self.database.table_exists(table_name):
                raise
        except (peewee.DatabaseError, peewee.InterfaceError, OSError) as error:
            self._drop_connection()
            raise self.fault(error, "opened") from None

    def _drop_connection(self) -> None:
        """Forget a connection that failed, so that the next use connects afresh."""
        self._ready = self._leases_ready = False
        try:
            if not self.database.is_closed():
                self.database.close()
        except Exception:  # noqa: BLE001 - a dead connection may refuse even to close
            try:
                self.database._state.reset()
            except Exception:  # noqa: BLE001
                pass

    @contextlib.contextmanager
    def _guard(self, doing: str):
        """Turn the errors of an unavailable store into :class:`StoreUnavailable` (one line, exit 3)."""
        try:
            yield
        except StoreUnavailable:
            raise
        except (*_UNAVAILABLE, OSError) as error:
            self._drop_connection()
            raise self.fault(error, doing) from None
        except peewee.DatabaseError as error:
            if type(error) is not peewee.DatabaseError:  # IntegrityError, ProgrammingError...: a bug
                raise
            self._drop_connection()
            raise self.fault(error, doing) from None

    def check(self) -> "ResultsStore":
        """Open the store and prove it works before any work starts; returns the store.

        Connects, creates the table if needed, runs one cheap query and, on SQLite, takes and
        releases the write lock (a read-only file or folder fails here, not after a benchmark).
        Raises :class:`StoreUnavailable` (one line: the store, credentials hidden, and the fix).
        """
        self._ensure()
        with self._guard("read"):
            self.ScoreRecord.select(self.ScoreRecord.id).limit(1).execute()
        if self.sqlite_path is not None:
            with self._guard("written"):
                with self.database.atomic("IMMEDIATE"):
                    pass
        return self

    def close(self) -> None:
        """Close this thread's connection (it reopens on the next use)."""
        try:
            if not self.database.is_closed():
                self.database.close()
        except _UNAVAILABLE:
            self._drop_connection()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"ResultsStore({_redacted(self.url)!r})"

    # -- writes

    def _transaction(self):
        return (self.database.atomic("IMMEDIATE") if isinstance(self.database, peewee.SqliteDatabase)
                else self.database.atomic())

    def _insert(self, **values) -> int:
        self._ensure()
        with self._guard("written"):
            with self._transaction():
                return self.ScoreRecord.insert(**values).execute()

    def insert_row(self, row: dict) -> int:
        """Insert one row of column values (as :func:`result_row` makes them), committed at once."""
        values = {name: row.get(name) for name in COLUMNS if name != "id"}
        for name in _TIME_COLUMNS:
            values[name] = _aware(values[name])
        for name in _JSON_COLUMNS:
            if values[name] is not None and not isinstance(values[name], str):
                values[name] = _dumps(values[name])
        return self._insert(**values)

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
        return self._insert(**result_row(model_identifier, weights_sha256, benchmark_identifier,
                                         benchmark_version, score, started_at, provenance, finished_at))

    def record_failure(self, model_identifier: str, weights_sha256: str | None,
                       benchmark_identifier: str, benchmark_version, message: str,
                       started_at: _dt.datetime, provenance: dict | None = None,
                       finished_at: _dt.datetime | None = None) -> int:
        """Store a failed run (``status='failed'``, numbers NULL, ``message`` kept).

        Committed at once; returns the row id. ``finished_at`` defaults to now (UTC).
        """
        return self._insert(**failure_row(model_identifier, weights_sha256, benchmark_identifier,
                                          benchmark_version, message, started_at, provenance, finished_at))

    # -- spool

    def spool(self, row: dict, reason: str, folder: Path | None = None) -> Path:
        """Keep ``row``, which this store could not take, in a spool file for this store."""
        return spool_row(row, self.key, self.name, reason, folder)

    def _row_exists(self, row: dict) -> bool:
        Record = self.ScoreRecord
        query = self._select(row["model_identifier"], row["benchmark_identifier"], row["status"],
                             row["benchmark_version"])
        query = query.where(Record.finished_at == _aware(row["finished_at"]))
        with self._guard("read"):
            return query.exists()

    def import_spool(self, folder: Path | None = None) -> SpoolImport:
        """Insert the spooled rows meant for this store and remove exactly those files.

        Files for another store, and files that cannot be read, stay where they are (and are
        listed in the answer). A row that is already stored is not added again (an import
        interrupted between the insert and the removal is safe to repeat). Raises
        :class:`StoreUnavailable` when the store fails; what was imported before stays imported.
        """
        answer = SpoolImport()
        for path in spooled_files(folder):
            claimed = _claim_name(path)
            try:  # one importer per file: two runs starting together never insert a row twice
                os.rename(path, claimed)
            except FileNotFoundError:
                continue  # another process is importing it
            try:
                document = json.loads(claimed.read_text())
                row = document["row"]
                key = document["store_key"]
                _aware(row["finished_at"]), row["model_identifier"], row["status"]
            except (OSError, ValueError, KeyError, TypeError) as error:
                os.replace(claimed, path)
                answer.unreadable.append((path, f"{type(error).__name__}: {error}"))
                continue
            if key != self.key:
                os.replace(claimed, path)
                answer.other_store.append((path, str(document.get("store") or key)))
                continue
            try:
                if not self._row_exists(row):
                    self.insert_row(row)
            except BaseException:
                os.replace(claimed, path)  # still waiting for its import
                raise
            claimed.unlink()
            answer.imported.append(path)
        return answer

    # -- leases

    def _ensure_leases(self) -> None:
        self._ensure()
        if not self._leases_ready:
            self._create(self.ScoreLease, LEASE_TABLE_NAME)
            self._leases_ready = True

    def _lease_where(self, model, benchmark, version):
        Lease = self.ScoreLease
        return ((Lease.model_identifier == str(model)) & (Lease.benchmark_identifier == str(benchmark))
                & (Lease.benchmark_version == str(version)))

    def acquire_lease(self, model: str, benchmark: str, version, seconds: float = LEASE_SECONDS,
                      holder: str | None = None) -> str | None:
        """Take the lease of a pair for ``seconds``; its token, or None while another holds it.

        One transaction: a new lease is inserted if there is none (insert-if-absent), an
        expired lease, or one whose holder process is gone, is taken over (update-if-unchanged);
        the token read back says who won, so two processes never both get it (SQLite and
        PostgreSQL alike).
        """
        self._ensure_leases()
        Lease = self.ScoreLease
        holder = holder or lease_holder()
        token = uuid.uuid4().hex
        now = utc_now()
        expires = now + _dt.timedelta(seconds=float(seconds))
        where = self._lease_where(model, benchmark, version)
        with self._guard("written"):
            with self._transaction():
                current = Lease.select().where(where).first()
                if current is None:
                    (Lease.insert(model_identifier=str(model), benchmark_identifier=str(benchmark),
                                  benchmark_version=str(version), holder=holder, token=token, expires_at=expires)
                     .on_conflict_ignore().execute())
                elif current.expires_at <= now or holder_is_gone(current.holder):
                    (Lease.update(holder=holder, token=token, expires_at=expires)
                     .where(where & (Lease.token == current.token)).execute())
                else:
                    return None
                won = Lease.select(Lease.token).where(where).first()
        return token if won is not None and won.token == token else None

    def renew_lease(self, model: str, benchmark: str, version, token: str,
                    seconds: float = LEASE_SECONDS) -> bool:
        """Push the expiry of a lease this token holds ``seconds`` from now; False if it is lost."""
        self._ensure_leases()
        Lease = self.ScoreLease
        with self._guard("written"):
            with self._transaction():
                changed = (Lease.update(expires_at=utc_now() + _dt.timedelta(seconds=float(seconds)))
                           .where(self._lease_where(model, benchmark, version) & (Lease.token == token))
                           .execute())
        return bool(changed)

    def release_lease(self, model: str, benchmark: str, version, token: str) -> None:
        """Give a lease back (only the holder of ``token`` can)."""
        self._ensure_leases()
        Lease = self.ScoreLease
        with self._guard("written"):
            with self._transaction():
                (Lease.delete().where(self._lease_where(model, benchmark, version) & (Lease.token == token))
                 .execute())

    def lease(self, model: str, benchmark: str, version) -> dict | None:
        """The lease of a pair (holder, token, expires_at), live or not, or None."""
        self._ensure_leases()
        with self._guard("read"):
            found = self.ScoreLease.select().where(self._lease_where(model, benchmark, version)).first()
        if found is None:
            return None
        return {"holder": found.holder, "token": found.token, "expires_at": found.expires_at}

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
        with self._guard("read"):
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
        with self._guard("read"):
            return [self._as_dict(record) for record in query]

    def has_result(self, model: str, benchmark: str, version,
                   weights_sha256: str | None = None) -> bool:
        """Whether an ``'ok'`` row exists for this model, benchmark and version.

        With ``weights_sha256``, only a row for those same weights counts.
        """
        query = self._select(model, benchmark, STATUS_OK, version, weights_sha256)
        with self._guard("read"):
            return query.exists()

    def to_dataframe(self, model: str | None = None, benchmark: str | None = None,
                     status: str | None = None):
        """:meth:`rows` as a ``pandas.DataFrame`` (columns :data:`COLUMNS`)."""
        import pandas as pd

        return pd.DataFrame(self.rows(model, benchmark, status), columns=list(COLUMNS))
