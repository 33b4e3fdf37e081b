"""The public pages in English and Spanish: every message the pages use has its Spanish
translation with the same placeholders; the language comes from ``?lang=`` (kept in a cookie),
the cookie, then the browser's Accept-Language; the pages carry the platform's name, logo and
helplines from the settings."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from service_helpers import LiveService
from shieldwall.web.i18n import LANGUAGE_COOKIE, LOCALE_DIR, translator

ROOT = Path(__file__).resolve().parents[2]
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def test_every_message_has_its_spanish_translation(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(
        [
            str(pybabel),
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "N_",
            "-k",
            "_",
            "--no-location",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    with pot.open("rb") as fh:
        wanted = {str(m.id) for m in read_po(fh) if m.id}
    with (LOCALE_DIR / "es" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        spanish = {str(m.id): str(m.string) for m in read_po(fh) if m.id}
    assert len(wanted) > 150
    missing = sorted(m for m in wanted if not spanish.get(m))
    assert missing == [], "run make messages and translate: " + "; ".join(missing[:5])
    for msgid, text in spanish.items():
        assert set(_PLACEHOLDER.findall(msgid)) == set(_PLACEHOLDER.findall(text)), msgid


def test_the_translator() -> None:
    es = translator("es")
    assert es("Protect your images") == "Proteja sus imágenes"
    assert es("Only %(platform)s", platform="Fotogram") == "Solo Fotogram"
    assert es("not a message we have") == "not a message we have"
    assert translator("en")("Only %(platform)s", platform="X") == "Only X"


@pytest.mark.parametrize("path", ["/protect", "/report", "/status", "/appeal", "/protect/status"])
def test_the_browser_language_is_the_default(service: LiveService, path: str) -> None:
    with service.client() as client:
        spanish = client.get(path, headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
        english = client.get(path, headers={"Accept-Language": "de-DE, en-GB;q=0.8"})
    assert '<html lang="es">' in spanish.text and "Ayuda y apoyo" in spanish.text
    assert '<html lang="en">' in english.text and "Help and support" in english.text
    assert 'id="lang-en"' in spanish.text and 'id="lang-es"' in spanish.text


def test_the_switch_is_kept_in_a_cookie(service: LiveService) -> None:
    with service.client() as client:
        chosen = client.get("/protect?lang=es", headers={"Accept-Language": "en"})
        assert "Proteja sus imágenes íntimas" in chosen.text
        assert client.cookies.get(LANGUAGE_COOKIE) == "es"
        again = client.get("/report", headers={"Accept-Language": "en"})
        assert "Denunciar una imagen íntima" in again.text
        back = client.get("/report?lang=en")
        assert "Report an intimate image" in back.text
        assert client.cookies.get(LANGUAGE_COOKIE) == "en"


def test_spanish_errors_on_the_report_form(make_service: Callable[..., LiveService]) -> None:
    service = make_service(notice_rate_limit=1000)
    with service.client() as client:
        form = client.get("/report?lang=es")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token
        answer = client.post("/report", data={"csrf_token": token.group(1)})
    assert answer.status_code == 422
    assert "Este campo es obligatorio." in answer.text
    assert "Marque esta casilla para hacer esta declaración" in answer.text
    assert 'href="#reporter_email"' in answer.text  # the summary links to the field


def test_the_platform_from_the_settings(make_service: Callable[..., LiveService]) -> None:
    service = make_service(
        platform_name="Fotogram",
        platform_logo_url="/static/protect/logo.svg",
        platform_helplines={"Línea de ayuda": "https://help.example/es"},
    )
    with service.client() as client:
        page = client.get("/protect?lang=es")
    assert 'id="platform-name">Fotogram<' in page.text
    assert '<img class="logo" src="/static/protect/logo.svg"' in page.text
    assert '<a href="https://help.example/es" rel="noopener noreferrer">Línea de ayuda</a>' in (
        page.text
    )
    assert "Solo Fotogram" in page.text


def test_a_logo_from_another_site_is_refused() -> None:
    from pydantic import ValidationError

    from shieldwall.config import Settings

    with pytest.raises(ValidationError, match="a path on this service"):
        Settings(platform_logo_url="https://cdn.example/logo.png")
    with pytest.raises(ValidationError, match="a path on this service"):
        Settings(platform_logo_url="//cdn.example/logo.png")
