"""A signal type from outside the package, registered through the public call, is banked,
matched, swept in the ledger, kept in index snapshots and weighed as case evidence, with no
change to the package: every layer dispatches on what the type declares, never on its name."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from shieldwall import banks
from shieldwall.cases.queues import evidence_strength
from shieldwall.config import Settings
from shieldwall.errors import MalformedSignal
from shieldwall.hashing import default_signals, hash_file
from shieldwall.index import SignalIndex
from shieldwall.matching import Matcher
from shieldwall.matching.ledger import add_to_ledger, sweep
from shieldwall.media import Media, synthetic
from shieldwall.signals import (
    Comparison,
    ContentType,
    Signal,
    SignalType,
    get_signal_type,
    register,
    unregister,
)
from shieldwall.signals.contract import SignalTypeContract
from shieldwall.store import Database


class TileHash(SignalType):
    """A 256-bit average hash: 16 x 16 grey tiles, a bit set where a tile is above the mean."""

    name = "tilehash"
    content_types = frozenset({ContentType.PHOTO})
    comparison = Comparison.HAMMING
    code_bytes = 32
    default_threshold = 40

    def compute(self, media: Media) -> Signal:
        grey = Image.open(io.BytesIO(media.data)).convert("L").resize((16, 16))
        tiles = np.asarray(grey, dtype=np.float64).reshape(-1)
        bits = np.packbits(tiles > tiles.mean())
        return Signal(self.name, bits.tobytes().hex())

    def validate(self, value: str) -> str:
        canonical = value.strip().lower()
        if len(canonical) != 64 or not all(c in "0123456789abcdef" for c in canonical):
            raise MalformedSignal(f"tilehash must be 64 hex digits, got {value!r}")
        return canonical

    def distance(self, a: str, b: str) -> int:
        return (int(a, 16) ^ int(b, 16)).bit_count()


class Blake2Hash(SignalType):
    """BLAKE2b-128 of the bytes: an exact digest, asked for by name only."""

    name = "blake2b128"
    content_types = frozenset({ContentType.PHOTO, ContentType.VIDEO})
    comparison = Comparison.EXACT
    code_bytes = 16
    default_threshold = 0
    exact_evidence = True
    computed_by_default = False

    def compute(self, media: Media) -> Signal:
        return Signal(self.name, hashlib.blake2b(media.data, digest_size=16).hexdigest())

    def validate(self, value: str) -> str:
        canonical = value.strip().lower()
        if len(canonical) != 32 or not all(c in "0123456789abcdef" for c in canonical):
            raise MalformedSignal(f"blake2b128 must be 32 hex digits, got {value!r}")
        return canonical

    def distance(self, a: str, b: str) -> int:
        return 0 if a == b else 1


@pytest.fixture
def plugins() -> Iterator[None]:
    get_signal_type("pdq")  # the built-ins first, as at any start
    register(TileHash)
    register(Blake2Hash)
    try:
        yield
    finally:
        unregister(TileHash.name)
        unregister(Blake2Hash.name)


@pytest.fixture
def photos(tmp_path: Path) -> dict[str, Path]:
    out = {}
    original = synthetic.scene(31, 480, 360)
    for name, data in {
        "original": synthetic.encode(original),
        "copy": synthetic.encode(original, quality=35),  # re-encoded: other bytes, same look
        "other": synthetic.encode(synthetic.scene(32, 480, 360)),
    }.items():
        out[name] = tmp_path / f"{name}.jpg"
        out[name].write_bytes(data)
    return out


def _plugin_signal(path: Path, name: str) -> Signal:
    result = hash_file(path, [name])
    assert result.ok, result.error
    return result.signals[name]


@pytest.mark.usefixtures("plugins")
def test_a_plugin_type_is_computed_by_default_unless_it_says_no() -> None:
    assert "tilehash" in default_signals(ContentType.PHOTO)
    assert "blake2b128" not in default_signals(ContentType.PHOTO)
    assert "tilehash" not in default_signals(ContentType.VIDEO)


@pytest.mark.usefixtures("plugins")
def test_a_plugin_type_is_banked_matched_swept_and_weighed(
    db: Database, photos: dict[str, Path], tmp_path: Path
) -> None:
    banks.create_bank(db, "plug", "block")
    banked = _plugin_signal(photos["original"], "tilehash")
    entry = banks.add_entry(db, "plug", [banked], external_ids=["case-1"])
    assert [s.type for s in entry.signals] == ["tilehash"]

    # Matched: the upload is hashed with every default type, the plug-in's among them.
    matcher = Matcher(db, settings=Settings(data_dir=tmp_path))
    found = matcher.match_file(photos["copy"], "upload-1")
    assert [(m.bank, m.signal_type) for m in found.matches] == [("plug", "tilehash")]
    assert not matcher.match_file(photos["other"], "upload-2").matched

    # Weighed: a stored match on a near type is a near match, not exact evidence.
    with db.session() as session:
        assert evidence_strength(session, ["upload-1"]) == 2
        assert evidence_strength(session, ["upload-2"]) == 0

    # Swept: the ledger keeps the plug-in's hashes, and the sweep finds the hosted copy.
    add_to_ledger(
        db,
        [
            ("post-copy", [_plugin_signal(photos["copy"], "tilehash")]),
            ("post-other", [_plugin_signal(photos["other"], "tilehash")]),
        ],
    )
    outcome = sweep(db, full=True, matcher=matcher)
    assert list(outcome.matches) == ["post-copy"]
    assert outcome.matches["post-copy"][0].signal_type == "tilehash"
    assert outcome.ledger_scanned == 2

    # Kept in snapshots: the index's part for the type is saved and loaded by its name.
    index = SignalIndex()
    index.add("tilehash", 7, banked.value)
    index.save(tmp_path / "plug.swidx")
    loaded = SignalIndex.load(tmp_path / "plug.swidx")
    assert [h.id for h in loaded.search("tilehash", banked.value, 0)] == [7]


@pytest.mark.usefixtures("plugins")
def test_a_plugin_exact_type_is_exact_evidence(
    db: Database, photos: dict[str, Path], tmp_path: Path
) -> None:
    banks.create_bank(db, "exact-plug", "block")
    banks.add_entry(db, "exact-plug", [_plugin_signal(photos["original"], "blake2b128")])
    matcher = Matcher(db, settings=Settings(data_dir=tmp_path))
    signal = _plugin_signal(photos["original"], "blake2b128")
    outcome = matcher.match("upload-exact", [signal])
    assert [m.signal_type for m in outcome.matches] == ["blake2b128"]
    assert not matcher.match("upload-copy", [_plugin_signal(photos["copy"], "blake2b128")]).matched
    with db.session() as session:
        assert evidence_strength(session, ["upload-exact"]) == 3


@pytest.mark.usefixtures("plugins")
class TestTileHashContract(SignalTypeContract):
    """The plug-in passes the same contract as the built-in types."""

    @pytest.fixture
    def signal_type(self) -> SignalType:
        return get_signal_type("tilehash")

    @pytest.fixture
    def media_pair(self, photos: dict[str, Path]) -> tuple[Media, Media]:
        return Media.from_path(photos["original"]), Media.from_path(photos["other"])


def test_inconsistent_declarations_are_refused() -> None:
    class Wide(TileHash):
        name = "widehash"
        code_bytes = 64  # the Hamming index serves 256-bit codes

    class Boastful(TileHash):
        name = "boastful"
        exact_evidence = True  # a near comparison can never prove an exact copy

    with pytest.raises(ValueError, match="256-bit codes"):
        register(Wide)
    with pytest.raises(ValueError, match="only an exact comparison is exact evidence"):
        register(Boastful)
    with pytest.raises(Exception, match="unknown signal type 'widehash'"):
        get_signal_type("widehash")
