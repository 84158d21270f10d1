"""SECURITY.md (issue 12): the threat model is there, names every role and the people outside the
app it trusts, says how to report a vulnerability, and every file and setting it names exists, so
the page cannot drift from the code unnoticed."""

from __future__ import annotations

import re

from domain.rules import ROLES
from kaohe.settings import Settings
from tests.conftest import ROOT

PAGE = ROOT / "SECURITY.md"


def text() -> str:
    return PAGE.read_text(encoding="utf-8")


def test_the_page_names_who_is_trusted_for_what():
    page = text()
    for who in ("DBA", "Temporal operator", *ROLES):
        assert re.search(rf"\*\*{re.escape(who)}\b[^*]*\*\*", page, re.I), f"SECURITY.md does not say what {who} is trusted with"
    for heading in ("## Who is trusted for what", "## What each control defends", "## What is not defended", "## Reporting a vulnerability"):
        assert heading in page


def test_every_file_the_page_names_exists():
    named = set(re.findall(r"`((?:adapters|api|domain|services|workflows|reporting|deploy|tests|kaohe)/[\w/.-]+)`", text()))
    assert len(named) >= 10
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"SECURITY.md names files that do not exist: {missing}"


def test_every_setting_the_page_names_exists():
    fields = {f"KAOHE_{name.upper()}" for name in Settings.model_fields}
    named = set(re.findall(r"`(KAOHE_[A-Z_]+)(\*)?`", text()))
    assert named
    for name, wildcard in named:
        if wildcard:
            assert any(f.startswith(name) for f in fields), name
        else:
            assert name in fields, f"SECURITY.md names {name}, which kaohe.settings does not read"
