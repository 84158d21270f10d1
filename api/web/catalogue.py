"""Every user-facing string of the web pages, zh-CN first, English second, read from gettext catalogues.

The strings live in ``api/web/locale/<lang>/LC_MESSAGES/*.po`` (read with Babel at import; a
message's ``msgid`` is the key the code looks up, its ``msgstr`` the text in that language). Every
``.po`` file of a language is one *domain* of the same catalogue, so an area of the pages may keep
its strings in a file of its own (``kaohe.po``, ``admin.po``…); a key must not be in two of them.
In code the catalogue is one mapping, ``CATALOGUE[key] == {"zh": …, "en": …}``. Look a string up with :func:`t` (``t(lang, "org_done")``);
the families below have their own small readers (:func:`value`, :func:`role`, :func:`stage`,
:func:`kind`, :func:`grade`, :func:`adjustment`, :func:`item_status`). A
:class:`~domain.errors.DomainError` the pages raise carries both texts apart (:func:`texts`), as
the domain's own do; :func:`pick` shows the one that matches the page, never by splitting.

The language comes from ``?lang=`` or the ``kaohe_lang`` cookie (:func:`choose`). Templates may keep
their own text; everything the Python code says is here. ``tests/test_web_catalogue.py`` checks
that every key has both languages and that every key used under ``api/web/`` exists.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from babel.messages.pofile import read_po

from domain.errors import Bilingual, DomainError, halves

LANGS = ("zh", "en")
DEFAULT = "zh"
HTML_LANG = {"zh": "zh-CN", "en": "en"}

LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def load(directory: Path = LOCALE_DIR) -> dict[str, dict[str, str]]:
    """``{key: {"zh": …, "en": …}}`` from every ``<lang>/LC_MESSAGES/*.po`` under ``directory``.

    A key found in two domains of one language is an error (one text per key), as is a file that
    does not parse."""
    found: dict[str, dict[str, str]] = {}
    where: dict[tuple[str, str], str] = {}
    for lang in LANGS:
        for po in sorted((directory / lang / "LC_MESSAGES").glob("*.po")):
            with po.open("rb") as handle:
                catalog = read_po(handle, locale=None, abort_invalid=True)
            for message in catalog:
                if not message.id:
                    continue
                key = str(message.id)
                if (lang, key) in where:
                    raise ValueError(f"{po.name}: key {key!r} is also in {where[lang, key]}")
                where[lang, key] = po.name
                found.setdefault(key, {})[lang] = str(message.string or "")
    return found


CATALOGUE: dict[str, dict[str, str]] = load()


def choose(query: str | None, cookie: str | None) -> str:
    """The page's language: ``?lang=`` first, then the cookie, then zh."""
    for candidate in (query, cookie):
        if candidate in LANGS:
            return candidate  # type: ignore[return-value]
    return DEFAULT


def has(key: str) -> bool:
    return key in CATALOGUE


def t(lang: str, key: str, **values: object) -> str:
    """The string ``key`` in ``lang`` (``{name}`` filled from ``values``); an unknown key is shown as itself."""
    entry = CATALOGUE.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry[DEFAULT]
    return text.format(**values) if values else text


def both(key: str, **values: object) -> Bilingual:
    """A text in both languages (a :class:`~domain.errors.Bilingual`: ``中文 / English`` that keeps
    its halves), for a message that a page shows in its own language with :func:`pick`."""
    return Bilingual(t("zh", key, **values), t("en", key, **values))


def texts(key: str, **values: object) -> dict[str, str]:
    """``{"zh": …, "en": …}`` of ``key``: the two texts of a :class:`~domain.errors.DomainError`
    (``InvalidInput("code", **catalogue.texts("key"), field="x")``)."""
    return {"zh": t("zh", key, **values), "en": t("en", key, **values)}


def _family(prefix: str, lang: str, key: str | None, missing: str | None = None) -> str:
    if key is None:
        return ""
    entry = CATALOGUE.get(prefix + key)
    if entry is None:
        return key if missing is None else missing
    return entry.get(lang) or entry[DEFAULT]


def value(lang: str, key: str | None) -> str:
    """A status value (``open`` → 进行中)."""
    return _family("value.", lang, key)


def role(lang: str, key: str) -> str:
    return _family("role.", lang, key)


def stage(lang: str, key: str | None) -> str:
    return _family("stage.", lang, key)


def kind(lang: str, key: str) -> str:
    """A task kind (``cast_ballot`` → 述职评分)."""
    return _family("kind.", lang, key)


def grade(lang: str, key: str | None) -> str:
    """A grade (``excellent`` → 优秀); no grade is ``—``."""
    if not key:
        return t(lang, "no_grade")
    return _family("grade.", lang, key)


def cohort(lang: str, key: str | None) -> str:
    """A cohort (org type) in words (``grassroots_branch`` → 基层党总支/党支部); never the key."""
    return _family("cohort.", lang, key)


def event(lang: str, key: str | None) -> str:
    """An event type in words (``BallotCast`` → 提交述职评分表)."""
    return _family("event.", lang, key)


def num(value: object, places: int = 2) -> str:
    """A score or share as the SPEC writes it: ``places`` decimals, half up (``92.3333…`` → ``92.33``).

    Anything that is not a number (``None``, ``—``, a word) is returned as it is (``None`` as "")."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return str(value)
    try:
        d = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        return str(value)
    if not d.is_finite():
        return str(value)
    return str(d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def adjustment(lang: str, key: str) -> str:
    """An adjustment kind (``veto`` → 一票否决)."""
    return _family("adjustment.", lang, key)


def item_status(lang: str, status: str) -> str:
    """A rectification item's status as the unit reads it (``pp_item_<status>``)."""
    return t(lang, f"pp_item_{status}") if has(f"pp_item_{status}") else status


def pick(lang: str, text: object) -> str:
    """A message in the page's language: a :class:`~domain.errors.DomainError`'s or a
    :class:`~domain.errors.Bilingual`'s own text for ``lang``; a ``{message_zh, message_en}`` body's;
    an older ``中文 / English`` string cut where its Chinese ends (never at a "/" inside it)."""
    if text is None:
        return ""
    if isinstance(text, DomainError):
        return text.text(lang)
    if isinstance(text, dict):
        if text.get("message_zh") or text.get("message_en"):
            return str(text.get("message_en" if lang == "en" else "message_zh") or "")
        text = text.get("message", "")
    zh, en = halves(text)
    return en if lang == "en" else zh
