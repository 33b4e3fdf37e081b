"""The browser's PDQ (``/static/protect/pdq.js`` in the page's Web Worker, in headless Chromium)
equals the server's: bit-identical on the PDQ test vectors and on pixels both sides decode the
same way, within 10 bits on at least 99 % of real photos (each side decodes the JPEG itself);
its MD5 and SHA-256 are the file's; its bank-side crops land near the server's."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from service_helpers import LiveService
from shieldwall.hashing import hash_file
from shieldwall.media import synthetic
from shieldwall.signals import pdq_algorithm as algo
from shieldwall.signals.pdq import hamming_distance, pdq_from_rgb

from .protect_helpers import hash_in_browser, signal

if TYPE_CHECKING:
    from playwright.sync_api import Page

VECTORS = Path(__file__).resolve().parents[1] / "data" / "pdq_vectors.json"
#: Photos of ../shared/data checked (every n-th of the sorted list, so the set is fixed).
SAMPLE = 300


def test_the_test_vectors_and_the_dct_matrix(page: Page, service: LiveService) -> None:
    page.goto(service.url + "/protect")
    vectors = json.loads(VECTORS.read_text())["vectors"]
    got = page.evaluate(
        """(vectors) => vectors.map((v) => ShieldwallPDQ.pdqFromLuma(
               Float32Array.from(v.luma64), 64, 64))""",
        vectors,
    )
    assert [(g["hex"], g["quality"]) for g in got] == [(v["pdq"], v["quality"]) for v in vectors]
    dct = page.evaluate("() => Array.from(ShieldwallPDQ.DCT32)")
    assert np.array_equal(np.asarray(dct, dtype=np.float32).reshape(16, 64), algo.DCT_MATRIX)


def _png(path: Path, rgb: np.ndarray) -> Path:
    Image.fromarray(rgb).save(path, "PNG")
    return path


def test_bit_identical_on_the_same_pixels(page: Page, service: LiveService, tmp_path: Path) -> None:
    """Lossless files decode to the same pixels everywhere: the hashes are the reference's."""
    sizes = [(400, 533), (1024, 768), (65, 300), (700, 64), (64, 64), (2000, 1500), (3, 40)]
    files = [
        _png(tmp_path / f"scene{i}.png", synthetic.scene(100 + i, w, h))
        for i, (w, h) in enumerate(sizes)
    ]
    page.goto(service.url + "/protect")
    answers, _ = hash_in_browser(page, files)
    for path, answer in zip(files, answers, strict=True):
        assert answer["type"] == "done", answer
        rgb = np.asarray(Image.open(path).convert("RGB"))
        want = pdq_from_rgb(rgb)
        if want.quality >= 50:
            assert signal(answer, "pdq") == want.hex, path.name
        else:
            assert signal(answer, "pdq") is None  # below the floor: not sent
        data = path.read_bytes()
        assert signal(answer, "md5") == hashlib.md5(data).hexdigest()
        assert signal(answer, "sha256") == hashlib.sha256(data).hexdigest()


def test_within_10_bits_of_the_server_on_real_photos(
    page: Page, service: LiveService, shared_data: Path
) -> None:
    photos = sorted((shared_data / "photos" / "clothing").rglob("*.jpg"))
    if len(photos) < SAMPLE:
        pytest.skip("needs the photos of ../shared/data")
    chosen = photos[:: len(photos) // SAMPLE][:SAMPLE]
    page.goto(service.url + "/protect")
    answers, _ = hash_in_browser(page, chosen)
    distances: list[int] = []
    crop_distances: list[int] = []
    for path, answer in zip(chosen, answers, strict=True):
        server = hash_file(path, bank_variants=True)
        assert server.ok and answer["type"] == "done", (path, answer)
        ours = signal(answer, "pdq")
        theirs = server.signals["pdq"]
        if ours is None:
            assert theirs.quality is not None and theirs.quality < 60, path
            continue
        distances.append(hamming_distance(ours, theirs.value))
        banked = {s.variant: s.value for s in server.bank_variants}
        for v in answer["item"]["variants"]:
            if v["variant"] in banked:
                crop_distances.append(hamming_distance(v["value"], banked[v["variant"]]))
    within = sum(d <= 10 for d in distances) / len(distances)
    assert len(distances) >= 0.95 * len(chosen)
    assert within >= 0.99, sorted(distances)[-10:]
    # the crops are approximate on both sides; they must stay far inside the threshold (31)
    assert crop_distances and float(np.percentile(crop_distances, 95)) <= 12


def test_an_undecodable_file_is_named_and_skipped(
    page: Page, service: LiveService, tmp_path: Path
) -> None:
    bad = tmp_path / "holiday.jpg"
    bad.write_bytes(b"\xff\xd8\xff not really a jpeg")
    good = tmp_path / "good.jpg"
    buf = io.BytesIO()
    Image.fromarray(synthetic.scene(3, 300, 300)).save(buf, "JPEG")
    good.write_bytes(buf.getvalue())
    page.goto(service.url + "/protect")
    answers, _ = hash_in_browser(page, [bad, good])
    assert answers[0] == {"type": "error", "id": 0, "reason": "undecodable"}
    assert answers[1]["type"] == "done" and signal(answers[1], "pdq") is not None


def test_the_reference_images_orientations_and_modes(
    page: Page, service: LiveService, shared_data: Path
) -> None:
    """Meta's test images: EXIF-rotated phone photos (the browser turns them upright as the
    server does), every Pillow mode, large photos the server hashes reduced."""
    kinds = {".jpg", ".jpeg", ".png", ".webp"}
    files = sorted(
        p for p in (shared_data / "pdq-reference").rglob("*") if p.suffix.lower() in kinds
    )
    if not files:
        pytest.skip("needs ../shared/data/pdq-reference")
    page.goto(service.url + "/protect")
    answers, _ = hash_in_browser(page, files)
    compared = 0
    for path, answer in zip(files, answers, strict=True):
        server = hash_file(path)
        assert server.ok and answer["type"] == "done", (path, answer)
        ours = signal(answer, "pdq")
        if ours is None:
            continue  # below the quality floor on our side: never sent
        assert hamming_distance(ours, server.signals["pdq"].value) <= 10, path.name
        compared += 1
    assert compared >= 0.9 * len(files)


def test_the_bank_side_cuts_equal_the_servers(
    page: Page, service: LiveService, tmp_path: Path
) -> None:
    """On lossless pixels every variant the browser makes (crops, inner rectangles, flat
    borders trimmed, caption bars cut) is the server's own, bit for bit."""
    base = Image.fromarray(synthetic.scene(5, 400, 300))
    bordered = Image.new("RGB", (520, 420), "black")
    bordered.paste(base, (60, 60))
    captioned = Image.new("RGB", (400, 380), "white")
    captioned.paste(base, (0, 80))
    ImageDraw.Draw(captioned).text((10, 20), "WHEN YOU SEE IT", fill="black", font_size=30)
    files = [tmp_path / "bordered.png", tmp_path / "captioned.png"]
    bordered.save(files[0])
    captioned.save(files[1])
    page.goto(service.url + "/protect")
    answers, _ = hash_in_browser(page, files)
    for path, answer, cut in zip(files, answers, ("trim", "caption-top"), strict=True):
        server = {s.variant: s.value for s in hash_file(path, bank_variants=True).bank_variants}
        ours = {v["variant"]: v["value"] for v in answer["item"]["variants"]}
        assert cut in ours, sorted(ours)
        assert len(ours) >= 17 and set(ours) <= set(server)
        assert all(ours[name] == server[name] for name in ours), path.name
    # a photo posted "fit" on a blurred copy of itself; 600 px: both sides reduce it first
    fit = base.resize((600, 600)).filter(ImageFilter.GaussianBlur(12))
    fit.paste(Image.fromarray(synthetic.scene(8, 300, 400)), (150, 100))
    fit.save(tmp_path / "fit.png")
    answer = hash_in_browser(page, [tmp_path / "fit.png"])[0][0]
    server = {
        s.variant: s.value
        for s in hash_file(tmp_path / "fit.png", bank_variants=True).bank_variants
    }
    ours = {v["variant"]: v["value"] for v in answer["item"]["variants"]}
    assert "trim-blur" in ours and set(ours) == set(server)
    assert max(hamming_distance(ours[n], server[n]) for n in ours) <= 6
