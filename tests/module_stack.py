"""One whole system per test module and store, for modules that ask many questions of one stack
(the security, authorization-matrix and fuzz tests). Import the three fixtures into the module:

    from tests.module_stack import backend, module_database, stack  # noqa: F401 (fixtures)

``backend`` runs the module once on SQLite and once on PostgreSQL (which skips, saying why, where
no server answers); the data dir is named after the module."""

from __future__ import annotations

from typing import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from kaohe.runtime import Stack
from tests.conftest import module_database_for, module_stack


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def module_database(backend: str) -> Iterator[str | None]:
    with module_database_for(backend) as url:
        yield url


@pytest_asyncio.fixture(scope="module")
async def stack(request: pytest.FixtureRequest, module_database, backend, tmp_path_factory, temporal_env) -> AsyncIterator[Stack]:
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    async with module_stack(f"{name}-{backend}", module_database, temporal_env, tmp_path_factory) as running:
        yield running
