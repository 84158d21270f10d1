"""Where the key that signs commands comes from (``kaohe.runtime.command_claims``): the
environment (required in production, 32+ characters), else one generated per data dir, kept
0600, the same for every process on that data dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.rules import Actor
from kaohe.runtime import StartupError, command_claims
from kaohe.settings import Settings
from workflows.claims import Claims
from workflows.unit import AcknowledgeFeedback


def signed_by(claims: Claims) -> AcknowledgeFeedback:
    return claims.signed("UnitAssessment", "acknowledge_feedback", AcknowledgeFeedback(Actor("u1", "unit", "U1")), {"cycle": "c1", "unit": "U1"}, "u1/1")


def verifies(claims: Claims, cmd: AcknowledgeFeedback) -> bool:
    try:
        claims.verify("acknowledge_feedback", "u1/1", cmd.actor, {"cycle": "c1", "unit": "U1"})
        return True
    except Exception:  # noqa: BLE001
        return False


def test_the_embedded_default_generates_one_key_per_data_dir_only_its_owner_reads(tmp_path: Path):
    api, worker = command_claims(Settings(data_dir=tmp_path / "a")), command_claims(Settings(data_dir=tmp_path / "a"))
    assert (tmp_path / "a" / "command-key").stat().st_mode & 0o777 == 0o600
    assert verifies(worker, signed_by(api))  # an API and a worker on the same data dir agree
    other = command_claims(Settings(data_dir=tmp_path / "b"))
    assert not verifies(other, signed_by(api))  # another installation's key is another key


def test_production_needs_the_environments_key_of_32_characters_or_more(tmp_path: Path):
    with pytest.raises(StartupError, match="KAOHE_COMMAND_KEY"):
        command_claims(Settings(data_dir=tmp_path, env="production"))
    with pytest.raises(StartupError, match="KAOHE_COMMAND_KEY"):
        command_claims(Settings(data_dir=tmp_path, env="production", command_key="short"))
    key = "0123456789abcdef" * 4
    claims = command_claims(Settings(data_dir=tmp_path, env="production", command_key=key))
    assert verifies(Claims(key), signed_by(claims))
    assert not (tmp_path / "command-key").exists()
