"""The ``kaohe`` console script, run as a user runs it (SPEC §7).

Each ``kaohe`` here is a real subprocess with its own ``KAOHE_DATA_DIR`` and a
``KAOHE_API_PORT`` on which nothing listens, so ``kaohe simulate`` starts the embedded stack
(its own Temporal dev server, worker and API on free ports) and stops it before it exits.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.accounts import Accounts
from domain.application import Assessments
from kaohe.runtime import free_port
from kaohe.settings import Settings
from projections.models import DistributionRow, ResultRow
from projections.runner import make_engine
from tests.conftest import CONTRACT, EXAMPLES

pytestmark = pytest.mark.temporal

KAOHE = Path(sys.executable).parent / "kaohe"
SHARED_EXAMPLE = CONTRACT / "example-2026.json"
REPO_EXAMPLE = EXAMPLES / "scenario-2026.json"


def results_file(scenario: Path) -> Path:
    return scenario.with_name(scenario.name.removesuffix(".json") + ".results.json")


class Kaohe:
    """One installation as the CLI sees it: a data dir, optionally a PostgreSQL database."""

    def __init__(self, data_dir: Path, database_url: str | None = None) -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        data_dir.parent.mkdir(parents=True, exist_ok=True)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KAOHE_")}
        env.update(KAOHE_DATA_DIR=str(self.data_dir), KAOHE_API_PORT=str(free_port()), PYTHONUNBUFFERED="1")
        if self.database_url:
            env["KAOHE_DATABASE_URL"] = self.database_url
        return env

    def __call__(self, *args: str, input: str | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(KAOHE), *args], env=self.env(), cwd=self.data_dir.parent, input=input,
            capture_output=True, text=True, timeout=timeout,
        )

    def settings(self) -> Settings:
        return Settings(data_dir=self.data_dir, database_url=self.database_url)

    def app(self) -> Assessments:
        return Assessments(env=self.settings().event_store_env())

    def has_event_store(self) -> bool:
        if self.database_url:
            return True
        return (self.data_dir / "events.sqlite").exists()


def one_error_line(p: subprocess.CompletedProcess) -> str:
    """A refusal: non-zero exit, nothing on stdout, one ``kaohe:`` line on stderr."""
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert p.stdout == ""
    lines = p.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kaohe:"), p.stderr
    return lines[0]


def simulated(kaohe: Kaohe, scenario: Path, *extra: str) -> subprocess.CompletedProcess:
    """``kaohe simulate SCENARIO --out <data dir>/../results.json``, which must succeed cleanly."""
    out = kaohe.data_dir.parent / "results.json"
    p = kaohe("simulate", str(scenario), "--out", str(out), *extra)
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr, p.stderr
    return p


# ---------------------------------------------------------------- a. simulate, then replay


@pytest.fixture(scope="module")
def shared_on_sqlite(tmp_path_factory: pytest.TempPathFactory) -> tuple[Kaohe, subprocess.CompletedProcess]:
    """The shared worked example simulated once on SQLite (also used by the rebuild test)."""
    kaohe = Kaohe(tmp_path_factory.mktemp("shared-sqlite") / "data")
    return kaohe, simulated(kaohe, SHARED_EXAMPLE)


@pytest.mark.parametrize(
    ("scenario", "backend"),
    [
        pytest.param(SHARED_EXAMPLE, "sqlite", id="shared-example-sqlite"),
        pytest.param(SHARED_EXAMPLE, "postgres", id="shared-example-postgres", marks=pytest.mark.postgres),
        pytest.param(REPO_EXAMPLE, "sqlite", id="repo-example-sqlite"),
    ],
)
def test_simulate_prints_the_expected_results_and_replay_prints_the_same(
    scenario: Path, backend: str, tmp_path: Path, request: pytest.FixtureRequest
):
    if scenario == SHARED_EXAMPLE and backend == "sqlite":
        kaohe, p = request.getfixturevalue("shared_on_sqlite")
    else:
        db = request.getfixturevalue("pg_database") if backend == "postgres" else None
        kaohe = Kaohe(tmp_path / "data", db)
        p = simulated(kaohe, scenario)
    expected = json.loads(results_file(scenario).read_text("utf-8"))
    out = kaohe.data_dir.parent / "results.json"
    assert json.loads(out.read_text("utf-8")) == expected
    assert json.loads(p.stdout) == expected
    assert out.read_text("utf-8") == p.stdout  # one way of printing

    key = json.loads(scenario.read_text("utf-8"))["cycle"]["key"]
    replay = kaohe("audit", "replay", "--cycle", key, timeout=60)
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout == p.stdout  # the same text, from the event log alone
    assert replay.stderr == ""


# ---------------------------------------------------------------- b. malformed scenarios


def _without_units(sc: dict) -> dict:
    del sc["units"]
    return sc


def _unit_not_scored(sc: dict) -> dict:
    del sc["scores"]["P03"]
    return sc


def _roster_twice(sc: dict) -> dict:
    rep = sc["debrief"]["ballots"][0]
    sc["debrief"]["roster"] = [{"representative": rep["representative"], "category": rep.get("category")}] * 2
    return sc


@pytest.mark.parametrize(
    ("make", "mentions"),
    [
        pytest.param(None, "JSON", id="invalid-json"),
        pytest.param(_without_units, "units", id="no-units"),
        pytest.param(_unit_not_scored, "scores.P03", id="unit-not-scored"),
        pytest.param(_roster_twice, "debrief.roster[1].representative", id="roster-twice"),
    ],
)
def test_a_malformed_scenario_is_refused_before_anything_is_stored(make, mentions: str, tmp_path: Path):
    path = tmp_path / "scenario.json"
    if make is None:
        text = SHARED_EXAMPLE.read_text("utf-8")
        path.write_text(text[: len(text) // 2], "utf-8")  # cut short: not JSON
    else:
        path.write_text(json.dumps(make(json.loads(SHARED_EXAMPLE.read_text("utf-8"))), ensure_ascii=False), "utf-8")
    kaohe = Kaohe(tmp_path / "data")
    line = one_error_line(kaohe("simulate", str(path), "--out", str(tmp_path / "results.json"), timeout=60))
    assert mentions in line
    assert not (tmp_path / "results.json").exists()
    assert not kaohe.has_event_store() or not kaohe.app().has_cycle("example-2026")


def test_a_missing_scenario_file_is_one_line(tmp_path: Path):
    line = one_error_line(Kaohe(tmp_path / "data")("simulate", str(tmp_path / "nope.json"), timeout=60))
    assert "nope.json" in line


# ---------------------------------------------------------------- c. scenarios the system rejects

TINY_SCHEME = {
    "key": "tiny", "name": "测试指标", "total": 10,
    "indicators": [{"code": "1", "name": "一级", "max": 10, "children": [
        {"code": "1.1", "name": "二级", "max": 10, "points": [
            {"code": "1.1.1", "name": "要点一", "max": 6},
            {"code": "1.1.2", "name": "要点二", "max": 4},
        ]},
    ]}],
}


def tie_scenario(**changes: Any) -> dict:
    """Two branches equal in everything: W = 95.00, D = mean(95, 93, 91) = 93.00, C = F = 94.40 ≥ 90,
    n = 2 so q = floor(0.5 × 2) = 1: both compete for the one excellent place."""
    sc = {
        "cycle": {"key": "tie-2026", "year": 2026, "name": "并列测试"},
        "schemes": {"grassroots_branch": TINY_SCHEME},
        "units": [
            {"key": "T1", "name": "第一支部", "org_type": "grassroots_branch"},
            {"key": "T2", "name": "第二支部", "org_type": "grassroots_branch"},
        ],
        "scores": {"T1": {"1.1.1": "6", "1.1.2": "3.5"}, "T2": {"1.1.1": "6", "1.1.2": 3.5}},
        "debrief": {"ballots": [
            {"representative": "R1", "scores": {"T1": "95", "T2": 95}},
            {"representative": "R2", "scores": {"T1": "93", "T2": "93"}},
            {"representative": "R3", "scores": {"T1": "91", "T2": "91"}},
        ]},
    }
    sc.update(copy.deepcopy(changes))
    return sc


def write(path: Path, sc: dict) -> Path:
    path.write_text(json.dumps(sc, ensure_ascii=False), "utf-8")
    return path


def test_an_unresolved_tie_fails_with_the_systems_message_and_a_resolved_one_passes(tmp_path: Path):
    kaohe = Kaohe(tmp_path / "unresolved" / "data")
    p = kaohe("simulate", str(write(tmp_path / "tie.json", tie_scenario())), "--quiet", "--out", str(tmp_path / "r.json"))
    assert p.returncode == 1, p.stderr
    assert p.stdout == "" and not (tmp_path / "r.json").exists()
    line = one_error_line(p)  # --quiet: the error is all there is
    assert "并列" in line and "allocation" in line and "T1" in line and "T2" in line
    assert kaohe.app().cycle("tie-2026").status != "published"

    kaohe = Kaohe(tmp_path / "resolved" / "data")
    resolved = tie_scenario(allocation={"ties": {"grassroots_branch": ["T2"]}})
    p = kaohe("simulate", str(write(tmp_path / "tie-resolved.json", resolved)), "--quiet")
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    units = json.loads(p.stdout)["units"]
    assert units["T1"]["final_score"] == units["T2"]["final_score"] == "94.40"
    assert units["T1"]["rank"] == units["T2"]["rank"] == 1
    assert units["T2"]["grade"] == "excellent"
    assert units["T1"]["grade"] == "good"  # eligible, beyond the quota
    assert json.loads(p.stdout)["distribution"] == {"grassroots_branch": {"excellent": 1, "good": 1, "average": 0, "poor": 0}}
    replay = kaohe("audit", "replay", "--cycle", "tie-2026", timeout=60)
    assert replay.returncode == 0 and replay.stdout == p.stdout


def test_the_scenarios_roster_is_played_and_an_off_roster_ballot_fails(tmp_path: Path):
    """Roster R1..R4, R4 absent: turnout 3/4 = 0.75 < min_turnout 0.8, so the debrief closes
    with the runner's reason; the grades are those of the tie scenario resolved for T2 (F = 94.40).
    Then a roster without R3, who casts: the system refuses it, naming R3."""
    roster = [{"representative": r} for r in ("R1", "R2", "R3", "R4")]
    sc = tie_scenario(allocation={"ties": {"grassroots_branch": ["T2"]}})
    sc["cycle"]["policy"] = {"min_turnout": "0.8"}
    sc["debrief"]["roster"] = roster
    kaohe = Kaohe(tmp_path / "rostered" / "data")
    p = kaohe("simulate", str(write(tmp_path / "rostered.json", sc)), "--quiet")
    assert p.returncode == 0, p.stderr
    units = json.loads(p.stdout)["units"]
    assert (units["T1"]["final_score"], units["T2"]["grade"]) == ("94.40", "excellent")
    s = kaohe.app().session("tie-2026", "grassroots_branch")
    assert (len(s.sheets), s.rostered) == (3, 4) and "模拟" in s.close_reason

    sc["debrief"]["roster"] = roster[:2]
    kaohe = Kaohe(tmp_path / "off-roster" / "data")
    line = one_error_line(kaohe("simulate", str(write(tmp_path / "off-roster.json", sc)), "--quiet"))
    assert "R3" in line and "名单" in line


def branches(n: int, bad: str | None = None) -> dict:
    """``n`` branches T1..Tn on the tiny scheme, each scored 8 of 10; ``bad`` scores 6.5 of 6 on 1.1.1."""
    keys = [f"T{i}" for i in range(1, n + 1)]
    sc = tie_scenario()
    sc["cycle"]["key"] = "bad-2026"
    sc["units"] = [{"key": k, "name": f"第{k[1:]}支部", "org_type": "grassroots_branch"} for k in keys]
    sc["scores"] = {k: {"1.1.1": "5", "1.1.2": "3"} for k in keys}
    sc["debrief"] = {"ballots": [{"representative": r, "scores": {k: "90" for k in keys}} for r in ("R1", "R2", "R3")]}
    if bad:
        sc["scores"][bad]["1.1.1"] = "6.5"
    return sc


def test_a_score_above_the_points_max_fails_naming_the_field(tmp_path: Path):
    kaohe = Kaohe(tmp_path / "data")
    p = kaohe("simulate", str(write(tmp_path / "too-high.json", branches(1, bad="T1"))), "--quiet")
    line = one_error_line(p)
    assert "scores.1.1.1" in line and "6.5" in line and "T1" in line
    # Refused, so not stored.
    assert kaohe.app().unit("bad-2026", "T1").scores is None


def test_a_refused_simulation_exits_promptly_with_one_line(tmp_path: Path):
    """One unit's scoring is refused while the other units' scorings are being stored (8 at a time)."""
    path = write(tmp_path / "bad.json", branches(8, bad="T1"))
    kaohe = Kaohe(tmp_path / "data")
    p = subprocess.Popen([str(KAOHE), "simulate", str(path), "--quiet"], env=kaohe.env(), cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = p.stderr.readline()
        error_at = time.monotonic()
        rest = p.stderr.read()
        p.wait(timeout=120)
        exited_after = time.monotonic() - error_at
        stdout = p.stdout.read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 1
    assert stdout == ""
    assert first.startswith("kaohe:") and "scores.1.1.1" in first, first
    assert rest == "", f"{len(rest.splitlines())} more lines on stderr, e.g.: {rest[:600]}"
    assert exited_after < 10, f"exited {exited_after:.1f} s after reporting the refusal"


def test_a_committee_too_small_for_a_unit_fails_with_the_systems_message(tmp_path: Path):
    """SPEC §7: the scenario's committee is C01 and C02, and C02 is attached to P02. The bonus for
    P02 can then be decided by one member only, fewer than the quorum of 2: the system refuses
    at once naming P02, and ``simulate`` exits 1 with that refusal as its one line."""
    sc = json.loads(SHARED_EXAMPLE.read_text("utf-8"))
    sc["committee"] = [{"user": "C01"}, {"user": "C02", "unit": "P02"}]
    kaohe = Kaohe(tmp_path / "data")
    p = kaohe("simulate", str(write(tmp_path / "small-committee.json", sc)), "--quiet")
    assert p.returncode == 1, p.stdout + p.stderr
    assert p.stdout == ""
    line = p.stderr.strip()
    assert "\n" not in line and line.startswith("kaohe:"), line
    assert "P02" in line and "法定人数 2" in line and "quorum of 2" in line, line


# ---------------------------------------------------------------- d. users, replay, rebuild


def test_users_add(tmp_path: Path):
    kaohe = Kaohe(tmp_path / "data")
    p = kaohe("users", "add", "zhang", "--role", "organizer", "--password", "zhang-pass-1", "--name", "张三", timeout=60)
    assert p.returncode == 0, p.stderr
    assert "zhang" in p.stdout and p.stderr == ""

    line = one_error_line(kaohe("users", "add", "zhang", "--role", "auditor", "--password", "other-pass-2", timeout=60))
    assert "zhang" in line

    line = one_error_line(kaohe("users", "add", "li", "--role", "unit", "--password", "li-pass-12345", timeout=60))
    assert "unit" in line

    p = kaohe("users", "add", "wang", "--role", "unit", "--unit", "U01", "--password-stdin", input="wang-pass-2026\n", timeout=60)
    assert p.returncode == 0, p.stderr
    p = kaohe("users", "add", "zhao", "--role", "evaluator", timeout=60)  # a password is generated and shown once
    assert p.returncode == 0, p.stderr
    generated = [line.split(":", 1)[1].strip() for line in p.stdout.splitlines() if line.startswith("密码 password:")]
    assert len(generated) == 1 and len(generated[0]) >= 12

    accounts = Accounts(make_engine(kaohe.settings().read_url()))
    assert accounts.login("zhang", "zhang-pass-1")[2].role == "organizer"  # the duplicate changed nothing
    assert accounts.login("zhang", "other-pass-2") is None
    assert accounts.login("wang", "wang-pass-2026")[2].unit == "U01"
    assert accounts.login("zhao", generated[0]) is not None
    assert {u.username for u in accounts.list()} == {"zhang", "wang", "zhao"}  # "li" was refused


def test_replaying_an_unknown_cycle_exits_1(tmp_path: Path, shared_on_sqlite):
    line = one_error_line(Kaohe(tmp_path / "data")("audit", "replay", "--cycle", "nope", timeout=60))
    assert "nope" in line
    kaohe, _ = shared_on_sqlite
    line = one_error_line(kaohe("audit", "replay", "--cycle", "nope", timeout=60))
    assert "nope" in line


def _read_models(kaohe: Kaohe) -> tuple[list, list]:
    engine = make_engine(kaohe.settings().read_url())
    try:
        with Session(engine) as db:
            results = [(r.cycle, r.unit, r.cohort, r.result) for r in db.scalars(select(ResultRow).order_by(ResultRow.cycle, ResultRow.unit))]
            dist = [(r.cycle, r.cohort, r.counts) for r in db.scalars(select(DistributionRow).order_by(DistributionRow.cycle, DistributionRow.cohort))]
        return results, dist
    finally:
        engine.dispose()


def test_projections_rebuild_after_a_simulation_gives_the_same_read_models(shared_on_sqlite):
    kaohe, simulate = shared_on_sqlite
    before = _read_models(kaohe)
    expected = json.loads(results_file(SHARED_EXAMPLE).read_text("utf-8"))
    assert {unit: result for _, unit, _, result in before[0]} == expected["units"]
    assert {cohort: counts for _, cohort, counts in before[1]} == expected["distribution"]

    p = kaohe("projections", "rebuild", timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "" and "Traceback" not in p.stderr
    assert _read_models(kaohe) == before
    replay = kaohe("audit", "replay", "--cycle", "example-2026", timeout=60)
    assert replay.returncode == 0 and replay.stdout == simulate.stdout


def test_the_simulated_feedback_says_the_grade_in_words(shared_on_sqlite):
    """Issue 11 §7: the example's feedback read "考核等次「excellent」"; a letter says the grade
    as the SPEC names it (优秀 / 良好 / 一般 / 较差)."""
    kaohe, _ = shared_on_sqlite
    from projections.models import UnitRow

    engine = make_engine(kaohe.settings().read_url())
    try:
        with Session(engine) as db:
            texts = {r.unit: r.feedback_text for r in db.scalars(select(UnitRow).where(UnitRow.cycle == "example-2026"))}
    finally:
        engine.dispose()
    # examples/contract/example-2026.results.json: P01 excellent 96.76 (2nd), P03 good, Q04 average, P05 poor.
    assert "考核等次「优秀」，最终得分 96.76（第 2 名）" in texts["P01"]
    assert "考核等次「良好」" in texts["P03"] and "考核等次「一般」" in texts["Q04"] and "考核等次「较差」" in texts["P05"]
    assert not any(g in t for t in texts.values() for g in ("excellent", "good", "average", "poor"))


def test_usage_errors_exit_2(tmp_path: Path):
    kaohe = Kaohe(tmp_path / "data")
    p = kaohe("users", "add", "someone", timeout=60)  # --role is required
    assert p.returncode == 2 and p.stdout == "" and "--role" in p.stderr
    p = kaohe("audit", "replay", timeout=60)  # --cycle is required
    assert p.returncode == 2 and "--cycle" in p.stderr


def test_simulate_against_an_api_that_is_not_there_is_one_line(tmp_path: Path):
    kaohe = Kaohe(tmp_path / "data")
    url = f"http://127.0.0.1:{free_port()}"
    line = one_error_line(kaohe("simulate", str(SHARED_EXAMPLE), "--api", url, "--retry-for", "2", timeout=60))
    assert url in line
    assert not kaohe.has_event_store() or not kaohe.app().has_cycle("example-2026")


def test_simulating_a_cycle_again_is_refused_and_stores_nothing(shared_on_sqlite, tmp_path: Path):
    kaohe, first = shared_on_sqlite
    app = kaohe.app()
    before = app.recorder.max_notification_id()
    p = kaohe("simulate", str(SHARED_EXAMPLE), "--quiet", "--out", str(tmp_path / "again.json"))
    line = one_error_line(p)
    assert "example-2026" in line and "已存在" in line
    assert not (tmp_path / "again.json").exists()
    assert app.recorder.max_notification_id() == before
    replay = kaohe("audit", "replay", "--cycle", "example-2026", timeout=60)
    assert replay.returncode == 0 and replay.stdout == first.stdout
