"""A real service on loopback for the tests: uvicorn in a thread, on the test's database,
talked to over HTTP with httpx."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from shieldwall.config import Settings
from shieldwall.people.keys import create_key
from shieldwall.server.app import create_app
from shieldwall.service.state import ServiceState
from shieldwall.store import Database


@dataclass
class LiveService:
    """A running service and a client for it."""

    url: str
    app: FastAPI
    db: Database
    settings: Settings
    server: uvicorn.Server
    thread: threading.Thread
    clients: list[httpx.Client] = field(default_factory=list)

    @property
    def state(self) -> ServiceState:
        state = self.app.state.shieldwall
        assert isinstance(state, ServiceState)
        return state

    def key(self, scopes: str, *, rate_limit: float | None = None) -> str:
        """A new key with ``scopes`` (comma-separated)."""
        _, token = create_key(self.db, f"test-{scopes}", scopes, rate_limit=rate_limit)
        return token

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.Client(base_url=self.url, headers=headers, timeout=30)
        self.clients.append(client)
        return client

    def stop(self) -> None:
        for client in self.clients:
            client.close()
        self.server.should_exit = True
        self.thread.join(timeout=30)


def start_service(db: Database, settings: Settings, *, role: str = "all") -> LiveService:
    """Start uvicorn in a thread on a free loopback port and wait until it answers."""
    app = create_app(settings, role=role, db=db)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="on", proxy_headers=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the service did not start")
        time.sleep(0.02)
    return LiveService(f"http://127.0.0.1:{port}", app, db, settings, server, thread)


def service_settings(tmp_path: Path, db: Database, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_url": db.url.render_as_string(hide_password=False),
        "api_key_cache_seconds": 0.0,
        "follow_interval_seconds": 0.05,
        "log_format": "text",
    }
    values.update(overrides)
    return Settings(**values)


def free_port() -> int:
    """A loopback port free at the moment of asking."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServiceProcess:
    """``shieldwall serve`` in a child process."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"serve not ready: {self.log.read_text()[-3000:]}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def spawn_service(
    database_url: str,
    data_dir: Path,
    *,
    role: str = "all",
    extra_args: list[str] | None = None,
    **env: str,
) -> ServiceProcess:
    """Start ``python -m shieldwall serve --role ROLE`` on a free port."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / f"serve-{role}-{port}.log"
    environ = {
        **os.environ,
        "SHIELDWALL_DATABASE_URL": database_url,
        "SHIELDWALL_DATA_DIR": str(data_dir),
        "SHIELDWALL_API_KEY_CACHE_SECONDS": "0",
        "SHIELDWALL_LOG_FORMAT": "text",
        **env,
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                *("-m", "shieldwall", "serve", "--role", role, "--port", str(port)),
                *(extra_args or []),
            ],
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return ServiceProcess(process, f"http://127.0.0.1:{port}", log)
