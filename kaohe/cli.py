"""``kaohe``: the command line. Every command exits with the code it means (0 ok, 1 refused or
failed, 2 usage) and shuts its Temporal clients and workers down first."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from domain.errors import DomainError, InvalidInput
from kaohe import __version__
from kaohe.settings import Settings

log = logging.getLogger("kaohe")


def fail(message: str, code: int = 1) -> int:
    print(f"kaohe: {message}", file=sys.stderr)
    return code


# ---------------------------------------------------------------- servers


#: The worked example ``kaohe up --demo`` loads (SPEC §7 scenario format).
DEMO_SCENARIO = Path(__file__).resolve().parent.parent / "examples" / "scenario-2026.json"
#: Role → the words the banner uses for it.
ROLE_WORDS = {
    "admin": "管理员 admin", "organizer": "组织部 organizer", "evaluator": "考核组 evaluator", "unit": "被考核单位 unit",
    "representative": "参会代表 representative", "committee": "集团党委 committee", "auditor": "审计 auditor",
}
DEMO_AUDITOR = "demo-auditor"


async def _load_demo(settings: Settings, stack: Any) -> list[tuple[str, str, str, str]]:
    """Play the worked example into the fresh stack up to scoring (self-reviews in, scoring open)
    and return one account per role: (role, username, password, who)."""
    from kaohe.runtime import read_credentials
    from simulation import runner as simulate
    from simulation.scenario import load

    # Fresh: nothing in the log but the first admin's creation (accounts are events too).
    if any(not n.topic.startswith("domain.aggregates.account:") for n in stack.app.recorder.select_notifications(start=1, limit=100)):
        raise DemoRefused(
            f"--demo 需要一个全新的数据目录，{settings.data_dir.resolve()} 中已有数据；"
            "请设置 KAOHE_DATA_DIR 为新目录（或用 make demo）/ --demo needs a fresh data dir"
        )
    admin = stack.admin if stack.admin and stack.admin[1] else read_credentials(settings)
    if admin is None:
        raise DemoRefused("找不到管理员账号 / no admin credentials")
    scenario = load(str(DEMO_SCENARIO))
    progress = simulate.Progress()
    progress.step(f"载入示例 {DEMO_SCENARIO.name} / loading the worked example")
    try:
        await simulate.run(stack.api_url, admin, scenario, progress, feedback=False, stop_after="self_review")
        raise DemoRefused("示例场景未在指标评分前停下 / the example did not stop at scoring")  # pragma: no cover
    except simulate.Stopped as stopped:
        people, passwords = stopped.people, stopped.passwords
    except simulate.SimulationError as err:
        raise DemoRefused(str(err)) from None
    auditor_password = secrets.token_urlsafe(12)
    async with httpx.AsyncClient(timeout=60) as http:
        base = stack.api_url + "/api/v1"
        r = await http.post(base + "/auth/login", json={"username": admin[0], "password": admin[1]})
        token = r.json()["access_token"]
        r = await http.put(
            f"{base}/users/{DEMO_AUDITOR}", headers={"Authorization": f"Bearer {token}"},
            json={"role": "auditor", "display_name": "审计（示例）", "password": auditor_password},
        )
        if r.status_code >= 400:
            raise DemoRefused(f"创建审计账号失败 / could not create the auditor: {r.status_code}")
    accounts = [("admin", admin[0], admin[1], "")]
    for role in ("organizer", "evaluator", "unit", "representative", "committee"):
        name = next((n for n in sorted(people) if people[n]["role"] == role), None)
        if name is not None:
            accounts.append((role, name, passwords[name], people[name].get("display_name", "")))
    accounts.append(("auditor", DEMO_AUDITOR, auditor_password, "审计（示例）"))
    return accounts


class DemoRefused(RuntimeError):
    """``kaohe up --demo`` cannot load the example (one readable line)."""


async def _serve(
    settings: Settings, *, with_worker: bool, with_api: bool, embedded: bool | None, banner: bool, demo: bool = False,
) -> int:
    from kaohe.runtime import StartupError, forget_running, note_running, start_stack, wait_for_signal

    try:
        stack = await start_stack(settings, embedded_temporal=embedded, with_worker=with_worker, with_api=with_api)
    except StartupError as err:
        return fail(str(err))
    noted = None
    try:
        accounts = None
        if demo:
            try:
                accounts = await _load_demo(settings, stack)
            except DemoRefused as err:
                return fail(str(err))
        if stack.api_url:
            noted = note_running(settings, stack.api_url)
        if banner:
            print(f"Kaohe 考核 {__version__} 已启动 / is up", flush=True)
            if stack.api_url:
                print(f"  网页 web          : {stack.api_url}/")
            print(f"  数据目录 data dir : {settings.data_dir.resolve()}")
            if stack.api_url:
                print(f"  API              : {stack.api_url}/api/v1")
                print(f"  接口文档 docs     : {stack.api_url}/docs")
            if stack.devserver:
                print(f"  Temporal         : {stack.devserver.address}  (UI http://127.0.0.1:{stack.devserver.ui_port})")
            if accounts:
                print("  示例周期 demo cycle: 2026年度党建工作考核（自查自评已提交，指标评分进行中 / self-reviews in, scoring open）")
                print("  示例账号 demo accounts（密码只显示这一次 / passwords are shown only once）:")
                for role, user, password, who in accounts:
                    print(f"    {ROLE_WORDS[role]:<28} {user} / {password}" + (f"  （{who}）" if who else ""))
            elif stack.admin:
                user, password = stack.admin  # a password only when generated now (never one from the environment)
                if password:
                    print(f"  首个管理员 admin  : {user} / {password}  （已保存至 {settings.data_dir / 'admin-credentials.json'}）")
                elif settings.admin_password is not None:
                    print(f"  管理员 admin      : {user}（密码为 KAOHE_ADMIN_PASSWORD 所设 / password as set in KAOHE_ADMIN_PASSWORD）")
                else:
                    print(f"  管理员 admin      : {user}（密码见首次启动时的输出或 {settings.data_dir / 'admin-credentials.json'}）")
            print("按 Ctrl-C 停止 / press Ctrl-C to stop", flush=True)
        await wait_for_signal()
        print("正在停止 / stopping…", file=sys.stderr, flush=True)
    finally:
        forget_running(noted)
        await stack.stop()
    return 0


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    if getattr(args, "demo", False) and settings.production:
        return fail("--demo 不能用于生产模式（KAOHE_ENV=production）/ --demo is refused in production")
    return asyncio.run(_serve(settings, with_worker=True, with_api=True, embedded=None, banner=True, demo=getattr(args, "demo", False)))


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_serve(settings, with_worker=True, with_api=False, embedded=settings.temporal_address is None, banner=True))


def cmd_api(args: argparse.Namespace, settings: Settings) -> int:
    if settings.temporal_address is None:
        return fail("kaohe api 需要 KAOHE_TEMPORAL_ADDRESS（嵌入式请用 kaohe up）/ set KAOHE_TEMPORAL_ADDRESS, or use `kaohe up`", 1)
    return asyncio.run(_serve(settings, with_worker=False, with_api=True, embedded=False, banner=True))


# ---------------------------------------------------------------- users


def cmd_users_add(args: argparse.Namespace, settings: Settings) -> int:
    from projections.runner import make_engine

    password = args.password
    generated = False
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif password is None:
        password, generated = secrets.token_urlsafe(12), True
    from kaohe.runtime import accounts_for

    accounts = accounts_for(settings, make_engine(settings.read_url()))
    try:
        user = accounts.add(args.username, args.role, password, args.unit, args.name)
    except DomainError as err:
        return fail(f"{err.message}" + (f"（{err.field}）" if err.field else ""))
    print(f"已创建用户 created: {user.username}（{user.role}{'，' + user.unit if user.unit else ''}）")
    if generated:
        print(f"密码 password: {password}")
    return 0


# ---------------------------------------------------------------- simulate


async def _api_is_up(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            r = await http.get(url.rstrip("/") + "/api/v1/health")
            return r.status_code == 200
    except httpx.HTTPError:
        return False


async def _admin_for(url: str, candidates: list[tuple[str, tuple[str, str] | None]]) -> tuple[tuple[str, str] | None, str]:
    """The first candidate admin credentials the API at ``url`` accepts, and a line saying what
    was tried (source and outcome; never a password)."""
    tried = []
    async with httpx.AsyncClient(timeout=30) as http:
        for source, creds in candidates:
            if creds is None:
                tried.append(f"{source}（没有 / none）")
                continue
            try:
                r = await http.post(url.rstrip("/") + "/api/v1/auth/login", json={"username": creds[0], "password": creds[1]})
            except httpx.HTTPError as err:
                tried.append(f"{source}（{type(err).__name__}）")
                continue
            if r.status_code == 200:
                return creds, ""
            tried.append(f"{source}（用户 {creds[0]} 被拒 {r.status_code} / refused）")
    return None, "；".join(tried)


async def _simulate(args: argparse.Namespace, settings: Settings, scenario: dict[str, Any]) -> int:
    from simulation import runner as simulate
    from kaohe.runtime import StartupError, credential_candidates, free_port, start_stack
    from simulation.scenario import dumps

    progress = simulate.Progress(quiet=args.quiet)
    url = args.api or f"http://{settings.api_host}:{settings.api_port}"
    stack = None
    retry_for = float(args.retry_for)
    if args.api:  # an API that is starting (or restarting) gets as long as any step would
        deadline = time.monotonic() + retry_for
        while not await _api_is_up(url):
            if time.monotonic() >= deadline:
                return fail(f"API {url} 在 {retry_for:g} 秒内无法访问 / the API was not reachable within {retry_for:g} s")
            await asyncio.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    elif not await _api_is_up(url):
        progress.step("未发现运行中的 API，启动嵌入式系统 / no API up: starting the embedded stack")
        for attempt in range(3):  # a free port can be taken by someone else before we bind it
            try:
                stack = await start_stack(
                    settings, embedded_temporal=settings.temporal_address is None,
                    api_port=free_port(), temporal_port=free_port(), ui_port=free_port(),
                )
                break
            except StartupError as err:
                if attempt == 2:
                    return fail(str(err))
        url = stack.api_url
    try:
        admin, tried = await _admin_for(url, credential_candidates(settings, url))
        if admin is None:
            return fail(
                f"无法以管理员身份登录 {url}：试过 {tried}；请设置 KAOHE_ADMIN_USER/KAOHE_ADMIN_PASSWORD，"
                "或把 KAOHE_DATA_DIR 设为运行中的 kaohe up 所用的数据目录 / no admin sign-in worked"
            )
        try:
            results = await simulate.run(url, admin, scenario, progress, feedback=not args.no_feedback, retry_for=retry_for)
        except simulate.SimulationError as err:
            return fail(str(err))
        except httpx.HTTPError as err:  # anything the retries did not cover: still one line
            return fail(f"API {url}：{type(err).__name__}: {' '.join(str(err).split())} / the API failed")
        text = dumps(results)
        if args.out:
            Path(args.out).write_text(text, "utf-8")
            progress.step(f"结果已写入 / results written to {args.out}")
        sys.stdout.write(text)
        return 0
    finally:
        if stack is not None:
            await stack.stop()


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    from simulation.scenario import ScenarioError, load

    try:
        scenario = load(args.scenario)
    except ScenarioError as err:
        return fail(str(err))
    return asyncio.run(_simulate(args, settings, scenario))


# ---------------------------------------------------------------- audit and projections


def _auditor(settings: Settings):
    from domain.application import Assessments
    from services.audit import Auditor

    return Auditor(Assessments(env=settings.event_store_env()))


def _audit(fn):
    """Run an audit command; a refusal is one readable line and exit 1."""

    def run(args: argparse.Namespace, settings: Settings) -> int:
        try:
            return fn(args, settings)
        except DomainError as err:
            return fail(err.message)

    return run


@_audit
def cmd_audit_replay(args: argparse.Namespace, settings: Settings) -> int:
    from simulation.scenario import dumps

    auditor = _auditor(settings)
    if args.as_of is None and args.position is None:
        sys.stdout.write(dumps(auditor.app.results(args.cycle)))
        return 0
    from domain.audit import parse_moment

    replayed = auditor.replay(args.cycle, args.position, parse_moment(args.as_of, "--as-of"))
    print(f"# 位置 position {replayed['state']['position']}，状态 status {replayed['state']['status']}", file=sys.stderr)
    for problem in replayed["problems"]:
        print(f"# {problem}", file=sys.stderr)
    sys.stdout.write(dumps(replayed["results"]))
    return 0


@_audit
def cmd_audit_digest(args: argparse.Namespace, settings: Settings) -> int:
    auditor = _auditor(settings)
    key = settings.audit_signing_key if args.sign else None
    if args.sign and not key:
        return fail("签名需要 KAOHE_AUDIT_SIGNING_KEY（kaohe audit keygen 生成）/ set KAOHE_AUDIT_SIGNING_KEY to sign")
    text = json.dumps(auditor.digest(key), indent=1) + "\n"
    if args.out:
        Path(args.out).write_text(text, "utf-8")
    sys.stdout.write(text)
    return 0


@_audit
def cmd_audit_keygen(args: argparse.Namespace, settings: Settings) -> int:
    if args.name is not None:
        # c2sp.org/signed-note keys for the log's checkpoints: the signer key stays secret, the
        # verifier key is what auditors and witnesses pin. The name is the log's origin.
        from adapters import signednote

        signer = signednote.generate(args.name)
        print(f"KAOHE_AUDIT_SIGNING_KEY={signer.skey}")
        print(f"KAOHE_AUDIT_VERIFIER_KEY={signer.verifier.vkey}")
        return 0
    from services.audit import generate_key

    private, public = generate_key()
    print(f"KAOHE_AUDIT_SIGNING_KEY={private}")
    print(f"KAOHE_AUDIT_PUBLIC_KEY={public}")
    return 0


@_audit
def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from services.audit import check_digest, verify_bundle

    public = args.public_key or settings.audit_public_key
    if args.bundle:
        out = verify_bundle(Path(args.bundle), public)
        chain = out["chain"]
        if not chain["ok"]:
            return fail("审计包校验失败 / bundle verification FAILED: " + chain["finding"]["message"])
        if not out["results_match"]:
            return fail("审计包中的结果与重放结果不一致 / the bundle's results differ from its replay")
        print(f"审计包校验通过：{chain['checked']} 个事件，链与摘要一致，重放结果与包中结果一致 / the bundle verifies and reproduces its results")
        return 0
    digest = None
    if args.digest:
        try:
            digest = check_digest(json.loads(Path(args.digest).read_text("utf-8")), public)
        except (OSError, ValueError):
            return fail(f"无法读取摘要文件 {args.digest} / cannot read the digest")
    auditor = _auditor(settings)
    head = auditor.head()
    total = digest["position"] if digest else (head[0] if head else 0)
    tty = sys.stderr.isatty()

    def progress(checked: int, position: int) -> None:
        if tty:
            print(f"\r校验中 verifying: 位置 {position}/{total}（{checked} 个事件）", end="", file=sys.stderr, flush=True)

    report = auditor.verify(digest, progress)
    if tty:
        print(file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
    if not report.ok:
        return fail(report.line())
    print(report.line(), file=sys.stderr if args.json else sys.stdout)
    return 0


@_audit
def cmd_audit_timeline(args: argparse.Namespace, settings: Settings) -> int:
    from services.audit import to_csv, to_jsonl, to_text

    entries = _auditor(settings).timeline(args.cycle, unit=args.unit, actor=args.actor, stage=args.stage, event=args.type)
    text = {"text": to_text, "jsonl": to_jsonl, "csv": to_csv}[args.format](entries)
    if args.out:
        Path(args.out).write_text(text, "utf-8")
    else:
        sys.stdout.write(text)
    return 0


@_audit
def cmd_audit_explain(args: argparse.Namespace, settings: Settings) -> int:
    print(json.dumps(_auditor(settings).explain(args.cycle, args.unit, args.position), ensure_ascii=False, indent=1))
    return 0


def _policy_file(path: str) -> Any:
    """A partial policy from a JSON file, numbers read as exact decimals (refused, naming the
    file, if it cannot be read or is not JSON)."""
    from decimal import Decimal

    try:
        return json.loads(Path(path).read_text("utf-8"), parse_float=Decimal)
    except OSError as err:
        raise InvalidInput("invalid_policy_file", zh=f"无法读取考核规则文件 {path}：{err.strerror}", en=f"cannot read {path}", field="--policy") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise InvalidInput("invalid_policy_file", zh=f"考核规则文件 {path} 不是 JSON：{err}", en=f"{path} is not JSON", field="--policy") from None


@_audit
def cmd_audit_whatif(args: argparse.Namespace, settings: Settings) -> int:
    """The cycle's grades under another policy: every unit whose rank or grade would change, and
    why (``--json``: every unit before and after). Writes nothing."""
    try:
        out = _auditor(settings).whatif(args.cycle, _policy_file(args.policy))
    except InvalidInput as err:  # the line names the field the policy file got wrong
        return fail(f"{err.field}: {err.message}" if err.field and err.field != "--policy" else err.message)
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 0
    changes = "，".join(f"{c['field']} {c['before']}→{c['after']}" for c in out["policy_changes"]) or "考核规则未变 / the policy is unchanged"
    print(f"# 周期 {out['cycle']}，位置 {out['position']}：{changes}（仅推演，未写入 / nothing written）")
    for cohort, info in out["cohorts"].items():
        for note in info["notes"]:
            print(f"# {cohort}：{note['zh']}")
    changed = [u for u in out["units"] if u["changed"]]
    if not changed:
        print("没有单位的名次或等次会改变 / no unit's rank or grade would change")
        return 0
    from domain import wording

    def grade(g: str | None) -> str:
        return wording.grade(g) if g else "待定"

    print("单位\t名次\t等次\t最终得分\t原因")
    for u in changed:
        b, a = u["before"], u["after"]
        print(f"{u['unit']}\t{b['rank'] or '—'}→{a['rank'] or '—'}\t{grade(b['grade'])}→{grade(a['grade'])}\t"
              f"{b['final_score'] or '—'}→{a['final_score'] or '—'}\t{u['why']['zh']}"
              + "".join(f"；{d['zh']}" for d in u["decisions"]))
    return 0


@_audit
def cmd_audit_export(args: argparse.Namespace, settings: Settings) -> int:
    manifest = _auditor(settings).export(args.cycle, Path(args.out), settings.audit_signing_key)
    print(f"审计包已写入 {args.out}：周期 {manifest['cycle']}，至位置 {manifest['position']} / bundle written")
    return 0


@_audit
def cmd_download(args: argparse.Namespace, settings: Settings) -> int:
    from domain.application import Assessments
    from reporting import reports

    if args.what == "feedback" and not args.unit:
        return fail("下载反馈需要 --unit / feedback needs --unit", 2)
    data, _, name = reports.build(Assessments(env=settings.event_store_env()), args.what, args.cycle, args.unit)
    out = Path(args.out or name)
    out.write_bytes(data)
    print(f"已写入 written: {out}（{len(data)} 字节 bytes）")
    return 0


def cmd_projections_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    from domain.application import Assessments
    from projections.runner import ProjectionRunner, make_engine

    app = Assessments(env=settings.event_store_env())
    runner = ProjectionRunner(app, make_engine(settings.read_url()))
    total = app.recorder.max_notification_id() or 0

    def progress(done: int) -> None:
        print(f"\r重建读模型 rebuilding: {done}/{total} events", end="", file=sys.stderr, flush=True)

    n = runner.rebuild(progress)
    print(f"\r重建完成 rebuilt: {n} events → position {runner.position()}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------- parser


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kaohe", description="党建工作考核系统 · Kaohe party-building assessment")
    p.add_argument("--version", action="version", version=f"kaohe {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="启动嵌入式系统 / start the embedded stack")
    up.add_argument(
        "--demo", action="store_true",
        help="在全新的数据目录中载入示例周期（进行中）并为每个角色建一个账号，打印其密码 / load the worked example with one account per role",
    )
    up.set_defaults(func=cmd_up)
    sub.add_parser("worker", help="运行 Temporal worker / run the worker").set_defaults(func=cmd_worker)
    sub.add_parser("api", help="运行 API（及读模型投影）/ run the API").set_defaults(func=cmd_api)

    users = sub.add_parser("users", help="用户管理 / users").add_subparsers(dest="users_command", required=True)
    add = users.add_parser("add", help="添加用户 / add a user")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["organizer", "evaluator", "unit", "representative", "committee", "auditor", "admin"])
    add.add_argument("--unit", help="所属单位 / the unit (required for role unit)")
    add.add_argument("--name", help="显示名称 / display name")
    pw = add.add_mutually_exclusive_group()
    pw.add_argument("--password", help="密码（省略则随机生成）/ password (random if omitted)")
    pw.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码 / read the password from stdin")
    add.set_defaults(func=cmd_users_add)

    sim = sub.add_parser("simulate", help="按场景文件模拟整个周期 / play a scenario through the API")
    sim.add_argument("scenario")
    sim.add_argument("--out", help="结果文件 / results file")
    sim.add_argument("--api", help="API 地址（默认本机，未运行则自动启动嵌入式系统）/ API URL")
    sim.add_argument("--quiet", action="store_true", help="不显示进度 / no progress")
    sim.add_argument("--no-feedback", action="store_true", help="不下发反馈 / skip feedback")
    sim.add_argument(
        "--retry-for", type=float, default=60.0, metavar="SECONDS",
        help="API 不可用或繁忙（503）时，每一步以相同的 Idempotency-Key 重试多久（默认 60 秒）/ how long each step is retried",
    )
    sim.set_defaults(func=cmd_simulate)

    audit = sub.add_parser("audit", help="审计 / audit").add_subparsers(dest="audit_command", required=True)
    replay = audit.add_parser("replay", help="仅凭事件日志重算结果（可指定时刻）/ results from the event log alone")
    replay.add_argument("--cycle", required=True)
    when = replay.add_mutually_exclusive_group()
    when.add_argument("--as-of", help="ISO 8601 时间（带时区）/ a moment, with zone")
    when.add_argument("--position", type=int, help="日志位置 / a log position")
    replay.set_defaults(func=cmd_audit_replay)
    digest = audit.add_parser("digest", help="日志头部摘要 / the log head's digest")
    digest.add_argument("--sign", action="store_true", help="用 KAOHE_AUDIT_SIGNING_KEY 签名 / sign it")
    digest.add_argument("--out", help="写入文件 / also write to a file")
    digest.set_defaults(func=cmd_audit_digest)
    keygen = audit.add_parser("keygen", help="生成 Ed25519 签名密钥 / make a signing key pair")
    keygen.add_argument(
        "--name", metavar="ORIGIN",
        help="以 signed-note 格式生成检查点签名密钥，名称即日志来源，如 kaohe.example/audit / "
        "signed-note signer and verifier keys named after the log's origin",
    )
    keygen.set_defaults(func=cmd_audit_keygen)
    verify = audit.add_parser("verify", help="校验哈希链 / verify the hash chain")
    src = verify.add_mutually_exclusive_group()
    src.add_argument("--digest", help="与此前保存的摘要核对 / check against a saved digest")
    src.add_argument("--bundle", help="离线校验审计包 / verify an audit bundle (no database)")
    verify.add_argument("--public-key", help="摘要必须由此公钥签名 / the digest must be signed by this key")
    verify.add_argument("--json", action="store_true", help="输出 JSON 报告 / print a JSON report")
    verify.set_defaults(func=cmd_audit_verify)
    tl = audit.add_parser("timeline", help="事件时间线 / the timeline")
    tl.add_argument("--cycle", required=True)
    tl.add_argument("--unit")
    tl.add_argument("--actor")
    tl.add_argument("--stage")
    tl.add_argument("--type", help="事件类型，如 GradeOverridden / event type")
    tl.add_argument("--format", choices=["text", "jsonl", "csv"], default="text")
    tl.add_argument("--out")
    tl.set_defaults(func=cmd_audit_timeline)
    ex = audit.add_parser("explain", help="解释某单位的等次 / explain a unit's grade")
    ex.add_argument("--cycle", required=True)
    ex.add_argument("--unit", required=True)
    ex.add_argument("--position", type=int)
    ex.set_defaults(func=cmd_audit_explain)
    wi = audit.add_parser("whatif", help="换一套考核规则重算等次，列出名次或等次会变的单位（不写入）/ the grades under another policy")
    wi.add_argument("--cycle", required=True)
    wi.add_argument("--policy", required=True, metavar="FILE", help='部分考核规则（JSON），如 {"work_weight": "0.6", "debrief_weight": "0.4"} / a partial policy')
    wi.add_argument("--json", action="store_true", help="输出每个单位的前后对比（JSON）/ every unit before and after, as JSON")
    wi.set_defaults(func=cmd_audit_whatif)
    exp = audit.add_parser("export", help="导出自包含的审计包 / export a self-contained bundle")
    exp.add_argument("--cycle", required=True)
    exp.add_argument("--out", required=True)
    exp.set_defaults(func=cmd_audit_export)

    dl = sub.add_parser("download", help="下载文档 / documents: feedback, report, spreadsheets")
    dl.add_argument("what", choices=["feedback", "report-docx", "report-pdf", "results", "rectifications", "hr"])
    dl.add_argument("--cycle", required=True)
    dl.add_argument("--unit", help="反馈所属单位 / the unit (feedback)")
    dl.add_argument("--out", help="文件名（默认按内容命名）/ file name")
    dl.set_defaults(func=cmd_download)

    proj = sub.add_parser("projections", help="读模型 / read models").add_subparsers(dest="projections_command", required=True)
    proj.add_parser("rebuild", help="从事件日志重建全部读模型 / rebuild every read model").set_defaults(func=cmd_projections_rebuild)
    return p


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parser().parse_args(argv)
    from kaohe.runtime import hard_exit

    try:
        settings = Settings()
        code = args.func(args, settings)
    except KeyboardInterrupt:
        code = 130
    except ValueError as err:  # settings that cannot work
        code = fail(str(err))
    hard_exit(code)


if __name__ == "__main__":
    main()
