"""The shape of the web UI's code, checked without a browser (fast; no stack):

* no page module imports the JSON API's routers (``api.routers``) or calls a private helper of
  another module: every call into the system goes through ``api/web/backend.py``;
* the catalogue has zh-CN and English for every key, every key the Python code and the templates
  look up exists, and every family of keys (``org_kind_<kind>``, ``stage.<stage>``…) covers its values;
* no Chinese text is left inline in the page handlers.

Each scanner is also run on a small wrong sample, so a scanner that finds nothing fails here.
"""

from __future__ import annotations

import ast
from decimal import Decimal
import re
from pathlib import Path

import pytest

from api.web import catalogue
from api.web.render import ERROR_TITLES
from domain.policy import GRADES
from domain.rules import ADJUSTMENT_KINDS, ITEM_STATUSES, ROLE_NAMES, STAGES

WEB = Path(__file__).resolve().parents[1] / "api" / "web"
PAGES = WEB / "pages"
PAGE_FILES = sorted(p for p in PAGES.glob("*.py") if p.name != "__init__.py")
PYTHON_FILES = sorted(WEB.rglob("*.py"))
TEMPLATE_FILES = sorted((WEB / "templates").glob("*.html"))


# ------------------------------------------------------------------ scanners


def router_imports(source: str) -> list[str]:
    """Every import of ``api.routers`` (or of a module in it) in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name == "api.routers" or a.name.startswith("api.routers.")]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "api.routers" or node.module.startswith("api.routers."):
                found.append(node.module)
            elif node.module == "api" and any(a.name == "routers" for a in node.names):
                found.append("api.routers")
    return found


def private_calls(source: str) -> list[str]:
    """``module._helper`` uses, where ``module`` is a name ``source`` imported."""
    tree = ast.parse(source)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imported |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return [
        f"{node.value.id}.{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in imported
        and node.attr.startswith("_") and not node.attr.startswith("__")
    ]


def python_keys(source: str) -> set[str]:
    """Literal keys looked up in the catalogue: ``catalogue.t(lang, "k")``, ``t(lang, "k")``, ``catalogue.both("k")``, ``catalogue.texts("k")``."""
    keys = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else None
        if isinstance(func, ast.Attribute) and owner not in ("catalogue",):
            continue
        position = {"t": 1, "both": 0, "texts": 0}.get(name)
        if position is None or len(node.args) <= position:
            continue
        arg = node.args[position]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            keys.add(arg.value)
    return keys


T_LITERAL = re.compile(r"""\bt\(\s*(["'])([^"']+)\1\s*\)""")
T_FAMILY = re.compile(r"""\bt\(\s*(["'])([^"']+)\1\s*~""")
T_VARIABLE = re.compile(r"""\bt\(\s*([A-Za-z_][A-Za-z_0-9.]*)\s*\)""")


def template_keys(text: str) -> tuple[set[str], set[str], set[str]]:
    """Keys a template looks up: literal, families (``t("org_kind_" ~ k)`` → ``org_kind_``) and variables."""
    return ({m.group(2) for m in T_LITERAL.finditer(text)}, {m.group(2) for m in T_FAMILY.finditer(text)},
            {m.group(1) for m in T_VARIABLE.finditer(text)})


CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def inline_chinese(source: str) -> list[str]:
    """String literals with Chinese in them, docstrings and comments aside."""
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [
        node.value for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings and CJK.search(node.value)
    ]


# ------------------------------------------------------------------ the scanners find what they look for


def test_the_scanners_find_a_wrong_sample():
    wrong = (
        "import api.routers.cycles\nfrom api.routers import units as units_api\nfrom api import routers\n"
        "from api.web import catalogue\n"
        "def page(lang):\n"
        "    '''一个页面 / a page'''\n"
        "    units_api._cycle_row(1)\n"
        "    return catalogue.t(lang, 'no_such_key_anywhere') + t(lang, 'another_missing') + catalogue.both('third') + '已保存'\n"
    )
    assert router_imports(wrong) == ["api.routers.cycles", "api.routers", "api.routers"]
    assert private_calls(wrong) == ["units_api._cycle_row"]
    assert python_keys(wrong) == {"no_such_key_anywhere", "another_missing", "third"}
    assert inline_chinese(wrong) == ["已保存"]
    literal, family, variable = template_keys("""{{ t("a_key") }} {{ t('org_kind_' ~ k) }} {{ t(title_key) }}""")
    assert (literal, family, variable) == ({"a_key"}, {"org_kind_"}, {"title_key"})


# ------------------------------------------------------------------ the pages call the system through backend.py


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.name)
def test_no_page_imports_the_api_routers(path: Path):
    assert router_imports(path.read_text(encoding="utf-8")) == [], f"{path.name}: call api/web/backend.py instead"


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.name)
def test_no_page_calls_a_private_helper(path: Path):
    assert private_calls(path.read_text(encoding="utf-8")) == []


def test_nothing_in_the_web_ui_imports_the_api_routers():
    """The pages and their backend call the service layer, as the JSON API's routers do."""
    importing = [p.relative_to(WEB).as_posix() for p in PYTHON_FILES if router_imports(p.read_text(encoding="utf-8"))]
    assert importing == []


# ------------------------------------------------------------------ the catalogue


def test_every_key_has_both_languages():
    assert catalogue.LANGS == ("zh", "en") and catalogue.DEFAULT == "zh"
    for key, entry in catalogue.CATALOGUE.items():
        assert set(entry) == {"zh", "en"}, key
        assert all(isinstance(entry[lang], str) and entry[lang].strip() for lang in catalogue.LANGS), key


def test_every_key_the_python_code_uses_exists():
    missing = {
        f"{p.relative_to(WEB)}: {key}"
        for p in PYTHON_FILES for key in python_keys(p.read_text(encoding="utf-8")) if not catalogue.has(key)
    }
    assert not missing


#: Families the templates build a key of (``t("org_kind_" ~ kind)``) → the values they are built with.
TEMPLATE_FAMILIES = {
    "org_kind_": ADJUSTMENT_KINDS,
    "org_item_": ITEM_STATUSES,
    "org_p_": ("work_weight", "debrief_weight", "excellent_share", "bonus_cap", "trim_min_ballots"),
    "org_th_": ("excellent", "good", "average"),
    "ov_dl_": ("results.xlsx", "report.docx", "report.pdf", "rectifications.xlsx", "hr-export.xlsx"),
    "mt_state_": ("pending", "open", "closed"),  # services.debrief.session_view's "state"
    "mt_code_": ("issued", "spent"),  # adapters.ballot_codes.BallotCodes.status
    "cf_sr_": ("submitted", "pending", "overdue", "closed"),  # api.web.views.self_review_state
    "cf_sr_not_submitted_": ("overdue", "closed"),
    **{f"bk_{what}_": ("feedback", "remind", "verify") for what in ("title", "will", "skip", "nothing", "confirm")},  # organizer_bulk.ACTIONS
    "words.trimmed_": ("lowest", "highest"),  # domain.audit explain: the trimmed ballot's end
}
#: Variables the templates pass to ``t`` → the keys they may hold.
TEMPLATE_VARIABLES = {
    "title_key": (*ERROR_TITLES.values(), "error_title"),
    "label": ("ov_actor", "unit", "stage", "ov_event"),
    "f.label": ("cohort", "cl_progress", "status", "kind", "overdue"),  # listing_macros.html: a list's filters (console_lists.py, pages/tasks.py)
}


def test_every_key_the_templates_use_exists():
    literal, family, variable = set(), set(), set()
    for path in TEMPLATE_FILES:
        a, b, c = template_keys(path.read_text(encoding="utf-8"))
        literal |= a
        family |= b
        variable |= c
    assert len(literal) > 100  # the scanner reads the templates
    assert sorted(k for k in literal if not catalogue.has(k)) == []
    assert family <= set(TEMPLATE_FAMILIES), f"a new key family in a template: list it in TEMPLATE_FAMILIES: {family - set(TEMPLATE_FAMILIES)}"
    assert variable <= set(TEMPLATE_VARIABLES), f"a new variable key in a template: {variable - set(TEMPLATE_VARIABLES)}"
    built = [prefix + v for prefix in family for v in TEMPLATE_FAMILIES[prefix]]
    built += [k for name in variable for k in TEMPLATE_VARIABLES[name]]
    assert sorted(k for k in built if not catalogue.has(k)) == []


def test_the_downloads_listed_here_are_the_pages_downloads():
    from api.web.pages.results import DOWNLOADS

    assert tuple(DOWNLOADS) == TEMPLATE_FAMILIES["ov_dl_"]


def done_values(source: str) -> set[str]:
    """The ``<what>`` of every ``done_redirect(path, <what>)`` in ``source``: a literal, each
    literal of a conditional, or — for a parameter of the enclosing function — the literal each
    call of that function in ``source`` passes for it."""
    tree = ast.parse(source)
    functions = {f.name: f for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
    out = set()
    for fn in functions.values():
        params = [a.arg for a in fn.args.args]
        for node in ast.walk(fn):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "done_redirect"):
                continue
            arg = node.args[1]
            if isinstance(arg, ast.Name):
                assert arg.id in params, f"{fn.name}: done_redirect with {arg.id}, not a literal nor a parameter"
                at = params.index(arg.id)
                calls = [c for c in ast.walk(tree) if isinstance(c, ast.Call) and getattr(c.func, "id", "") == fn.name]
                assert calls and all(isinstance(c.args[at], ast.Constant) for c in calls), fn.name
                out |= {c.args[at].value for c in calls}
            else:
                out |= _literals(arg)
    return out


def _literals(arg: ast.expr) -> set[str]:
    """A string literal, or the literals either branch of a conditional gives."""
    if isinstance(arg, ast.IfExp):
        return _literals(arg.body) | _literals(arg.orelse)
    assert isinstance(arg, ast.Constant) and isinstance(arg.value, str), ast.dump(arg)
    return {arg.value}


def test_done_values_finds_a_wrong_sample():
    sample = (
        "def a(r): return done_redirect('/x', 'one')\n"
        "def b(r, ok): return done_redirect('/x', 'two' if ok.get('no') else 'three')\n"
        "def back(r, done): return done_redirect('/x', done)\n"
        "def c(r): return back(r, 'four')\n"
    )
    assert done_values(sample) == {"one", "two", "three", "four"}


def test_every_family_covers_its_values():
    from api.web.pages import adjustments, allocation, proposals

    for lang in catalogue.LANGS:
        for role in ROLE_NAMES:
            assert catalogue.has(f"role.{role}"), role
        for stage in (*STAGES, "rectification"):
            assert catalogue.has(f"stage.{stage}"), stage
        for grade in GRADES:
            assert catalogue.has(f"grade.{grade}"), grade
        for kind in ADJUSTMENT_KINDS:
            assert catalogue.has(f"adjustment.{kind}"), kind
        for status in ITEM_STATUSES:
            assert catalogue.has(f"pp_item_{status}") and catalogue.has(f"org_item_{status}"), status
            assert catalogue.item_status(lang, status) == catalogue.t(lang, f"pp_item_{status}")
    # ``?done=<what>`` of the committee's pages: each a notice (``ov_done_<what>``). A decision
    # is proposed (awaiting the other members), or says what it did when it took effect at once
    # (a quorum of one); a proposal is confirmed or objected to; "" (from the inbox to a
    # proposal on its page) shows no notice.
    done = set()
    for module in (adjustments, allocation, proposals):
        done |= done_values(Path(module.__file__).read_text(encoding="utf-8"))
    assert done == {"proposed", "decided", "override", "tie", "approve", "reject", "confirmed", "objected", ""}
    assert all(catalogue.has(f"ov_done_{d}") for d in done - {""})
    assert not catalogue.has("ov_done_")


def test_lookups_are_in_the_pages_language_and_zh_first():
    assert catalogue.t("zh", "org_done") == "操作成功。" and catalogue.t("en", "org_done") == "Done."
    assert catalogue.t("fr", "org_done") == "操作成功。"  # zh-CN first
    assert catalogue.t("en", "org_units_registered", n=3) == "3 unit(s) registered."
    assert catalogue.both("err_file_too_large") == "文件超过 5 MB / the file is over 5 MB"
    assert catalogue.grade("en", None) == "—" and catalogue.grade("zh", "excellent") == "优秀"
    assert catalogue.stage("zh", "rectification") == "整改" and catalogue.stage("en", None) == ""
    assert catalogue.pick("en", catalogue.both("err_empty_xlsx")) == "the sheet is empty"
    assert catalogue.choose(None, "en") == "en" and catalogue.choose("xx", None) == "zh"


# ------------------------------------------------------------------ no inline strings in the page handlers


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.name)
def test_no_chinese_inline_in_a_page(path: Path):
    assert inline_chinese(path.read_text(encoding="utf-8")) == [], f"{path.name}: put the text in api/web/catalogue.py"


# ------------------------------------------------------------------ the gettext files behind it


def _po(path: Path, entries: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
    body += "".join(f'msgid "{k}"\nmsgstr "{v}"\n\n' for k, v in entries.items())
    path.write_text(body, encoding="utf-8")


def test_the_catalogue_is_every_domain_of_each_language(tmp_path):
    _po(tmp_path / "zh" / "LC_MESSAGES" / "kaohe.po", {"a": "甲"})
    _po(tmp_path / "zh" / "LC_MESSAGES" / "admin.po", {"b": "乙"})
    _po(tmp_path / "en" / "LC_MESSAGES" / "kaohe.po", {"a": "A", "b": "B"})
    assert catalogue.load(tmp_path) == {"a": {"zh": "甲", "en": "A"}, "b": {"zh": "乙", "en": "B"}}


def test_a_key_in_two_domains_is_refused(tmp_path):
    _po(tmp_path / "zh" / "LC_MESSAGES" / "kaohe.po", {"a": "甲"})
    _po(tmp_path / "zh" / "LC_MESSAGES" / "admin.po", {"a": "乙"})
    with pytest.raises(ValueError, match="'a'"):
        catalogue.load(tmp_path)


def test_the_shipped_catalogue_comes_from_the_po_files():
    files = sorted(catalogue.LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))
    assert {p.parts[-3] for p in files} == set(catalogue.LANGS)
    assert "CATALOGUE: dict[str, dict[str, str]] = {" not in (WEB / "catalogue.py").read_text(encoding="utf-8")


def test_numbers_are_shown_with_the_specs_two_places_half_up():
    assert catalogue.num("92.333333333333333333333333") == "92.33"
    assert catalogue.num("0.125") == "0.13" and catalogue.num(Decimal("7")) == "7.00"
    assert catalogue.num(None) == "" and catalogue.num("—") == "—" and catalogue.num("abc") == "abc"


def test_every_cohort_has_a_name_in_both_languages():
    from domain.scheme import ORG_TYPES

    for key, zh in ORG_TYPES.items():
        assert catalogue.cohort("zh", key) == zh
        assert catalogue.cohort("en", key) not in (key, zh)


def test_a_person_is_shown_by_name_with_the_login_in_a_tooltip():
    from api.web.render import person

    assert str(person({"zzb-li": "李明"}, "zzb-li")) == '<span class="person" title="zzb-li">李明</span>'
    assert str(person({}, "<x>")) == '<span class="person" title="&lt;x&gt;">&lt;x&gt;</span>'
