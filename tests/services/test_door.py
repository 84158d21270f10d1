"""Every use case checks who may do it at the service layer's door, first, from the one table.

Each public function of ``services/<stage>.py`` that takes ``(svc, user, ...)`` is called with
no services at all (``svc=None``): a caller whose role the table refuses must get 403 before
anything is touched; a caller it allows must get past the door (and then fail on the missing
services, which is not a 403). So a use case that forgets its check, checks the wrong action, or
does something before checking, fails here."""

from __future__ import annotations

import ast
import asyncio
import importlib
import inspect
from pathlib import Path

import pytest

from adapters.accounts import User
from domain.errors import Forbidden
from domain.rules import ROLES
from services.permissions import TABLE

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("setup", "review", "debrief", "adjustments", "allocation", "feedback", "rectification", "results_use", "audit", "inbox", "people", "committee", "overview")


def use_cases():
    """(module, function name, the action its first ``allow`` names)."""
    found = []
    for stage in STAGES:
        module = importlib.import_module(f"services.{stage}")
        tree = ast.parse((ROOT / "services" / f"{stage}.py").read_text("utf-8"))
        for node in tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or node.name.startswith("_"):
                continue
            params = [a.arg for a in node.args.args]
            if params[:2] != ["svc", "user"]:
                continue
            action = None
            for call in ast.walk(node):
                if isinstance(call, ast.Call) and getattr(call.func, "id", getattr(call.func, "attr", None)) == "allow":
                    action = call.args[1].value
                    break
            found.append((module, node.name, action))
    return found


USE_CASES = use_cases()


def test_every_use_case_names_its_action_and_every_action_is_used():
    assert [f"{m.__name__}.{name}" for m, name, action in USE_CASES if action is None] == []
    used = {action for _, _, action in USE_CASES}
    pages = "".join(p.read_text("utf-8") for p in (ROOT / "api" / "web").rglob("*.py"))
    used |= {a for a in TABLE if f'may_open(user, "{a}")' in pages}  # a page's own gate
    assert set(TABLE) - used == set()


def call(fn, user):
    sig = inspect.signature(fn)
    args = [None, user] + ["U1" for p in list(sig.parameters.values())[2:] if p.default is inspect.Parameter.empty and p.kind is p.POSITIONAL_OR_KEYWORD]
    out = fn(*args)
    if inspect.iscoroutine(out):
        return asyncio.run(out)
    return out


def required(fn, name: str) -> bool:
    p = inspect.signature(fn).parameters.get(name)
    return p is not None and p.default is inspect.Parameter.empty


def person(role: str, unit: str | None = "U1") -> User:
    return User(f"someone-{role}", role, role, unit if role in ("unit", "committee") else None, True)


@pytest.mark.parametrize("module, name, action", USE_CASES, ids=[f"{m.__name__.split('.')[1]}.{n}" for m, n, _ in USE_CASES])
@pytest.mark.parametrize("role", ROLES)
def test_the_door_refuses_exactly_the_roles_the_table_refuses(module, name, action, role):
    fn = getattr(module, name)
    if role in TABLE[action].roles:
        try:
            call(fn, person(role))
        except Forbidden as err:  # pragma: no cover - the failure this test exists for
            pytest.fail(f"{name} refused {role}, whom the table allows for {action}: {err.message}")
        except Exception:
            pass  # past the door: the missing services fail it
    else:
        with pytest.raises(Forbidden) as refused:
            call(fn, person(role))
        assert refused.value.message == TABLE[action].message()


@pytest.mark.parametrize("module, name, action", [u for u in USE_CASES if u[2] and "unit" in TABLE[u[2]].roles and required(getattr(u[0], u[1]), "unit")], ids=lambda v: getattr(v, "__name__", str(v)))
def test_a_unit_user_acts_for_their_own_unit_only(module, name, action):
    with pytest.raises(Forbidden) as refused:
        call(getattr(module, name), person("unit", unit="U2"))  # every key argument is U1
    assert "本单位（U2）" in refused.value.message


#: What the admin administers (accounts) and what is assessment data, which they do not read.
ADMIN_KEEPS = {"users.read", "users.write", "cycle.read", "tasks.read"}
ASSESSMENT_READS = {"units.read", "debrief.read", "adjustments.read", "results.read", "rectification.read",
                    "rectification.carried.read", "allocation.read", "oversight.read", "feedback.read", "reports.read",
                    "trend.read", "audit.read", "attachment.read", "roster.read", "proposals.read", "feedback.download"}


def test_the_admin_sees_accounts_not_assessment_data():
    """Issue 12, gap 2: the admin keeps the accounts; every read of a unit's scores, ballots,
    adjustments, results or items refuses them, at the door of every use case that reads it."""
    assert {a for a in TABLE if "admin" in TABLE[a].roles} == ADMIN_KEEPS
    refused = [(m, n) for m, n, action in USE_CASES if action in ASSESSMENT_READS]
    assert len(refused) > 20
    for module, name in refused:
        with pytest.raises(Forbidden):
            call(getattr(module, name), person("admin"))
