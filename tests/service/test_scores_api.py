"""``POST /v1/scores`` over HTTP: the ``match`` scope, the count, 422 naming each invalid item
and field with nothing written, and the case's evidence raised."""

from __future__ import annotations

from typing import Any

from case_helpers import valid_notice
from service_helpers import LiveService
from shieldwall.cases import scores_for, submit_notice


def _item(content_id: str, score: float = 0.91, **extra: Any) -> dict[str, Any]:
    return {
        "content_id": content_id,
        "detector": "deepfake-x",
        "label": "synthetic",
        "score": score,
        **extra,
    }


def test_the_platform_key_records_scores(service: LiveService) -> None:
    receipt = submit_notice(service.db, service.settings, valid_notice(content_ids=["c-1"]))
    platform = service.client(service.key("match"))
    r = platform.post(
        "/v1/scores",
        json={"items": [_item("c-1", model_version="v2"), _item("c-2", 0.2, label="intimate")]},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"count": 2}
    found = scores_for(service.db, ["c-1", "c-2"])
    assert [(s.score, s.model_version) for s in found["c-1"]] == [(0.91, "v2")]
    assert [(s.label, s.model_version) for s in found["c-2"]] == [("intimate", None)]
    reviewer = service.client(service.key("review"))
    case = reviewer.get(f"/v1/cases/{receipt.case_id}").json()
    assert case["evidence"] == "detector_score"
    # Reported again: replaced, not added.
    assert platform.post("/v1/scores", json={"items": [_item("c-1", 0.5)]}).json() == {"count": 1}
    assert [s.score for s in scores_for(service.db, ["c-1"])["c-1"]] == [0.5]


def test_only_the_match_scope_and_admin_may_report(service: LiveService) -> None:
    body = {"items": [_item("c-1")]}
    assert service.client().post("/v1/scores", json=body).status_code == 401
    for scope in ("review", "curate", "hash"):
        r = service.client(service.key(scope)).post("/v1/scores", json=body)
        assert (r.status_code, r.json()["error"]) == (403, "forbidden"), scope
    assert service.client(service.key("admin")).post("/v1/scores", json=body).status_code == 200
    assert set(scores_for(service.db, ["c-1"])) == {"c-1"}


def test_invalid_items_are_each_named_and_nothing_is_written(service: LiveService) -> None:
    platform = service.client(service.key("match"))
    r = platform.post(
        "/v1/scores",
        json={
            "items": [
                _item("ok-1"),
                _item("bad-1", 1.5),
                _item("bad-2", label="nsfw", detector=""),
                _item("x" * 513),
            ]
        },
    )
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "validation_error"
    assert {f["field"] for f in body["fields"]} == {
        "body.items.1.score",
        "body.items.2.label",
        "body.items.2.detector",
        "body.items.3.content_id",
    }
    # What the schema cannot see, the library checks: a blank content id.
    r = platform.post("/v1/scores", json={"items": [_item("ok-1"), _item("   ")]})
    assert r.status_code == 422, r.text
    assert [f["field"] for f in r.json()["fields"]] == ["items.1.content_id"]
    too_many = {"items": [_item(f"c-{i}") for i in range(10_001)]}
    r = platform.post("/v1/scores", json=too_many)
    assert r.status_code == 422
    assert [f["field"] for f in r.json()["fields"]] == ["body.items"]
    assert scores_for(service.db, ["ok-1", "bad-1", "c-0"]) == {}
