"""The site in headless Chromium (Debian's `chromium`): sorting the table by a column orders
its rows, and every image of every page loads. Skipped where no Chromium is installed."""
from __future__ import annotations

import html
import json
import re
import shutil
import subprocess

import pytest

from topobench.leaderboard.aggregate import build_leaderboard, load_config
from topobench.leaderboard.run import run_leaderboard
from topobench.leaderboard.site import build_site

pytestmark = pytest.mark.browser

MODELS = ["test-lb-a", "test-lb-b"]
BENCHMARKS = ["Fake2026.V1-forward", "Fake2026.V1-response", "Fake2026.V1-broken"]
COLUMN = "Fake2026.V1-forward"

HARNESS = """<!DOCTYPE html>
<html><body><pre id="result">pending</pre><iframe id="frame" width="1200" height="800"></iframe>
<script>
"use strict";
const pages = %(pages)s, column = %(column)s, result = {images: []};
const frame = document.getElementById("frame");
function load(url) {
  return new Promise(resolve => { frame.onload = () => resolve(frame.contentDocument); frame.src = url; });
}
function settled(doc) {
  return Promise.all(Array.from(doc.images).map(img => img.complete ? null :
    new Promise(done => { img.onload = done; img.onerror = done; })));
}
(async () => {
  try {
    const doc = await load("site/index.html");
    const table = doc.getElementById("leaderboard");
    const headers = Array.from(table.tHead.rows[0].cells);
    const state = index => ({
      models: Array.from(table.tBodies[0].rows).map(row => row.cells[1].textContent.trim()),
      values: Array.from(table.tBodies[0].rows).map(row => row.cells[index].getAttribute("data-value")),
      sort: headers[index].getAttribute("aria-sort")});
    const index = headers.findIndex(th => th.textContent.trim() === column);
    const model = headers.findIndex(th => th.textContent.trim() === "Model");
    result.before = state(index);
    headers[index].querySelector("button").click();
    result.first = state(index);
    headers[index].querySelector("button").click();
    result.second = state(index);
    headers[model].querySelector("button").click();
    result.byModel = state(model);
    for (const page of pages) {
      const loaded = await load(page);
      await settled(loaded);
      for (const img of loaded.images) {
        result.images.push({page: page, src: img.getAttribute("src"), ok: img.complete && img.naturalWidth > 0});
      }
    }
  } catch (error) { result.error = String(error && error.stack || error); }
  document.getElementById("result").textContent = JSON.stringify(result);
})();
</script></body></html>
"""


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("no Chromium: apt-get install chromium", pytrace=False)


def test_table_sorts_and_every_image_loads(fakes, tmp_path):
    browser = _chromium()
    store = f"sqlite:///{tmp_path / 'results.sqlite'}"
    run_leaderboard(MODELS, BENCHMARKS, store, progress=False)
    site = build_site(build_leaderboard(store, MODELS, BENCHMARKS, load_config()), tmp_path / "site")
    pages = sorted(path.relative_to(tmp_path).as_posix() for path in site.rglob("*.html"))
    (tmp_path / "harness.html").write_text(HARNESS % {"pages": json.dumps(pages),
                                                      "column": json.dumps(COLUMN)})
    done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                           "--allow-file-access-from-files", "--virtual-time-budget=30000",
                           f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                           (tmp_path / "harness.html").as_uri()],
                          capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="result">(.*?)</pre>', done.stdout, re.S)
    assert found and found.group(1) != "pending", (done.stdout[-2000:], done.stderr[-2000:])
    result = json.loads(html.unescape(found.group(1)))
    assert "error" not in result, result["error"]

    scores = {model: f"{value:.4f}" for model, value in
              ((row["model_identifier"], row["score"]) for row in _rows(store, COLUMN))}
    first, second = result["first"], result["second"]
    assert first["sort"] == "descending" and second["sort"] == "ascending"
    assert [float(v) for v in first["values"]] == sorted((float(v) for v in scores.values()), reverse=True)
    assert [float(v) for v in second["values"]] == sorted(float(v) for v in scores.values())
    assert second["models"] == first["models"][::-1]
    assert [scores[model] for model in first["models"]] == first["values"]  # rows moved whole
    assert result["byModel"]["models"] == sorted(MODELS) and result["byModel"]["sort"] == "ascending"

    pictures = [image for image in result["images"] if "figures/" in image["src"]]
    assert len(pictures) == 4  # each model's picture, on its model page and on the benchmark page
    assert all(image["ok"] for image in result["images"]), result["images"]


def _rows(store, benchmark):
    from topobench.results import ResultsStore
    with ResultsStore(store) as opened:
        return opened.rows(benchmark=benchmark)
