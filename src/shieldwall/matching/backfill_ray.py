"""The backfill and the sweep on a Ray cluster (``pip install 'shieldwall[ray]'``).

- :func:`hash_on_ray` is a backfill engine: the pending items go into a Ray Dataset in windows
  of ``window`` items, ``map_batches`` hashes them on a pool of actors (:class:`RayHasher`,
  one CPU each, each loading the hasher once), and the driver writes each batch it gets back
  in one transaction, as the local engine does. Order is preserved, so the ledger (ids
  included) is the one a local run makes.
- :func:`scan_on_ray` is a sweep's :data:`~shieldwall.matching.ledger.PartitionRunner`: one Ray
  task per ledger id range, each reading its rows from the database and giving back only its
  hits; the driver stores the matches.

Ray is imported when used: the rest of Shieldwall runs without it. Every node must reach the
database (PostgreSQL across nodes; SQLite only on one machine) and, for a directory archive,
see the files at the same paths; URLs are fetched by the actors under the same SSRF policy.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from itertools import chain, islice
from typing import TYPE_CHECKING, Any

import numpy as np

from shieldwall.config import Settings, get_settings
from shieldwall.errors import ConfigError
from shieldwall.matching.backfill import ArchiveItem, HashedItem, HashEngine, Hasher
from shieldwall.matching.ledger import (
    LedgerPartition,
    PartitionHit,
    PartitionRunner,
    SweepTarget,
    scan_partition,
)
from shieldwall.store import Database

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["RayHasher", "connect", "hash_on_ray", "scan_on_ray"]

#: Items per Ray Dataset: bounds what the driver holds; each window starts its actor pool.
WINDOW = 20_000


def connect(address: str | None = None) -> bool:
    """Join the Ray cluster at ``address`` (``"auto"``, ``"ray://host:10001"``), or start a
    local one on this machine's cores when ``None``, unless Ray is already running in this
    process. Returns whether this call started or joined it (the caller then shuts it down).
    Raises :class:`~shieldwall.errors.ConfigError` when Ray is not installed."""
    try:
        import ray  # noqa: PLC0415 (optional dependency)
    except ImportError as exc:
        raise ConfigError(
            "the Ray engine needs Ray: pip install 'shieldwall[ray]' (ray[data])"
        ) from exc
    if ray.is_initialized():
        return False
    ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
    return True


class RayHasher:
    """A Ray Data actor: builds one :class:`~shieldwall.matching.backfill.Hasher` (settings,
    signal types, the compiled hashing code) and hashes every batch it is given.

    A batch is ``{"content_id", "location", "stamp", "problem"}`` (NumPy columns); the answer
    is ``{"content_id", "stamp", "signals" (JSON), "error"}``."""

    def __init__(self, settings: Settings) -> None:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415 (in the actor)

        threadpool_limits(1)  # an actor has one CPU
        self.hasher = Hasher(settings)

    def __call__(self, batch: dict[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[Any]]:
        """Hash one batch."""
        out: dict[str, list[object]] = {"content_id": [], "stamp": [], "signals": [], "error": []}
        for cid, location, stamp, problem in zip(
            batch["content_id"].tolist(),
            batch["location"].tolist(),
            batch["stamp"].tolist(),
            batch["problem"].tolist(),
            strict=True,
        ):
            done = self.hasher.hash(ArchiveItem(cid, location, stamp or None, problem or None))
            out["content_id"].append(done.content_id)
            out["stamp"].append(done.stamp or "")
            out["signals"].append(json.dumps(done.signals))
            out["error"].append(done.error or "")
        return {k: np.array(v, dtype=object) for k, v in out.items()}


def _rows(item: ArchiveItem) -> dict[str, str]:
    # Empty strings, not None: Arrow infers a column's type from its values.
    return {k: v or "" for k, v in asdict(item).items()}


def _hashed(batch: dict[str, npt.NDArray[Any]]) -> list[HashedItem]:
    return [
        HashedItem(
            cid,
            stamp or None,
            tuple((t, v, q) for t, v, q in json.loads(signals)),
            error or None,
        )
        for cid, stamp, signals, error in zip(
            batch["content_id"].tolist(),
            batch["stamp"].tolist(),
            batch["signals"].tolist(),
            batch["error"].tolist(),
            strict=True,
        )
    ]


def hash_on_ray(
    workers: int = 0,
    settings: Settings | None = None,
    *,
    window: int = WINDOW,
) -> HashEngine:
    """A backfill engine on the Ray cluster this process is connected to (:func:`connect`):
    ``workers`` actors (0: one per CPU of the cluster). Batches come back in input order."""
    settings = settings or get_settings()

    def run(batches: Iterable[list[ArchiveItem]]) -> Iterator[list[HashedItem]]:
        import ray  # noqa: PLC0415 (optional dependency)
        import ray.data  # noqa: PLC0415

        logging.getLogger("ray.data").setLevel(logging.WARNING)  # no per-dataset chatter
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.execution_options.preserve_order = True
        resources = ray.cluster_resources()  # type: ignore[no-untyped-call]
        actors = workers or max(1, int(resources.get("CPU", 1)))
        iterator = iter(batches)
        while first := next(iterator, None):
            size = len(first)
            group = list(chain(first, *islice(iterator, max(0, window // max(1, size) - 1))))
            dataset = ray.data.from_items([_rows(i) for i in group]).map_batches(
                RayHasher,
                fn_constructor_kwargs={"settings": settings},
                batch_size=size,
                batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=min(actors, -(-len(group) // size))),
                num_cpus=1,
            )
            for batch in dataset.iter_batches(batch_size=size, batch_format="numpy"):
                yield _hashed(batch)

    return run


def _scan_task(
    url: str, partition: LedgerPartition, targets: Sequence[SweepTarget], chunk_rows: int
) -> tuple[list[PartitionHit], int]:
    db = Database(url, migrate=False)
    try:
        return scan_partition(db, partition, targets, chunk_rows)
    finally:
        db.dispose()


def scan_on_ray(
    db: Database,
    partitions: Sequence[LedgerPartition],
    targets: Sequence[SweepTarget],
    chunk_rows: int,
) -> Iterator[tuple[list[PartitionHit], int]]:
    """A sweep's partition runner on the connected Ray cluster: one task (one CPU) per
    partition, results as they finish. The database URL (with its password) goes to the
    tasks: keep the cluster's network private."""
    import ray  # noqa: PLC0415 (optional dependency)

    task = ray.remote(num_cpus=1)(_scan_task)
    url = db.url.render_as_string(hide_password=False)
    pending = [task.remote(url, p, list(targets), chunk_rows) for p in partitions]
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        yield ray.get(done[0])


_: PartitionRunner = scan_on_ray  # the runner's signature, checked by mypy
