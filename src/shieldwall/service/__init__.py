"""The HTTP service: FastAPI on uvicorn, API keys with scopes, replicas that follow the signal
log, the request audit and metrics. ``shieldwall serve`` runs it; :func:`create_app` builds the
application for tests and embedding."""

from shieldwall.service.app import create_app
from shieldwall.service.state import Role, ServiceState

__all__ = ["Role", "ServiceState", "create_app"]
