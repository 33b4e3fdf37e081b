"""schemathesis against the OpenAPI schema, over real HTTP on loopback, on each database: every
operation with the examples, coverage and fuzzing phases and every check but the stateful and
authorization ones. What the schema allows the code accepts, what it forbids the code refuses,
no 5xx, every answer is documented (status, content type, body shape), a method a path lacks is
405 with a complete ``Allow``. Tuning, each with its reason, is in ``schemathesis.toml``;
the figures are in docs/security.md ("Schemas and validation")."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from service_helpers import LiveService
from shieldwall.people.keys import create_key

CONFIG = Path(__file__).with_name("schemathesis.toml")
#: Examples per operation and phase: enough to find what the schema and the code disagree on
#: (each found disagreement was found with 10), small enough for ~1 minute per database.
MAX_EXAMPLES = 10


def run_schemathesis(url: str, token: str, *, seed: int = 1) -> subprocess.CompletedProcess[str]:
    """``st run`` against ``url`` as docs/security.md gives it."""
    command = [
        sys.executable,
        "-c",
        "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())",
        "--config-file",
        str(CONFIG),
        "run",
        f"{url}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--workers",
        "1",
        # generous, as every wait of the suite: a loaded machine must not fail the run
        "--request-timeout",
        "120",
        "--wait-for-schema",
        "120",
        "--seed",
        str(seed),
        "--no-color",
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)


def test_schemathesis_finds_no_disagreement(make_service: object) -> None:
    assert callable(make_service)
    service: LiveService = make_service(notice_rate_limit=100_000)
    spare, _ = create_key(service.db, "spare", "hash")
    assert spare.id == 1  # the one key schemathesis.toml lets the run revoke
    token = service.key("admin,read-distances", rate_limit=100_000)
    result = run_schemathesis(service.url, token)
    out = result.stdout + result.stderr
    print(out[out.find("Test Phases:") - 2000 :])  # the phases' times and the figures, with -s
    tested = re.search(r"Tested: (\d+)", out)
    generated = re.search(r"(\d+) generated", out)
    assert tested and int(tested.group(1)) >= 60, out[-3000:]
    assert generated and int(generated.group(1)) >= 1000, out[-3000:]
    assert result.returncode == 0, out[-20_000:]
