"""Helpers of the HTTP tests of the pages: a form's CSRF token, a signed-in client."""

from __future__ import annotations

import re

import httpx

from service_helpers import LiveService

#: Every console user of the ``service`` fixtures has this password.
PASSWORD = "correct horse battery"


def csrf_of(page: str) -> str:
    """The ``csrf_token`` hidden field of the first form of ``page``."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def signed_in(service: LiveService, username: str, password: str = PASSWORD) -> httpx.Client:
    """A client with a console session of ``username`` (the login must succeed)."""
    client = service.client()
    form = client.get("/login")
    answer = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(form.text)},
    )
    assert answer.status_code == 303, answer.text
    return client


#: How long a browser test waits for an element or event: generous, so that a busy machine
#: (a full parallel run, CI) cannot fail a test that would pass (Playwright's default is 30 s).
BROWSER_WAIT_MS = 120_000
