"""Reference-data client: download from the data host, cache, check sha256.

The host is ``TOPOBENCH_DATA_URL``: a directory path, a ``file://`` URL or an
``https://`` URL laid out as ``<host>/<dataset>/<path>`` (see
``../shared/reference-data/README.md``). Files are cached under
``TOPOBENCH_HOME/data`` (default: the user cache directory). A download goes to a
temporary file in the cache folder, is checked against the sha256 registered in
``reference_data/datasets/<dataset>.json``, and only then renamed into place, so
an interrupted or corrupted download never leaves a file that looks valid.

A fault of the machine is never a :class:`DataError` alone: a host that cannot
be reached (:class:`DataHostUnreachable`) and a cache that cannot be written
(disk full, no permission, read-only, a folder where a cached file belongs:
:class:`CacheFault`) are also :class:`~topobench.errors.EnvironmentFault`, so
scoring never stores them as a failure of the model and the CLI exits with 3.
"""
from __future__ import annotations

import errno
import hashlib
import http.client
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import platformdirs

from topobench.errors import DataError, EnvironmentFault
from topobench.redact import redact_url

DATA_URL_VARIABLE = "TOPOBENCH_DATA_URL"
HOME_VARIABLE = "TOPOBENCH_HOME"
_CHUNK = 1 << 20
_VERIFIED: dict[tuple, str] = {}  # (path, size, mtime) -> sha256 already checked in this process


class DataHostUnreachable(DataError, EnvironmentFault):
    """The data host cannot be reached or read (down, network, folder missing): exit 3, never a model's failure."""


class CacheFault(DataError, EnvironmentFault):
    """The local cache cannot be written (disk full, permissions, read-only file system) or holds
    a folder where a cached file belongs: exit 3, never a model's failure."""


class HomeFault(EnvironmentFault):
    """``TOPOBENCH_HOME`` cannot be made or used (a file, under a file, no permission)."""


#: errno -> the fix, for an OSError of the machine while writing under TOPOBENCH_HOME.
_FIXES = {
    errno.ENOSPC: "free disk space or set TOPOBENCH_HOME to a folder on another disk",
    errno.EDQUOT: "free space within your disk quota or set TOPOBENCH_HOME to a folder on another disk",
    errno.EACCES: "make it writable (chmod u+rwx) or set TOPOBENCH_HOME to a writable folder",
    errno.EPERM: "make it writable or set TOPOBENCH_HOME to a writable folder",
    errno.EROFS: "the file system is read-only; set TOPOBENCH_HOME to a writable folder",
    errno.ENOTDIR: "a file stands where a folder belongs; move that file away or set TOPOBENCH_HOME elsewhere",
    errno.EEXIST: "a file stands where a folder belongs; move that file away or set TOPOBENCH_HOME elsewhere",
    errno.EISDIR: "a folder stands where a file belongs; remove that folder and run again",
}


def fix_of(error: OSError) -> str:
    """The fix of an OSError raised while writing under TOPOBENCH_HOME (one clause, for messages)."""
    return _FIXES.get(getattr(error, "errno", None),
                      "check the folder, its permissions and free disk space, or set TOPOBENCH_HOME elsewhere")


def topobench_home() -> Path:
    """Root of every cache of topobench (data, activations, results database).

    A home that cannot be made (a file, a path under a file, no permission) is a
    :class:`HomeFault` (one line naming it and the fix, exit 3)."""
    home = os.environ.get(HOME_VARIABLE)
    path = Path(home) if home else Path(platformdirs.user_cache_dir("topobench"))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        if path.is_file():
            problem, fix = "is a file, not a folder", "set TOPOBENCH_HOME to a folder (or move that file away)"
        elif isinstance(error, (FileExistsError, NotADirectoryError)):
            problem, fix = "cannot be made: a part of that path is a file", "set TOPOBENCH_HOME to a writable folder"
        else:
            problem, fix = f"cannot be made ({error.strerror})", fix_of(error)
        raise HomeFault(f"TOPOBENCH_HOME {path} {problem}; {fix}") from None
    return path


def data_url() -> str:
    url = os.environ.get(DATA_URL_VARIABLE)
    if not url:
        raise DataError(
            f"no data host: set {DATA_URL_VARIABLE} to the reference-data host "
            f"(a folder such as ../shared/reference-data, a file:// or an https:// URL)")
    return url


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cache_path(dataset: str, path: str) -> Path:
    return topobench_home() / "data" / dataset / path


def _reason(error: BaseException, url: str) -> str:
    """Why ``url`` could not be opened, without its credentials (a URL holding a password gives only
    the kind of error: the message of a malformed one may quote a piece of the password)."""
    reason = getattr(error, "reason", error)
    if redact_url(url) != url:
        return f"{type(reason).__name__}; a user:password@ in the URL is not supported"
    return redact_url(reason)


def _open_remote(url: str, relative: str):
    """Return a readable binary stream of ``relative`` on the host ``url``."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme in ("http", "https"):
        full = url.rstrip("/") + "/" + urllib.parse.quote(relative)
        try:
            return urllib.request.urlopen(full, timeout=60)
        except urllib.error.HTTPError as error:
            if error.code == 404:
                raise DataError(f"{relative} is not on the data host {redact_url(url)} (HTTP 404); "
                                f"check {DATA_URL_VARIABLE}") from None
            kind = DataHostUnreachable if error.code >= 500 else DataError  # 5xx: the host is down
            raise kind(f"data host {redact_url(url)} answered HTTP {error.code} for {relative}; "
                       f"check {DATA_URL_VARIABLE} or retry later") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as error:
            raise DataHostUnreachable(f"data host {redact_url(url)} is unreachable ({_reason(error, url)}); "
                                      f"check {DATA_URL_VARIABLE} and the network") from None
    root = Path(urllib.request.url2pathname(parsed.path)) if parsed.scheme == "file" else Path(url)
    if not root.is_dir():
        shown = root if parsed.scheme in ("", "file") else "it"  # Path() would mangle a URL's '//'
        raise DataHostUnreachable(f"data host {redact_url(url)} is unreachable: {redact_url(shown)} is not a "
                                  f"folder; set {DATA_URL_VARIABLE} to the reference-data folder")
    source = root / relative
    if not source.is_file():
        raise DataError(f"{relative} is not on the data host {redact_url(url)}; check {DATA_URL_VARIABLE} "
                        f"or the dataset registry in reference_data/datasets/")
    try:
        return open(source, "rb")
    except OSError as error:
        raise DataHostUnreachable(f"{relative} on the data host {redact_url(url)} cannot be read "
                                  f"({error.strerror}); check {DATA_URL_VARIABLE} and the host's permissions"
                                  ) from None


def _cache_fault(error: OSError, target: Path, doing: str = "cache") -> CacheFault:
    """A :class:`CacheFault` naming the file, the cause and the fix."""
    where = getattr(error, "filename", None) or target.parent
    return CacheFault(f"cannot {doing} {target} ({error.strerror or error} at {where}); {fix_of(error)}")


def _read_host(source, url: str, relative: str) -> bytes:
    try:
        return source.read(_CHUNK)
    except (OSError, http.client.HTTPException) as error:
        raise DataHostUnreachable(f"the data host {redact_url(url)} was lost while downloading {relative} "
                                  f"({type(error).__name__}); check {DATA_URL_VARIABLE} and the network, "
                                  f"then run again") from None


def fetch(dataset: str, path: str, progress: bool = False) -> Path:
    """Local path of ``<dataset>/<path>``, downloaded and sha256-checked on first use.

    A cached file is rehashed once per process (then remembered by size and
    mtime); a cached copy with the wrong hash is dropped and downloaded again.
    """
    from topobench.registry import get_dataset  # late: the registry imports this module

    entry = get_dataset(dataset).file(path)
    target = cache_path(dataset, path)
    if target.exists() and not target.is_file():  # a folder (or other thing) where the file belongs
        kind = "a folder" if target.is_dir() else "not a regular file"
        raise CacheFault(f"the cached data file {target} is {kind}; remove it "
                         f"({'rm -r' if target.is_dir() else 'rm'} '{target}') and run again: the file is "
                         f"downloaded and checked afresh")
    try:
        if target.is_file():
            stat = target.stat()
            key = (str(target), stat.st_size, stat.st_mtime_ns)
            if _VERIFIED.get(key) == entry.sha256 or sha256_of(target) == entry.sha256:
                _VERIFIED[key] = entry.sha256
                return target
            target.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    except OSError as error:
        raise _cache_fault(error, target) from None
    relative = f"{dataset}/{path}"
    try:
        digest = hashlib.sha256()
        with os.fdopen(handle, "wb") as out:  # owns the descriptor from here on
            url = data_url()
            with _open_remote(url, relative) as source:
                bar = None
                if progress:
                    from tqdm import tqdm
                    # disable=None: no bar when stderr is not a terminal (logs, CI)
                    bar = tqdm(total=entry.bytes, unit="B", unit_scale=True, desc=relative, leave=False,
                               disable=None)
                for chunk in iter(lambda: _read_host(source, url, relative), b""):
                    out.write(chunk)  # an OSError here (disk full...) is the cache's: see below
                    digest.update(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
                if bar is not None:
                    bar.close()
        found = digest.hexdigest()
        if found != entry.sha256:
            raise DataError(f"{relative} from {redact_url(url)} has sha256 {found}, expected {entry.sha256}: "
                            f"the file on the host is corrupted or changed; fix the host or the "
                            f"registry entry reference_data/datasets/{dataset}.json")
        os.replace(temporary, target)
    except OSError as error:  # writing the cache (or closing it: a full disk may show only then)
        raise _cache_fault(error, target) from None
    finally:
        if os.path.exists(temporary):
            try:
                os.remove(temporary)
            except OSError:
                pass  # the cache folder went away or read-only: nothing valid-looking is left anyway
    return target


def fetch_dataset(dataset: str, progress: bool = False) -> list[Path]:
    from topobench.registry import get_dataset
    return [fetch(dataset, f.path, progress=progress) for f in get_dataset(dataset).files]


def verify(dataset: str) -> list[tuple[str, str]]:
    """Rehash every cached file of ``dataset``; return (path, problem) for each bad one.

    A bad cached file is removed so that the next fetch downloads it again.
    """
    from topobench.registry import get_dataset
    problems = []
    for entry in get_dataset(dataset).files:
        target = cache_path(dataset, entry.path)
        if not target.is_file():
            problems.append((entry.path, "not cached (run: topobench data fetch " + dataset + ")"))
            continue
        found = sha256_of(target)
        if found != entry.sha256:
            target.unlink()
            problems.append((entry.path, f"sha256 {found}, expected {entry.sha256}; removed from the cache"))
    return problems
