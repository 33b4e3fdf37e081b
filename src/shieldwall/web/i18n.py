"""The public pages' languages: Babel message catalogues, chosen per request.

The catalogues are ``web/locale/<language>/LC_MESSAGES/messages.po`` (English is the source
language: its messages are the ids). They are read with Babel when first used (no compiled
``.mo`` files to keep in step), and a page's templates call ``_("text", name=value)``: the
translation, with ``%(name)s`` filled in. A language is chosen by ``?lang=`` (kept in a cookie),
then the cookie, then the browser's ``Accept-Language``, then English.

``make messages`` (``pybabel extract`` + ``update``) refreshes the catalogues from the templates,
the pages' Python and the script's ``data-i18n`` strings; a test checks that every message the
pages use has its Spanish translation.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Final

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from fastapi import Request

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LANGUAGE_COOKIE",
    "LOCALE_DIR",
    "N_",
    "Translator",
    "catalogue",
    "language_of",
    "translator",
]

LOCALE_DIR: Final = Path(__file__).parent / "locale"
DEFAULT_LANGUAGE: Final = "en"
#: Language code -> its own name (the language switch shows each in itself).
LANGUAGES: Final = {"en": "English", "es": "Español"}
LANGUAGE_COOKIE: Final = "shieldwall_lang"

Translator = Callable[..., str]


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Mark ``message`` for the catalogue (``make messages`` finds it); the page translates it
    when it shows it."""
    return message


@cache
def catalogue(language: str) -> Catalog | None:
    """The message catalogue of ``language`` (``None`` for English, the source language)."""
    if language == DEFAULT_LANGUAGE:
        return None
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        return read_po(fh, locale=Locale.parse(language))


@cache
def _messages(language: str) -> dict[str, str]:
    found = catalogue(language)
    if found is None:
        return {}
    return {
        str(m.id): str(m.string)
        for m in found
        if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string and not m.fuzzy
    }


def translator(language: str) -> Translator:
    """``_(message, **values)``: ``message`` in ``language`` (itself when untranslated), with
    ``%(name)s`` placeholders filled from ``values``."""
    messages = _messages(language)

    def _(message: str, **values: object) -> str:
        text = messages.get(message, message)
        return text % values if values else text

    return _


def language_of(request: Request) -> str:
    """The request's language: ``?lang=``, the cookie, ``Accept-Language``, English."""
    asked = request.query_params.get("lang", "")
    if asked in LANGUAGES:
        return asked
    cookie = request.cookies.get(LANGUAGE_COOKIE, "")
    if cookie in LANGUAGES:
        return cookie
    header = request.headers.get("accept-language", "")
    preferred = []
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        if tag:
            preferred.append((weight, tag.strip().replace("-", "_")))
    preferred.sort(key=lambda p: -p[0])  # stable: equal weights keep their order
    for weight, tag in preferred:
        base = tag.split("_")[0].lower()
        if weight > 0 and base in LANGUAGES:
            return base
    return DEFAULT_LANGUAGE
