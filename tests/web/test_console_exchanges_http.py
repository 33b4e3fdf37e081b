"""The console's exchanges page: admins see each exchange's last sync, checkpoint, counts and
last error; others get the 403 page."""

from __future__ import annotations

from collections.abc import Callable

import fake_tdb
from case_helpers import valid_notice
from fake_stopncii import serve
from service_helpers import LiveService
from shieldwall.cases import decide_case, submit_notice
from shieldwall.exchange import RemoteSignal, add_exchange, submit_statements, sync_exchange
from shieldwall.exchange.contract import loopback_context, pdq_value
from shieldwall.people import Actor, Role

from .web_helpers import signed_in


def test_admins_see_each_exchange_with_its_counts_and_error(service: LiveService) -> None:
    admin = signed_in(service, "root")
    assert "No exchange is configured" in admin.get("/console/exchanges").text
    fake = serve([(RemoteSignal("ImagePDQ", pdq_value(1)), ("c1",))])
    fake.put(RemoteSignal("VideoTMK", "ab" * 32))
    assert fake.server is not None
    with fake.server:
        add_exchange(service.db, "stopncii", "stopncii", settings=fake.settings(), schedule=False)
        assert sync_exchange(service.db, "stopncii", context=loopback_context()).ok
        fake.fail_next(401)
        sync_exchange(service.db, "stopncii", context=loopback_context(), force=True)
    page = admin.get("/console/exchanges")
    assert page.status_code == 200
    text = page.text
    assert 'id="exchange-stopncii"' in text
    assert '<td class="added">1</td>' in text and '<td class="skipped">1' in text
    assert "VideoTMK 1" in text and "startTimestamp=" in text
    assert "refused our keys (401)" in text and "next try after" in text
    assert "fetch-key-1" not in text  # never a secret
    assert 'id="open-exchanges"' in admin.get("/console").text
    reviewer = signed_in(service, "alice")
    assert reviewer.get("/console/exchanges").status_code == 403


def test_the_statement_page_shows_the_transparency_database_state(
    make_service: Callable[..., LiveService],
) -> None:
    fake = fake_tdb.serve()
    assert fake.server is not None
    with fake.server:
        live = make_service(
            tdb_url=fake.url(), tdb_token=fake_tdb.TOKEN, outbound_allowed_networks=["127.0.0.0/8"]
        )
        reviewer = Actor("user:rev", frozenset({Role.REVIEWER}))
        first = submit_notice(live.db, live.settings, valid_notice()).case_id
        second = submit_notice(live.db, live.settings, valid_notice()).case_id
        for case_id in (first, second):
            decide_case(
                live.db,
                live.settings,
                reviewer,
                case_id,
                action="remove",
                ground="terms",
                reason="NCII.",
            )
        client = signed_in(live, "alice")
        waiting = client.get(f"/console/cases/{first}/statement").text
        assert "Not submitted yet" in waiting
        fake.statements["x"] = {}  # the database is not empty
        submit_statements(live.db, live.settings, context=loopback_context())
        page = client.get(f"/console/cases/{first}/statement").text
    assert 'id="tdb-state">Submitted on' in page and f"-{first}" in page and "uuid" in page
