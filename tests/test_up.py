"""`kaohe up`: the embedded stack in one process tree; Ctrl-C stops it cleanly; a restart finds
every piece of data again (event store, read models, accounts, and the running workflows)."""

from __future__ import annotations

import json
import os
import re
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
    # The web page is what a newcomer opens: its address comes first, before the API's.
    lines = out.splitlines()
    assert lines[1].split() == ["网页", "web", ":", f"{url}/"], out
    assert lines.index(next(x for x in lines if "/api/v1" in x)) > 1
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




# ---------------------------------------------------------------- issue 11 §7: a newcomer's first minutes

ACCOUNT = re.compile(r"^\s+(\S+) (admin|organizer|evaluator|unit|representative|committee|auditor)\s+(\S+) / (\S+)")


def up_env(tmp_path: Path, name: str = "data", **extra: str) -> tuple[dict[str, str], str]:
    api_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAOHE_")}
    env.update(
        KAOHE_DATA_DIR=str(tmp_path / name), KAOHE_API_PORT=str(api_port), KAOHE_TEMPORAL_PORT=str(free_port()),
        KAOHE_TEMPORAL_UI_PORT=str(free_port()), XDG_RUNTIME_DIR=str(tmp_path / "run"), PYTHONUNBUFFERED="1", **extra,
    )
    (tmp_path / "run").mkdir(exist_ok=True)
    return env, f"http://127.0.0.1:{api_port}"


def banner_of(proc: subprocess.Popen, timeout: float = 180) -> list[str]:
    """The lines ``kaohe up`` prints up to "press Ctrl-C" (it then serves)."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            assert proc.poll() is None, proc.stderr.read()
            continue
        lines.append(line.rstrip("\n"))
        if "Ctrl-C" in line:
            return lines
    raise AssertionError("kaohe up printed no banner: " + "\n".join(lines))


def signed_in_on_the_web_page(url: str, accounts: dict[str, tuple[str, str]]) -> None:
    """In Chromium, each printed account signs in at the printed web address and lands in its
    inbox, its role shown in the header."""
    from api.web import catalogue
    from tests.test_web import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        return
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for role, (user, password) in accounts.items():
                context = chromium.new_context(base_url=url, locale="zh-CN")
                page = context.new_page()
                page.goto("/")
                page.fill("#username", user)
                page.fill("#password", password)
                page.click("form.form button[type=submit]")
                page.wait_for_url(re.compile(r"/tasks$"))
                assert catalogue.role("zh", role) in page.inner_text("header"), role
                context.close()
        finally:
            chromium.close()


def test_up_demo_loads_the_example_in_progress_with_one_account_per_role(tmp_path):
    env, url = up_env(tmp_path)
    proc = subprocess.Popen([KAOHE, "up", "--demo"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = banner_of(proc)
        assert lines[1].split() == ["网页", "web", ":", f"{url}/"]
        accounts = {m.group(2): (m.group(3), m.group(4)) for m in map(ACCOUNT.match, lines) if m}
        assert set(accounts) == {"admin", "organizer", "evaluator", "unit", "representative", "committee", "auditor"}, lines
        assert len({p for _, p in accounts.values()}) == 7  # random, one each
        for role, (user, password) in accounts.items():  # each signs in with what was printed
            headers = login(url, user, password)
            me = httpx.get(url + "/api/v1/me", headers=headers).json()
            assert me["role"] == role, me
        org = login(url, *accounts["organizer"])
        cycle = httpx.get(url + "/api/v1/cycles/2026-annual", headers=org).json()
        assert cycle["status"] == "open" and cycle["stages"]["scoring"] == "open", cycle  # a cycle in progress
        eva = login(url, *accounts["evaluator"])
        kinds = {t["kind"] for t in httpx.get(url + "/api/v1/tasks", headers=eva).json()}
        assert "submit_scoring" in kinds  # the evaluator has work to do
        unit = login(url, *accounts["unit"])
        mine = httpx.get(url + "/api/v1/cycles/2026-annual/units/U01", headers=unit).json()
        assert mine["self_review"] == "submitted"
        signed_in_on_the_web_page(url, accounts)
    finally:
        code, out, err = stop(proc)
    assert code == 0, err
    # The passwords were printed once, not kept: only the first admin's file exists, as before.
    assert sorted(x.name for x in (tmp_path / "data").iterdir() if x.suffix == ".json") == ["admin-credentials.json"]

    # Again on the same data dir: refused in one line, the loaded example untouched.
    env2 = {**env, "KAOHE_API_PORT": str(free_port())}
    again = subprocess.run([KAOHE, "up", "--demo"], env=env2, capture_output=True, text=True, timeout=120)
    assert again.returncode == 1, again.stderr
    assert again.stderr.strip().count("\n") == 0 and "--demo 需要一个全新的数据目录" in again.stderr


def test_up_demo_is_refused_in_production(tmp_path):
    env, _ = up_env(tmp_path, KAOHE_ENV="production", KAOHE_ADMIN_PASSWORD="prod-admin-pass-1")
    p = subprocess.run([KAOHE, "up", "--demo"], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr.splitlines() == ["kaohe: --demo 不能用于生产模式（KAOHE_ENV=production）/ --demo is refused in production"]
    assert not (tmp_path / "data" / "events.sqlite").exists()


def test_simulate_api_finds_the_credentials_of_the_running_up_or_says_what_it_tried(tmp_path):
    from tests.conftest import CONTRACT

    env, url = up_env(tmp_path)
    proc = start(env)
    try:
        wait_healthy(url, proc)
        # From another directory, without KAOHE_DATA_DIR: it finds the admin `kaohe up` made.
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        sim_env = {k: v for k, v in env.items() if k != "KAOHE_DATA_DIR"}
        p = subprocess.run([KAOHE, "simulate", str(CONTRACT / "example-2026.json"), "--api", url, "--quiet", "--no-feedback"],
                           env=sim_env, cwd=elsewhere, capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr
        assert json.loads(p.stdout)["cycle"] == "example-2026"
        # Where no `kaohe up` noted its data dir and the password given is wrong: one line naming
        # each source tried and how to set the credentials; nothing stored.
        lost = {**sim_env, "XDG_RUNTIME_DIR": str(tmp_path / "nowhere"), "KAOHE_ADMIN_PASSWORD": "not-the-password"}
        p = subprocess.run([KAOHE, "simulate", str(CONTRACT / "example-2026.json"), "--api", url, "--quiet"],
                           env=lost, cwd=elsewhere, capture_output=True, text=True, timeout=120)
        assert p.returncode == 1 and p.stdout == "", p.stderr
        [line] = p.stderr.splitlines()
        assert line.startswith(f"kaohe: 无法以管理员身份登录 {url}：试过 KAOHE_ADMIN_USER/KAOHE_ADMIN_PASSWORD（用户 admin 被拒 401")
        assert str((elsewhere / ".kaohe" / "admin-credentials.json").resolve()) + "（没有 / none）" in line
        assert "KAOHE_DATA_DIR" in line and "not-the-password" not in line
    finally:
        code, out, err = stop(proc)
    assert code == 0, err
    assert not list((tmp_path / "run").glob("kaohe-*/api-*.json"))  # the note went with it
