"""The administration pages over HTTP: every form needs its CSRF token and the admin role (and
changes nothing without them), pages need a session, bad input is a page with the reason, and
the entry search answers only the entries an external id holds."""

from __future__ import annotations

import httpx
import pytest

from service_helpers import LiveService
from shieldwall import banks, webhooks
from shieldwall.people.accounts import list_people
from shieldwall.people.keys import list_keys

from .web_helpers import csrf_of, signed_in

PAGES = [
    "/console/admin",
    "/console/banks",
    "/console/people",
    "/console/keys",
    "/console/webhooks",
]


def _state(service: LiveService) -> tuple[int, int, int, int, bool]:
    """What the forms could change: banks, people, keys, webhooks, and whether ``ncii`` is
    enabled."""
    return (
        len(banks.list_banks(service.db)),
        len(list_people(service.db)),
        len(list_keys(service.db)),
        len(webhooks.list_webhooks(service.db)),
        banks.get_bank(service.db, "ncii").enabled,
    )


def _forms(service: LiveService) -> list[tuple[str, dict[str, str]]]:
    hook, _ = webhooks.create_webhook(service.db, "https://receiver.example/h", ["*"])
    entry = banks.add_entry(
        service.db, "ncii", [banks.prepare_signal("pdq", "c3" * 32)], external_ids=["case-9"]
    )
    return [
        ("/console/banks", {"name": "other", "kind": "block"}),
        ("/console/banks/ncii/enabled", {"enabled": "0"}),
        ("/console/banks/ncii/thresholds", {"signal_type": "pdq", "threshold": "5"}),
        ("/console/banks/ncii/withdraw", {"external_id": "case-9"}),
        (f"/console/entries/{entry.id}/withdraw", {}),
        (
            "/console/people",
            {"username": "eve", "password": "a long enough passphrase", "roles": "admin"},
        ),
        ("/console/people/alice/roles", {"roles": "admin"}),
        ("/console/people/alice/disable", {}),
        ("/console/people/alice/password", {"password": "another long passphrase"}),
        ("/console/keys", {"name": "k", "scopes": "admin"}),
        ("/console/keys/1/revoke", {}),
        ("/console/webhooks", {"url": "https://receiver.example/x", "events": "*"}),
        (f"/console/webhooks/{hook.id}/enabled", {"enabled": "0"}),
        (f"/console/webhooks/{hook.id}/test", {}),
    ]


def test_forms_need_the_csrf_token_and_the_admin_role(service: LiveService) -> None:
    banks.create_bank(service.db, "ncii", "block")
    service.key("match")
    forms = _forms(service)
    before = _state(service)
    thresholds = banks.get_bank(service.db, "ncii").thresholds
    root = signed_in(service, "root")
    token = csrf_of(root.get("/console/banks").text)
    for path, data in forms:
        for fields in ({**data}, {**data, "csrf_token": "wrong"}):
            answer = root.post(path, data=fields)
            assert answer.status_code == 403, (path, fields)
            assert "security token" in answer.text
    for username in ("alice", "audrey"):
        client = signed_in(service, username)
        their_token = csrf_of(client.get("/console").text)
        for path, data in forms:
            answer = client.post(path, data={**data, "csrf_token": their_token})
            assert answer.status_code == 403, (username, path)
            assert "needs the role admin" in answer.text
    assert _state(service) == before
    assert banks.get_bank(service.db, "ncii").thresholds == thresholds
    assert [e.status.value for e in banks.find_entries(service.db, "ncii")] == ["active"]
    assert not any(k.revoked for k in list_keys(service.db))
    del token


def test_pages_need_a_session_and_the_admin_role(service: LiveService) -> None:
    anonymous = service.client()
    for path in PAGES:
        answer = anonymous.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    for username in ("alice", "audrey"):
        client = signed_in(service, username)
        for path in PAGES:
            assert client.get(path).status_code == 403, (username, path)
        assert "/console/admin" not in client.get("/console").text  # no Admin link
    root = signed_in(service, "root")
    for path in PAGES:
        answer = root.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["cache-control"] == "no-store"


def _post(client: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    token = csrf_of(client.get("/console/admin").text)
    return client.post(path, data={**data, "csrf_token": token})


def test_bad_input_is_a_page_with_the_reason(service: LiveService) -> None:
    banks.create_bank(service.db, "ncii", "block")
    root = signed_in(service, "root")
    cases = [
        ("/console/banks", {"name": "bad name!", "kind": "block"}, 400, "bank name"),
        ("/console/banks", {"name": "x", "kind": "nonsense"}, 400, "bank kind"),
        ("/console/banks", {"name": "ncii", "kind": "block"}, 409, "already exists"),
        ("/console/banks/ncii/thresholds", {"signal_type": "md5"}, 422, "Choose a signal type"),
        ("/console/banks/ncii/thresholds", {"signal_type": "pdq", "threshold": "-1"}, 422, "0"),
        ("/console/banks/ncii/enabled", {"enabled": "maybe"}, 422, "enable or disable"),
        ("/console/banks/ncii/withdraw", {"external_id": " "}, 422, "Give the external id"),
        ("/console/keys", {"name": "k", "scopes": "nonsense"}, 400, "unknown scope"),
        ("/console/keys", {"name": "k", "scopes": "match", "rate_limit": "fast"}, 422, "rate"),
        ("/console/webhooks", {"url": "https://a.example/h", "events": "nope"}, 400, "unknown"),
        ("/console/people", {"username": "Bad Name", "password": "x" * 20}, 400, "username"),
        ("/console/people/nobody/roles", {"roles": "reviewer"}, 404, "nobody"),
        ("/console/people/alice/roles", {"roles": "wizard"}, 400, "unknown role"),
    ]
    before = (len(banks.list_banks(service.db)), len(list_keys(service.db)))
    for path, data, status, text in cases:
        answer = _post(root, path, data)
        assert answer.status_code == status, (path, data, answer.status_code)
        assert text.lower() in answer.text.lower(), (path, data)
        assert answer.headers["content-type"].startswith("text/html")
    assert (len(banks.list_banks(service.db)), len(list_keys(service.db))) == before
    assert root.get("/console/banks/no-such-bank").status_code == 404
    assert root.get("/console/webhooks/999").status_code == 404
    assert _post(root, "/console/entries/999/withdraw", {}).status_code == 404
    assert root.get("/console/search?q=" + "x" * 2049).status_code == 422
    assert root.get("/console/search?q=%20").status_code == 200  # the empty form


def test_entry_search_answers_only_what_the_external_id_holds(service: LiveService) -> None:
    banks.create_bank(service.db, "ncii", "block")
    banks.create_bank(service.db, "other", "block")
    held = banks.add_entry(
        service.db, "ncii", [banks.prepare_signal("pdq", "d4" * 32)], external_ids=["c-1", "c-2"]
    )
    banks.add_entry(
        service.db, "ncii", [banks.prepare_signal("pdq", "e5" * 32)], external_ids=["c-10"]
    )
    banks.add_entry(
        service.db, "other", [banks.prepare_signal("pdq", "f6" * 32)], external_ids=["c-1"]
    )
    assert [e.id for e in banks.find_entries(service.db, "ncii", external_id="c-1")] == [held.id]
    assert len(banks.find_entries(service.db, "ncii")) == 2
    assert banks.find_entries(service.db, "ncii", external_id="c") == []
    root = signed_in(service, "root")
    page = root.get("/console/banks/ncii", params={"external_id": "c-1"}).text
    assert f'id="entry-{held.id}"' in page and page.count('<tr id="entry-') == 1
    assert "d4d4" not in page  # never a hash value


@pytest.mark.parametrize("path", ["/console/banks/ncii", "/console/webhooks/1"])
def test_unknown_objects_are_a_page(service: LiveService, path: str) -> None:
    root = signed_in(service, "root")
    answer = root.get(path)
    assert answer.status_code == 404
    assert "There is no" in answer.text
