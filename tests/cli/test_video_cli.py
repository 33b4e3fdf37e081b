"""``shieldwall bank add`` and ``match`` with videos: banked densely, matched with shares and
time ranges in JSON, never distances."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shieldwall.cli import run
from shieldwall.media import synthetic


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cli-videos")
    frames = list(synthetic.panorama(21, 20, 10, 320, 240))
    return {
        "banked": synthetic.video(folder / "banked.mp4", frames),
        "clip": synthetic.video(folder / "clip.mp4", frames[73:153]),
        "other": synthetic.video(folder / "other.mkv", synthetic.panorama(22, 8, 10, 320, 240)),
    }


def test_bank_a_video_and_match_a_clip_of_it(
    cli_env: str, videos: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run(["bank", "create", "ncii", "--kind", "block"])
    capsys.readouterr()
    assert run(["bank", "add", "ncii", str(videos["banked"]), "-e", "case-1", "-f", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["created"] == [1]
    assert run(["bank", "entry", "1", "-f", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["signals"] == ["md5", "sha256", "vpdq"]

    code = run(["match", str(videos["clip"]), str(videos["other"]), "-f", "jsonl", "-w", "1"])
    assert code == 1
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    [m] = first["matches"]
    assert (m["bank"], m["entry_id"], m["signal_type"]) == ("ncii", 1, "vpdq")
    assert m["query_share"] >= 0.8 and 0 < m["bank_share"] < 1
    [[start, end]] = m["bank_ranges"]
    assert 6.5 <= start <= 8.5 and 13.5 <= end <= 15.5  # the clip is 7.3 s to 15.2 s
    assert m["query_ranges"][0][0] <= 1.0
    assert "distance" not in json.dumps(first)
    assert second["matches"] == []

    assert run(["match", str(videos["clip"]), "--content-id", "upload-3"]) == 1
    out = capsys.readouterr().out
    assert "MATCH ncii entry 1 (vpdq:" in out and "of the banked video's at" in out
    run(["bank", "withdraw", "case-1"])
    capsys.readouterr()
    assert run(["match", str(videos["clip"])]) == 0


def test_ledger_add_records_videos_and_a_sweep_finds_them(
    cli_env: str, videos: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["ledger", "add", str(videos["banked"]), str(videos["other"])]) == 0
    run(["bank", "create", "ncii", "--kind", "block"])
    run(["bank", "add", "ncii", str(videos["banked"])])
    capsys.readouterr()
    assert run(["sweep"]) == 0
    out = capsys.readouterr().out
    assert "1 hosted items matched" in out and str(videos["banked"]) in out
