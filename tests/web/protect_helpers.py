"""Helpers of the portal's browser tests: feed local files to the page's own Web Worker (through
a route the test answers itself, so the files never reach the service) and collect its hashes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

#: Where the page fetches the test's files from (answered by the test, never the service).
FIXTURE_PREFIX = "/__test_files__/"

#: Runs in the page: hash each fetched file in a new worker, in order; returns the answers.
HASH_IN_WORKER = """
async (names) => {
  const worker = new Worker("/static/protect/worker.js");
  const out = [];
  const started = performance.now();
  for (let i = 0; i < names.length; i++) {
    const blob = await (await fetch("FIXTURE_PREFIX" + i)).blob();
    const file = new File([blob], names[i], {type: blob.type});
    const answer = await new Promise((resolve) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.postMessage({type: "photo", id: i, file: file});
    });
    out.push(answer);
  }
  const seconds = (performance.now() - started) / 1000;
  worker.terminate();
  return {answers: out, seconds: seconds};
}
""".replace("FIXTURE_PREFIX", FIXTURE_PREFIX)


def serve_files(page: Page, files: list[Path]) -> None:
    """Answer ``FIXTURE_PREFIX<i>`` with the bytes of ``files[i]`` inside the browser."""

    def answer(route: Route) -> None:
        index = int(route.request.url.rsplit("/", 1)[1])
        route.fulfill(status=200, body=files[index].read_bytes(), content_type="image/jpeg")

    page.route("**" + FIXTURE_PREFIX + "*", answer)


def hash_in_browser(page: Page, files: list[Path]) -> tuple[list[dict[str, Any]], float]:
    """The worker's answers for ``files`` and the seconds it took (the page must be open on the
    service)."""
    serve_files(page, files)
    result = page.evaluate(HASH_IN_WORKER, [f.name for f in files])
    return result["answers"], float(result["seconds"])


def signal(answer: dict[str, Any], kind: str) -> str | None:
    """The value of the ``kind`` hash of a worker answer."""
    for s in answer["item"]["signals"]:
        if s["type"] == kind:
            return str(s["value"])
    return None
