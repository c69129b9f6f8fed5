"""`kpi-workbook fill`: import data into the input cells of scorecard workbooks.

The data is a long table (工号, 输入, 评分人, 值) or a wide one (工号 and one column per input
key or Chinese label, like a customer-service analytics export). Only input cells are
written — located through their defined names — and formulas are left alone. Rank items
are filled from the team's metric values (same role and department).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import collector
from ...diagnostics import Diagnostic, KpiError, error, warning
from ...kinds.inputs import InputSpec, KeyResolver, input_specs, parse_value
from ...numbers import ParseError, is_blank, normalise_text
from ...rules.loader import Catalog
from ..files import atomic_output
from .layout import FIELD_NAMES
from ..locks import locked_all
from .roster import read_table
from .editable import Scorecard, open_editable
from ..xlsx.limits import check_file

LONG_COLUMNS = {"employee_id": ("工号", "employee_id"), "input": ("输入", "input"),
                "rater": ("评分人", "rater"), "value": ("值", "value")}
ID_HEADERS = ("工号", "employee_id", "id")
IGNORED_WIDE = ("姓名", "name", "部门", "department", "岗位", "role", "月份", "month")


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


def read_inputs(path: Path | str) -> list[tuple[str, str, str | None, object]]:
    """(employee_id, input key, rater, value) rows from a long or wide table."""
    return input_rows(read_table(path), path)


def input_rows(df: pd.DataFrame, path: Path | str = "") -> list[tuple[str, str, str | None, object]]:
    """The rows of a long or wide table already read (``path`` names it in messages)."""
    headers = {normalise_text(str(c)).lower(): c for c in df.columns}

    def column(options):
        return next((headers[o.lower()] for o in options if o.lower() in headers), None)

    id_col = column(ID_HEADERS)
    if id_col is None:
        raise KpiError([error("inputs-columns", f"{path} 缺少 工号 列", f"{path} has no 工号 "
                              "(employee_id) column", source=str(path))])
    input_col, value_col = column(LONG_COLUMNS["input"]), column(LONG_COLUMNS["value"])
    rows = []
    if input_col is not None and value_col is not None:  # long
        rater_col = column(LONG_COLUMNS["rater"])
        for _, r in df.iterrows():
            rater = None if rater_col is None or is_blank(r[rater_col]) else str(r[rater_col])
            rows.append((str(r[id_col]).strip(), str(r[input_col]).strip(), rater, r[value_col]))
        return rows
    for _, r in df.iterrows():  # wide
        for c in df.columns:
            if c == id_col or normalise_text(str(c)).lower() in IGNORED_WIDE:
                continue
            if not is_blank(r[c]):
                key = str(c).strip()
                rater = None
                for sep in ("/", "."):
                    head, _, tail = key.rpartition(sep)
                    if head and tail in ("自评", "主管", "经理", "self", "supervisor", "manager"):
                        key, rater = head, tail
                        break
                rows.append((str(r[id_col]).strip(), key, rater, r[c]))
    return rows


@collector.batch()
def fill_workbooks(catalog: Catalog, books: list[Path], rows, source: str = "",
                   lock_timeout: float | None = None, step=None) -> FillResult:
    """Write ``rows`` into the books' input cells; every problem becomes a diagnostic.

    Each book is locked from its read to its write: two fills at once wait for each other
    and lose nothing."""
    for path in books:  # a file that is no workbook is refused before any lock file is made
        check_file(path)
    with locked_all(books, lock_timeout):
        return _fill(catalog, books, rows, source, step)


def _fill(catalog: Catalog, books: list[Path], rows, source: str, step=None) -> FillResult:
    result = FillResult()
    opened = {}
    cards: dict[str, tuple[Path, Scorecard]] = {}
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
            if card.employee_id in cards:
                result.diagnostics.append(error(
                    "duplicate-employee", f"员工 {card.employee_id} 同时出现在 {cards[card.employee_id][0].name} "
                    f"和 {path.name}", f"employee {card.employee_id} is in two workbooks",
                    source=str(path), sheet=card.sheet))
                continue
            cards[card.employee_id] = (path, card)

    resolvers: dict[str, tuple[KeyResolver, dict[str, InputSpec]]] = {}
    unknown_employees: set[str] = set()
    unknown_keys: set[str] = set()
    teams: set[tuple[str, str, str]] = set()  # (role, rank item, department) to re-rank
    for employee_id, key, rater, value in rows:
        if employee_id not in cards:
            unknown_employees.add(employee_id)
            continue
        path, card = cards[employee_id]
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
        base, r = resolver.split(key)
        if base is None:
            unknown_keys.add(f"{role.id}:{key}")
            continue
        if rater:
            r = resolver.rater(rater)
            if r is None:
                unknown_keys.add(f"{role.id}:{key}/{rater}")
                continue
        canon = f"{base}.{r}" if r else base
        if canon not in specs:
            rated = [k for k in specs if k.startswith(base + ".")]
            if rated and r is None:
                canon = rated[-1]  # no rater named: the final reviewer's column
            else:
                unknown_keys.add(f"{role.id}:{key}/{rater}")
                continue
        spec = specs[canon]
        try:
            parsed = parse_value(spec, value)
        except ParseError as exc:
            zh, en = exc.zh, exc.en
            shown = key + (f"（{rater}）" if rater else "")
            result.diagnostics.append(error(
                "bad-value", f"工号 {employee_id} 输入项 {shown}：{zh}",
                f"employee {employee_id}, input {shown}: {en or zh}", source=source,
                sheet=card.sheet))
            continue
        item = spec.item
        if item is not None and item.rule.kind == "rank" and spec.input.id not in ("rank", "team_size"):
            teams.add((role.id, item.id, card.department))
        _write(opened[path], card, spec, parsed)
        result.written += 1

    _fill_ranks(catalog, cards, opened, teams, result)
    for employee_id in sorted(unknown_employees):
        result.diagnostics.append(warning("unknown-employee", f"工号 {employee_id} 不在这些工作簿中",
                                          f"employee {employee_id} is in none of these workbooks",
                                          source=source))
    for key in sorted(unknown_keys):
        role_id, _, k = key.partition(":")
        valid = ", ".join(resolvers[role_id][0].valid_keys()) if role_id in resolvers else ""
        from ...suggest import did_you_mean, key_choices

        zh, en = did_you_mean(k.split("/")[0], key_choices(resolvers[role_id][0])) if role_id in resolvers else ("", "")
        result.diagnostics.append(warning("unknown-input", f"岗位 {role_id} 没有输入项 '{k}'{zh}；有效：{valid}",
                                          f"role {role_id} has no input '{k}'{en}; valid: {valid}",
                                          source=source))
    for path, book in opened.items():
        with atomic_output(path, force=True) as tmp:
            book.save(tmp)
        if step is not None:
            step(1, f"{path.name} 已写入 / written")
    return result


def _write(book, card: Scorecard, spec, parsed: float) -> None:
    name = f"KPI_IN_{spec.owner}__{spec.input.id}" + (f"__{spec.rater}" if spec.rater else "")
    ref = card.names.get(name)
    if ref is None:  # a sheet made from an older template
        raise KpiError([error("no-input-cell", f"工作表 {card.sheet} 没有输入单元格 {name}",
                              f"sheet {card.sheet} has no input cell {name}", sheet=card.sheet)])
    book.set(card.sheet, ref, cell_value(spec, parsed))


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
