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

import math
from dataclasses import dataclass, field
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
from .editable import Scorecard, open_editable
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
    input cells; every problem becomes a diagnostic.

    Each book is locked from its read to its write: two fills at once wait for each other
    and lose nothing."""
    for path in books:  # a file that is no workbook is refused before any lock file is made
        check_file(path)
    rows = [r if isinstance(r, InputRow) else InputRow(*r) for r in rows]
    with locked_all(books, lock_timeout):
        return _fill(catalog, books, rows, source, step)


@dataclass
class _Pending:
    """The values one input cell is given, with the rows they came from."""

    book: object
    card: Scorecard
    spec: InputSpec
    values: list[tuple[float, InputRow]] = field(default_factory=list)


def _fill(catalog: Catalog, books: list[Path], rows: list[InputRow], source: str,
          step=None) -> FillResult:
    result = FillResult()
    opened = {}
    cards: dict[str, tuple[Path, Scorecard]] = {}
    blocked: set[str] = set()  # cards whose names are not the form's: nothing written to them
    for path in books:
        book = open_editable(path)  # checks the zip directory as it opens it  # a damaged workbook is a KpiError naming it
        opened[path] = book
        if step is not None:  # a progress bar's callback (cli)
            step(1, f"{path.name} 已打开 / opened")
        found = book.scorecards()
        if not found:
            result.diagnostics.append(warning(
                "no-scorecards", f"{path.name} 中没有考核表（不是 kpi-workbook new 生成的工作簿？）",
                f"{path.name} has no scorecard sheets (not made by `kpi-workbook new`?)",
                source=str(path)))
        for card in found:
            # the names fill writes through must be where the template puts them (form.py):
            # a moved input name would put the value in a cell the sheet does not use
            moved = writer_findings(catalog, card, lambda ref, b=book, c=card: b.get(c.sheet, ref),
                                    book.package)
            if moved:
                result.diagnostics += moved
                blocked.add(card.employee_id)
                continue
            if card.employee_id in cards:
                result.diagnostics.append(error(
                    "duplicate-employee", f"员工 {card.employee_id} 同时出现在 {cards[card.employee_id][0].name} "
                    f"和 {path.name}", f"employee {card.employee_id} is in two workbooks",
                    source=str(path), sheet=card.sheet))
                continue
            cards[card.employee_id] = (path, card)

    def field_of(employee_id: str, name: str):
        path, card = cards[employee_id]
        ref = card.names.get(name)
        return opened[path].get(card.sheet, ref) if ref else None

    resolvers: dict[str, tuple[KeyResolver, dict[str, InputSpec]]] = {}
    unknown_employees: set[str] = set()
    refused: set[tuple[str, int | None]] = set()  # rows (sheet, line) not written at all
    headers = _Headers()
    pending: dict[tuple[str, str], _Pending] = {}
    months = _Months()
    teams: set[tuple[str, str, str]] = set()  # (role, rank item, department) to re-rank
    for row in rows:
        employee_id = row.employee_id
        if employee_id in blocked and employee_id not in cards:
            continue  # said once, by its names
        if employee_id not in cards:
            unknown_employees.add(employee_id)
            continue
        path, card = cards[employee_id]
        row_key = (row.sheet, row.line)
        if row_key in refused:
            continue
        problem = months.check(row, field_of(employee_id, "KPI_MONTH")) or _name_problem(
            row, field_of(employee_id, "KPI_NAME"))
        if problem is not None:
            refused.add(row_key)
            result.diagnostics.append(error(problem[0], problem[1], problem[2], source=source,
                                            sheet=card.sheet, path=_path(row)))
            continue
        role = catalog.roles.get(card.role_id)
        if role is None:
            result.diagnostics.append(error("unknown-role", f"工作表岗位 '{card.role_id}' 不存在",
                                            f"sheet role '{card.role_id}' is unknown",
                                            source=str(path), sheet=card.sheet))
            continue
        if role.id not in resolvers:
            role_specs = input_specs(role, catalog.role_pay_rules(role))
            resolvers[role.id] = (KeyResolver(role_specs), {s.key: s for s in role_specs})
        resolver, specs = resolvers[role.id]
        spec = _spec_of(resolver, specs, row, role.id, headers)
        if spec is None:
            continue
        try:
            parsed = parse_value(spec, row.value)
        except ParseError as exc:
            zh, en = exc.zh, exc.en
            shown = row.key + (f"（{row.rater}）" if row.rater else "")
            at, at_en = (f"{row.where()} ", f"{row.where_en()}: ") if row.line else ("", "")
            result.diagnostics.append(error(
                "bad-value", f"{at}工号 {employee_id} 输入项 {shown}：{zh}",
                f"{at_en}employee {employee_id}, input {shown}: {en or zh}", source=source,
                sheet=card.sheet, path=_path(row)))
            continue
        target = pending.setdefault((employee_id, spec.key), _Pending(opened[path], card, spec))
        target.values.append((parsed, row))

    months.refuse_file(source)  # every dated row of another month: the whole file is refused
    for (employee_id, key), target in pending.items():
        values = [(p, r) for p, r in target.values if (r.sheet, r.line) not in refused]
        if not values:
            continue
        first = values[0]
        other = next(((p, r) for p, r in values[1:] if not _same(p, first[0])), None)
        if other is not None:
            result.diagnostics.append(_conflict(employee_id, target, first, other, source))
            continue
        spec = target.spec
        item = spec.item
        if item is not None and item.rule.kind == "rank" and spec.input.id not in ("rank", "team_size"):
            teams.add((target.card.role_id, item.id, target.card.department))
        if _write(target.book, target.card, spec, first[0]):
            result.written += 1

    _fill_ranks(catalog, cards, opened, teams, result)
    for employee_id in sorted(unknown_employees):
        result.diagnostics.append(warning("unknown-employee", f"工号 {employee_id} 不在这些工作簿中",
                                          f"employee {employee_id} is in none of these workbooks",
                                          source=source))
    result.diagnostics.extend(headers.findings(resolvers, source))
    for path, book in opened.items():
        with atomic_output(path, force=True) as tmp:
            book.save(tmp)
        if step is not None:
            step(1, f"{path.name} 已写入 / written")
    return result


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


def _write(book, card: Scorecard, spec, parsed: float) -> bool:
    """Write one input cell; False when it already holds that value (a grid that shows the
    cards' inputs writes back only what was changed in it, and says so)."""
    name = f"KPI_IN_{spec.owner}__{spec.input.id}" + (f"__{spec.rater}" if spec.rater else "")
    ref = card.names.get(name)
    if ref is None:  # a sheet made from an older template
        raise KpiError([error("no-input-cell", f"工作表 {card.sheet} 没有输入单元格 {name}",
                              f"sheet {card.sheet} has no input cell {name}", sheet=card.sheet)])
    value = cell_value(spec, parsed)
    now = book.get(card.sheet, ref)
    if _same_cell(now, value):
        return False
    book.set(card.sheet, ref, value)
    return True


def _same_cell(a, b) -> bool:
    """Two cell values equal as a spreadsheet shows them: numbers by value (15 is 15.0),
    text by text; a number never equals text or a logical."""
    def number(v) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    if number(a) and number(b):
        return float(a) == float(b)
    return type(a) is type(b) and a == b


def _not_taking_part(role, book, card) -> bool:
    """The role's exclude_if applies to this card's field (S9: 缺岗月数 > 2)."""
    for rule in role.exclude_if:
        ref = card.names.get(FIELD_NAMES[rule.field])
        value = book.get(card.sheet, ref) if ref else None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > rule.above:
            return True
    return False


def _fill_ranks(catalog, cards, opened, teams, result) -> None:
    """Rank within role and department; ties share the better rank (G9).

    The whole team is ranked from the metric values now on its sheets — not only the rows of
    this import — so filling one person's metric later re-ranks everyone.
    """
    for role_id, item_id, department in sorted(teams):
        role = catalog.roles[role_id]
        item = next(it for _, it in role.items() if it.id == item_id)
        specs = {s.input.id: s for s in input_specs(role) if s.owner == item_id}
        metric = specs.get(item.rule.metric.id) if item.rule.metric is not None else None
        if metric is None:
            continue
        name = f"KPI_IN_{item_id}__{metric.input.id}"
        values = {}
        for employee_id, (path, card) in cards.items():
            if card.role_id != role_id or card.department != department or name not in card.names:
                continue
            if _not_taking_part(role, opened[path], card):
                continue  # 不参与 (S9): left out of the department's ranks, as engine.month
            value = opened[path].get(card.sheet, card.names[name])
            try:
                number = parse_value(metric, value)
            except ParseError:
                continue  # a bad value typed by hand: that person is not ranked
            if not math.isnan(number):
                values[employee_id] = number
        if not values:
            continue
        series = pd.Series(values, dtype=float)
        ranks = series.rank(method="min", ascending=not item.rule.higher_is_better)
        for employee_id, rank in ranks.items():
            path, card = cards[employee_id]
            _write(opened[path], card, specs["rank"], float(rank))
            _write(opened[path], card, specs["team_size"], float(len(series)))
            result.written += 2
