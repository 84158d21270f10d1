"""Errors the domain raises when a command breaks a rule.

Each error carries a stable ``code`` (for programs), its text for people in each language apart,
``zh`` and ``en`` (each complete on its own, so a page shows the one it speaks and never splits
a string), and, where it concerns one input, the ``field`` it names. The Chinese text names no
internal key: a cohort, role, stage or grade in words, a point by its code ("指标 1.2.1"); the
field path stays in ``field``.

``message`` is ``"中文 / English"`` as before (for API clients that read it); it is a
:class:`Bilingual` string, which keeps the two halves, so code that passes ``err.message`` on still
lets a page pick its language (``api/web/catalogue.pick``). The JSON body has ``message``,
``message_zh`` and ``message_en``.
"""

from __future__ import annotations


class Bilingual(str):
    """``"中文 / English"`` that remembers its halves: ``.zh`` and ``.en``."""

    zh: str
    en: str

    def __new__(cls, zh: str, en: str) -> "Bilingual":
        text = super().__new__(cls, f"{zh} / {en}" if zh and en and zh != en else (zh or en))
        text.zh = zh or en
        text.en = en or zh
        return text

    def __reduce__(self):
        return (Bilingual, (self.zh, self.en))


def bilingual(zh: str, en: str) -> Bilingual:
    return Bilingual(zh, en)


def halves(text: object) -> tuple[str, str]:
    """``(zh, en)`` of a text: a :class:`Bilingual`'s halves; an older ``"中文 / English"`` string cut
    at its last ``" / "`` that has Chinese before it and Latin letters after; else the text twice."""
    if isinstance(text, Bilingual):
        return text.zh, text.en
    s = "" if text is None else str(text)
    for i in range(len(s) - 3, 0, -1):
        if s.startswith(" / ", i) or (s.startswith("/ ", i) and s[i - 1] in "）)。"):
            before, after = s[:i].rstrip(), s[i:].lstrip(" /")
            if any("\u3400" <= ch <= "\u9fff" for ch in before) and not any("\u3400" <= ch <= "\u9fff" for ch in after):
                return before, after
    return s, s


class DomainError(Exception):
    """A command was refused by a business rule; nothing was stored.

    Raise sites pass both texts: ``InvalidInput("code", zh="…", en="…", field="x")``. A single
    ``message`` (``"中文 / English"``) is still understood, for errors rebuilt from older data."""

    #: HTTP-like category the adapters map to a status code.
    kind = "invalid"
    #: Every field this refusal found wrong, when it checked more than one (see :func:`all_of`);
    #: the error's own ``code``/``message``/``field`` are the first of them.
    errors: tuple["DomainError", ...] = ()

    def __init__(self, code: str, message: str | None = None, field: str | None = None, *,
                 zh: str | None = None, en: str | None = None) -> None:
        if zh is None and en is None:
            zh, en = halves(message)
        self.code = code
        self.zh = zh or en or code
        self.en = en or zh or code
        self.message = Bilingual(self.zh, self.en)
        self.field = field
        super().__init__(self.message)

    def text(self, lang: str) -> str:
        """The message in ``lang`` (``zh`` or ``en``)."""
        return self.en if lang == "en" else self.zh

    def to_dict(self) -> dict:
        data: dict = {"code": self.code, "message": self.message, "message_zh": self.zh, "message_en": self.en}
        if self.field is not None:
            data["field"] = self.field
        if self.errors:
            data["errors"] = [e.to_dict() for e in self.errors]
        return data

    def __reduce__(self):  # picklable across threads/processes
        return (_rebuild, (type(self), self.code, self.zh, self.en, self.field, getattr(self, "retry_after", None)), {"errors": self.errors} if self.errors else None)


def _rebuild(cls: type["DomainError"], code: str, zh: str, en: str, field: str | None, retry_after: int | None) -> "DomainError":
    if issubclass(cls, Unavailable):
        return cls(code, field=field, zh=zh, en=en, retry_after=retry_after)
    return cls(code, field=field, zh=zh, en=en)


class InvalidInput(DomainError):
    """The input itself is malformed or out of range (HTTP 422)."""

    kind = "invalid"


class Conflict(DomainError):
    """The input is well-formed but the state does not allow it now (HTTP 409)."""

    kind = "conflict"


class Forbidden(DomainError):
    """The actor may not do this (HTTP 403)."""

    kind = "forbidden"


class NotFound(DomainError):
    """The thing acted on does not exist (HTTP 404)."""

    kind = "not_found"


class Unavailable(DomainError):
    """The system cannot take the command right now; retrying with the same key is safe (HTTP 503).

    ``retry_after`` is how many seconds a client should wait before it retries."""

    kind = "unavailable"
    retry_after = 2

    def __init__(self, code: str, message: str | None = None, field: str | None = None, retry_after: int | None = None, *,
                 zh: str | None = None, en: str | None = None) -> None:
        super().__init__(code, message, field, zh=zh, en=en)
        if retry_after is not None:
            self.retry_after = retry_after


def all_of(errors: list[DomainError], first: DomainError | None = None) -> DomainError:
    """One refusal that names every bad field at once (a sheet of many points): ``first`` (or the
    first of ``errors``) gives its code, message and field, as a client reading only those expects;
    ``errors`` lists each field's own error. One error alone is refused as itself."""
    head = first or errors[0]
    if len(errors) == 1 and errors[0] is head:
        return head
    out = type(head)(head.code, field=head.field, zh=head.zh, en=head.en)
    out.errors = tuple(errors)
    return out


ERROR_KINDS: dict[str, type[DomainError]] = {
    cls.kind: cls for cls in (InvalidInput, Conflict, Forbidden, NotFound, Unavailable)
}


def rebuild_error(kind: str, code: str, message: str, field: str | None,
                  zh: str | None = None, en: str | None = None) -> DomainError:
    """Re-create a domain error that crossed a process boundary (e.g. a Temporal failure), with
    both of its texts when the other side sent them (``message_zh``, ``message_en``)."""
    cls = ERROR_KINDS.get(kind, DomainError)
    if zh or en:
        return cls(code, field=field, zh=zh, en=en)
    return cls(code, message, field)
