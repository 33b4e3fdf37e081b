"""Running the service under uvicorn, with JSON logs and graceful shutdown.

On SIGTERM (or Ctrl-C) uvicorn stops accepting connections, lets in-flight requests finish
(up to ``graceful_seconds``), then the app's lifespan ends: the log follower stops, the index
snapshot and the audit rows are saved.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

import uvicorn

from shieldwall.config import Settings
from shieldwall.service.app import create_app

__all__ = ["APP_FACTORY", "JsonFormatter", "configure_logging", "serve"]

APP_FACTORY = "shieldwall.service.app:create_app_from_settings"

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None)))


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


def serve(
    settings: Settings,
    *,
    role: str = "all",
    host: str = "127.0.0.1",
    port: int = 8000,
    graceful_seconds: float = 30.0,
    workers: int = 1,
) -> None:
    """Serve until SIGTERM or SIGINT. With ``workers`` > 1, uvicorn starts that many processes
    (each builds the app for ``service_role`` from the environment, loads its own index and
    follows the log) sharing the port."""
    configure_logging(settings)
    config = uvicorn.Config(
        create_app(settings, role=role),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(graceful_seconds),
        server_header=False,
    )
    if workers == 1:
        uvicorn.Server(config).run()
        return
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(graceful_seconds),
        server_header=False,
    )
