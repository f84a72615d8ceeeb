"""Reference-data client: download from the data host, cache, check sha256.

The host is ``TOPOBENCH_DATA_URL``: a directory path, a ``file://`` URL or an
``https://`` URL laid out as ``<host>/<dataset>/<path>`` (see
``../shared/reference-data/README.md``). Files are cached under
``TOPOBENCH_HOME/data`` (default: the user cache directory). A download goes to a
temporary file in the cache folder, is checked against the sha256 registered in
``reference_data/datasets/<dataset>.json``, and only then renamed into place, so
an interrupted or corrupted download never leaves a file that looks valid.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import platformdirs

from topobench.errors import DataError

DATA_URL_VARIABLE = "TOPOBENCH_DATA_URL"
HOME_VARIABLE = "TOPOBENCH_HOME"
_CHUNK = 1 << 20
_VERIFIED: dict[tuple, str] = {}  # (path, size, mtime) -> sha256 already checked in this process


def topobench_home() -> Path:
    """Root of every cache of topobench (data, activations, results database)."""
    home = os.environ.get(HOME_VARIABLE)
    path = Path(home) if home else Path(platformdirs.user_cache_dir("topobench"))
    path.mkdir(parents=True, exist_ok=True)
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


def _open_remote(url: str, relative: str):
    """Return a readable binary stream of ``relative`` on the host ``url``."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme in ("http", "https"):
        full = url.rstrip("/") + "/" + urllib.parse.quote(relative)
        try:
            return urllib.request.urlopen(full, timeout=60)
        except urllib.error.HTTPError as error:
            if error.code == 404:
                raise DataError(f"{relative} is not on the data host {url} (HTTP 404); "
                                f"check {DATA_URL_VARIABLE}") from None
            raise DataError(f"data host {url} answered HTTP {error.code} for {relative}; "
                            f"check {DATA_URL_VARIABLE} or retry later") from None
        except (urllib.error.URLError, OSError) as error:
            raise DataError(f"data host {url} is unreachable ({getattr(error, 'reason', error)}); "
                            f"check {DATA_URL_VARIABLE} and the network") from None
    root = Path(urllib.request.url2pathname(parsed.path)) if parsed.scheme == "file" else Path(url)
    if not root.is_dir():
        raise DataError(f"data host {url} is unreachable: {root} is not a folder; "
                        f"set {DATA_URL_VARIABLE} to the reference-data folder")
    source = root / relative
    if not source.is_file():
        raise DataError(f"{relative} is not on the data host {url}; check {DATA_URL_VARIABLE} "
                        f"or the dataset registry in reference_data/datasets/")
    return open(source, "rb")


def fetch(dataset: str, path: str, progress: bool = False) -> Path:
    """Local path of ``<dataset>/<path>``, downloaded and sha256-checked on first use.

    A cached file is rehashed once per process (then remembered by size and
    mtime); a cached copy with the wrong hash is dropped and downloaded again.
    """
    from topobench.registry import get_dataset  # late: the registry imports this module

    entry = get_dataset(dataset).file(path)
    target = cache_path(dataset, path)
    if target.is_file():
        stat = target.stat()
        key = (str(target), stat.st_size, stat.st_mtime_ns)
        if _VERIFIED.get(key) == entry.sha256 or sha256_of(target) == entry.sha256:
            _VERIFIED[key] = entry.sha256
            return target
        target.unlink()
    relative = f"{dataset}/{path}"
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        digest = hashlib.sha256()
        with os.fdopen(handle, "wb") as out, _open_remote(data_url(), relative) as source:
            bar = None
            if progress:
                from tqdm import tqdm
                # disable=None: no bar when stderr is not a terminal (logs, CI)
                bar = tqdm(total=entry.bytes, unit="B", unit_scale=True, desc=relative, leave=False,
                           disable=None)
            for chunk in iter(lambda: source.read(_CHUNK), b""):
                out.write(chunk)
                digest.update(chunk)
                if bar is not None:
                    bar.update(len(chunk))
            if bar is not None:
                bar.close()
        found = digest.hexdigest()
        if found != entry.sha256:
            raise DataError(f"{relative} from {data_url()} has sha256 {found}, expected {entry.sha256}: "
                            f"the file on the host is corrupted or changed; fix the host or the "
                            f"registry entry reference_data/datasets/{dataset}.json")
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
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
