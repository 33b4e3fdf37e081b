"""The case routes over HTTP with API keys mapped to actors."""

from __future__ import annotations

from collections.abc import Callable

from case_helpers import REPORTER, valid_notice
from service_helpers import LiveService
from shieldwall.store.models import MatchRecord


def test_queue_claim_and_ageing(make_service: Callable[..., LiveService]) -> None:
    service = make_service(notice_rate_limit=1000)
    public = service.client()
    adult = public.post("/v1/notices", json=valid_notice()).json()["tracking_number"]
    public.post("/v1/notices", json=valid_notice(possible_minor=True))
    reviewer = service.client(service.key("review"))
    cases = reviewer.get("/v1/cases").json()["cases"]
    assert [c["tracking_number"] for c in cases] == [adult]
    assert all(v not in str(cases) for v in REPORTER.values())
    assert reviewer.get("/v1/cases", params={"queue": "restricted"}).status_code == 403
    assert reviewer.post("/v1/cases/claim", params={"queue": "restricted"}).status_code == 403
    claimed = reviewer.post("/v1/cases/claim").json()["case"]
    assert claimed["tracking_number"] == adult and claimed["assigned_to"].startswith("key:")
    assert reviewer.post("/v1/cases/claim").json()["case"] is None
    assert reviewer.get(f"/v1/cases/{claimed['id']}").json()["state"] == "claimed"
    assert reviewer.get("/v1/cases/ageing").json() == {
        "under_24h": 1,
        "under_48h": 0,
        "overdue": 0,
    }


def test_decide_over_http(make_service: Callable[..., LiveService]) -> None:
    service = make_service(notice_rate_limit=1000)
    receipt = service.client().post("/v1/notices", json=valid_notice()).json()
    pin = {"X-Notice-PIN": receipt["pin"]}
    status_url = f"/v1/notices/{receipt['tracking_number']}"
    assert service.client().get(status_url, headers=pin).json()["outcome"] is None
    reviewer = service.client(service.key("review"))
    case_id = reviewer.post("/v1/cases/claim").json()["case"]["id"]
    decision = {"action": "label", "ground": "terms", "reason": "Synthetic intimate image."}
    matcher = service.client(service.key("match"))
    assert matcher.post(f"/v1/cases/{case_id}/decision", json=decision).status_code == 403
    r = reviewer.post(f"/v1/cases/{case_id}/decision", json={**decision, "ground": "law"})
    assert r.status_code == 422
    assert [f["field"] for f in r.json()["fields"]] == ["legal_ground"]
    r = reviewer.post(f"/v1/cases/{case_id}/decision", json=decision)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["case"]["state"] == "decided" and body["case"]["action"] == "label"
    assert len(body["appeal_token"]) >= 32
    assert body["appeal_url"].endswith(f"?code={body['appeal_token']}")
    assert body["entry_id"] is None and body["sweep_job_id"] is None  # a label banks nothing
    outcome = service.client().get(status_url, headers=pin).json()["outcome"]
    assert outcome["action"] == "label" and outcome["reversed"] is False
    assert outcome["copies_found"] == 0 and outcome["decided_at"]
    assert reviewer.post(f"/v1/cases/{case_id}/decision", json=decision).status_code == 409


def test_statement_and_transparency_export_over_http(
    make_service: Callable[..., LiveService],
) -> None:
    service = make_service(notice_rate_limit=1000)
    service.client().post("/v1/notices", json=valid_notice())
    reviewer = service.client(service.key("review"))
    case_id = reviewer.post("/v1/cases/claim").json()["case"]["id"]
    decision = {"action": "remove", "ground": "law", "legal_ground": "s.66B", "reason": "NCII."}
    assert reviewer.post(f"/v1/cases/{case_id}/decision", json=decision).status_code == 200
    r = reviewer.get(f"/v1/cases/{case_id}/statement")
    assert r.status_code == 200, r.text
    assert r.json()["transparency_database"]["decision_ground"] == (
        "DECISION_GROUND_ILLEGAL_CONTENT"
    )
    span = {"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}
    r = reviewer.get("/v1/exports/transparency-database", params=span)
    assert r.status_code == 200, r.text
    assert len(r.json()["statements"]) == 1
    assert all(v not in r.text for v in [*REPORTER.values(), "127.0.0.1"])
    matcher = service.client(service.key("match"))
    assert matcher.get("/v1/exports/transparency-database", params=span).status_code == 403


def test_appeal_over_http(make_service: Callable[..., LiveService]) -> None:
    service = make_service(notice_rate_limit=1000)
    public = service.client()
    notice = public.post("/v1/notices", json=valid_notice()).json()
    admin = service.client(service.key("admin"))
    case_id = admin.post("/v1/cases/claim").json()["case"]["id"]
    decision = {"action": "label", "ground": "terms", "reason": "Synthetic."}
    token = admin.post(f"/v1/cases/{case_id}/decision", json=decision).json()["appeal_token"]
    r = public.post("/v1/appeals/file", json={"reason": "Not me.", "appeal_token": token})
    assert r.status_code == 201, r.text
    appeal_id = r.json()["id"]
    wrong = {"reason": "x", "tracking_number": notice["tracking_number"], "pin": "1"}
    assert public.post("/v1/appeals/file", json=wrong).status_code == 404
    reviewer = service.client(service.key("review"))
    assert [a["id"] for a in reviewer.get("/v1/appeals").json()["appeals"]] == [appeal_id]
    ruling = {"uphold": True, "reason": "Wrong."}
    # a reviewer key is no senior reviewer; the admin key made the decision itself
    assert reviewer.post(f"/v1/appeals/{appeal_id}/decision", json=ruling).status_code == 403
    assert admin.post(f"/v1/appeals/{appeal_id}/decision", json=ruling).status_code == 403
    other_admin = service.client(service.key("admin"))
    r = other_admin.post(f"/v1/appeals/{appeal_id}/decision", json=ruling)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "upheld"


def test_transparency_report_over_http(make_service: Callable[..., LiveService]) -> None:
    service = make_service(notice_rate_limit=1000)
    service.client().post("/v1/notices", json=valid_notice())
    reviewer = service.client(service.key("review"))
    span = {"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}
    r = reviewer.get("/v1/reports/transparency", params=span)
    assert r.status_code == 200, r.text
    assert r.json()["notices"]["total"] == 1
    r = reviewer.get("/v1/reports/transparency", params={**span, "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "notices.total,1" in r.text
    matcher = service.client(service.key("match"))
    assert matcher.get("/v1/reports/transparency", params=span).status_code == 403


def test_release_a_claim_over_http(make_service: Callable[..., LiveService]) -> None:
    service = make_service(notice_rate_limit=1000)
    service.client().post("/v1/notices", json=valid_notice())
    first = service.client(service.key("review"))
    second = service.client(service.key("review"))
    case_id = first.post("/v1/cases/claim").json()["case"]["id"]
    assert second.post(f"/v1/cases/{case_id}/release").status_code == 403  # not theirs
    r = first.post(f"/v1/cases/{case_id}/release")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "open" and r.json()["assigned_to"] is None
    assert first.post(f"/v1/cases/{case_id}/release").status_code == 409  # not claimed
    assert second.post("/v1/cases/claim").json()["case"]["id"] == case_id
    admin = service.client(service.key("admin"))
    assert admin.post(f"/v1/cases/{case_id}/release").json()["state"] == "open"
    assert admin.post("/v1/cases/999/release").status_code == 404


def test_a_case_with_its_evidence_over_http(make_service: Callable[..., LiveService]) -> None:
    service = make_service(notice_rate_limit=1000)
    with service.db.transaction() as session:
        session.add(
            MatchRecord(
                content_id="content-123",
                bank_name="ncii",
                signal_type="pdq",
                distance=23,
                source="upload",
            )
        )
    service.client().post("/v1/notices", json=valid_notice(content_ids=["content-123"]))
    reviewer = service.client(service.key("review"))
    case_id = reviewer.get("/v1/cases").json()["cases"][0]["id"]
    body = reviewer.get(f"/v1/cases/{case_id}").json()
    assert body["id"] == case_id and body["evidence"] == "near_match"
    (content,) = body["matches"]
    assert content["content_id"] == "content-123"
    (match,) = content["matches"]
    assert match["bank"] == "ncii" and match["signal_type"] == "pdq"
    assert match["source"] == "upload" and match["matched_at"]
    assert set(match) == {"bank", "signal_type", "matched_at", "source"}  # no distance
