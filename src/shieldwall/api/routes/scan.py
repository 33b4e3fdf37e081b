"""Code scanning over the API: ``POST /v1/scan`` (compute providers)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile

from shieldwall.api.deps import get_state, scoped
from shieldwall.errors import UsageError
from shieldwall.people.scopes import Scope
from shieldwall.service.state import ServiceState

if TYPE_CHECKING:
    from shieldwall.codescan import Scanner

router = APIRouter(prefix="/v1", tags=["code scanning"])

_STATE = Depends(get_state)


def _scanner(state: ServiceState) -> Scanner:
    """One scanner per process state (its rules load once; the scanner's modules, 12 MiB
    resident, load with the first scan, so that a matcher process never holds them)."""
    from shieldwall.codescan import Scanner  # noqa: PLC0415

    scanner = state.extras.get("scanner")
    if not isinstance(scanner, Scanner):
        scanner = state.extras["scanner"] = Scanner(settings=state.settings)
    return scanner


@router.post("/scan", response_model=dict[str, Any], **scoped(Scope.SCAN))
def scan(
    files: Annotated[
        list[UploadFile] | None,
        File(description="Notebooks, scripts, requirements, archives, model files."),
    ] = None,
    commands: Annotated[
        list[str] | None, Form(description="Command lines, as a shell would read them.")
    ] = None,
    state: ServiceState = _STATE,
) -> dict[str, Any]:
    """Scan uploaded files and command lines together for face-swap deepfake training or
    generation: the verdict (allow, warn, block) with its evidence, the policy and the appeal
    route, as ``shieldwall scan --format json`` prints it."""
    texts = [(f.filename or f"upload-{i}", f.file.read()) for i, f in enumerate(files or [], 1)]
    if not texts and not commands:
        raise UsageError("give at least one file or command to scan")
    report = _scanner(state).scan(commands=commands or [], texts=texts)
    return report.to_dict()
