"""An NCMEC entry whose member id is a non-ASCII digit (``str.isdigit`` says yes to "²", and
``int`` then raised ``ValueError``, ending the sync) is a bad record now: counted as failed,
the rest of the page applied. Found writing ``fuzz/exchange_ncmec.py``."""

from __future__ import annotations

from fake_server import FakeServer, Reply, Request
from shieldwall.banks import get_bank
from shieldwall.exchange import add_exchange, sync_exchange
from shieldwall.exchange.contract import loopback_context
from shieldwall.store import Database

MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def _image(member: str, entry: str, md5: str) -> str:
    return (
        f'<image><member id="{member}"/><id>{entry}</id>'
        f"<fingerprints><md5>{md5}</md5></fingerprints></image>"
    )


def test_a_member_id_of_non_ascii_digits_is_a_bad_record(db: Database) -> None:
    body = (
        "<queryResult><images>"
        + _image("\u00b2", "e1", MD5)  # SUPERSCRIPT TWO
        + _image("\u0661\u0661", "e2", MD5)  # ARABIC-INDIC DIGITS ONE ONE
        + _image("11", "e3", "0" * 32)
        + "</images></queryResult>"
    )

    def respond(request: Request) -> Reply:
        return Reply(200, body.encode(), {"Content-Type": "application/xml"})

    with FakeServer(respond) as server:
        settings = {"base_url": server.url(""), "username": "esp", "password": "pw"}
        add_exchange(
            db, "ncmec", "ncmec", settings={**settings, "only_members": [11]}, schedule=False
        )
        report = sync_exchange(db, "ncmec", context=loopback_context())
    assert report.error is None, report.error
    assert report.failed == 2 and report.added == 1
    assert all("needs an <id> and a <member id>" in e for e in report.record_errors)
    assert get_bank(db, "ncmec").live_signals == 1
