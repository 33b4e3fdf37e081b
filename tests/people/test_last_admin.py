"""Issue 19 point 4: the last admin key and the last admin person stay (API, CLI, library), with
a clear error; and saved addresses (webhooks, exchanges) are checked against the outbound
policy when they are saved, not at their first use."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from service_helpers import LiveService, service_settings, start_service
from shieldwall.cli import run
from shieldwall.errors import Conflict, UsageError
from shieldwall.net.policy import check_saved_url
from shieldwall.people import accounts as acc
from shieldwall.people.keys import create_key, get_key, list_keys, revoke_key
from shieldwall.people.roles import Role
from shieldwall.store import Database

PASSWORD = "correct horse battery"


def test_the_last_admin_key_cannot_be_revoked(db: Database) -> None:
    admin, _ = create_key(db, "admin", "admin")
    other, _ = create_key(db, "ops", "curate,match")
    with pytest.raises(Conflict, match="last active admin key and cannot be revoked"):
        revoke_key(db, admin.prefix)
    assert not get_key(db, admin.id).revoked
    revoke_key(db, other.prefix)  # not an admin key: fine
    second, _ = create_key(db, "admin 2", "admin,read-distances")
    revoke_key(db, admin.prefix)  # another admin key is left
    assert [k.id for k in list_keys(db, include_revoked=False)] == [second.id]
    with pytest.raises(Conflict):
        revoke_key(db, second.prefix)
    assert revoke_key(db, admin.prefix).revoked  # revoking twice stays harmless


def test_the_last_admin_person_is_kept(db: Database) -> None:
    acc.create_person(db, "root", PASSWORD, "admin")
    acc.create_person(db, "rita", PASSWORD, "reviewer")
    with pytest.raises(Conflict, match="root is the last admin and cannot be demoted"):
        acc.set_roles(db, "root", "reviewer")
    with pytest.raises(Conflict, match="root is the last admin and cannot be disabled"):
        acc.disable(db, "root")
    assert acc.get_person(db, "root").roles == frozenset({Role.ADMIN})
    acc.set_roles(db, "root", "admin,reviewer")  # keeps admin: fine
    acc.set_roles(db, "rita", "admin")
    acc.disable(db, "root")  # rita is an admin too
    assert acc.get_person(db, "root").disabled
    with pytest.raises(Conflict, match="rita is the last admin"):
        acc.disable(db, "rita")


def test_a_disabled_admin_does_not_count(db: Database) -> None:
    acc.create_person(db, "root", PASSWORD, "admin")
    acc.create_person(db, "old", PASSWORD, "admin")
    acc.disable(db, "old")
    with pytest.raises(Conflict, match="last admin"):
        acc.set_roles(db, "root", "auditor")


def test_cli_refuses_to_revoke_the_last_admin_key(
    cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["key", "create", "--scopes", "admin", "--name", "root"]) == 0
    token = capsys.readouterr().out.strip()
    assert run(["key", "revoke", token.split("_")[1]]) == 1
    assert "last active admin key and cannot be revoked" in capsys.readouterr().err


@pytest.fixture
def live(db: Database, tmp_path: Path) -> Iterator[LiveService]:
    service = start_service(db, service_settings(tmp_path, db))
    yield service
    service.stop()


def test_api_refuses_to_revoke_the_last_admin_key(live: LiveService) -> None:
    token = live.key("admin")
    api = live.client(token)
    mine = next(k for k in api.get("/v1/keys").json() if token.split("_")[1] == k["prefix"])
    answer = api.delete(f"/v1/keys/{mine['id']}")
    assert answer.status_code == 409
    assert answer.json()["error"] == "conflict"
    assert "last active admin key" in answer.json()["message"]
    assert api.get("/v1/keys").status_code == 200  # still works


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:8080/hook", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://10.1.2.3/hook", "private"),
        ("http://[::1]/hook", "loopback"),
        ("http://[::ffff:192.168.0.1]/hook", "private"),
        ("http://localhost/hook", "loopback"),
    ],
)
def test_api_refuses_inward_webhook_urls_when_saved(
    live: LiveService, url: str, problem: str
) -> None:
    api = live.client(live.key("admin"))
    answer = api.post("/v1/webhooks", json={"url": url})
    assert answer.status_code == 400, answer.text
    message = answer.json()["message"]
    assert message.startswith(f"webhook URL {url!r} is refused: ")
    assert problem in message and "SHIELDWALL_OUTBOUND_ALLOWED_NETWORKS" in message
    assert api.get("/v1/webhooks").json() == []  # nothing saved
    hook = api.post("/v1/webhooks", json={"url": "https://93.184.216.34/hook"})
    assert hook.status_code == 201, hook.text
    patched = api.patch(f"/v1/webhooks/{hook.json()['id']}", json={"url": url})
    assert patched.status_code == 400
    assert (
        api.get(f"/v1/webhooks/{hook.json()['id']}").json()["url"] == "https://93.184.216.34/hook"
    )


def test_allowed_networks_let_an_inward_webhook_be_saved(db: Database, tmp_path: Path) -> None:
    live = start_service(
        db, service_settings(tmp_path, db, outbound_allowed_networks=["10.1.2.0/24"])
    )
    try:
        api = live.client(live.key("admin"))
        assert api.post("/v1/webhooks", json={"url": "https://10.1.2.3/hook"}).status_code == 201
        assert api.post("/v1/webhooks", json={"url": "https://10.9.9.9/hook"}).status_code == 400
    finally:
        live.stop()


def test_api_refuses_an_exchange_address_inward(live: LiveService) -> None:
    api = live.client(live.key("admin"))
    answer = api.post(
        "/v1/exchanges",
        json={
            "name": "partner",
            "kind": "shieldwall",
            "settings": {
                "base_url": "http://169.254.169.254/",
                "bank": "b",
                "api_key": "sw_abcdefgh_secret",
                "public_key": base64.b64encode(bytes(32)).decode(),
            },
        },
    )
    assert answer.status_code == 400, answer.text
    assert (
        "exchange setting base_url 'http://169.254.169.254/' is refused" in answer.json()["message"]
    )
    assert api.get("/v1/exchanges").json() == []


def test_a_name_resolving_inward_is_refused() -> None:
    def resolver(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "127.0.0.1"] if host == "sneaky.example" else ["93.184.216.34"]

    with pytest.raises(UsageError, match=r"sneaky\.example resolves to 127\.0\.0\.1"):
        check_saved_url("https://sneaky.example/h", [], "webhook URL", resolver)
    check_saved_url("https://fine.example/h", [], "webhook URL", resolver)
