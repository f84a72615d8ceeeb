import hashlib

import pytest

from topobench.data_client import cache_path, fetch, verify
from topobench.errors import DataError
from topobench.registry import get_dataset, names

EXPECTED = get_dataset("ringach2002_v1").file("ringach_2002_db.mat").sha256


def test_every_manifest_file_is_registered(data_host):
    import json
    manifest = json.loads((data_host / "MANIFEST.json").read_text())
    registered = {f"{name}/{entry.path}": entry.sha256 for name in names("dataset")
                  for entry in get_dataset(name).files}
    assert registered == {entry["file"]: entry["sha256"] for entry in manifest}


def test_dataset_records_source_licence_citation():
    for name in names("dataset"):
        dataset = get_dataset(name)
        assert dataset.citation and dataset.licence and dataset.upstream and dataset.files


@pytest.mark.parametrize("form", ["path", "file_url"])
def test_fetch_downloads_and_checks_hash(form, data_host, fresh_home, monkeypatch):
    url = str(data_host) if form == "path" else data_host.resolve().as_uri()
    monkeypatch.setenv("TOPOBENCH_DATA_URL", url)
    path = fetch("ringach2002_v1", "ringach_2002_db.mat")
    assert path.is_relative_to(fresh_home)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == EXPECTED


def test_cached_file_needs_no_host(data_host, fresh_home, monkeypatch):
    fetch("ringach2002_v1", "ringach_2002_db.mat")
    monkeypatch.setenv("TOPOBENCH_DATA_URL", str(fresh_home / "nowhere"))
    assert fetch("ringach2002_v1", "ringach_2002_db.mat").is_file()


def test_wrong_hash_is_refused_and_leaves_nothing(corrupted_host, fresh_home, monkeypatch):
    monkeypatch.setenv("TOPOBENCH_DATA_URL", str(corrupted_host))
    with pytest.raises(DataError) as info:
        fetch("ringach2002_v1", "ringach_2002_db.mat")
    message = str(info.value)
    assert "ringach2002_v1/ringach_2002_db.mat" in message and EXPECTED in message
    found = hashlib.sha256((corrupted_host / "ringach2002_v1" / "ringach_2002_db.mat").read_bytes()).hexdigest()
    assert found in message
    folder = cache_path("ringach2002_v1", "ringach_2002_db.mat").parent
    assert not any(folder.iterdir())  # no partial or unverified file in the cache


def test_corrupted_cache_is_downloaded_again(data_host, fresh_home):
    path = fetch("ringach2002_v1", "ringach_2002_db.mat")
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    assert verify("ringach2002_v1")  # found and removed
    path = fetch("ringach2002_v1", "ringach_2002_db.mat")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == EXPECTED


def test_unreachable_host(fresh_home, monkeypatch, tmp_path):
    monkeypatch.setenv("TOPOBENCH_DATA_URL", str(tmp_path / "no-such-host"))
    with pytest.raises(DataError, match="unreachable"):
        fetch("ringach2002_v1", "ringach_2002_db.mat")
    monkeypatch.setenv("TOPOBENCH_DATA_URL", "https://127.0.0.1:9/")
    with pytest.raises(DataError, match="unreachable"):
        fetch("ringach2002_v1", "ringach_2002_db.mat")


def test_missing_host_setting(fresh_home, monkeypatch):
    monkeypatch.delenv("TOPOBENCH_DATA_URL")
    with pytest.raises(DataError, match="TOPOBENCH_DATA_URL"):
        fetch("ringach2002_v1", "ringach_2002_db.mat")


def test_missing_file_on_host(fresh_home, monkeypatch, tmp_path):
    (tmp_path / "empty-host").mkdir()
    monkeypatch.setenv("TOPOBENCH_DATA_URL", str(tmp_path / "empty-host"))
    with pytest.raises(DataError, match="not on the data host"):
        fetch("ringach2002_v1", "ringach_2002_db.mat")
