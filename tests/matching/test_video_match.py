"""Videos in banks and matching: a clip cut out of a banked video is found with its time ranges,
unrelated videos never match, withdrawal, following the log, snapshots, allow banks, floods."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bank_helpers import random_pdq
from shieldwall.banks import (
    BankFormat,
    add_entry,
    delete_bank,
    export_entries,
    get_entry,
    parse_signal_string,
    read_entries,
    set_bank_threshold,
    write_entries,
)
from shieldwall.banks import add_entries as add_many
from shieldwall.banks import withdraw as withdraw_case
from shieldwall.config import Settings
from shieldwall.hashing import hash_file
from shieldwall.matching import Matcher, add_to_ledger, sweep
from shieldwall.media import synthetic
from shieldwall.signals.base import Signal
from shieldwall.signals.vpdq import FrameHash, format_vpdq
from shieldwall.store import BankSignal, BankSignalValue, Database, MatchRecord, SignalLogRecord

FPS = 10


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("videos")
    banked = list(synthetic.panorama(11, 60, FPS, 320, 240))
    return {
        "banked": synthetic.video(folder / "banked.mp4", banked),
        # 10 s from the middle (25.3 s to 35.2 s), re-encoded, cut off the whole second.
        "clip": synthetic.video(folder / "clip.mp4", banked[253:353]),
        "unrelated": synthetic.video(
            folder / "unrelated.mp4", synthetic.panorama(12, 20, FPS, 320, 240)
        ),
        "also_unrelated": synthetic.video(
            folder / "also.mkv", synthetic.panorama(13, 30, FPS, 320, 240)
        ),
    }


@pytest.fixture(scope="module")
def banked_signals(videos: dict[str, Path]) -> list[Signal]:
    """The banked video hashed as ``bank add`` hashes it: every frame."""
    result = hash_file(videos["banked"], seconds_per_hash=0)
    assert result.ok, result.error
    return list(result.signals.values())


@pytest.fixture(scope="module")
def clip_signals(videos: dict[str, Path]) -> list[Signal]:
    """The clip hashed as matching hashes it: one frame a second."""
    return list(hash_file(videos["clip"], seconds_per_hash=1).signals.values())


def test_a_clip_cut_from_a_banked_video_matches_with_its_time_ranges(
    banks: Database, settings: Settings, videos: dict[str, Path], banked_signals: list[Signal]
) -> None:
    entry = add_entry(banks, "ncii", banked_signals, external_ids=["case-1"])
    assert sorted(s.type for s in entry.signals) == ["md5", "sha256", "vpdq"]
    matcher = Matcher(banks, settings=settings)
    outcome = matcher.match_file(videos["clip"], content_id="upload-1")
    [m] = outcome.matches  # md5 and sha256 differ: only the frames match
    assert (m.bank, m.entry_id, m.signal_type) == ("ncii", entry.id, "vpdq")
    assert m.video is not None
    assert m.video.query_share >= 0.8
    assert 0.01 < m.video.compared_share < 0.25  # 10 s of 60 s, sampled sparsely
    [(q_start, q_end)] = m.video.query_ranges
    assert q_start <= 1.0 and q_end >= 8.0
    [(b_start, b_end)] = m.video.compared_ranges
    assert 24.5 <= b_start <= 26.5 and 33.5 <= b_end <= 35.5
    with banks.session() as session:
        [record] = session.scalars(select(MatchRecord)).all()
    assert (record.content_id, record.signal_type, record.entry_id) == (
        "upload-1",
        "vpdq",
        entry.id,
    )
    assert record.distance == 100 - round(100 * m.video.query_share)
    # The banked file itself matches by its frames and exactly (md5, sha256).
    exact = matcher.match_file(videos["banked"], content_id="upload-2").matches
    assert {x.signal_type for x in exact} == {"vpdq", "md5", "sha256"}


def test_unrelated_videos_never_match(
    banks: Database, settings: Settings, videos: dict[str, Path], banked_signals: list[Signal]
) -> None:
    add_entry(banks, "ncii", banked_signals)
    matcher = Matcher(banks, settings=settings)
    for name in ("unrelated", "also_unrelated"):
        outcome = matcher.match_file(videos[name])
        assert outcome.error is None and not outcome.matched, name
    # Nor when the bank side holds the unrelated ones and the query is the banked video.
    other = list(hash_file(videos["unrelated"], seconds_per_hash=0).signals.values())
    add_entry(banks, "suspect", other)
    assert [m.bank for m in matcher.match_file(videos["clip"]).matches] == ["ncii"]


def test_withdrawing_the_case_stops_the_match_live_and_after_a_restart(
    banks: Database,
    settings: Settings,
    banked_signals: list[Signal],
    clip_signals: list[Signal],
) -> None:
    matcher = Matcher(banks, settings=settings)  # started before the video was banked
    assert not matcher.match("before", clip_signals).matched
    add_entry(banks, "ncii", banked_signals, external_ids=["case-1"])
    assert matcher.match("added", clip_signals).matched  # followed the log: frames read
    withdraw_case(banks, "case-1")
    assert not matcher.match("withdrawn", clip_signals).matched
    assert len(matcher.video) == 0
    assert not Matcher(banks, settings=settings).match("restart", clip_signals).matched
    add_entry(banks, "ncii", banked_signals, external_ids=["case-2"])  # a new case: back
    assert matcher.match("again", clip_signals).matched
    assert Matcher(banks, settings=settings).match("restart-2", clip_signals).matched


def test_open_from_a_snapshot_rebuilds_the_video_part(
    banks: Database,
    banked_signals: list[Signal],
    clip_signals: list[Signal],
    tmp_path: Path,
) -> None:
    settings = Settings.load(data_dir=tmp_path / "data")
    add_entry(banks, "ncii", [Signal("pdq", "f" * 64, 90)])
    first = Matcher.open(banks, settings=settings)
    assert first.snapshot is not None and first.snapshot.exists()  # saved as it was built
    add_entry(banks, "ncii", banked_signals)  # after the snapshot: in the log tail
    again = Matcher.open(banks, settings=settings)
    assert again.match("a", clip_signals, record=False).matched
    again.checkpoint(min_changes=0)
    third = Matcher.open(banks, settings=settings)  # snapshot past the video's log entries
    assert third.match("b", clip_signals, record=False).matched
    assert third.match("c", [Signal("pdq", "f" * 64, 90)], record=False).matched


def test_allow_bank_suppresses_and_flood_protection_quarantines(
    banks: Database,
    settings: Settings,
    banked_signals: list[Signal],
    clip_signals: list[Signal],
) -> None:
    add_entry(banks, "ncii", banked_signals)
    matcher = Matcher(banks, settings=settings)  # flood_max_contents=3
    outcomes = [matcher.match(f"upload-{i}", clip_signals) for i in range(4)]
    assert [o.matched for o in outcomes] == [True, True, True, False]
    assert outcomes[3].quarantined
    add_entry(banks, "memes", banked_signals)
    outcome = Matcher(banks, settings=settings).match("upload-9", clip_signals)
    assert outcome.allowed_by and not outcome.matched


def test_banking_the_same_video_twice_merges_and_frames_are_kept_whole(
    banks: Database, banked_signals: list[Signal]
) -> None:
    vpdq = next(s for s in banked_signals if s.type == "vpdq")
    assert len(vpdq.value) > 10_000  # far over a btree entry: stored as a digest
    first = add_entry(banks, "ncii", banked_signals, external_ids=["case-1"])
    second = add_entry(banks, "ncii", [vpdq], external_ids=["case-2"])
    assert second.id == first.id
    assert set(second.external_ids) == {"case-1", "case-2"}
    again = get_entry(banks, first.id)
    assert next(s for s in again.signals if s.type == "vpdq").value == vpdq.value
    with banks.session() as session:
        stored = session.scalar(select(BankSignal.value).where(BankSignal.type == "vpdq"))
        logged = session.scalars(
            select(SignalLogRecord.value).where(SignalLogRecord.type == "vpdq")
        ).all()
        videos = session.scalar(select(func.count()).select_from(BankSignalValue))
    assert stored is not None and len(stored) == 64 and list(logged) == [stored]
    assert videos == 1
    delete_bank(banks, "ncii")
    with banks.session() as session:
        assert session.scalar(select(func.count()).select_from(BankSignalValue)) == 0


def test_export_import_and_signal_strings_carry_the_frames(
    banks: Database, settings: Settings, banked_signals: list[Signal], clip_signals: list[Signal]
) -> None:
    add_entry(banks, "suspect", banked_signals, external_ids=["case-1"])
    for fmt in (BankFormat.jsonl, BankFormat.csv, BankFormat.signals):
        out = io.StringIO()
        write_entries(export_entries(banks, "suspect"), out, fmt)
        outcome = add_many(banks, "ncii", read_entries(io.StringIO(out.getvalue()), fmt))
        assert not outcome.rejected, outcome.rejected
    assert Matcher(banks, settings=settings).match("x", clip_signals).matched
    vpdq = next(s for s in banked_signals if s.type == "vpdq")
    one_line = parse_signal_string("vpdq:" + vpdq.value.replace("\n", ";"))
    assert one_line.value == vpdq.value
    assert one_line.quality == max(int(line.split(",")[1]) for line in vpdq.value.splitlines())


def test_match_file_sniffs_the_content_whatever_the_name(
    banks: Database,
    settings: Settings,
    videos: dict[str, Path],
    banked_signals: list[Signal],
    tmp_path: Path,
) -> None:
    add_entry(banks, "ncii", banked_signals)
    upload = tmp_path / "upload-tmp.jpg"  # an upload saved under a misleading name
    shutil.copyfile(videos["clip"], upload)
    outcome = Matcher(banks, settings=settings).match_file(upload, content_id="u-1")
    assert outcome.error is None
    assert [m.signal_type for m in outcome.matches] == ["vpdq"]


def test_the_ledger_keeps_videos_by_exact_hashes_and_sweeps_find_them(
    banks: Database, banked_signals: list[Signal]
) -> None:
    add_to_ledger(banks, [("post-1", banked_signals)])
    add_entry(banks, "ncii", banked_signals)
    found = sweep(banks)
    assert {m.signal_type for m in found.matches["post-1"]} == {"md5", "sha256"}


def test_a_banks_vpdq_threshold_is_the_share_of_query_frames_allowed_to_miss(
    banks: Database, settings: Settings
) -> None:

    banked = [FrameHash(i, 100, random_pdq(i), float(i)) for i in range(20)]
    add_entry(banks, "ncii", [Signal("vpdq", format_vpdq(banked), 100)])
    # 7 of 10 query frames are banked frames, 3 are unrelated: a 70 % share.
    frames = [FrameHash(i, 100, banked[i].pdq, float(i)) for i in range(7)]
    frames += [FrameHash(i, 100, random_pdq(100 + i), float(i)) for i in range(7, 10)]
    query = [Signal("vpdq", format_vpdq(frames), 100)]
    matcher = Matcher(banks, settings=settings)
    assert not matcher.match("a", query).matched  # default: 80 %
    set_bank_threshold(banks, "ncii", "vpdq", 30)
    [m] = matcher.match("b", query).matches
    assert m.distance == 30 and m.video is not None and m.video.query_share == 0.7
    assert m.video.query_ranges == ((0.0, 6.0),) and m.video.compared_ranges == ((0.0, 6.0),)
    loose = Settings.load(video_match_query_share=0.7)
    set_bank_threshold(banks, "ncii", "vpdq", None)
    assert Matcher(banks, settings=loose).match("c", query).matched


def test_a_stopncii_videomd5_record_matches_an_upload_of_the_same_video(
    banks: Database, settings: Settings, videos: dict[str, Path], tmp_path: Path
) -> None:
    """StopNCII's VideoMD5 is the MD5 of the video file: imported, it is an ``md5`` signal,
    and a video upload is looked up by its ``md5``, so the same file matches (a re-encode,
    other bytes, does not)."""
    import hashlib
    import json

    digest = hashlib.md5(videos["banked"].read_bytes()).hexdigest()
    record = {
        "signalType": "VideoMD5",
        "hashValue": digest.upper(),
        "caseNumbers": {"c-1": "Active"},
    }
    outcome = add_many(
        banks, "ncii", read_entries(io.StringIO(json.dumps(record)), BankFormat.jsonl)
    )
    assert not outcome.rejected, outcome.rejected
    upload = tmp_path / "upload.bin"  # saved under a name that says nothing
    shutil.copyfile(videos["banked"], upload)
    matcher = Matcher(banks, settings=settings)
    found = matcher.match_file(upload, content_id="u-video")
    assert found.error is None
    assert [(m.bank, m.signal_type) for m in found.matches] == [("ncii", "md5")]
    assert not matcher.match_file(videos["clip"], content_id="u-clip").matched


def test_a_video_md5_signal_string_is_read_as_md5(banks: Database) -> None:
    signal = parse_signal_string("video_md5:" + "AB" * 16)
    assert (signal.type, signal.value) == ("md5", "ab" * 16)
