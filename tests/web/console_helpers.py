"""Helpers of the console's browser tests: sign in (to a page), the 403 check, the phone check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from service_helpers import LiveService

from .web_helpers import PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Page, ViewportSize

#: The phone the console must fit (an iPhone 12-15's CSS viewport).
PHONE: ViewportSize = {"width": 390, "height": 844}


def sign_in(page: Page, service: LiveService, username: str, target: str = "/console") -> None:
    """Sign ``username`` in through the login form and land on ``target``."""
    page.goto(f"{service.url}/login?next={target}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_load_state("load")
    assert page.url.startswith(service.url + target.split("?", maxsplit=1)[0]), page.url


def sign_out(page: Page) -> None:
    """Sign out with the header's button."""
    page.click("#logout")
    page.wait_for_load_state("load")


def refused(page: Page, service: LiveService, path: str) -> str:
    """Open ``path`` and return the 403 page's message (the page must be the 403 page)."""
    answer = page.goto(service.url + path)
    assert answer is not None and answer.status == 403, path
    return page.text_content("#forbidden") or ""


def overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the viewport (0: it fits)."""
    width = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert isinstance(width, int)
    return max(width, 0)


_BROKEN_WORDS = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll("th")) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent;
      for (const match of text.matchAll(/[A-Za-z]{2,}/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (tops.size > 1) broken.push(match[0]);
      }
    }
  }
  return broken;
}"""


def broken_words(page: Page) -> list[str]:
    """The words of table headers that are split over two lines (a squeezed table)."""
    found = page.evaluate(_BROKEN_WORDS)
    assert isinstance(found, list)
    return [str(w) for w in found]
