"""The application on the in-memory POPO store: one fresh ``KaoheApp`` per test."""

from __future__ import annotations

import pytest

from domain.app import KaoheApp
from tests.walk import new_app


@pytest.fixture
def app() -> KaoheApp:
    return new_app()
