"""A bounded schemathesis run over the JSON API (issue 12): requests generated from the app's own
OpenAPI document, sent over real HTTP to the real stack as every role, on both stores.

Half the valid cases are aimed at the published cycle that exists (its key, a unit, the cohort),
so they reach the handlers past the 404 of a random key. Every answer must not be a 5xx, and must carry the content type and (for a documented status) the
body shape the document promises. The run is bounded and repeatable: a few cases per operation
and generation mode (about 300 per role), derandomised (the same cases every run, so CI is
repeatable), no deadline (the workflow engine answers in its own time), no example database.
The deep runs (about 30,000 requests) are for a person to start by hand with the schemathesis CLI;
this one keeps ``make test`` honest about the bugs such a run found (the 64-bit position, item 9).
"""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator

import pytest
import pytest_asyncio
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from kaohe.runtime import Stack, free_port
from tests.conftest import Client
from tests.module_stack import backend, module_database, stack  # noqa: F401 (fixtures: one stack per store)
from tests.helpers import cast, small_cycle

pytestmark = pytest.mark.temporal

#: Cases per API operation and generation mode (positive: valid by the document; negative: not).
EXAMPLES = 2
#: The callers: one user per role (tests.helpers.cast) and nobody.
CALLERS = {"organizer": "org", "evaluator": "eva", "unit": "u1", "representative": "R1", "committee": "com",
           "auditor": "aud", "admin": "admin", "anonymous": None}
#: Not fuzzed: sign-out would end the caller's session for the rest of its run.
SKIP = {("POST", "/api/v1/auth/logout")}
#: Path parameters that name what exists (the published cycle c1 of tests.helpers.small_cycle).
REAL_PATH = {"key": "c1", "cycle": "c1", "unit": "U1", "cohort": "grassroots_branch", "stage": "scoring", "fmt": "xlsx"}
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]


@pytest_asyncio.fixture(scope="module")
async def client(stack: Stack) -> AsyncIterator[Client]:
    c = Client(stack)
    await cast(c)
    await small_cycle(c, "published", key="c1")  # so that some generated paths find a cycle
    try:
        yield c
    finally:
        await c.close()


def fuzz(base_url: str, token: str | None) -> tuple[int, list[str]]:
    """Every operation of the document, EXAMPLES cases per generation mode, as one caller.
    Returns (cases sent, failures); runs in a thread (the stack serves on the test's event loop)."""
    schema = schemathesis.openapi.from_url(base_url + "/openapi.json", timeout=30)
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    sent = 0
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIP:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode), real=st.booleans())
            def one(case: Any, real: bool) -> None:
                nonlocal sent
                sent += 1
                if real and mode is GenerationMode.POSITIVE and case.path_parameters:
                    # half the valid cases aim at the cycle that exists, so they get past the 404
                    known = {k: v for k, v in REAL_PATH.items() if k in case.path_parameters}
                    case.path_parameters = {**case.path_parameters, **known}
                response = case.call(base_url=base_url, headers=headers, timeout=60)
                try:
                    case.validate_response(response, checks=CHECKS, headers=headers)
                except (Exception, BaseExceptionGroup) as err:  # noqa: BLE001 - every failure is reported, not the first
                    failures.append(f"{case.operation.label} → {response.status_code}: {str(err)[:600]}\n  "
                                    f"{case.as_curl_command(base_url=base_url)}")

            try:
                one()
            except Unsatisfiable:
                if mode is GenerationMode.POSITIVE:
                    raise
                # nothing to get wrong (an operation with no parameters or body): no negative case
    return sent, failures


@pytest.mark.parametrize("caller", list(CALLERS))
async def test_generated_requests_draw_no_server_error(client, stack, caller):
    user = CALLERS[caller]
    token = None if user is None else client.tokens[user]
    sent, failures = await asyncio.to_thread(fuzz, stack.api_url, token)
    assert sent >= 200, f"only {sent} cases generated"
    assert not failures, f"{len(failures)} of {sent} generated requests as {caller} failed:\n" + "\n".join(failures)


async def test_the_run_reports_a_server_error_and_a_broken_promise():
    """The harness itself: on a small app whose one route crashes on a large number and whose
    other answers a body its document does not promise, the same run reports both."""
    import uvicorn
    from fastapi import FastAPI
    from pydantic import BaseModel

    class Out(BaseModel):
        total: int

    toy = FastAPI()

    @toy.get("/api/v1/explain")
    async def explain(position: int) -> dict:
        if abs(position) > 10:  # the kind of bug item 9 was: a number past what the store holds
            raise RuntimeError("integer out of range")
        return {"ok": True}

    @toy.get("/api/v1/total", response_model=None, responses={200: {"model": Out}})
    async def total() -> dict:
        return {"total": "not a number"}

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(toy, host="127.0.0.1", port=port, log_level="error", lifespan="off"))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.05)
        sent, failures = await asyncio.to_thread(fuzz, f"http://127.0.0.1:{port}", None)
    finally:
        server.should_exit = True
        await serving
    assert sent > 0
    assert any("GET /api/v1/explain → 500" in f for f in failures), failures
    assert any("GET /api/v1/total → 200" in f for f in failures), failures
