"""``shieldwall protect FILES...``: a helpline hashes here and files the case (locally, or with a
service over HTTP); an unreadable file is named and skipped; the PIN works for the status."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bank_helpers import photo
from shieldwall.banks import get_entry
from shieldwall.cases.victims import case_status
from shieldwall.cli import run
from shieldwall.config import get_settings
from shieldwall.media import synthetic
from shieldwall.store import open_database
from shieldwall.store.models import VictimCase, VictimItem


def test_protect_photos_and_a_video(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = photo(tmp_path, "a.jpg", 1)
    frames = [synthetic.scene(5, 96, 64) for _ in range(5)]
    frames = [np.roll(f, i * 3, axis=1) for i, f in enumerate(frames)]
    clip = synthetic.video(tmp_path / "clip.mp4", frames, fps=5)
    bad = tmp_path / "notes.jpg"
    bad.write_bytes(b"not a photo")
    code = run(["protect", str(a), str(clip), str(bad), "--stopncii", "--json"])
    captured = capsys.readouterr()
    assert code == 1  # filed, one file skipped
    assert "skipped" in captured.err and "notes.jpg" in captured.err
    answer = json.loads(captured.out)
    assert answer["items"] == 2 and answer["stopncii"] == "pending"
    db = open_database()
    status = case_status(db, answer["case_number"], answer["pin"], settings=get_settings())
    assert [i.kind for i in status.items] == ["photo", "video"]
    with db.session() as session:
        assert session.query(VictimCase).one().channel == "helpline"
        entries = [i.entry_id for i in session.query(VictimItem).order_by(VictimItem.number)]
    video = get_entry(db, entries[1] or 0)
    assert {s.type for s in video.signals} == {"md5", "sha256", "vpdq"}
    # The bank-side frame variants (docs/video.md) come with the video: a cropped re-encode
    # of it is caught too.
    variants = {s.variant for s in video.signals if s.type == "vpdq" and s.variant}
    assert {"centre-90", "crop-top-10"} <= variants
    assert video.provenance == "victim"


def test_plain_output_and_nothing_readable(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["protect", str(photo(tmp_path, "a.jpg", 2))]) == 0
    out = capsys.readouterr().out
    assert "case number: PR-" in out and "PIN:" in out and "not shown again" in out
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG broken")
    assert run(["protect", str(bad)]) == 1
    assert "nothing was filed" in capsys.readouterr().err
    assert run(["protect", str(tmp_path / "missing.jpg")]) in (1, 2)
