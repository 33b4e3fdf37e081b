"""The public notice routes over HTTP: 201 with tracking number and PIN, 422 naming each
field, the status with the PIN, identical 404s, throttling."""

from __future__ import annotations

from collections.abc import Callable

from case_helpers import REPORTER, REQUIRED, valid_notice
from service_helpers import LiveService


def test_file_a_notice_and_read_its_status(make_service: Callable[..., LiveService]) -> None:
    service = make_service(notice_rate_limit=1000)
    public = service.client()
    r = public.post("/v1/notices", json=valid_notice())
    assert r.status_code == 201, r.text
    body = r.json()
    tracking, pin = body["tracking_number"], body["pin"]
    r = public.get(f"/v1/notices/{tracking}", headers={"X-Notice-PIN": pin})
    assert r.status_code == 200, r.text
    status = r.json()
    assert status["status"] == "received"
    assert [h["status"] for h in status["history"]] == ["received"]
    assert all(v not in r.text for v in REPORTER.values())


def test_missing_fields_are_each_named_and_nothing_is_saved(
    make_service: Callable[..., LiveService],
) -> None:
    service = make_service(notice_rate_limit=1000)
    r = service.client().post("/v1/notices", json={"urls": ["ftp://x"]})
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "validation_error"
    named = {f["field"] for f in body["fields"]}
    assert named == set(REQUIRED)
    reviewer = service.client(service.key("review"))
    assert reviewer.get("/v1/cases").json()["cases"] == []


def test_wrong_pin_and_unknown_number_look_the_same_and_are_throttled(
    make_service: Callable[..., LiveService],
) -> None:
    service = make_service(notice_rate_limit=1000, notice_pin_max_failures=3)
    public = service.client()
    tracking = public.post("/v1/notices", json=valid_notice()).json()["tracking_number"]
    wrong = public.get(f"/v1/notices/{tracking}", headers={"X-Notice-PIN": "1234567890"})
    unknown = public.get("/v1/notices/SW-AAAA-BBBB-CCCC-DDDD", headers={"X-Notice-PIN": "1"})
    assert wrong.status_code == unknown.status_code == 404
    assert {k: v for k, v in wrong.json().items() if k != "request_id"} == {
        k: v for k, v in unknown.json().items() if k != "request_id"
    }
    public.get(f"/v1/notices/{tracking}", headers={"X-Notice-PIN": "2"})
    r = public.get(f"/v1/notices/{tracking}", headers={"X-Notice-PIN": "3"})
    assert r.status_code == 429
    assert r.json()["error"] == "rate_limited"
    assert int(r.headers["retry-after"]) >= 1


def test_notice_routes_are_rate_limited_per_address(
    make_service: Callable[..., LiveService],
) -> None:
    service = make_service(notice_rate_limit=0.01)
    public = service.client()
    statuses = [public.post("/v1/notices", json=valid_notice()).status_code for _ in range(3)]
    assert statuses[0] == 201
    assert 429 in statuses[1:]
    r = public.post("/v1/notices", json=valid_notice())
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    # keyed routes keep their own, per-key limits
    assert service.client(service.key("review")).get("/v1/cases").status_code == 200
