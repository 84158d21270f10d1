"""The Content-Security-Policy (issue 12, gap 6): every page and every API answer carries one,
and the templates hold nothing a strict policy would refuse (inline script, ``on…=`` handlers,
``javascript:`` URLs, ``style=`` attributes, htmx's eval-run ``hx-on``). The pages under that
policy in a real browser: tests/test_web_csp.py."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest
from fastapi.routing import APIRoute
from starlette.routing import Route

from api.security import API_CSP, PAGE_CSP, docs_csp, inline_script_hashes
from tests.conftest import ROOT
from tests.helpers import cast, small_cycle

TEMPLATES = ROOT / "api" / "web" / "templates"

# ---------------------------------------------------------------- the templates


#: Attributes a browser follows as a URL (a ``javascript:`` one there runs code).
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "poster", "data", "xlink:href", "background",
                  "hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete"}


class _Scan(HTMLParser):
    """What a strict CSP would refuse in a page's markup (Jinja left in place: it is only text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._script: str | None = None  # the type of the <script> being read, or None outside one
        self._script_src = False
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        for name, value in attrs:
            name = name.lower()
            if name.startswith("on"):
                self.found.append(f"line {line}: <{tag} {name}=…> (an event handler attribute)")
            if name == "style":
                self.found.append(f"line {line}: <{tag} style=…> (an inline style)")
            if name.startswith("hx-on") or name.startswith("data-hx-on"):
                self.found.append(f"line {line}: <{tag} {name}=…> (htmx runs it with eval)")
            if value and name in URL_ATTRIBUTES and re.match(r"\s*(javascript|vbscript):", value, re.I):
                self.found.append(f"line {line}: <{tag} {name}=\"{value[:30]}…\"> (a javascript: URL)")
            if value and name in ("hx-vals", "hx-headers", "hx-headers:inherited", "hx-vars") and re.match(r"\s*(js|javascript):", value, re.I):
                self.found.append(f"line {line}: <{tag} {name}=\"js:…\"> (htmx evaluates it)")
        if tag == "script":
            kind = dict(attrs).get("type") or "text/javascript"
            self._script, self._script_src, self._text = kind.lower(), "src" in dict(attrs), ""
        if tag == "style":
            self.found.append(f"line {line}: <style> (an inline style sheet)")

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            data_only = self._script in ("application/json", "application/ld+json")
            if self._text.strip() and not data_only:
                self.found.append(f"line {self.getpos()[0]}: <script> with code ({self._text.strip()[:40]!r}…)")
            self._script = None


def refused(markup: str) -> list[str]:
    scan = _Scan()
    scan.feed(markup)
    scan.close()
    return scan.found


WRONG = """<p>
<script>alert(1)</script>
<button onclick="go()">x</button>
<a href="javascript:void(0)">y</a>
<a href=" JavaScript:go()">z</a>
<span style="width: 5%"></span>
<div hx-on:click="go()"></div>
<div hx-vals='js:{a: go()}'></div>
<style>p { color: red }</style>
<img src="x.png" onerror="go()">
</p>"""


def test_the_scan_finds_each_kind_of_inline_code_in_a_wrong_sample():
    found = refused(WRONG)
    assert len(found) == 9, found
    for what in ("<script> with code", "onclick", "javascript: URL", "inline style", "hx-on:click", "htmx evaluates", "<style>", "onerror"):
        assert any(what in f for f in found), (what, found)


def test_the_scan_lets_data_blocks_and_files_pass():
    ok = """<script type="application/json" id="d">{"a": [1, 2]}</script>
    <script src="/static/x.js" defer></script><a href="/javascript-notes">n</a>
    <input data-on="1" placeholder="javascript: no"><div hx-headers:inherited='{"X": "1"}'></div>"""
    assert refused(ok) == []


def test_no_template_holds_what_the_policy_refuses():
    files = sorted(TEMPLATES.glob("*.html"))
    assert len(files) > 20  # the scan reads the real templates, not an empty folder
    scripts = sum(p.read_text(encoding="utf-8").count("<script") for p in files)
    assert scripts >= 5  # and sees their <script src> tags
    problems = {p.name: refused(p.read_text(encoding="utf-8")) for p in files}
    assert {k: v for k, v in problems.items() if v} == {}


def test_the_documentation_policy_names_the_inline_script_by_its_hash():
    """/docs (FastAPI's Swagger UI page) runs one inline start-up script: allowed by hash, nothing else."""
    from fastapi.openapi.docs import get_swagger_ui_html

    html = bytes(get_swagger_ui_html(openapi_url="/openapi.json", title="t").body)
    [digest] = inline_script_hashes(html)
    policy = docs_csp("/docs", html)
    script_src = next(d for d in policy.split("; ") if d.startswith("script-src"))
    assert digest in script_src and "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js" in script_src
    assert inline_script_hashes(html.replace(b"SwaggerUIBundle({", b"SwaggerUIBundle({evil: 1,")) != [digest]


# ---------------------------------------------------------------- every answer, over HTTP

#: A value for each path parameter of the route table (the published cycle c1 and its people).
VALUES = {"cycle": "c1", "key": "c1", "item_cycle": "c1", "unit": "U1", "cohort": "grassroots_branch", "stage": "scoring",
          "step": "scoring", "username": "org", "fmt": "xlsx"}


def every_route(app) -> list[tuple[str, str]]:
    """(method, path) of every route of the running app: the API's and the pages' (HEAD aside)."""
    routes = app.routes
    try:
        from fastapi.routing import iter_route_contexts

        routes = list(iter_route_contexts(app.routes))
    except ImportError:  # pragma: no cover - older FastAPI lists APIRoutes directly
        pass
    out = set()
    for route in routes:
        original = getattr(route, "original_route", route)
        if isinstance(original, (APIRoute, Route)):
            for method in route.methods or ():
                if method != "HEAD":
                    out.add((method, route.path))
    return sorted(out)


def filled(path: str) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: VALUES.get(m.group(1), "x1"), path)


@pytest.mark.temporal
async def test_every_page_and_api_answer_carries_the_policy(client, stack):
    """The route table walked: every GET signed in as the organizer (pages by the session cookie,
    the API by bearer token), every other method unsigned (its refusal is an answer too). A page
    (text/html) gets the page policy, anything else the API's; /docs its own."""
    await cast(client)
    await small_cycle(client, "published")
    token = client.tokens["org"]
    routes = every_route(stack.server.config.app)
    assert len(routes) > 100 and any(p.startswith("/api/v1") for _, p in routes) and ("GET", "/tasks") in routes
    seen: dict[str, int] = {"page": 0, "api": 0, "docs": 0}
    wrong = []
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=60, follow_redirects=False) as http:
        for method, path in routes:
            url = filled(path)
            if method == "GET":
                auth = {"Authorization": f"Bearer {token}"} if path.startswith("/api/") else {"Cookie": f"kaohe_token={token}"}
                r = await http.get(url, headers=auth)
            else:
                r = await http.request(method, url)
            html = r.headers.get("content-type", "").startswith("text/html")
            csp = r.headers.get("content-security-policy")
            if path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
                kind, expected = "docs", docs_csp(path, r.content) if html else API_CSP
            elif html:
                kind, expected = "page", PAGE_CSP
            else:
                kind, expected = "api", API_CSP
            seen[kind] += 1
            if csp != expected:
                wrong.append((method, url, r.status_code, csp))
        for url in ("/static/kaohe.css", "/static/vendor/htmx.min.js", "/no-such-page", "/api/v1/no-such-route"):
            r = await http.get(url)
            expected = PAGE_CSP if r.headers.get("content-type", "").startswith("text/html") else API_CSP
            if r.headers.get("content-security-policy") != expected:
                wrong.append(("GET", url, r.status_code, r.headers.get("content-security-policy")))
    assert wrong == []
    assert seen["page"] > 30 and seen["api"] > 60 and seen["docs"] >= 2, seen


@pytest.mark.temporal
async def test_the_page_policy_is_strict(client, stack):
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=60) as http:
        r = await http.get("/login")
    directives = dict(d.split(" ", 1) for d in r.headers["content-security-policy"].split("; "))
    assert directives == {
        "default-src": "'self'", "script-src": "'self'", "style-src": "'self'", "img-src": "'self' data:",
        "object-src": "'none'", "base-uri": "'none'", "frame-ancestors": "'none'", "form-action": "'self'",
    }


async def test_a_file_or_an_api_answer_is_never_a_page_whatever_its_type():
    """An uploaded .html evidence file comes back text/html (with a Content-Disposition): it still
    may load nothing (no same-origin script), unlike a page. The middleware alone, over an app
    answering HTML everywhere. (A refusal on /files/ without the header is a page: the 404 page.)"""
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route as StarletteRoute

    from api.security import HttpPolicy, SecurityHeadersMiddleware

    async def html(request):
        as_file = {"Content-Disposition": "inline; filename=evil.html"} if request.url.path.startswith("/files/") else {}
        return HTMLResponse("<script src='/files/abc'></script>", headers=as_file)

    inner = Starlette(routes=[StarletteRoute("/{path:path}", html)])
    app = SecurityHeadersMiddleware(inner, policy=HttpPolicy())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        for path in ("/tasks", "/no-such-page"):
            assert (await http.get(path)).headers["content-security-policy"] == PAGE_CSP, path
        for path in ("/files/" + "a" * 64, "/api/v1/anything", "/static/x.html"):
            assert (await http.get(path)).headers["content-security-policy"] == API_CSP, path
