"""Long lists on the pages: searched, filtered, sorted and paged on the server, the state in the
query string (so a link, a reload and the back button show the same page), and exported to
Excel exactly as filtered and sorted, every page.

A page describes its list once as a :class:`Listing` — its columns (what each sorts by and what
its cell says in a spreadsheet), what the search box searches and which filters it has — then
reads the request's state with :meth:`Listing.query`, cuts the rows with :meth:`Listing.apply`
and :meth:`Query.page`, and hands the template the :class:`Page`. ``listing_macros.html`` draws
the search and filter bar, the sortable headers and the pager from it. Two lists on one page keep
apart by a ``prefix`` on their parameters (``q``/``page`` and ``iq``/``ipage``).
"""

from __future__ import annotations

import io
import math
from decimal import Decimal
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

#: Rows per page unless the request asks for another of :data:`PER_PAGE_CHOICES`.
PER_PAGE = 50
PER_PAGE_CHOICES = (20, 50, 100, 200)


@dataclass(frozen=True)
class Column:
    """One column: ``key`` (its name in ``sort=``), its header (a catalogue key), what it sorts by
    (``sort``; None: not sortable) and its cell in a spreadsheet (``cell(row)``)."""

    key: str
    label: str
    sort: Callable[[Any], Any] | None = None
    cell: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class Filter:
    """A filter: its parameter, the choices (value → label text) and whether a row passes."""

    name: str
    label: str
    choices: Sequence[tuple[str, str]]
    keep: Callable[[Any, str], bool]


@dataclass
class Query:
    """A list's state as the query string says it (unknown values fall back to the defaults)."""

    listing: "Listing"
    q: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    sort: str = ""
    desc: bool = False
    page: int = 1
    per: int = PER_PAGE
    #: The page's other parameters (another list's, the language), kept in every link.
    other: list[tuple[str, str]] = field(default_factory=list)
    #: Where on the page the list is (``#units``): every link lands there.
    anchor: str = ""

    def param(self, name: str) -> str:
        return self.listing.prefix + name

    def items(self, **changes: Any) -> list[tuple[str, str]]:
        """The list's parameters (with ``changes``), defaults left out: for links and hidden fields."""
        state: dict[str, Any] = {"q": self.q, **self.filters, "sort": ("-" if self.desc else "") + self.sort if self.sort else "",
                                 "page": self.page, "per": self.per}
        state.update(changes)
        out = []
        for name, value in state.items():
            if value in (None, "") or (name == "page" and int(value) == 1) or (name == "per" and int(value) == PER_PAGE):
                continue
            if name == "sort" and value == self.listing.default_sort:
                continue
            out.append((self.param(name), str(value)))
        return out

    def href(self, **changes: Any) -> str:
        """``?…`` for this list with ``changes`` (a change of filter, search or sort goes back to
        page 1), keeping the page's other parameters, landing at the list."""
        if any(k != "page" for k in changes):
            changes.setdefault("page", 1)
        return f"?{urlencode([*self.other, *self.items(**changes)])}{self.anchor}"

    def clear_href(self) -> str:
        """The list with no search and no filter (sort and page size kept)."""
        keep = [(k, v) for k, v in self.items(q="", page=1, **dict.fromkeys(self.filters, ""))]
        return f"?{urlencode([*self.other, *keep])}{self.anchor}"

    def hidden(self) -> list[tuple[str, str]]:
        """The page's other parameters, as hidden fields of the list's search form."""
        return list(self.other)

    def sort_href(self, key: str) -> str:
        """The header link of column ``key``: ascending, or descending when it sorts ascending now."""
        flip = self.sort == key and not self.desc
        return self.href(sort=("-" if flip else "") + key)

    def aria_sort(self, key: str) -> str:
        if self.sort != key:
            return "none"
        return "descending" if self.desc else "ascending"

    def page_of(self, rows: Sequence[Any]) -> "Page":
        pages = max(1, math.ceil(len(rows) / self.per))
        number = min(max(1, self.page), pages)
        start = (number - 1) * self.per
        return Page(self, list(rows[start:start + self.per]), number, pages, len(rows), start)


@dataclass
class Page:
    """One page of a list: its rows, its number of ``pages``, ``total`` rows and the first row's index."""

    query: Query
    rows: list[Any]
    number: int
    pages: int
    total: int
    start: int

    @property
    def first(self) -> int:
        return self.start + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.start + len(self.rows)

    def numbers(self) -> list[int | None]:
        """The page numbers the pager shows: the first, the last and two around this one (None: a gap)."""
        wanted = sorted({1, self.pages, *range(max(1, self.number - 2), min(self.pages, self.number + 2) + 1)})
        out: list[int | None] = []
        for n in wanted:
            if out and n - (out[-1] or 0) > 1:
                out.append(None)
            out.append(n)
        return out


@dataclass
class Listing:
    """A list's description: columns, what search matches, the filters, the default sort."""

    columns: Sequence[Column]
    search: Callable[[Any], str]
    filters: Sequence[Filter] = ()
    default_sort: str = ""
    prefix: str = ""
    #: A tie-break after the chosen column (stable order across pages).
    tiebreak: Callable[[Any], Any] = lambda row: 0

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)

    def query(self, params: QueryParams, anchor: str = "") -> Query:
        get = lambda name: str(params.get(self.prefix + name) or "").strip()  # noqa: E731
        q = Query(self, q=get("q")[:200], other=others(params, self), anchor=anchor)
        for f in self.filters:
            value = get(f.name)
            if value in {v for v, _ in f.choices}:
                q.filters[f.name] = value
        sort = get("sort") or self.default_sort
        desc = sort.startswith("-")
        key = sort.lstrip("-")
        column = self.column(key)
        if column is None or column.sort is None:
            sort = self.default_sort
            desc, key = sort.startswith("-"), sort.lstrip("-")
        q.sort, q.desc = key, desc
        try:
            q.page = max(1, int(get("page") or 1))
        except ValueError:
            q.page = 1
        try:
            per = int(get("per") or PER_PAGE)
        except ValueError:
            per = PER_PAGE
        q.per = per if per in PER_PAGE_CHOICES else PER_PAGE
        return q

    def apply(self, rows: Sequence[Any], query: Query) -> list[Any]:
        """The rows the query keeps, in its order (every page)."""
        needle = query.q.casefold()
        kept = [r for r in rows if not needle or needle in self.search(r).casefold()]
        for f in self.filters:
            value = query.filters.get(f.name)
            if value:
                kept = [r for r in kept if f.keep(r, value)]
        column = self.column(query.sort)
        if column is not None and column.sort is not None:
            kept.sort(key=self.tiebreak)
            present = [r for r in kept if column.sort(r) not in (None, "")]
            missing = [r for r in kept if column.sort(r) in (None, "")]  # last, either way
            present.sort(key=lambda r: _sortable(column.sort(r)), reverse=query.desc)
            kept = present + missing
        return kept


def _sortable(value: Any) -> tuple:
    """Numbers (and Decimals, booleans) before text, text by its characters."""
    if isinstance(value, (bool, int, float, Decimal)):
        return (0, value)
    if isinstance(value, tuple):
        return (0, tuple(_sortable(v) for v in value))
    return (1, str(value))


def xlsx(sheet: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """One sheet: the header row (bold, frozen, with a filter) and the rows as given."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    ws.append(list(header))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    widths = [len(str(h)) * 2 for h in header]
    for row in rows:
        ws.append(list(row))
        for i, value in enumerate(row):
            text = "" if value is None else str(value)
            widths[i] = max(widths[i], sum(2 if ord(ch) > 0x2E7F else 1 for ch in text))
    for i, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = min(max(w + 2, 8), 60)
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export(listing: Listing, query: Query, rows: Sequence[Any], label: Callable[[str], str], sheet: str) -> bytes:
    """The list as a spreadsheet: every row the query keeps, in its order, one column per
    column that has a cell, headed as on the page."""
    columns = [c for c in listing.columns if c.cell is not None]
    kept = listing.apply(rows, query)
    return xlsx(sheet, [label(c.label) for c in columns], [[c.cell(r) for c in columns] for r in kept])


def others(params: QueryParams, listing: Listing) -> list[tuple[str, str]]:
    """The page's parameters that are not this list's (another list's), without the one-off
    notices (``done``) and the language (the cookie keeps it)."""
    own = {listing.prefix + n for n in ("q", "sort", "page", "per", *(f.name for f in listing.filters))}
    return [(k, v) for k, v in params.multi_items() if k not in own and k not in ("done", "lang")]
