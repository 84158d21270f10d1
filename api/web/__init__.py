"""The web UI: server-rendered pages (Jinja2, htmx) for every role, zh-CN first."""

from api.web.routes import install

__all__ = ["install"]
