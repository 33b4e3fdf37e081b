"""The victim portal in headless Chromium, end to end: a person chooses real photos, a video
and a broken file, fixes the errors the summary lists, protects the rest, follows the case and
withdraws it. Every request the page makes is recorded: only the page's own assets, the form and
the hashes ever leave, never image or video bytes or a thumbnail. A cropped copy of a protected
photo uploaded later is caught by the platform's lookup."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image

from service_helpers import LiveService
from shieldwall.banks import get_entry
from shieldwall.hashing import hash_file
from shieldwall.matching import Matcher
from shieldwall.media import synthetic
from shieldwall.store.models import VictimItem

if TYPE_CHECKING:
    from playwright.sync_api import Page, Request

Shoot = Callable[[str], Path]
_HEX = re.compile(r"^[0-9a-f]+$")
_VPDQ_LINE = re.compile(r"^\d+,\d{1,3},[0-9a-f]{64},\d+\.\d{3}$")


def _photos(shared_data: Path, tmp_path: Path, count: int = 3) -> list[Path]:
    found = sorted((shared_data / "photos" / "clothing").glob("*.jpg"))[100 : 100 + count]
    if len(found) == count:
        return found
    out = []
    for i in range(count):  # without ../shared/data: photos of our own
        path = tmp_path / f"photo{i}.jpg"
        Image.fromarray(synthetic.scene(60 + i, 400, 533)).save(path, "JPEG", quality=92)
        out.append(path)
    return out


def _video(tmp_path: Path) -> Path:
    base = synthetic.scene(7, 160, 120)
    frames = [np.roll(base, 4 * i, axis=1) for i in range(40)]
    return synthetic.video(tmp_path / "clip.webm", frames, fps=10, codec="libvpx")


class Recorder:
    """Every request the page makes, with its body."""

    def __init__(self, page: Page) -> None:
        self.requests: list[tuple[str, str, bytes]] = []
        page.on("request", self._record)

    def _record(self, request: Request) -> None:
        self.requests.append((request.method, request.url, request.post_data_buffer or b""))

    def check_only_hashes_left(self, origin: str, files: list[Path]) -> dict[str, Any]:
        """Assert the rule; returns the one submission."""
        submissions = []
        for method, url, body in self.requests:
            if url.startswith(f"blob:{origin}/"):  # the person's own video, played locally
                assert method == "GET" and not body
                continue
            parts = urlsplit(url)
            assert f"{parts.scheme}://{parts.netloc}" == origin, url  # nothing third-party
            assert len(url) < 300, url  # no data smuggled into an address
            assert not parts.query or parts.query.startswith(("lang=", "case_number=PR-")), url
            if method == "GET":
                assert not body
                assert parts.path in {"/protect", "/protect/status", "/favicon.ico"} or (
                    parts.path.startswith("/static/protect/") and parts.path.endswith(".js")
                ), url
                continue
            assert method == "POST" and parts.path in {
                "/protect/cases",
                "/protect/status",
                "/protect/withdraw",
            }, url
            for path in files:  # no piece of any file, raw or base64
                data = path.read_bytes()
                for start in range(0, max(1, len(data) - 48), max(1, len(data) // 16)):
                    piece = data[start : start + 48]
                    assert piece not in body, (url, path.name)
                    assert base64.b64encode(piece)[8:56] not in body, (url, path.name)
            assert b"data:image" not in body and b"base64" not in body
            for magic in (b"\x89PNG", b"\xff\xd8\xff", b"RIFF", b"ftyp", b"\x1aE\xdf\xa3", b"GIF8"):
                assert magic not in body, (url, magic)  # no picture (a thumbnail) of any kind
            if parts.path == "/protect/cases":
                submissions.append(json.loads(body))
            else:
                fields = set(re.findall(rb"(?:^|&)([a-z_]+)=", body))
                assert fields <= {b"csrf_token", b"case_number", b"pin", b"item"}, fields
        assert len(submissions) == 1
        submission: dict[str, Any] = submissions[0]
        assert set(submission) == {"consent", "declarations", "language", "items"}
        for item in submission["items"]:
            assert set(item) == {"kind", "signals", "variants"}
            for s in [*item["signals"], *item["variants"]]:
                assert set(s) <= {"type", "value", "quality", "variant"}
                if s["type"] == "vpdq":
                    assert all(_VPDQ_LINE.match(line) for line in s["value"].split("\n"))
                else:
                    assert _HEX.match(s["value"]) and len(s["value"]) in (32, 64)
        return submission


def _wait_read(page: Page, count: int) -> None:
    page.wait_for_function(
        "(n) => document.querySelectorAll('#file-list .state').length === n && "
        "[...document.querySelectorAll('#file-list .state')].every("
        "  (s) => !/Waiting|Reading|Esperando|Leyendo/.test(s.textContent))",
        arg=count,
        timeout=120_000,
    )


def test_protect_follow_and_withdraw_with_only_hashes_leaving(
    page: Page,
    make_service: Callable[..., LiveService],
    shared_data: Path,
    tmp_path: Path,
    shoot: Shoot,
) -> None:
    service = make_service(notice_rate_limit=1000, protect_bank_kind="block")
    photos = _photos(shared_data, tmp_path)
    clip = _video(tmp_path)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 this is not really a photo " * 20)
    recorder = Recorder(page)
    problems: list[str] = []
    warnings: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    page.goto(service.url + "/protect")
    page.set_input_files("#files", [*map(str, photos), str(clip), str(broken)])
    _wait_read(page, 5)
    states = page.locator("#file-list .state").all_text_contents()
    assert states[:3] == ["Ready: photo fingerprint made"] * 3
    assert re.match(r"Ready: \d+ video frames fingerprinted", states[3]), (states[3], warnings)
    assert "could not be read" in states[4] and "skipped" in states[4]
    assert page.locator("#file-list li").nth(4).locator(".name").first.text_content() is not None
    assert "broken.jpg" in (page.locator("#file-list li").nth(4).text_content() or "")
    assert page.text_content("#hash-progress") == "5 of 5 files read."
    # the preview is drawn here: the canvas has pixels
    drawn = page.evaluate(
        "() => { const c = document.querySelector('#file-list canvas');"
        " const d = c.getContext('2d').getImageData(0, 0, 64, 64).data;"
        " return d.some((v, i) => i % 4 === 3 && v > 0); }"
    )
    assert drawn
    shoot("files-chosen")
    # nothing ticked: the summary takes the focus and links to each field; nothing is sent
    page.click("#protect-submit")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    links = page.locator("#error-summary a").evaluate_all("(as) => as.map((a) => a.hash)")
    assert links == ["#depicted", "#adult", "#consent"]
    assert page.get_attribute("#depicted", "aria-invalid") == "true"
    assert not any(u.endswith("/protect/cases") for _, u, _ in recorder.requests)
    shoot("errors")
    page.locator("#error-summary a").nth(2).click()
    assert page.evaluate("document.activeElement.name") == "consent"
    page.check("#depicted")
    page.check("#adult")
    page.check("#consent-stopncii")
    page.click("#protect-submit")
    page.wait_for_selector("#result:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "result-title"
    number = page.text_content("#case-number") or ""
    pin = page.text_content("#case-pin") or ""
    assert number.startswith("PR-") and len(pin) == 10
    assert "Files protected: 4." in (page.text_content("#result-summary") or "")
    shoot("protected")
    # the browser's photo hashes are the server's, and the crops came along
    with service.db.session() as session:
        items = list(session.query(VictimItem).order_by(VictimItem.number))
    assert [i.kind for i in items] == ["photo", "photo", "photo", "video"]
    first = get_entry(service.db, items[0].entry_id or 0)
    server = hash_file(photos[0])
    assert {s.type: s.value for s in first.signals if s.variant is None}["pdq"] == (
        server.signals["pdq"].value
    )
    assert sum(1 for s in first.signals if s.variant) >= 10
    video = get_entry(service.db, items[3].entry_id or 0)
    assert {s.type for s in video.signals} == {"vpdq", "md5", "sha256"}
    # a cropped copy of photo 1 is caught by the platform's lookup (the JSON API's matcher)
    cropped = tmp_path / "cropped-copy.jpg"
    with Image.open(photos[0]) as im:
        w, h = im.size
        im.crop((0, int(h * 0.1), w, h)).save(cropped, "JPEG", quality=85)
    matcher = Matcher(service.db, settings=service.settings)
    outcome = matcher.match_file(cropped, "upload-1")
    assert outcome.matched and outcome.matches[0].bank == service.settings.protect_bank
    # follow: counts only
    page.click("#status-link")
    assert page.input_value("#case_number") == number
    page.fill("#pin", pin)
    page.click("#show-status")
    assert page.text_content("#matches-found") == "1" and page.text_content("#removed") == "1"
    # no StopNCII exchange is configured here: the consent waits, and the page says so
    assert "have not been shared yet" in (page.text_content("#stopncii-state") or "")
    shoot("status")
    page.click("#withdraw-1")
    assert "Photo or video 1 was withdrawn." in (page.text_content("#withdraw-message") or "")
    assert page.locator("#withdraw-1").count() == 0
    page.click("#withdraw-all")
    assert "Withdrawn" in (page.text_content("#case-state") or "")
    assert "nothing was shared" in (page.text_content("#stopncii-state") or "")
    shoot("withdrawn")
    matcher.refresh()
    assert not matcher.match_file(cropped, "upload-2").matched
    submission = recorder.check_only_hashes_left(service.url, [*photos, clip, broken])
    assert submission["consent"] == {"platform": True, "stopncii": True}
    assert [i["kind"] for i in submission["items"]] == ["photo", "photo", "photo", "video"]
    assert not [p for p in problems if "Content Security Policy" in p]


def test_a_video_the_browser_cannot_play_is_protected_by_its_exact_hashes(
    page: Page, make_service: Callable[..., LiveService], tmp_path: Path
) -> None:
    service = make_service(notice_rate_limit=1000)
    fake = tmp_path / "clip.mp4"
    fake.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    page.goto(service.url + "/protect")
    page.set_input_files("#files", [str(fake)])
    _wait_read(page, 1)
    assert "only an exact copy" in (page.text_content("#file-list .state") or "")
    page.check("#depicted")
    page.check("#adult")
    page.check("#consent-platform")
    page.click("#protect-submit")
    page.wait_for_selector("#result:not([hidden])")
    with service.db.session() as session:
        item = session.query(VictimItem).one()
    assert {s.type for s in get_entry(service.db, item.entry_id or 0).signals} == {
        "md5",
        "sha256",
    }


def test_the_recorder_catches_a_page_that_sends_the_photo(
    page: Page, service: LiveService, tmp_path: Path
) -> None:
    """The check above fails when image bytes do leave (raw or base64): it is not vacuous."""
    photo = tmp_path / "p.jpg"
    Image.fromarray(synthetic.scene(9, 200, 200)).save(photo, "JPEG")
    data = photo.read_bytes()
    page.goto(service.url + "/protect")
    for body in (data, base64.b64encode(data)):
        recorder = Recorder(page)
        page.evaluate(
            "(b) => fetch('/protect/withdraw', {method: 'POST', body: new Uint8Array(b)})",
            list(body),
        )
        page.wait_for_timeout(200)
        with pytest.raises(AssertionError, match=r"'p\.jpg'"):
            recorder.check_only_hashes_left(service.url, [photo])
