"""The repository's copy of the product contract's worked example stays identical to shared/."""

import pytest

from tests.conftest import CONTRACT, SHARED


@pytest.mark.parametrize("name", ["example-2026.json", "example-2026.results.json"])
def test_the_contract_example_is_the_shared_one(name):
    shared = SHARED / "examples" / name
    if not shared.exists():
        pytest.skip(f"shared/ is not beside the repository ({shared})")
    assert (CONTRACT / name).read_bytes() == shared.read_bytes()
