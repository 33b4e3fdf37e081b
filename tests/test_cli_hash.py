"""``shieldwall hash``: output shapes, inputs, errors that do not stop the batch, exit codes."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from shieldwall.cli import run
from shieldwall.config import get_settings
from shieldwall.hashing import hash_file
from shieldwall.media import synthetic
from shieldwall.signals.pdq import PdqSignal


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    (folder / "nested").mkdir(parents=True)
    (folder / "a.jpg").write_bytes(synthetic.encode(synthetic.scene(1, 320, 240)))
    (folder / "nested" / "b.png").write_bytes(synthetic.encode(synthetic.scene(2, 320, 240), "PNG"))
    (folder / "notes.txt").write_text("not looked at: not an image extension")
    return folder


def _jsonl(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_jsonl_has_one_object_per_input_with_every_signal(
    photos: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["hash", str(photos / "a.jpg"), "--workers", "1"]) == 0
    [obj] = _jsonl(capsys.readouterr().out)
    data = (photos / "a.jpg").read_bytes()
    assert obj["path"] == str(photos / "a.jpg")
    assert obj["md5"] == {"hash": hashlib.md5(data).hexdigest()}
    assert obj["sha256"] == {"hash": hashlib.sha256(data).hexdigest()}
    pdq = obj["pdq"]
    assert isinstance(pdq, dict)
    assert PdqSignal().validate(str(pdq["hash"])) == pdq["hash"]
    assert isinstance(pdq["quality"], int) and pdq["quality"] >= 80


def test_directories_are_walked_recursively_for_images(
    photos: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["hash", str(photos), "-w", "1"]) == 0
    paths = [o["path"] for o in _jsonl(capsys.readouterr().out)]
    assert paths == [str(photos / "a.jpg"), str(photos / "nested" / "b.png")]


def test_a_bad_file_is_reported_and_the_batch_goes_on(
    photos: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = photos / "broken.jpg"
    bad.write_bytes(b"this is not a jpeg")
    missing = photos / "missing.jpg"
    code = run(["hash", str(bad), str(missing), str(photos / "a.jpg"), "-w", "2"])
    assert code == 1
    first, second, third = _jsonl(capsys.readouterr().out)
    assert first == {"path": str(bad), "error": f"{bad}: not an image in a supported format"}
    assert second == {"path": str(missing), "error": f"{missing}: no such file"}
    assert "pdq" in third and "error" not in third


def test_parallel_results_equal_serial_results_in_input_order(
    photos: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(6):
        (photos / f"extra{i}.jpg").write_bytes(synthetic.encode(synthetic.scene(50 + i, 200, 150)))
    run(["hash", str(photos), "-w", "1"])
    serial = capsys.readouterr().out
    run(["hash", str(photos), "-w", "3"])
    assert capsys.readouterr().out == serial


def test_csv_and_table_formats(photos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["hash", str(photos / "a.jpg"), "-f", "csv", "-w", "1"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(rows[0]) == ["path", "pdq", "pdq_quality", "md5", "sha256", "error"]
    assert rows[0]["error"] == "" and len(rows[0]["pdq"]) == 64
    assert run(["hash", str(photos / "a.jpg"), "-f", "table", "-w", "1"]) == 0
    assert rows[0]["md5"] in capsys.readouterr().out


def test_signal_selection(photos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["hash", str(photos / "a.jpg"), "-s", "md5", "-w", "1"]) == 0
    [obj] = _jsonl(capsys.readouterr().out)
    assert set(obj) == {"path", "md5"}


def test_stdin(photos: Path) -> None:
    data = (photos / "a.jpg").read_bytes()
    out = subprocess.run(
        [sys.executable, "-m", "shieldwall", "hash", "-"],
        input=data,
        capture_output=True,
        check=True,
    )
    [obj] = _jsonl(out.stdout.decode())
    assert obj["path"] == "-"
    assert obj["sha256"] == {"hash": hashlib.sha256(data).hexdigest()}


def test_a_video_on_stdin_is_hashed_as_a_video(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clip = synthetic.video(tmp_path / "clip.mp4", synthetic.panorama(7, 3, 10, 160, 120))
    data = clip.read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert run(["hash", "-", "-w", "1"]) == 0
    [obj] = _jsonl(capsys.readouterr().out)
    assert obj["path"] == "-"
    assert obj["md5"] == {"hash": hashlib.md5(data).hexdigest()}
    assert obj["sha256"] == {"hash": hashlib.sha256(data).hexdigest()}
    assert "pdq" not in obj  # a video: no photo hash
    from_file = hash_file(clip).signals["vpdq"]
    assert obj["vpdq"] == {"hash": from_file.value, "quality": from_file.quality}


def test_stdin_over_the_photo_limit_is_refused_with_its_size(
    photos: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = (photos / "a.jpg").read_bytes()
    monkeypatch.setenv("SHIELDWALL_MAX_MEDIA_BYTES", str(len(data) - 1))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    get_settings.cache_clear()
    try:
        assert run(["hash", "-", "-s", "md5", "-w", "1"]) == 1
    finally:
        get_settings.cache_clear()
    [obj] = _jsonl(capsys.readouterr().out)
    assert obj == {
        "path": "-",
        "error": f"-: {len(data):,} bytes is over the limit of {len(data) - 1:,} bytes",
    }


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["hash"], "Missing argument"),
        (["hash", "x.jpg", "--format", "xml"], "Invalid value"),
        (["hash", "x.jpg", "-s", "phash"], "unknown signal type 'phash'"),
        (["hash", "-", "-"], "stdin (-) can be given only once"),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(argv) == 2
    assert message in capsys.readouterr().err


def test_empty_directory_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["hash", str(tmp_path)]) == 2
    assert "no image or video files found" in capsys.readouterr().err
