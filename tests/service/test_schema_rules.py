"""The schema is the validation (issue 19.3) and the docs work offline (issue 16.6), over HTTP:
strict booleans, integers and date-times, a 405 with the path's whole ``Allow``, ``OPTIONS``
answered, ``GET /v1/cases/claim`` a 405, optional answer fields not marked required, the notice's
required fields marked, and the bearer scheme on the keyed operations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bank_helpers import random_pdq
from case_helpers import valid_notice
from service_helpers import LiveService
from shieldwall.api.routes.jobs import WebhookCreate
from shieldwall.webhooks import EVENT_TYPES

PDQ = random_pdq(7)


@pytest.fixture
def curator(service: LiveService) -> httpx.Client:
    client = service.client(service.key("curate"))
    assert client.post("/v1/banks", json={"name": "ncii", "kind": "block"}).status_code == 201
    return client


def test_a_method_a_path_lacks_is_405_with_the_whole_allow(curator: httpx.Client) -> None:
    r = curator.put("/v1/banks")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, POST, OPTIONS"
    assert r.json()["error"] == "method_not_allowed"
    r = curator.put("/v1/banks/ncii")
    assert (r.status_code, r.headers["allow"]) == (405, "GET, PATCH, DELETE, OPTIONS")


def test_options_is_answered_with_the_allow_of_the_path(curator: httpx.Client) -> None:
    r = curator.options("/v1/banks")
    assert (r.status_code, r.headers["allow"], r.content) == (204, "GET, POST, OPTIONS", b"")
    r = curator.options("/v1/entries/7")
    assert r.headers["allow"] == "GET, OPTIONS"
    assert curator.options("/v1/nothing-here").status_code == 404


def test_get_of_cases_claim_is_405_not_a_case_id(service: LiveService) -> None:
    reviewer = service.client(service.key("review"))
    r = reviewer.get("/v1/cases/claim")
    assert (r.status_code, r.headers["allow"]) == (405, "POST, OPTIONS")
    # a case id that is not a number is still the case route's 422
    assert reviewer.get("/v1/cases/abc").status_code == 422
    assert reviewer.get("/v1/cases/12345").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"enabled": 0},  # an integer disabled a bank
        {"enabled": "false"},
        {"thresholds": {"pdq": "31"}},
        {"thresholds": {"pdq": True}},
        {"thresholds": {"pdq": 31.5}},
        {"thresholds": {"pdq": 300}},
        {"thresholds": {"no-such-type": 31}},
    ],
)
def test_bank_changes_take_only_their_json_types(
    curator: httpx.Client, body: dict[str, Any]
) -> None:
    r = curator.patch("/v1/banks/ncii", json=body)
    assert r.status_code == 422, r.text
    bank = curator.get("/v1/banks/ncii").json()
    assert bank["enabled"] is True and bank["thresholds"] == {}


def test_a_whole_number_is_an_integer_as_json_schema_says(curator: httpx.Client) -> None:
    r = curator.patch("/v1/banks/ncii", json={"thresholds": {"pdq": 31.0}, "enabled": False})
    assert r.status_code == 200, r.text
    assert r.json()["thresholds"] == {"pdq": 31} and r.json()["enabled"] is False


@pytest.mark.parametrize(
    "until", ["0.5", "1764547200", "2026-12-01", "2026-12-01T00:00:00", "2026-12-01T25:00:00Z"]
)
def test_a_moment_is_an_rfc3339_date_time_with_its_zone(curator: httpx.Client, until: str) -> None:
    entry = curator.post(
        "/v1/banks/ncii/entries", json={"signals": [{"type": "pdq", "value": PDQ}]}
    ).json()
    r = curator.post(f"/v1/entries/{entry['id']}/disable", params={"until": until})
    assert r.status_code == 422, r.text  # "0.5" was 1970-01-01T00:00:00.5Z
    assert curator.get(f"/v1/entries/{entry['id']}").json()["disabled_until"] is None
    r = curator.post(
        f"/v1/entries/{entry['id']}/disable", params={"until": "2126-12-01T00:00:00+01:00"}
    )
    assert r.status_code == 200, r.text
    moment = datetime.fromisoformat(r.json()["disabled_until"])
    assert moment == datetime(2126, 11, 30, 23, tzinfo=UTC)


def test_report_periods_refuse_numbers(service: LiveService) -> None:
    reviewer = service.client(service.key("review"))
    r = reviewer.get("/v1/reports/transparency", params={"from": "0.5", "to": "1"})
    assert r.status_code == 422
    assert {f["field"] for f in r.json()["fields"]} == {"query.from", "query.to"}


def test_notice_booleans_are_booleans_and_a_wrong_flagger_token_is_403(
    make_service: Any,
) -> None:
    service: LiveService = make_service(notice_rate_limit=1000, trusted_flaggers={"Hl": "tok"})
    public = service.client()
    r = public.post("/v1/notices", json=valid_notice(declares_intimate_image=1))
    assert r.status_code == 422
    r = public.post("/v1/notices", json=valid_notice(possible_minor="yes"))
    assert r.status_code == 422
    r = public.post(
        "/v1/notices", json=valid_notice(source="trusted_flagger", trusted_flagger_token="guess")
    )
    assert r.status_code == 403
    r = public.post(
        "/v1/notices", json=valid_notice(source="trusted_flagger", trusted_flagger_token="tok")
    )
    assert r.status_code == 201, r.text


def _schema(service: LiveService) -> dict[str, Any]:
    spec: dict[str, Any] = httpx.get(service.url + "/openapi.json", timeout=120).json()
    return spec


def test_the_schema_marks_what_is_required_and_what_may_be_left_out(
    service: LiveService,
) -> None:
    spec = _schema(service)
    models = spec["components"]["schemas"]
    # the lookup answer leaves content_id out when nothing was stored
    assert "content_id" not in models["LookupOut"]["required"]
    assert "entry_id" not in models["MatchOut"]["required"]
    notice = models["NoticeIn"]
    assert {"reporter_email", "signature", "explanation"} <= set(notice["required"])
    assert notice["properties"]["declares_intimate_image"]["const"] is True
    assert notice["additionalProperties"] is False
    assert set(models["SignalIn"]["properties"]["type"]["enum"]) >= {"pdq", "md5", "video_md5"}
    assert models["DecisionIn"]["properties"]["action"]["enum"] == [
        "remove",
        "restrict",
        "label",
        "no_action",
    ]
    ok = service.client(service.key("match")).post(
        "/v1/lookup/signals", json={"signals": [{"type": "pdq", "value": PDQ}]}
    )
    assert ok.status_code == 200 and "content_id" not in ok.json()


def test_webhook_events_in_the_schema_are_the_known_events() -> None:
    events = WebhookCreate.model_json_schema()["properties"]["events"]["items"]
    assert set(events["enum"]) == set(EVENT_TYPES)


def test_keyed_operations_carry_the_bearer_scheme_and_public_ones_do_not(
    service: LiveService,
) -> None:
    spec = _schema(service)
    assert spec["components"]["securitySchemes"]["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["apiKey"]["description"],
    }
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            keyed = "x-required-scope" in operation
            assert (operation.get("security") == [{"apiKey": []}]) is keyed, (method, path)
    assert "security" not in spec["paths"]["/v1/notices"]["post"]


def test_the_docs_page_loads_only_from_the_service(service: LiveService) -> None:
    page = httpx.get(service.url + "/docs")
    assert page.status_code == 200
    assert "http://" not in page.text and "https://" not in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self' 'sha256-" in policy
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert f"/docs/assets/{asset}" in page.text
        assert httpx.get(f"{service.url}/docs/assets/{asset}").status_code == 200
