"""Victim cases (issue 15): a submission of hashes only becomes bank entries of provenance
victim held by ``<case>/<item>``; the PIN is stored hashed and shown once; status gives counts
only; withdrawal of one item or the whole case stops the matching; a malformed submission names
each problem and saves nothing; a cropped copy of a protected photo is caught."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import event, func, select

from shieldwall.audit import _AUDIT_LOCK
from shieldwall.banks import get_bank, get_entry
from shieldwall.cases.victims import case_status, file_case, validate_submission, withdraw_items
from shieldwall.cli.protect import submission_from_results
from shieldwall.config import Settings
from shieldwall.errors import InvalidProtection, NotFound
from shieldwall.hashing import hash_file
from shieldwall.matching import Matcher
from shieldwall.media import synthetic
from shieldwall.signals import ContentType
from shieldwall.store import BankEntry, Database
from shieldwall.store.models import AuditEvent, VictimCase, VictimItem
from shieldwall.store.signal_log import _LOG_LOCK


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", protect_bank_kind="block")


def _photo(folder: Path, name: str, seed: int, crop: float = 0.0) -> Path:
    image = Image.fromarray(synthetic.scene(seed, 480, 360))
    if crop:
        w, h = image.size
        image = image.crop((0, int(h * crop), w, h))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    path = folder / name
    path.write_bytes(out.getvalue())
    return path


def _submission(paths: list[Path], *, stopncii: bool = False) -> dict[str, Any]:
    results = [(ContentType.PHOTO, hash_file(p, bank_variants=True)) for p in paths]
    return submission_from_results(results, stopncii=stopncii)


def _counts(db: Database) -> tuple[int, int, int]:
    with db.session() as session:
        return (
            int(session.scalar(select(func.count()).select_from(VictimCase)) or 0),
            int(session.scalar(select(func.count()).select_from(VictimItem)) or 0),
            int(session.scalar(select(func.count()).select_from(BankEntry)) or 0),
        )


def test_file_follow_and_withdraw(db: Database, settings: Settings, tmp_path: Path) -> None:
    a, b = _photo(tmp_path, "a.jpg", 1), _photo(tmp_path, "b.jpg", 2)
    receipt = file_case(db, settings, _submission([a, b], stopncii=True))
    assert receipt.case_number.startswith("PR-") and len(receipt.pin) == 10
    assert receipt.items == 2 and receipt.signals > 2 * 3  # pdq, md5, sha256 and the crops
    assert receipt.stopncii == "pending"
    assert get_bank(db, settings.protect_bank).kind == "block"
    with db.session() as session:
        case = session.scalars(select(VictimCase)).one()
        assert receipt.pin not in case.pin_hash and case.pin_hash.startswith("$argon2")
        entries = [
            i.entry_id for i in session.scalars(select(VictimItem).order_by(VictimItem.number))
        ]
        events = [e.action for e in session.scalars(select(AuditEvent))]
    assert "victim_case.filed" in events
    first = get_entry(db, entries[0] or 0)
    assert first.provenance == "victim"
    assert first.external_ids == {f"{receipt.case_number}/1": "active"}
    assert any(s.variant and s.variant.startswith("crop-") for s in first.signals)
    status = case_status(db, receipt.case_number, receipt.pin, settings=settings)
    assert status.status == "active" and [i.status for i in status.items] == ["active"] * 2
    assert (status.matches_found, status.removed) == (0, 0)
    # a cropped copy of photo 1 is caught through a bank-side crop, and counted (no location)
    matcher = Matcher(db, settings=settings)
    copy = _photo(tmp_path, "copy.jpg", 1, crop=0.12)
    outcome = matcher.match_file(copy, "upload-77")
    assert outcome.matched and outcome.matches[0].bank == settings.protect_bank
    status = case_status(db, receipt.case_number, receipt.pin, settings=settings)
    assert [(i.matches_found, i.removed) for i in status.items] == [(1, 1), (0, 0)]
    # withdraw photo 1: it stops matching, photo 2 stays
    status = withdraw_items(db, receipt.case_number, receipt.pin, item=1, settings=settings)
    assert [i.status for i in status.items] == ["withdrawn", "active"]
    assert status.status == "active" and status.stopncii == "pending"
    assert get_entry(db, entries[0] or 0).status == "withdrawn"
    matcher.refresh()
    assert not matcher.match_file(copy, "upload-78").matched
    assert matcher.match_file(b, "upload-79").matched
    # the whole case: nothing was shared yet, so the StopNCII share is cancelled
    status = withdraw_items(db, receipt.case_number, receipt.pin, settings=settings)
    assert status.status == "withdrawn" and status.stopncii == "cancelled"
    matcher.refresh()
    assert not matcher.match_file(b, "upload-80").matched
    # again: harmless
    assert withdraw_items(db, receipt.case_number, receipt.pin, settings=settings).status == (
        "withdrawn"
    )


def test_a_wrong_pin_and_an_unknown_case_get_the_same_answer(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    receipt = file_case(db, settings, _submission([_photo(tmp_path, "a.jpg", 3)]))
    assert receipt.stopncii == "not_requested"
    for number, pin in ((receipt.case_number, "2222222222"), ("PR-AAAA-AAAA-AAAA-AAAA", "2")):
        with pytest.raises(NotFound) as caught:
            case_status(db, number, pin, settings=settings)
        assert caught.value.message == "no protection case with this number and PIN"
        with pytest.raises(NotFound):
            withdraw_items(db, number, pin, settings=settings)
    with pytest.raises(NotFound, match="no item 9"):
        withdraw_items(db, receipt.case_number, receipt.pin, item=9, settings=settings)


def _valid() -> dict[str, Any]:
    return {
        "consent": {"platform": True, "stopncii": False},
        "declarations": {"depicted": True, "adult": True},
        "items": [
            {
                "kind": "photo",
                "signals": [
                    {"type": "pdq", "value": "f" * 32 + "0" * 32, "quality": 90},
                    {"type": "md5", "value": "a" * 32},
                ],
                "variants": [
                    {"type": "pdq", "value": "0f" * 32, "quality": 80, "variant": "crop-top-10"}
                ],
            }
        ],
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["declarations"].pop("adult"), "declarations.adult"),
        (lambda d: d["declarations"].update(depicted="yes"), "declarations.depicted"),
        (lambda d: d["consent"].update(platform=False), "consent.platform"),
        (lambda d: d["consent"].update(stopncii="maybe"), "consent.stopncii"),
        (lambda d: d.update(items=[]), "items"),
        (lambda d: d.update(items=d["items"] * 51), "items"),
        (lambda d: d["items"][0].update(kind="audio"), "items.0.kind"),
        (lambda d: d["items"][0].update(signals=[]), "items.0.signals"),
        (lambda d: d["items"][0]["signals"][0].update(value="xyz"), "items.0.signals.0.value"),
        (lambda d: d["items"][0]["signals"][0].update(quality=10), "items.0.signals.0.value"),
        (lambda d: d["items"][0]["signals"][0].update(quality="90"), "items.0.signals.0.quality"),
        (lambda d: d["items"][0]["signals"][1].update(type="vpdq"), "items.0.signals.1.type"),
        (
            lambda d: d["items"][0]["signals"].append({"type": "md5", "value": "b" * 32}),
            "items.0.signals",
        ),
        (lambda d: d["items"][0]["variants"][0].pop("variant"), "items.0.variants.0.variant"),
        (lambda d: d["items"][0].update(variants={}), "items.0.variants"),
        # A photo's variants are PDQs, a video's are frame sets.
        (lambda d: d["items"][0]["variants"][0].update(type="vpdq"), "items.0.variants.0.type"),
        (lambda d: d["items"][0].update(kind="video"), "items.0.variants.0.type"),
        (lambda d: d["items"].append("photo.jpg"), "items.1"),
    ],
)
def test_a_malformed_submission_names_the_problem_and_saves_nothing(
    db: Database, settings: Settings, change: Any, field: str
) -> None:
    data = _valid()
    assert validate_submission(data, settings)[1] == []
    change(data)
    submission, errors = validate_submission(data, settings)
    assert submission is None
    assert field in [e["field"] for e in errors], errors
    before = _counts(db)
    with pytest.raises(InvalidProtection) as caught:
        file_case(db, settings, data)
    assert field in caught.value.message
    assert _counts(db) == before
    with pytest.raises(NotFound):
        get_bank(db, settings.protect_bank)  # not even the bank was created


def test_not_an_object(settings: Settings) -> None:
    assert validate_submission(["pdq"], settings) == (
        None,
        [{"field": "", "message": "the submission must be a JSON object"}],
    )


def test_filing_locks_the_audit_log_before_the_signal_log(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    """A case decision takes PostgreSQL's audit lock, then the signal log's; filing a victim
    case takes them in the same order in each of its transactions (the other order deadlocks
    with a decision, and a bank import auditing after logging did: store/locks.py)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the advisory locks are PostgreSQL's")
    keys: list[int | str] = []

    def seen(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
        if "pg_advisory_xact_lock" in statement:
            keys.append(params["k"])

    def begun(_conn: Any) -> None:
        keys.append("begin")

    event.listen(db.engine, "before_cursor_execute", seen)
    event.listen(db.engine, "begin", begun)
    try:
        file_case(db, settings, _submission([_photo(tmp_path, "a.jpg", 7)]))
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
        event.remove(db.engine, "begin", begun)
    transactions: list[list[int | str]] = []
    for key in keys:
        if key == "begin":
            transactions.append([])
        else:
            transactions[-1].append(key)
    for taken in transactions:  # each lock once, in the one order
        assert taken == [k for k in (_AUDIT_LOCK, _LOG_LOCK) if k in taken]
    assert [_AUDIT_LOCK, _LOG_LOCK] in transactions  # the filing's hashes were logged
