"""`kpi-workbook fill`: import data into the input cells of scorecard workbooks.

The data is a long table (工号, 输入, 评分人, 值), a wide one (工号 and one column per input,
headed as on the card: the 输入项 label, the 考核项目 label, 考核项目/输入项, or the key —
resolved per row through that employee's role, so one department file serves several
forms). Only input cells are written — located
through their defined names — and formulas are left alone. Rank items are filled from the
team's metric values (same role and department).

fill checks whose data it writes: a row whose 月份 is not the card's month, or whose 姓名 is
not the roster's, is refused (every row of another month: the whole file); two rows giving
one cell different values are an error naming both, and that cell is not written.
"""

from __future__ import annotations

import gc
import math
from dataclasses import dataclass, field
from typing import NamedTuple
from functools import partial
from pathlib import Path

import pandas as pd

from .. import collector
from ...diagnostics import Diagnostic, KpiError, error, warning
from ...kinds.inputs import InputSpec, KeyResolver, input_specs, parse_value
from ...numbers import ParseError, is_blank, parse_month
from ...rules.loader import Catalog
from ...rules.names import fold
from ..files import atomic_output
from .layout import FIELD_NAMES
from ..locks import locked_all
from .roster import read_table
from .rows import InputRow, input_rows, split_rater  # noqa: F401  (fill's data rows, re-exported)
from .editable import XmlBook, open_editable
from .form import writer_findings
from ..xlsx.limits import check_file

def cell_value(spec, parsed: float):
    """What to write in the cell for a parsed value: the form the formulas expect."""
    if math.isnan(parsed):
        return None
    if spec.input.type == "level":
        return spec.levels[int(parsed)]
    if spec.input.type == "flag":
        return "是" if parsed else "否"
    return int(parsed) if spec.input.type == "count" else parsed


@dataclass
class FillResult:
    written: int = 0
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def to_dict(self) -> dict:
        """What `fill --json` prints."""
        return {"written": self.written, "diagnostics": [d.to_dict() for d in self.diagnostics]}


def read_inputs(path: Path | str) -> list[InputRow]:
    """The values of a long or wide table, or of the month's entry grid (``entry.py``)."""
    from .entry import is_entry_grid, read_entry_grid

    if is_entry_grid(Path(path)):
        return read_entry_grid(Path(path))
    return input_rows(read_table(path), path)


@collector.batch()
def fill_workbooks(catalog: Catalog, books: list[Path], rows, source: str = "",
                   lock_timeout: float | None = None, step=None) -> FillResult:
    """Write ``rows`` (InputRow, or tuples of employee, key, rater, value) into the books'
    input cells; every problem becomes a diagnostic. ``rows`` may also be a function that
    reads them: it is called while the worker processes scan the books (a group's data file
    is read on one core while the others open the books).

    Each book is locked from its read to its write: two fills at once wait for each other
    and lose nothing."""
    for path in books:  # a file that is no workbook is refused before any lock file is made
        check_file(path)
    with locked_all(books, lock_timeout):
        return _fill(catalog, books, rows, source, step)


@dataclass
class _Found:
    """One card as the scan found it: what fill decides with, without the book open."""

    book: int  # its book's place in the list of books
    sheet: str
    employee_id: str
    role_id: str
    department: str
    inputs: dict[str, int]  # its KPI_IN_* names → their place in ``now`` (one dict per form)
    now: tuple  # what its input cells hold
    refs: tuple[str, ...]  # the cells of its KPI_IN_* names, in the order of ``inputs`` (one per form)
    values: dict[str, object]  # the other cells fill decides with (KPI_MONTH, KPI_NAME, …)


class _Pending(NamedTuple):
    """The values one input cell is given, with the rows they came from (one made per row
    of the data file: a tuple, not a dataclass)."""

    card: _Found
    spec: InputSpec
    values: list[tuple[float, InputRow]]


# A book's scan: its cards (each with the findings that keep fill from writing to it), the
# findings of the book itself, and its sheets' parts in the zip (the write opens the book
# without reading its names again)
_Scan = tuple[list[tuple[_Found, list[Diagnostic]]], list[Diagnostic], dict[str, str]]


def _fill(catalog: Catalog, books: list[Path], rows, source: str, step=None) -> FillResult:
    """Three passes, so that no more than one book a process is open at a time: every book
    is scanned (its cards and the cells fill decides with), the rows are checked and the
    writes planned here, then each book is opened, patched and written. The scan and the
    writing go one book per worker process on every core (``pool.each_book``); the results
    come back in the order of the books, so the findings and counts are those of one process."""
    from . import pool

    # fewer books than start workers: each is kept open from its scan to its write (opened
    # once); over more, each is opened to be scanned and again to be written, never all at once
    kept: dict[Path, XmlBook] | None = {} if len(books) < pool.MIN_BOOKS else None
    collecting = gc.isenabled()  # (the planning turns the cycle collector off: see there)
    try:
        return _fill_books(catalog, books, rows, source, step, kept)
    finally:
        if collecting:
            gc.enable()
        for book in (kept or {}).values():
            book.close()


def _fill_books(catalog: Catalog, books: list[Path], given, source: str, step,
                kept: dict[Path, XmlBook] | None) -> FillResult:
    from . import pool

    result = FillResult()
    read: list[list[InputRow]] = []

    def read_rows() -> None:  # here, while the workers scan the books (forked already)
        collecting = gc.isenabled()
        gc.disable()  # a million rows, no cycle: the collector went over them again and again
        try:
            rows = given() if callable(given) else given
            read.append([r if isinstance(r, InputRow) else InputRow(*r) for r in rows])
        finally:
            if collecting:
                gc.enable()

    sizes = [_size(path) for path in books]
    scans: list[_Scan] = pool.each_book(
        partial(_scan_book, keep=kept) if kept is not None else _scan_book, list(enumerate(books)),
        shared=catalog, sizes=sizes, meanwhile=read_rows,
        done=lambda item, _: step(1, f"{item[1].name} 已打开 / opened") if step is not None else None)
    rows = read.pop()
    # the planning holds every card and row (a group's: millions of objects) and makes no
    # cycles: the cycle collector, which went over them all again and again, is off until
    # the writers start (30 % of the planning at 10,000 people); _fill turns it on again
    collecting = gc.isenabled()
    gc.disable()
    cards: dict[str, _Found] = {}
    blocked: set[str] = set()  # cards whose names are not the form's: nothing written to them
    parts: list[dict[str, str]] = []
    for (found, book_findings, book_parts), path in zip(scans, books):
        result.diagnostics += book_findings
        parts.append(book_parts)
        for card, moved in found:
            if moved:
                result.diagnostics += moved
                blocked.add(card.employee_id)
                continue
            if card.employee_id in cards:
                result.diagnostics.append(error(
                    "duplicate-employee", f"员工 {card.employee_id} 同时出现在 {books[cards[card.employee_id].book].name} "
                    f"和 {path.name}", f"employee {card.employee_id} is in two workbooks",
                    source=str(path), sheet=card.sheet))
                continue
            cards[card.employee_id] = card
    del scans

    resolvers: dict[str, tuple[KeyResolver, dict[str, InputSpec]]] = {}
    unknown_employees: set[str] = set()
    refused: set[tuple[str, int | None]] = set()  # rows (sheet, line) not written at all
    headers = _Headers()
    pending: dict[tuple[str, str], _Pending] = {}
    months = _Months()
    teams: set[tuple[str, str, str]] = set()  # (role, rank item, department) to re-rank
    # what a spelling names in a role, and what a value parses to for an input: each worked
    # out once (a group's data file has a hundred thousand rows of a few dozen spellings)
    named: dict[tuple[str, str, str | None], InputSpec] = {}
    parsed_as: dict[tuple[int, type, object], float] = {}
    card_of = cards.get
    for row in rows:  # a hundred thousand people's rows: each step here is paid ~10⁶ times
        employee_id = row.employee_id
        found_card = card_of(employee_id)
        if found_card is None:
            if employee_id not in blocked:  # (a blocked card is said once, by its names)
                unknown_employees.add(employee_id)
            continue
        card = found_card
        if refused and (row.sheet, row.line) in refused:
            continue
        # a row with no 月份 and no 姓名 has nothing to check against the card
        problem = None if row.month is None and row.name is None else (
            months.check(row, card.values.get("KPI_MONTH")) or _name_problem(row, card.values.get("KPI_NAME")))
        if problem is not None:
            refused.add((row.sheet, row.line))
            result.diagnostics.append(error(problem[0], problem[1], problem[2], source=source,
                                            sheet=card.sheet, path=_path(row)))
            continue
        role = catalog.roles.get(card.role_id)
        if role is None:
            result.diagnostics.append(error("unknown-role", f"工作表岗位 '{card.role_id}' 不存在",
                                            f"sheet role '{card.role_id}' is unknown",
                                            source=str(books[card.book]), sheet=card.sheet))
            continue
        if role.id not in resolvers:
            role_specs = input_specs(role, catalog.role_pay_rules(role))
            resolvers[role.id] = (KeyResolver(role_specs), {s.key: s for s in role_specs})
        spec = named.get((role.id, row.key, row.rater))
        if spec is None:
            resolver, specs = resolvers[role.id]
            spec = _spec_of(resolver, specs, row, role.id, headers)
            if spec is None:
                continue  # unknown or ambiguous: noted in headers, for every row that says it
            named[(role.id, row.key, row.rater)] = spec
        try:
            parsed = parsed_as[(id(spec), type(row.value), row.value)]  # (the usual case)
        except (KeyError, TypeError):
            parsed = None
        try:
            if parsed is None:
                parsed = _parsed(parsed_as, spec, row.value)
        except ParseError as exc:
            zh, en = exc.zh, exc.en
            shown = row.key + (f"（{row.rater}）" if row.rater else "")
            at, at_en = (f"{row.where()} ", f"{row.where_en()}: ") if row.line else ("", "")
            result.diagnostics.append(error(
                "bad-value", f"{at}工号 {employee_id} 输入项 {shown}：{zh}",
                f"{at_en}employee {employee_id}, input {shown}: {en or zh}", source=source,
                sheet=card.sheet, path=_path(row)))
            continue
        target = pending.get((employee_id, spec.key))
        if target is None:
            pending[(employee_id, spec.key)] = _Pending(card, spec, [(parsed, row)])
        else:
            target.values.append((parsed, row))

    del rows  # let go before the writers start: they are forked from this process
    months.refuse_file(source)  # every dated row of another month: the whole file is refused
    plan = _Plan(len(books))
    for (employee_id, key), target in pending.items():
        values = target.values
        if refused:
            values = [(p, r) for p, r in values if (r.sheet, r.line) not in refused]
            if not values:
                continue
        first = values[0]
        other = next(((p, r) for p, r in values[1:] if not _same(p, first[0])), None) if len(values) > 1 else None
        if other is not None:
            result.diagnostics.append(_conflict(employee_id, target, first, other, source))
            continue
        spec = target.spec
        item = spec.item
        if item is not None and item.rule.kind == "rank" and spec.input.id not in ("rank", "team_size"):
            teams.add((target.card.role_id, item.id, target.card.department))
        result.written += plan.write(target.card, spec, cell_value(spec, first[0]))
    del pending

    result.written += _fill_ranks(catalog, cards, teams, plan)
    del cards
    plan.now.clear()
    for employee_id in sorted(unknown_employees):
        result.diagnostics.append(warning("unknown-employee", f"工号 {employee_id} 不在这些工作簿中",
                                          f"employee {employee_id} is in none of these workbooks",
                                          source=source))
    result.diagnostics.extend(headers.findings(resolvers, source))
    if collecting:
        gc.enable()
    pool.each_book(
        partial(_write_book, keep=kept) if kept is not None else _write_book,
        list(zip(books, plan.books, parts)), folders=list(dict.fromkeys(p.parent for p in books)), sizes=sizes,
        done=lambda item, _: step(1, f"{item[0].name} 已写入 / written") if step is not None else None)
    return result


def _scan_book(catalog: Catalog, item: tuple[int, Path], keep: dict[Path, XmlBook] | None = None) -> _Scan:
    """A book's cards, each with the cells fill decides with and the findings that keep
    fill from writing to it; the book is closed again (or kept open in ``keep``, its sheets'
    cells let go)."""
    index, path = item
    book = open_editable(path)  # checks the zip directory as it opens it  # a damaged workbook is a KpiError naming it
    closing = True
    try:
        found = book.scorecards()
        findings: list[Diagnostic] = []
        if not found:
            findings.append(warning(
                "no-scorecards", f"{path.name} 中没有考核表（不是 kpi-workbook new 生成的工作簿？）",
                f"{path.name} has no scorecard sheets (not made by `kpi-workbook new`?)",
                source=str(path)))
        shared: dict[tuple[str, ...], dict[str, int]] = {}  # one dict for the cards of a form
        cells_of: dict[tuple[str, ...], tuple[str, ...]] = {}  # and one tuple of their cells
        wanted: dict[str, tuple[str, ...]] = {}
        cards = []
        for card in found:
            # the names fill writes through must be where the template puts them (form.py):
            # a moved input name would put the value in a cell the sheet does not use
            moved = writer_findings(catalog, card, lambda ref, c=card: book.get(c.sheet, ref),
                                    book.package)
            names = tuple(n for n in card.names if n.startswith("KPI_IN_"))
            if names not in shared:
                shared[names] = {n: k for k, n in enumerate(names)}
            refs = tuple(card.names[n] for n in names)
            refs = cells_of.setdefault(refs, refs)
            now = tuple(book.get(card.sheet, card.names[n]) for n in names)
            if card.role_id not in wanted:
                wanted[card.role_id] = _decided_by(catalog, card.role_id)
            values = {n: book.get(card.sheet, card.names[n]) for n in wanted[card.role_id]
                      if n in card.names and not n.startswith("KPI_IN_")}
            cards.append((_Found(index, card.sheet, card.employee_id, card.role_id, card.department,
                                 shared[names], now, refs, values), moved))
        if keep is not None:
            book.data.clear()  # the write patches the sheets' XML: their cells are not needed
            book.package.rows_memo.clear()
            keep[path], closing = book, False
        return cards, findings, dict(book.package.parts)
    finally:
        if closing:
            book.close()


def _decided_by(catalog: Catalog, role_id: str) -> tuple[str, ...]:
    """The names of the cells fill reads on a card of ``role_id``: its month and name, the
    fields that keep it out of the ranks, its rank items' metrics."""
    names = ["KPI_MONTH", "KPI_NAME"]
    role = catalog.roles.get(role_id)
    if role is not None:
        names += [FIELD_NAMES[rule.field] for rule in role.exclude_if]
        names += [f"KPI_IN_{item.id}__{item.rule.metric.id}" for _, item in role.items()
                  if item.rule.kind == "rank" and item.rule.metric is not None]
    return tuple(dict.fromkeys(names))


class _Plan:
    """The cells to write, per book, in the order they are written: (sheet, cell, value)."""

    def __init__(self, n_books: int) -> None:
        self.books: list[list[tuple[str, str, object]]] = [[] for _ in range(n_books)]
        self.now: dict[tuple[str, str], object] = {}  # (employee, name) → value being written
        self._names: dict[int, tuple[object, str]] = {}  # id(spec) → (spec, its cell's name)

    def write(self, card: _Found, spec, value) -> int:
        """Plan one input cell; 0 when it already holds that value (a grid that shows the
        cards' inputs writes back only what was changed in it, and says so), else 1."""
        named = self._names.get(id(spec))
        if named is None or named[0] is not spec:  # (each spec's name made once, not per card)
            named = self._names[id(spec)] = (spec, f"KPI_IN_{spec.owner}__{spec.input.id}"
                                             + (f"__{spec.rater}" if spec.rater else ""))
        name = named[1]
        if name not in card.inputs:  # a sheet made from an older template
            raise KpiError([error("no-input-cell", f"工作表 {card.sheet} 没有输入单元格 {name}",
                                  f"sheet {card.sheet} has no input cell {name}", sheet=card.sheet)])
        if _same_cell(self.value(card, name), value):
            return 0
        self.books[card.book].append((card.sheet, card.refs[card.inputs[name]], value))
        self.now[(card.employee_id, name)] = value
        return 1

    def value(self, card: _Found, name: str):
        """The cell as it will be: what is written to it, else what it holds."""
        key = (card.employee_id, name)
        if key in self.now:
            return self.now[key]
        at = card.inputs.get(name)
        return card.now[at] if at is not None else card.values.get(name)


def _write_book(_, item: tuple[Path, list, dict[str, str]], keep: dict[Path, XmlBook] | None = None) -> None:
    """Open one book (or take it from ``keep``), write its planned cells, save it: only the
    sheets written to are read again (patched), the rest copied. The book is opened with the
    sheets' parts its scan found (its names are not read again: the cells are in the plan)."""
    path, cells, parts = item
    book = keep.pop(path) if keep is not None and path in keep else open_editable(path, parts)
    try:
        for sheet, ref, value in cells:
            book.set(sheet, ref, value)
        with atomic_output(path, force=True) as tmp:
            book.save(tmp)
    finally:
        book.close()


def _parsed(parsed_as: dict[tuple[int, type, object], float], spec: InputSpec, value) -> float:
    """``parse_value(spec, value)``, remembered in ``parsed_as`` by the spec and the value (its
    type too: True is not 1 here); a value that does not parse is parsed again each time."""
    try:
        key = (id(spec), type(value), value)
        return parsed_as[key]
    except KeyError:
        parsed_as[key] = found = parse_value(spec, value)
        return found
    except TypeError:  # a value that cannot be a key
        return parse_value(spec, value)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _path(row: InputRow) -> tuple:
    return () if row.line is None else ((row.sheet, row.line) if row.sheet else (row.line,))


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def _shown_value(parsed: float, row: InputRow) -> str:
    return str(row.value).strip() if not math.isnan(parsed) else "（空）"


def _conflict(employee_id: str, target: _Pending, first, other, source: str) -> Diagnostic:
    """Two rows give one cell different values: name both, write neither."""
    (a, ra), (b, rb) = first, other
    label = target.spec.label_path()
    where = lambda r: (r.where() or "一行") + (f"“{r.column}”" if r.column else "")  # noqa: E731
    where_en = lambda r: (r.where_en() or "a row") + (f" ({r.column})" if r.column else "")  # noqa: E731
    return error(
        "conflicting-values",
        f"工号 {employee_id} 的 {label}：{where(ra)} 为 {_shown_value(a, ra)}，"
        f"{where(rb)} 为 {_shown_value(b, rb)}，两者不一致，此格未写入",
        f"employee {employee_id}, {target.spec.key}: {where_en(ra)} gives {ra.value} but "
        f"{where_en(rb)} gives {rb.value}; the cell was not written",
        source=source, sheet=target.card.sheet, path=_path(ra))


def _name_problem(row: InputRow, on_card) -> tuple[str, str, str] | None:
    """The row's 姓名 is not the card's (the roster's): that row is refused."""
    if is_blank(row.name) or is_blank(on_card):
        return None
    if fold(row.name) == fold(on_card):
        return None
    at, at_en = row.where() or "数据", row.where_en() or "a row"
    return ("name-mismatch",
            f"{at}：工号 {row.employee_id} 的姓名写的是“{str(row.name).strip()}”，名单中是“{on_card}”；"
            "此行未写入",
            f"{at_en}: employee {row.employee_id} is named '{str(row.name).strip()}' but the roster "
            f"says '{on_card}'; the row was not written")


class _Months:
    """The 月份 each row gives against its card's month: a row of another month is refused;
    when every dated row is of another month, the whole file is (nothing is written)."""

    def __init__(self) -> None:
        self.dated = 0
        self.other: dict[str, int] = {}  # the file's month → rows
        self.books: set[str] = set()

    def check(self, row: InputRow, on_card) -> tuple[str, str, str] | None:
        if is_blank(row.month) or is_blank(on_card):
            return None
        at, at_en = row.where() or "数据", row.where_en() or "a row"
        try:
            given = parse_month(row.month)
        except ParseError as exc:
            self.dated += 1
            return ("bad-month", f"{at}：月份 {exc.zh}；此行未写入", f"{at_en}: {exc.en}; the row was "
                    "not written")
        try:
            book = parse_month(on_card)
        except ParseError:
            return None
        self.dated += 1
        if given == book:
            return None
        self.other[given] = self.other.get(given, 0) + 1
        self.books.add(book)
        return ("month-mismatch", f"{at}：月份为 {given}，考核表是 {book} 的；此行未写入",
                f"{at_en}: the month is {given} but the scorecard is of {book}; the row was not written")

    def refuse_file(self, source: str) -> None:
        if self.dated and sum(self.other.values()) == self.dated:
            given, books = "、".join(sorted(self.other)), "、".join(sorted(self.books))
            raise KpiError([error(
                "month-mismatch", f"数据文件每一行的月份都是 {given}，考核表是 {books} 的：整个文件未导入",
                f"every row of the data file is of {given.replace('、', ', ')} but the scorecards "
                f"are of {books.replace('、', ', ')}: nothing was imported", source=source)])


class _Headers:
    """What the spellings of a data file named, per role: the unknown and the ambiguous ones
    are reported once each, in one line, with the rows they were on."""

    def __init__(self) -> None:
        self.known: dict[str, set[str]] = {}  # spelling → roles it names an input of
        self.unknown: dict[str, dict[str, list[InputRow]]] = {}  # spelling → role → rows
        self.ambiguous: dict[tuple[str, str], tuple[str, ...]] = {}  # (spelling, role) → candidates

    def findings(self, resolvers, source: str) -> list[Diagnostic]:
        from ...suggest import close, key_choices

        out: list[Diagnostic] = []
        for (spelling, role_id), candidates in sorted(self.ambiguous.items()):
            resolver = resolvers[role_id][0]
            shown = "、".join(resolver.shown(c) for c in candidates[:4])
            if len(candidates) > 4:
                shown += f" 等 {len(candidates)} 项"
            example = resolver.path_of(candidates[0])
            out.append(error(
                "ambiguous-input", f"“{spelling}”在岗位 {role_id} 中可指 {shown}；请写成 考核项目/输入项，"
                f"如“{example}”", f"'{spelling}' may mean any of {', '.join(candidates[:4])}"
                f"{' …' if len(candidates) > 4 else ''} in role "
                f"{role_id}; write 考核项目/输入项, e.g. '{example}'", source=source))
        for spelling, by_role in sorted(self.unknown.items()):
            role_ids = sorted(by_role)
            lines = sorted({r.line for rs in by_role.values() for r in rs if r.line is not None})
            at = f"（第 {_lines(lines)} 行）" if lines else ""
            at_en = f" ({'row' if len(lines) == 1 else 'rows'} {_lines(lines, ', ')})" if lines else ""
            choices: dict[str, str] = {}
            for role_id in role_ids:  # the closest of the roles that lack it
                choices.update(key_choices(resolvers[role_id][0]))
            hits = close(split_rater(spelling)[0], choices)
            zh = f"；最接近：{'、'.join(hits)}" if hits else ""
            en = f"; did you mean: {', '.join(hits)}" if hits else ""
            also = sorted(self.known.get(spelling, set()))
            note = f"（岗位 {'、'.join(also)} 有此输入项）" if also else ""
            note_en = f" (role {', '.join(also)} has it)" if also else ""
            out.append(warning(
                "unknown-input", f"岗位 {'、'.join(role_ids)} 没有输入项“{spelling}”{at}{note}，未写入{zh}",
                f"role {', '.join(role_ids)} has no input '{spelling}'{at_en}{note_en}; not written{en}",
                source=source))
        return out


def _lines(lines: list[int], sep: str = "、", shown: int = 6) -> str:
    text = sep.join(str(n) for n in lines[:shown])
    return text + (f" 等 {len(lines)} 行" if sep == "、" and len(lines) > shown else
                   (f" … ({len(lines)})" if len(lines) > shown else ""))


def _spec_of(resolver: KeyResolver, specs: dict[str, InputSpec], row: InputRow, role_id: str,
             headers: _Headers) -> InputSpec | None:
    """The input a row's key and rater name through the employee's role, or None (noted in
    ``headers``: unknown or ambiguous)."""
    spelling = row.key + (f"/{row.rater}" if row.rater else "")
    base, rater, candidates = resolver.resolve(row.key)
    if candidates:
        headers.ambiguous[(spelling, role_id)] = candidates
        return None
    if base is not None and row.rater:
        rater = resolver.rater(row.rater)
    canon = None
    if base is not None and (rater or not row.rater):
        canon = f"{base}.{rater}" if rater else base
        if canon not in specs:
            rated = [k for k in specs if k.startswith(base + ".")]
            canon = rated[-1] if rated and rater is None else None  # no rater named: the final reviewer's column
    if canon is None:
        headers.unknown.setdefault(spelling, {}).setdefault(role_id, []).append(row)
        return None
    headers.known.setdefault(spelling, set()).add(role_id)
    return specs[canon]


def _same_cell(a, b) -> bool:
    """Two cell values equal as a spreadsheet shows them: numbers by value (15 is 15.0),
    text by text; a number never equals text or a logical."""
    if type(a) is float and type(b) is float:  # (the usual case: a score written over one)
        return a == b
    if _number(a) and _number(b):
        return float(a) == float(b)
    return type(a) is type(b) and a == b


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _not_taking_part(role, card: _Found) -> bool:
    """The role's exclude_if applies to this card's field (S9: 缺岗月数 > 2)."""
    for rule in role.exclude_if:
        value = card.values.get(FIELD_NAMES[rule.field])
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > rule.above:
            return True
    return False


def _fill_ranks(catalog, cards: dict[str, _Found], teams, plan: _Plan) -> int:
    """Rank within role and department; ties share the better rank (G9). Returns the
    cells written.

    The whole team is ranked from the metric values on its sheets once this import is
    written — not only the rows of this import — so filling one person's metric later
    re-ranks everyone.
    """
    written = 0
    for role_id, item_id, department in sorted(teams):
        role = catalog.roles[role_id]
        item = next(it for _, it in role.items() if it.id == item_id)
        specs = {s.input.id: s for s in input_specs(role) if s.owner == item_id}
        metric = specs.get(item.rule.metric.id) if item.rule.metric is not None else None
        if metric is None:
            continue
        name = f"KPI_IN_{item_id}__{metric.input.id}"
        values = {}
        for employee_id, card in cards.items():
            if card.role_id != role_id or card.department != department or name not in card.inputs:
                continue
            if _not_taking_part(role, card):
                continue  # 不参与 (S9): left out of the department's ranks, as engine.month
            try:
                number = parse_value(metric, plan.value(card, name))
            except ParseError:
                continue  # a bad value typed by hand: that person is not ranked
            if not math.isnan(number):
                values[employee_id] = number
        if not values:
            continue
        series = pd.Series(values, dtype=float)
        ranks = series.rank(method="min", ascending=not item.rule.higher_is_better)
        for employee_id, rank in ranks.items():
            card = cards[employee_id]
            plan.write(card, specs["rank"], cell_value(specs["rank"], float(rank)))
            plan.write(card, specs["team_size"], cell_value(specs["team_size"], float(len(series))))
            written += 2  # counted whether or not they changed
    return written
