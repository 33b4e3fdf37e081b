"""Fuzz target: the body of a public notice, as each door takes it.

The first byte picks the door, the rest is the body:

- 0: ``POST /v1/notices`` (JSON through the API's ``NoticeIn``, then ``validate_notice``);
- 1: a library caller's mapping (any JSON object straight to ``validate_notice``; the
  caller's own JSON decoding failing, ``[[[[...`` included, is not ours);
- 2: the public form ``POST /report`` (url-encoded fields, read as the form route reads them).

A bug: an exception that is not a refusal: the API's request validation (``ValidationError``,
a 422), a body that is not JSON (``ValueError``, a 422 before our code runs), or a
ShieldwallError; and a notice that ``validate_notice`` passes although a declaration is
missing.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import atheris

with atheris.instrument_imports(include=["shieldwall"]):
    from pydantic import ValidationError

    from shieldwall.api.routes.cases import NoticeIn
    from shieldwall.cases.notices import DECLARATIONS, validate_notice
    from shieldwall.config import Settings
    from shieldwall.errors import ShieldwallError
    from shieldwall.web.routes.report import _FLAGS, _TEXT_FIELDS, _blank, _notice_data

SETTINGS = Settings(trusted_flaggers={"Hotline": "flagger-token-1"})


def _form(body: str) -> dict[str, object]:
    fields = dict(parse_qsl(body, keep_blank_values=True))
    values = _blank()
    for name in _TEXT_FIELDS:
        values[name] = fields.get(name, "")
    for name in _FLAGS:
        values[name] = name in fields
    if "content_kind" in fields:
        values["content_kind"] = fields["content_kind"]
    return _notice_data(values)


def TestOneInput(data: bytes) -> None:  # noqa: N802 - atheris' name
    if not data:
        return
    door, body = data[0] % 3, data[1:]
    try:
        if door == 0:
            notice: object = NoticeIn.model_validate_json(body).model_dump()
        elif door == 1:
            notice = json.loads(body)
        else:
            notice = _form(body.decode("utf-8", errors="replace"))
    except (ValidationError, ValueError, RecursionError):  # the caller's JSON decoding
        return
    if not isinstance(notice, dict):
        return
    try:
        clean, errors = validate_notice(notice, SETTINGS)
    except ShieldwallError:
        return
    if not errors and not all(notice.get(name) is True for name in DECLARATIONS):
        raise AssertionError("a notice without every declaration was accepted")
    if not errors and not (clean["urls"] or clean["content_ids"]):
        raise AssertionError("a notice naming no content was accepted")


if __name__ == "__main__":
    from fuzzlib import main

    main(TestOneInput)
