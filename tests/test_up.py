"""`kaohe up`: the embedded stack in one process tree; Ctrl-C stops it cleanly; a restart finds
every piece of data again (event store, read models, accounts, and the running workflows)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from kaohe.runtime import free_port
from tests.helpers import TINY_SCHEME

pytestmark = pytest.mark.temporal
KAOHE = str(Path(sys.executable).parent / "kaohe")


def start(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([KAOHE, "up"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        try:
            if httpx.get(url + "/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("kaohe up did not become healthy")


def stop(proc: subprocess.Popen) -> tuple[int, str, str]:
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


def login(url: str, username: str, password: str) -> dict[str, str]:
    r = httpx.post(url + "/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_up_prints_credentials_stops_cleanly_and_restarts_with_all_data(tmp_path):
    api_port, t_port, ui_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "KAOHE_DATA_DIR": str(tmp_path / "data"),
        "KAOHE_API_PORT": str(api_port),
        "KAOHE_TEMPORAL_PORT": str(t_port),
        "KAOHE_TEMPORAL_UI_PORT": str(ui_port),
    }
    env.pop("KAOHE_ADMIN_PASSWORD", None)
    url = f"http://127.0.0.1:{api_port}"
    proc = start(env)
    try:
        wait_healthy(url, proc)
        creds = json.loads((tmp_path / "data" / "admin-credentials.json").read_text("utf-8"))
        admin = login(url, creds["username"], creds["password"])
        r = httpx.put(url + "/api/v1/users/org", json={"role": "organizer", "password": "org-pass-123"}, headers=admin)
        assert r.status_code == 201, r.text
        org = login(url, "org", "org-pass-123")
        r = httpx.post(url + "/api/v1/cycles", headers=org, json={"key": "keep", "year": 2026, "name": "重启测试", "schemes": {"grassroots_branch": TINY_SCHEME}})
        assert r.status_code == 201, r.text
        r = httpx.post(url + "/api/v1/cycles/keep/units", headers=org, json={"units": [{"key": "U1", "name": "一支部", "org_type": "grassroots_branch"}]})
        assert r.status_code == 201
        r = httpx.post(url + "/api/v1/cycles/keep/open", headers=org, timeout=60)
        assert r.status_code == 200, r.text
    finally:
        code, out, err = stop(proc)
    assert code == 0, err
    assert f"{url}/api/v1" in out and creds["password"] in out  # URLs and first admin's credentials
    # The dev server went down with it: nothing listens on its port any more.
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{ui_port}", timeout=1)

    proc = start(env)
    try:
        wait_healthy(url, proc)
        org = login(url, "org", "org-pass-123")  # accounts survived
        cycle = httpx.get(url + "/api/v1/cycles/keep", headers=org).json()
        assert cycle["status"] == "open" and cycle["stages"]["self_review"] == "open"
        # The cycle's workflow survived too: it takes the next step.
        r = httpx.post(url + "/api/v1/cycles/keep/stages/scoring/open", headers=org, timeout=60)
        assert r.status_code == 200, r.text
        assert r.json()["stages"]["scoring"] == "open"
    finally:
        code, out, err = stop(proc)
    assert code == 0, err
    assert "admin" in out and creds["password"] not in out  # the generated password is shown once, at the first start
    key = tmp_path / "data" / "command-key"  # the key API and worker sign commands with, the owner's alone
    assert key.stat().st_mode & 0o777 == 0o600 and len(key.read_text("utf-8").strip()) == 64


def test_a_production_admin_password_from_the_environment_is_never_printed_nor_written(tmp_path):
    api_port, t_port, ui_port = free_port(), free_port(), free_port()
    password = "prod-admin-Pa55word-from-env"
    env = {
        **os.environ,
        "KAOHE_ENV": "production",
        "KAOHE_DATA_DIR": str(tmp_path / "data"),
        "KAOHE_API_PORT": str(api_port),
        "KAOHE_TEMPORAL_PORT": str(t_port),
        "KAOHE_TEMPORAL_UI_PORT": str(ui_port),
        "KAOHE_ADMIN_PASSWORD": password,
        "KAOHE_COMMAND_KEY": "a-production-command-key-of-64-characters-0123456789abcdef012345",
    }
    url = f"http://127.0.0.1:{api_port}"
    proc = start(env)
    try:
        wait_healthy(url, proc)
        login(url, "admin", password)  # the first admin has the environment's password
    finally:
        code, out, err = stop(proc)
    assert code == 0, err
    assert password not in out and password not in err
    assert "KAOHE_ADMIN_PASSWORD" in out  # the banner says where the password is, not what
    assert not (tmp_path / "data" / "admin-credentials.json").exists()
    assert not (tmp_path / "data" / "command-key").exists()  # production uses the environment's key
    for path in (tmp_path / "data").rglob("*"):  # nor in any log or database of the data dir
        if path.is_file():
            assert password.encode() not in path.read_bytes(), path


def test_production_refuses_to_start_without_a_command_key(tmp_path):
    env = {**os.environ, "KAOHE_ENV": "production", "KAOHE_DATA_DIR": str(tmp_path / "data"), "KAOHE_ADMIN_PASSWORD": "x" * 16}
    env.pop("KAOHE_COMMAND_KEY", None)
    p = subprocess.run([KAOHE, "up"], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and "KAOHE_COMMAND_KEY" in p.stderr, p.stderr
