"""Liveness, readiness and metrics: what every role serves."""

from __future__ import annotations

import os

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response

from shieldwall.api.deps import get_state
from shieldwall.api.schemas import HealthOut
from shieldwall.matching import log_head
from shieldwall.service.access import public
from shieldwall.service.state import ServiceState

router = APIRouter(tags=["operations"])

_STATE = Depends(get_state)


@router.get("/healthz", response_model=HealthOut, response_model_exclude_none=True, **public())
async def healthz(state: ServiceState = _STATE) -> HealthOut:
    """Alive: the process answers (says nothing about the database or the index)."""
    return HealthOut(status="ok", role=state.role.value, pid=os.getpid())


@router.get(
    "/readyz",
    response_model=HealthOut,
    responses={503: {"model": HealthOut, "description": "not ready"}},
    **public(),
)
def readyz(state: ServiceState = _STATE) -> Response:
    """Ready: the database answers and, in a matcher role, the index is loaded and caught up
    with the signal log within ``ready_max_lag_seconds``."""
    try:
        log_seq = log_head(state.db)
    except Exception as exc:
        body = HealthOut(status="unavailable", role=state.role.value, detail=str(exc)[:200])
        return JSONResponse(body.model_dump(), status_code=503)
    if state.matcher is None:
        if state.role.matches:
            body = HealthOut(status="starting", role=state.role.value, log_seq=log_seq)
            return JSONResponse(body.model_dump(), status_code=503)
        return JSONResponse(HealthOut(status="ready", role=state.role.value).model_dump())
    lag = state.lag_seconds()
    index_seq = state.matcher.index.seq
    ready = lag is not None and lag <= state.settings.ready_max_lag_seconds
    body = HealthOut(
        status="ready" if ready else "lagging",
        role=state.role.value,
        index_seq=index_seq,
        log_seq=log_seq,
        lag_seconds=round(lag, 3) if lag is not None else None,
        detail=state.sync.error,
    )
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get("/metrics", response_class=Response, **public())
def metrics(state: ServiceState = _STATE) -> Response:
    """Prometheus metrics of this process."""
    return Response(state.metrics.render(), media_type="text/plain; version=0.0.4")
