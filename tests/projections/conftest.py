"""The application on the in-memory POPO store: one fresh ``Assessments`` per test."""

from __future__ import annotations

import pytest

from domain.application import Assessments
from tests.walk import new_app


@pytest.fixture
def app() -> Assessments:
    return new_app()
