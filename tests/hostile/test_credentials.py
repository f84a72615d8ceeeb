"""A password in a database or data-host URL never reaches a message, the terminal or a stored row.

Every URL topobench prints or stores goes through ``topobench.redact.redact_url``.
"""
from __future__ import annotations

import pytest

from topobench.redact import redact_url

SECRET = "S3cretPW"
DB_URL = f"postgresql://user:{SECRET}@127.0.0.1:9/db"
DATA_URL = f"https://user:{SECRET}@127.0.0.1:9/"
BENCHMARK = "Ringach2002.V1-orientation_selectivity"


@pytest.mark.parametrize("text, secret", [
    (DB_URL, SECRET),
    (f"cannot open results database {DB_URL}: connection refused", SECRET),
    (f"'{DATA_URL}' and 'sqlite:///x'", SECRET),
    ("postgresql://admin:p@ss:w0rd!#$@db.example.org:5432/scores", "p@ss:w0rd!#$"),
    ("postgresql://admin:pa/ss?x@db.example.org/scores", "pa/ss?x"),
    ("mysql://root:%40percent%2Fencoded@host/db", "%40percent%2Fencoded"),
    ("https://host.example/data?user=u&password=hunter2&x=1", "hunter2"),
    ("https://host.example/data?token=abc123def", "abc123def"),
    ("host=db user=u password=libpq-secret dbname=x", "libpq-secret"),
    ("two: https://a:first-secret@h1/ and https://b:second-secret@h2/", "second-secret"),
])
def test_redact_url_hides_every_password(text, secret):
    redacted = redact_url(text)
    assert secret not in redacted
    assert "***" in redacted


@pytest.mark.parametrize("text", ["sqlite:////home/u/results.sqlite", "https://user@host/x",
                                  "https://host:8443/path?email=a@b.org", "/a/plain/folder", "no url here"])
def test_redact_url_leaves_urls_without_a_password_alone(text):
    assert redact_url(text) == text


def test_redact_url_keeps_the_user_and_host():
    assert redact_url(DB_URL) == "postgresql://user:***@127.0.0.1:9/db"


def _assert_secret_absent(result):
    assert SECRET not in result.out and SECRET not in result.err, (result.out, result.err)


def test_score_with_a_database_password(sandbox):
    result = sandbox.cli("score", "resnet18-untrained", BENCHMARK, env=sandbox.env(TOPOBENCH_DB_URL=DB_URL))
    _assert_secret_absent(result)
    assert result.code != 0 and "user:***@127.0.0.1" in result.err
    result.assert_one_line("127.0.0.1", code=result.code)


@pytest.mark.parametrize("args", [("results", "show"), ("leaderboard", "show", "--db", DB_URL)])
def test_reading_results_with_a_database_password(sandbox, args):
    result = sandbox.cli(*args, env=sandbox.env(TOPOBENCH_DB_URL=DB_URL))
    _assert_secret_absent(result)
    assert result.code != 0
    result.assert_one_line("127.0.0.1", code=result.code)


def test_data_host_with_a_password(sandbox):
    result = sandbox.cli("data", "fetch", "ringach2002_v1", env=sandbox.env(TOPOBENCH_DATA_URL=DATA_URL))
    _assert_secret_absent(result)
    line = result.assert_one_line("user:***@127.0.0.1", code=result.code)
    assert result.code in (2, 3), line


def test_data_host_with_a_malformed_password(sandbox):
    """A raw '@' and '/' in the password: urllib's own message would quote a piece of it."""
    url = "https://user:S3c@ret/PW@127.0.0.1:9/"
    result = sandbox.cli("data", "fetch", "ringach2002_v1", env=sandbox.env(TOPOBENCH_DATA_URL=url))
    for piece in ("S3c", "ret/PW"):
        assert piece not in result.out and piece not in result.err, result.err
    result.assert_one_line("unreachable", code=result.code)


def test_stored_failure_messages_carry_no_password(tmp_path):
    """A message stored with a failed row has passed through the same helper (data-host errors)."""
    from topobench import data_client
    from topobench.errors import TopobenchError
    try:
        data_client._open_remote(DATA_URL, "ringach2002_v1/x.npz")
    except TopobenchError as error:
        assert SECRET not in str(error) and "user:***@" in str(error)
    else:
        pytest.fail("an unreachable host opened")


def test_database_url_with_a_malformed_password(sandbox):
    """A raw '/' in the password: the URL parser's own message would quote a piece of it."""
    url = "postgresql://user:S3c/retPW@127.0.0.1:9/db"
    result = sandbox.cli("results", "show", env=sandbox.env(TOPOBENCH_DB_URL=url))
    for piece in ("S3c", "retPW"):
        assert piece not in result.out and piece not in result.err, result.err
    result.assert_one_line("user:***@127.0.0.1", code=result.code)
