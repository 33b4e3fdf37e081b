"""A fake EU Transparency Database API on loopback (``POST /api/v1/statements`` in batches,
``POST /api/v1/statement``), as its documentation and source describe it: a bearer token, a
422 for a ``puid`` it has already, a 422 naming the fields of an invalid statement."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from fake_server import FakeServer, Reply, Request

TOKEN = "tdb-token-1"


@dataclass
class FakeTDB:
    statements: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    server: FakeServer | None = None

    def url(self) -> str:
        assert self.server is not None
        return self.server.url("/api/v1")

    @staticmethod
    def _problem(statement: dict[str, Any]) -> dict[str, list[str]]:
        if "REFUSE" in str(statement.get("decision_facts", "")):
            return {"decision_facts": ["The decision facts field is invalid."]}
        return {}

    def _store(self, statement: dict[str, Any]) -> dict[str, Any]:
        stored = {**statement, "uuid": str(uuid.uuid4())}
        self.statements[statement["puid"]] = stored
        return {"uuid": stored["uuid"], "puid": statement["puid"]}

    def respond(self, request: Request) -> Reply:
        self.requests.append(request.path)
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return Reply(401, b'{"message": "Unauthenticated."}')
        body = json.loads(request.body)
        if request.path == "/api/v1/statements":
            errors: dict[str, list[str]] = {}
            for i, s in enumerate(body["statements"]):
                if s["puid"] in self.statements:
                    errors[f"statements.{i}.puid"] = ["The puid has already been taken."]
                for name, messages in self._problem(s).items():
                    errors[f"statements.{i}.{name}"] = messages
            if errors:
                return Reply(422, json.dumps({"message": "invalid", "errors": errors}).encode())
            return Reply(
                201,
                json.dumps({"statements": [self._store(s) for s in body["statements"]]}).encode(),
            )
        if request.path == "/api/v1/statement":
            if body["puid"] in self.statements:
                message = {
                    "message": "The puid has already been taken.",
                    "errors": {"puid": ["The puid has already been taken."]},
                }
                return Reply(422, json.dumps(message).encode())
            problem = self._problem(body)
            if problem:
                return Reply(422, json.dumps({"message": "invalid", "errors": problem}).encode())
            return Reply(201, json.dumps(self._store(body)).encode())
        return Reply(404, b'{"message": "not found"}')


def serve() -> FakeTDB:
    fake = FakeTDB()
    fake.server = FakeServer(fake.respond)
    return fake
