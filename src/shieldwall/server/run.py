"""Running the service under uvicorn, with JSON logs and graceful shutdown.

On SIGTERM (or Ctrl-C) uvicorn stops accepting connections, lets in-flight requests finish
(up to ``graceful_seconds``), then the app's lifespan ends: the log follower stops, the index
snapshot and the audit rows are saved.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
from datetime import UTC, datetime

import uvicorn

from shieldwall.config import Settings, get_settings

__all__ = ["JsonFormatter", "configure_logging", "serve"]

log = logging.getLogger("shieldwall.service")

_STANDARD = {*vars(logging.LogRecord("", 0, "", 0, "", None, None)), "color_message"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's extras."""

    def format(self, record: logging.LogRecord) -> str:
        body = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):  # the access log's fields, given as one extra
            body.update(fields)
        else:
            for key, value in vars(record).items():
                if key not in _STANDARD and not key.startswith("_"):
                    body[key] = value
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str)


def configure_logging(settings: Settings, level: int = logging.INFO) -> None:
    """Structured logs on stderr (``log_format``: json or text)."""
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def _bind(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _run(settings: Settings, role: str, sock: socket.socket, graceful_seconds: float) -> None:
    from shieldwall.media.budget import return_freed_buffers  # noqa: PLC0415
    from shieldwall.server.app import create_app  # noqa: PLC0415 (the supervisor never needs it)

    return_freed_buffers()  # so that the decode budget bounds resident memory (docs/security.md)
    config = uvicorn.Config(
        create_app(settings, role=role),
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(graceful_seconds),
        server_header=False,
        proxy_headers=False,  # trusted_proxies decides (shieldwall.service.addresses)
    )
    uvicorn.Server(config).run(sockets=[sock])


def _worker_process(role: str, host: str, port: int, graceful_seconds: float) -> None:
    """One of ``--workers N``: its own socket on the shared port (``SO_REUSEPORT``: the kernel
    spreads new connections evenly over the processes), its own index following the log."""
    settings = get_settings()
    configure_logging(settings)
    _run(settings, role, _bind(host, port, reuse_port=True), graceful_seconds)


def _prepare_snapshot() -> None:
    """Make the index snapshot the workers start from: in a process of its own, so that the
    supervisor never holds an index (nor what building one leaves behind)."""
    from shieldwall.matching import prepare_snapshot  # noqa: PLC0415

    settings = get_settings()
    configure_logging(settings)
    prepare_snapshot(settings)


def serve(
    settings: Settings,
    *,
    role: str = "all",
    host: str = "127.0.0.1",
    port: int = 8000,
    graceful_seconds: float = 30.0,
    workers: int = 1,
) -> None:
    """Serve until SIGTERM or SIGINT.

    With ``workers`` > 1, that many processes each bind the port with ``SO_REUSEPORT`` (so
    that the kernel, not a race to accept, spreads connections over them: with one shared
    socket, long-lived connections piled up on one process), build the app for ``role`` from
    the settings in the environment, load their own index and follow the log. SIGTERM and
    SIGINT are passed on to them; each finishes its in-flight requests."""
    configure_logging(settings)
    from shieldwall.cases.platform import check_preview_source  # noqa: PLC0415

    check_preview_source(settings)  # before any process starts (each app checks it too)
    if workers == 1:
        _run(settings, role, _bind(host, port, reuse_port=False), graceful_seconds)
        return
    context = multiprocessing.get_context("spawn")
    if role in ("all", "matcher"):
        # One process builds the index (or brings the snapshot up to date) and saves it; the
        # workers then each load the snapshot, instead of each building from the database.
        prepare = context.Process(target=_prepare_snapshot, name="shieldwall-snapshot")
        prepare.start()
        prepare.join()
        if prepare.exitcode != 0:
            log.error("preparing the index snapshot failed (%s)", prepare.exitcode)
            raise SystemExit(1)
    children = [
        context.Process(
            target=_worker_process,
            args=(role, host, port, graceful_seconds),
            name=f"shieldwall-worker-{i}",
        )
        for i in range(workers)
    ]
    stopping = threading.Event()

    def stop(signum: int, _frame: object) -> None:
        stopping.set()
        for child in children:
            if child.pid is not None and child.is_alive():
                os.kill(child.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        child.start()
    log.info("started %d worker processes on %s:%d", workers, host, port)
    while any(child.is_alive() for child in children):
        for child in children:
            child.join(timeout=0.5)
            if not child.is_alive() and not stopping.is_set():
                log.error("worker %s exited (%s); stopping the others", child.name, child.exitcode)
                stop(signal.SIGTERM, None)
    failed = [c.exitcode for c in children if c.exitcode not in (0, -signal.SIGTERM)]
    if failed:
        raise SystemExit(1)
