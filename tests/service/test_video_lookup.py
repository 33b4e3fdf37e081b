"""Videos over the API: banked by upload (every frame), looked up by upload (streamed to
disk), a clip found with its time ranges, an unrelated video not; size limits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from service_helpers import LiveService
from shieldwall.media import synthetic

FPS = 10


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("videos")
    banked = list(synthetic.panorama(31, 30, FPS, 320, 240))
    return {
        "banked": synthetic.video(folder / "banked.mp4", banked),
        "clip": synthetic.video(folder / "clip.mp4", banked[120:220]),  # 12 s to 22 s
        "unrelated": synthetic.video(
            folder / "unrelated.mp4", synthetic.panorama(32, 12, FPS, 320, 240)
        ),
    }


def test_clip_of_a_banked_video_is_found_over_http(
    service: LiveService, videos: dict[str, Path]
) -> None:
    admin = service.client(service.key("admin"))
    admin.post("/v1/banks", json={"name": "ncii", "kind": "block"})
    with videos["banked"].open("rb") as fh:
        r = admin.post(
            "/v1/banks/ncii/entries/upload",
            files={"file": ("banked.mp4", fh, "video/mp4")},
            data={"external_ids": "case-v1"},
        )
    assert r.status_code == 201, r.text
    assert {s["type"] for s in r.json()["signals"]} >= {"vpdq", "md5"}
    matcher = service.client(service.key("match"))
    with videos["clip"].open("rb") as fh:
        r = matcher.post(
            "/v1/lookup", files={"file": ("clip.mp4", fh, "video/mp4")}, data={"content_id": "v-1"}
        )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["matched"] is True and body["stored"] is True
    hit = next(h for h in body["banks"][0]["hits"] if h["signal_type"] == "vpdq")
    assert hit["query_share"] >= 0.8
    assert "distance" not in hit
    (start, end), *_ = hit["bank_ranges"]
    assert 11.0 <= start <= 13.0 and 20.0 <= end <= 23.0
    with videos["unrelated"].open("rb") as fh:
        r = matcher.post("/v1/lookup", files={"file": ("u.mp4", fh, "video/mp4")})
    assert r.json()["matched"] is False
    # The uploads were streamed to temporary files and removed.
    assert list((service.settings.data_dir / "uploads").iterdir()) == []


def test_video_over_the_size_limit_is_refused(
    make_service: Callable[..., LiveService], videos: dict[str, Path]
) -> None:
    live = make_service(max_video_bytes=10_000)
    client = live.client(live.key("match"))
    with videos["clip"].open("rb") as fh:
        r = client.post("/v1/lookup", files={"file": ("clip.mp4", fh, "video/mp4")})
    assert (r.status_code, r.json()["error"]) == (413, "media_too_large")
    assert "clip.mp4" in r.json()["message"]
    assert list((live.settings.data_dir / "uploads").iterdir()) == []
