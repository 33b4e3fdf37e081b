"""The local-feature part of the matcher's index: banked photos' keypoints, following the log.

It holds the signal types compared by local features
(:attr:`~shieldwall.signals.Comparison.LOCAL_FEATURES`: ``orb``), kept in the side table and
followed as :class:`~shieldwall.matching.side_table.SideTableSignals` describes, in a
:class:`~shieldwall.index.local_features.FeatureIndex`.
"""

from __future__ import annotations

from shieldwall.index.local_features import FeatureIndex
from shieldwall.matching.side_table import SideTableSignals
from shieldwall.signals import IndexKind
from shieldwall.signals.local_features import FeatureMatch, LocalFeatures, decode_features
from shieldwall.store import Database

__all__ = ["FeatureSignals", "local_feature_types"]


def local_feature_types() -> frozenset[str]:
    """The registered signal types this part holds (those the local-feature index serves)."""
    return FeatureSignals.types()


class FeatureSignals(SideTableSignals[LocalFeatures]):
    """Banked photos' local features (by ``bank_signal.id``), reflecting the log up to
    :attr:`seq`."""

    kind = IndexKind.LOCAL

    def __init__(self, *, seq: int = 0) -> None:
        super().__init__(seq=seq)
        self.features = FeatureIndex()

    def __len__(self) -> int:
        """Banked photos held."""
        return len(self.features)

    def __contains__(self, signal_id: object) -> bool:
        return signal_id in self.features

    def parse(self, text: str) -> LocalFeatures:
        return decode_features(text)

    def _add(self, signal_id: int, value: LocalFeatures) -> None:
        self.features.add(signal_id, value)

    def _remove(self, signal_id: int) -> None:
        self.features.remove(signal_id)

    @classmethod
    def build(cls, db: Database) -> FeatureSignals:
        """Every live local-feature signal of the database, at the log's current head."""
        out = cls()
        out._load(db)
        return out

    def search(self, value: str, *, min_inliers: int) -> list[tuple[int, FeatureMatch]]:
        """Banked photos (signal ids) that the query's features match, most inliers first."""
        return self.features.search(decode_features(value), min_inliers=min_inliers)
