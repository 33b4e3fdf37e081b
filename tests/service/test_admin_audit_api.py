"""The API's administrative changes are audit events with the key as the actor, under the same
names as the console's (issue 16: the console and the API record the same thing; issue 19: the
bank functions record the bank changes themselves, each once)."""

from __future__ import annotations

import httpx

from service_helpers import LiveService
from shieldwall.audit import list_events, verify
from shieldwall.people.keys import list_keys


def _admin_events(service: LiveService) -> list[tuple[str, str, str]]:
    return [
        (e.actor, e.action, e.subject)
        for e in list_events(service.db, limit=1000)
        if e.action.split(".")[0] in {"bank", "key", "webhook"}
    ]


def test_admin_changes_through_the_api_are_audited(
    service: LiveService, admin: httpx.Client
) -> None:
    (me,) = [k for k in list_keys(service.db) if k.name.startswith("test-")]
    actor = f"key:{me.prefix}"
    assert admin.post("/v1/banks", json={"name": "ncii", "kind": "block"}).status_code == 201
    patch = admin.patch("/v1/banks/ncii", json={"thresholds": {"pdq": 20}, "enabled": False})
    assert patch.status_code == 200
    entry = admin.post(
        "/v1/banks/ncii/entries",
        json={"signals": [{"type": "pdq", "value": "a1" * 32}], "external_ids": ["c-1"]},
    ).json()
    other = admin.post(
        "/v1/banks/ncii/entries",
        json={"signals": [{"type": "pdq", "value": "b2" * 32}], "external_ids": ["c-2"]},
    ).json()
    answer = admin.post("/v1/withdrawals", json={"external_ids": ["c-1"], "bank": "ncii"})
    assert answer.status_code == 200
    assert admin.post(f"/v1/entries/{other['id']}/withdraw").status_code == 200
    created = admin.post("/v1/keys", json={"name": "uploader", "scopes": ["match"]}).json()
    assert admin.delete(f"/v1/keys/{created['id']}").status_code == 200
    hook = admin.post("/v1/webhooks", json={"url": "https://receiver.example/h"}).json()
    assert admin.patch(f"/v1/webhooks/{hook['id']}", json={"enabled": False}).status_code == 200
    # a refused change is not recorded
    assert admin.post("/v1/banks", json={"name": "ncii", "kind": "block"}).status_code == 409
    assert _admin_events(service) == [
        (actor, "bank.create", "bank:ncii"),
        (actor, "bank.threshold", "bank:ncii"),
        (actor, "bank.disable", "bank:ncii"),
        (actor, "bank.add", "bank:ncii"),
        (actor, "bank.add", "bank:ncii"),
        (actor, "bank.withdraw", "case:c-1"),
        (actor, "bank.entry_withdraw", f"entry:{other['id']}"),
        (actor, "key.create", f"key:{created['prefix']}"),
        (actor, "key.revoke", f"key:{created['prefix']}"),
        (actor, "webhook.create", f"webhook:{hook['id']}"),
        (actor, "webhook.disable", f"webhook:{hook['id']}"),
    ]
    withdrawn = next(e for e in list_events(service.db, limit=1000) if e.action == "bank.withdraw")
    assert withdrawn.details == {
        "bank": "ncii",
        "withdrawn_entries": [entry["id"]],
        "kept_entries": [],
    }
    assert verify(service.db) is None  # the chain stays whole
