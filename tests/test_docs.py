"""docs/architecture.md matches the code: every module, class and function it names exists.

A newcomer finds the function that states a SPEC rule from that page alone; when a function
moves or is renamed without the page, this fails and names the reference."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ROOMS = ("domain", "workflows", "projections", "services", "adapters", "reporting", "simulation", "api", "kaohe")
REFERENCE = re.compile(r"`((?:%s)(?:\.[A-Za-z_][A-Za-z0-9_]*)*)`" % "|".join(ROOMS))


def references(page: str) -> list[str]:
    return sorted(set(REFERENCE.findall((ROOT / page).read_text("utf-8"))))


def resolve(name: str) -> object:
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(name)


def test_the_page_names_the_rule_functions():
    names = references("docs/architecture.md")
    assert len(names) > 60  # the rooms, the way of one decision, and every SPEC rule's function


@pytest.mark.parametrize("name", references("docs/architecture.md"))
def test_every_name_on_the_architecture_page_exists(name):
    resolve(name)
