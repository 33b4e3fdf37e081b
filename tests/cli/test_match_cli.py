"""``shieldwall match``: JSON shape, exit codes, allow banks, hashes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bank_helpers import flip_bits, photo, random_pdq
from shieldwall.cli import run


def _lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.fixture
def banked(cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    run(["bank", "create", "ncii", "--kind", "block"])
    original = photo(tmp_path, "original.jpg", 1)
    run(["bank", "add", "ncii", str(original), "-e", "case-1"])
    capsys.readouterr()
    return original


def test_json_one_object_per_input(
    banked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = photo(tmp_path, "copy.jpg", 1, quality=50)
    other = photo(tmp_path, "other.jpg", 2)
    code = run(["match", str(copy), str(other), "-f", "jsonl", "-w", "1"])
    assert code == 1
    first, second = _lines(capsys.readouterr().out)
    assert first["input"] == str(copy)
    assert first["matches"] == [{"bank": "ncii", "entry_id": 1, "signal_type": "pdq"}]
    assert second == {"input": str(other), "content_id": str(other), "matches": []}


def test_exit_codes(banked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["match", str(photo(tmp_path, "other.jpg", 2))]) == 0
    assert "no match" in capsys.readouterr().out
    assert run(["match", str(banked), "--content-id", "upload-9"]) == 1
    assert "MATCH ncii entry 1" in capsys.readouterr().out
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"nope")
    assert run(["match", str(bad), "-f", "jsonl"]) == 3
    assert "error" in _lines(capsys.readouterr().out)[0]
    assert run(["match"]) == 2
    assert run(["match", "--hash", "pdq:xyz"]) == 2  # a malformed hash: never "matched" (1)
    assert "pdq hash" in capsys.readouterr().err


def test_hash_inputs_and_allow_bank(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    value = random_pdq(3)
    run(["bank", "create", "ncii", "--kind", "block"])
    run(["bank", "create", "memes", "--kind", "allow"])
    run(["bank", "add", "ncii", "--hash", f"pdq:{value}"])
    capsys.readouterr()
    near = flip_bits(value, 8)
    assert run(["match", "--hash", f"pdq:{near}", "-f", "jsonl"]) == 1
    [obj] = _lines(capsys.readouterr().out)
    assert obj["matches"] == [{"bank": "ncii", "entry_id": 1, "signal_type": "pdq"}]
    run(["bank", "add", "memes", "--hash", f"pdq:{value}"])
    capsys.readouterr()
    assert run(["match", "--hash", f"pdq:{near}", "-f", "jsonl"]) == 0
    [obj] = _lines(capsys.readouterr().out)
    assert obj["matches"] == [] and obj["allowed_by"] == ["memes"]


def test_dihedral_option(banked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import numpy as np
    from PIL import Image

    from shieldwall.media import synthetic

    mirrored = tmp_path / "mirrored.jpg"
    img = Image.fromarray(synthetic.scene(1, 320, 240)).transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    mirrored.write_bytes(synthetic.encode(np.asarray(img)))
    assert run(["match", str(mirrored), "--no-dihedral"]) == 0
    assert run(["match", str(mirrored), "--dihedral"]) == 1
    assert run(["match", str(mirrored)]) == 1  # on by default (SHIELDWALL_MATCH_DIHEDRAL)
