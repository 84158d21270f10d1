"""The rooms and the way through them (docs/architecture.md): each import points one way.

Read from the source (AST), so a forbidden import anywhere in a module fails here, also one
inside a function."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ROOMS = ("domain", "workflows", "projections", "services", "adapters", "reporting", "simulation", "api", "kaohe")


def imports(room: str) -> list[tuple[str, str]]:
    """(module file, imported top-level name) for every import in the room."""
    found = []
    for path in sorted((ROOT / room).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found += [(str(path.relative_to(ROOT)), n) for n in names]
    return found


def top(name: str) -> str:
    return name.split(".")[0]


def test_domain_knows_only_the_standard_library_and_eventsourcing():
    allowed = set(sys.stdlib_module_names) | {"eventsourcing", "domain", "__future__"}
    wrong = [(f, n) for f, n in imports("domain") if top(n) not in allowed]
    assert wrong == []


def test_nothing_but_the_composition_root_imports_api():
    wrong = [(f, n) for room in ROOMS if room not in ("api", "kaohe") for f, n in imports(room) if top(n) == "api"]
    assert wrong == []


def test_no_web_page_imports_a_router():
    wrong = [(f, n) for f, n in imports("api") if f.startswith("api/web") and n.startswith("api.routers")]
    assert wrong == []


@pytest.mark.parametrize(
    "room, forbidden",
    [
        ("services", {"api", "kaohe", "fastapi", "starlette"}),  # the layer every door calls knows no door
        ("adapters", {"api", "kaohe", "services", "reporting", "simulation"}),
        ("reporting", {"api", "kaohe", "services", "workflows", "adapters", "sqlalchemy"}),
        ("workflows", {"api", "kaohe", "services", "projections", "reporting"}),
        ("projections", {"api", "kaohe", "services", "workflows", "reporting"}),
        ("simulation", {"api", "services", "domain", "workflows", "projections", "adapters"}),  # plays scenarios over HTTP only
    ],
)
def test_each_room_imports_only_inward(room, forbidden):
    wrong = [(f, n) for f, n in imports(room) if top(n) in forbidden]
    assert wrong == []


def test_routers_are_thin_they_reach_the_system_only_through_services():
    reach = {"domain", "projections", "workflows", "adapters", "reporting", "sqlalchemy", "eventsourcing"}
    wrong = [(f, n) for f, n in imports("api") if f.startswith("api/routers") and top(n) in reach and n != "adapters.accounts"]
    assert wrong == []
