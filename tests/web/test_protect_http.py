"""The victim portal over plain HTTP: the page and its policy, filing hashes as JSON (201 with
the case number and PIN), status and withdrawal with the PIN, refusals (not JSON, oversized,
malformed: nothing saved), and rate limits that a failed validation does not use up, per
client address behind a trusted proxy only."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

import fake_stopncii
from service_helpers import LiveService
from shieldwall.cases.victims import SHARE_JOB, WITHDRAW_JOB
from shieldwall.cli import run
from shieldwall.exchange import add_exchange
from shieldwall.media import synthetic
from shieldwall.store import Database
from shieldwall.store.models import BankEntry, VictimCase
from shieldwall.worker import default_worker

from .web_helpers import csrf_of


def submission(seed: int = 1) -> dict[str, Any]:
    value = f"{seed:02x}" * 16 + "f0" * 16
    return {
        "consent": {"platform": True, "stopncii": False},
        "declarations": {"depicted": True, "adult": True},
        "items": [
            {
                "kind": "photo",
                "signals": [
                    {"type": "pdq", "value": value, "quality": 90},
                    {"type": "md5", "value": f"{seed:032x}"},
                ],
                "variants": [
                    {"type": "pdq", "value": value[::-1], "quality": 80, "variant": "crop-top-10"}
                ],
            },
            {"kind": "video", "signals": [{"type": "md5", "value": f"{seed + 100:032x}"}]},
        ],
    }


def _saved(db: Database) -> tuple[int, int]:
    with db.session() as session:
        cases = session.scalar(select(func.count()).select_from(VictimCase)) or 0
        entries = session.scalar(select(func.count()).select_from(BankEntry)) or 0
    return int(cases), int(entries)


def _status(
    client: httpx.Client, number: str, pin: str, path: str = "/protect/status", **extra: str
) -> httpx.Response:
    form = client.get("/protect/status")
    data = {"csrf_token": csrf_of(form.text), "case_number": number, "pin": pin, **extra}
    return client.post(path, data=data)


def test_the_page_and_its_policy(service: LiveService) -> None:
    with service.client() as client:
        page = client.get("/protect")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert "media-src 'self' blob:" in policy and "unsafe-eval" not in policy
    # every script, style and image comes from this service
    for src in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        if src.startswith("http"):
            assert re.search(r"<a [^>]*href=\"" + re.escape(src), page.text), src  # links only
    assert '<script src="/static/protect/pdq.js"' in page.text
    assert "takeitdown.ncmec.org" in page.text
    with service.client() as client:
        assert client.get("/static/protect/worker.js").status_code == 200


def test_file_then_follow_and_withdraw(make_service: Callable[..., LiveService]) -> None:
    service = make_service(notice_rate_limit=1000)
    with service.client() as client:
        answer = client.post("/protect/cases", json=submission())
        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert answer.headers["cache-control"] == "no-store"
        assert body["items"] == 2 and body["signals"] == 4 and body["stopncii"] == "not_requested"
        number, pin = body["case_number"], body["pin"]
        page = _status(client, number, pin)
        assert page.status_code == 200
        assert 'id="matches-found">0<' in page.text and 'id="removed">0<' in page.text
        assert 'id="withdraw-1"' in page.text and 'id="withdraw-2"' in page.text
        page = _status(client, number, pin, "/protect/withdraw", item="2")
        assert page.status_code == 200 and 'id="withdraw-message"' in page.text
        assert 'id="withdraw-2"' not in page.text and 'id="withdraw-1"' in page.text
        page = _status(client, number, pin, "/protect/withdraw")
        assert "Withdrawn: the fingerprints no longer stop uploads." in page.text
        wrong = _status(client, number, "2345234523")
        assert wrong.status_code == 404 and "No protection case was found" in wrong.text
        missing = _status(client, "", "")
        assert missing.status_code == 422
        assert 'href="#case_number"' in missing.text and 'href="#pin"' in missing.text


def test_the_status_says_whether_stopncii_got_the_hashes_and_the_withdrawal(
    db: Database, make_service: Callable[..., LiveService]
) -> None:
    # the api role runs no job worker of its own: the test's worker is the only one that can
    # claim the share and the withdrawal (an "all" process's worker would race it for them)
    service = make_service(
        role="api", notice_rate_limit=1000, outbound_allowed_networks=["127.0.0.0/8"]
    )
    fake = fake_stopncii.serve()
    assert fake.server is not None
    worker = default_worker(db, settings=service.settings, kinds=[SHARE_JOB, WITHDRAW_JOB])
    with fake.server, service.client() as client:
        add_exchange(db, "stopncii", "stopncii", settings=fake.settings(), schedule=False)
        data = submission()
        data["consent"]["stopncii"] = True
        body = client.post("/protect/cases", json=data).json()
        assert body["stopncii"] == "pending"
        number, pin = body["case_number"], body["pin"]
        page = _status(client, number, pin)
        assert "your fingerprints have not been shared yet" in page.text
        assert worker.run_once() is not None
        page = _status(client, number, pin)
        assert "StopNCII.org: 3 fingerprints were shared on " in page.text
        page = _status(client, number, pin, "/protect/withdraw")
        assert "your withdrawal has not reached StopNCII.org yet" in page.text
        assert worker.run_once() is not None
        page = _status(client, number, pin)
        assert "StopNCII.org: your withdrawal reached StopNCII.org." in page.text
    assert len(fake.withdrawals()) == 3


def test_refusals_save_nothing(make_service: Callable[..., LiveService]) -> None:
    service = make_service(protect_max_body_bytes=2000)
    before = _saved(service.db)
    with service.client() as client:
        form = client.post("/protect/cases", data={"items": "x"})
        assert form.status_code == 415 and form.json()["error"] == "unsupported_media"
        big = submission()
        big["items"] = big["items"] * 20
        over = client.post("/protect/cases", json=big)
        assert over.status_code == 413 and "fewer files" in over.json()["message"]
        garbage = client.post(
            "/protect/cases", content=b"{nope", headers={"content-type": "application/json"}
        )
        assert garbage.status_code == 422 and garbage.json()["message"] == (
            "The submission is not JSON."
        )
        bad = submission()
        bad["items"][0]["signals"][0]["value"] = "zz"
        refused = client.post("/protect/cases", json=bad)
        assert refused.status_code == 422
        assert refused.json()["fields"][0]["field"] == "items.0.signals.0.value"
        assert "nothing was saved" in refused.json()["message"]
    assert _saved(service.db) == before


def test_a_refused_submission_uses_no_allowance(make_service: Callable[..., LiveService]) -> None:
    service = make_service(notice_rate_limit=0.001)  # one request, then a long wait
    with service.client() as client:
        bad = submission()
        bad["declarations"] = {}
        for _ in range(3):
            assert client.post("/protect/cases", json=bad).status_code == 422
        assert client.post("/protect/cases", json=submission(1)).status_code == 201
        limited = client.post("/protect/cases", json=submission(2))
        assert limited.status_code == 429 and "retry-after" in limited.headers
        # the report form too: a form sent back with errors costs nothing, nor a blank status
        assert _status(client, "", "").status_code == 422


def _first_two(service: LiveService) -> list[int]:
    with service.client() as client:
        return [
            client.post(
                "/protect/cases",
                json=submission(n),
                headers={"X-Forwarded-For": f"203.0.113.{n}, 127.0.0.1"},
            ).status_code
            for n in (1, 2)
        ]


def test_behind_a_trusted_proxy_each_person_has_their_own_limit(
    make_service: Callable[..., LiveService],
) -> None:
    trusted = make_service(notice_rate_limit=0.001, trusted_proxies=["127.0.0.0/8"])
    assert _first_two(trusted) == [201, 201]


def test_without_a_trusted_proxy_the_header_is_ignored(
    make_service: Callable[..., LiveService],
) -> None:
    # the header is anybody's: one limit for the connection
    untrusted = make_service(notice_rate_limit=0.001)
    assert _first_two(untrusted) == [201, 429]


def test_the_public_api_counts_by_the_same_address(
    make_service: Callable[..., LiveService],
) -> None:
    """``/v1`` (the middleware's per-address limit) follows the same trusted-proxy rule."""
    service = make_service(notice_rate_limit=0.001, trusted_proxies=["127.0.0.0/8"])
    with service.client() as client:
        codes = [
            client.get(
                "/v1/notices/SW-AAAA-AAAA-AAAA-AAAA",
                headers={"X-Forwarded-For": who, "X-Notice-PIN": "1"},
            ).status_code
            for who in ("198.51.100.1", "198.51.100.2", "198.51.100.1")
        ]
    assert codes[:2] == [404, 404] and codes[2] == 429


def test_a_helpline_files_through_the_service(
    make_service: Callable[..., LiveService], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``shieldwall protect --url``: hashed here, only the hashes posted to /protect/cases."""
    service = make_service(notice_rate_limit=1000)
    photo = tmp_path / "photo.jpg"
    Image.fromarray(synthetic.scene(21, 320, 240)).save(photo, "JPEG")
    assert run(["protect", str(photo), "--url", service.url, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["case_number"].startswith("PR-") and answer["items"] == 1
    with service.db.session() as session:
        case = session.scalars(select(VictimCase)).one()
    assert case.channel == "web" and case.case_number == answer["case_number"]
    assert run(["protect", str(photo), "--url", "http://127.0.0.1:9"]) == 2
    assert "error" in capsys.readouterr().err
