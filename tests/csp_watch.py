"""Every browser test watches the Content-Security-Policy: a page the policy refuses something on
(an inline script, a style attribute, an eval) fails the test that opened it.

tests/test_web.py's ``browser`` fixture hands out a :class:`WatchedBrowser`: each context it makes
runs :data:`INIT` in every page (a ``securitypolicyviolation`` listener that logs the refused
directive) and records those messages and Chromium's own "Refused to …" console errors in
:data:`VIOLATIONS`; tests/conftest.py clears the list before each test and asserts it is empty after.

Playwright's ``page.wait_for_function("document…")`` with a bare expression runs it with ``eval``
in the page, which the policy refuses (and the watch reports): pass a function, ``"() => document…"``.
"""

from __future__ import annotations

from typing import Any

VIOLATIONS: list[str] = []

INIT = """document.addEventListener("securitypolicyviolation", function (e) {
  console.error("[csp] " + e.effectiveDirective + " refused " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber + " " + (e.sample || ""));
}, true);"""


def _record(message: Any) -> None:
    text = message.text
    if text.startswith("[csp] ") or "Content Security Policy" in text:
        VIOLATIONS.append(f"{message.page.url if message.page else '?'}: {text}")


async def watch(context: Any) -> Any:
    await context.add_init_script(INIT)
    context.on("console", _record)
    return context


class WatchedBrowser:
    """The Playwright browser, except that its new contexts are watched."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser

    async def new_context(self, *args: Any, **kwargs: Any) -> Any:
        return await watch(await self._browser.new_context(*args, **kwargs))

    async def new_page(self, *args: Any, **kwargs: Any) -> Any:
        context = await self.new_context(*args, **kwargs)
        return await context.new_page()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)
