"""The monthly report's data: every scorecard read, checked and recomputed by the engine.

Cached formula values are never trusted: totals, grades and pay come from the engine on the
inputs, with the rules of the template version that built each sheet and the thresholds and
pay parameters of its own workbook's 设置 (reader.Card.catalog); an error on a book's 设置 makes
every card of that book 错误. Where a workbook carries cached values that disagree, the sheet is reported as
tampered or stale. One broken workbook or scorecard never stops the report for everyone
else: it becomes findings, and incomplete cards are listed with what is missing.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...diagnostics import Diagnostic, KpiError, Refused, error, warning
from ...kinds.inputs import input_specs
from ...engine.month import MonthScores, apply_deduction_pools, apply_team_awards, score_month
from ...numbers import clean_round
from ...rules.loader import Catalog
from ...rules.model import TEAM_PAY_KINDS
from ..scorecard.formulas import COMPLETE
from ...words import PENDING
from .parallel import read_books
from ..scorecard.reader import KPI_OUTPUTS, Card, card_arrays, read_workbook
from ..scorecard.settings import SETTINGS_ERRORS
from ..scorecard.validate import card_error_diags, formula_findings

STATUS_TEXT = {"complete": "已完成", "incomplete": "未完成", "error": "错误", "excluded": "不参与"}
NO_PAY_RULE = "本岗位无绩效薪酬规则"  # 说明 of a card whose role pays nothing by rule


@dataclass
class ReportData:
    month: str
    summary: pd.DataFrame  # one row per employee (月度汇总)
    money_columns: list[str]  # pay rule labels, in first-seen order
    findings: list[Diagnostic] = field(default_factory=list)
    incomplete: pd.DataFrame = field(default_factory=pd.DataFrame)
    books: list[Path] = field(default_factory=list)  # the books read (the report records them)
    cards: list[Card] = field(default_factory=list)  # the cards scored, in the summary's order
    # HR's 校准 choices shown in the 校准 sheet (employee → (calibrated grade, reason)): kept
    # over a reopening, and in the report approve rewrites
    calibrations: dict[str, tuple[str, str]] = field(default_factory=dict)
    # the engine's own rows, when ``summary`` shows the approved (calibrated) ones: the 校准
    # sheet lists each card with the grade the engine gave it
    graded: pd.DataFrame | None = None


def collect_books(inputs: list[Path], exclude: list[Path]) -> list[Path]:
    """Files named, and the .xlsx files of folders named (not Excel's ~$ lock files)."""
    skip = {_resolved(p) for p in exclude if p is not None}
    books: list[Path] = []
    for path in inputs:
        if path.is_dir():
            books += sorted(p for p in path.glob("*.xls[xm]") if not p.name.startswith(("~$", ".")))
        else:
            books.append(path)
    return [b for b in books if _resolved(b) not in skip]


def _resolved(path: Path) -> Path:
    """The real path; a looping symlink (a file linked to itself) stays as named, and
    reading it later is one finding."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def build_report(catalog: Catalog, books: list[Path], month: str | None = None, step=None) -> ReportData:
    """Every card of ``books`` read, checked and scored; ``step(1, name)`` per book read."""
    findings: list[Diagnostic] = []
    collected: list[Card] = []
    for found, diags in read_books(catalog, books, read_one_book, step):  # on every core
        findings += diags
        collected += found

    kept, month = _one_month(collected, month, findings)
    # the findings of a card of another month are not this month's
    other = {(str(c.path), c.sheet) for c in collected} - {(str(c.path), c.sheet) for c in kept}
    findings[:] = [d for d in findings if d.code == "month-mismatch" or (d.source, d.sheet) not in other]
    cards: list[Card] = []
    seen: dict[str, Card] = {}
    for card in kept:
        if card.employee_id in seen:
            first = seen[card.employee_id]
            findings.append(error(
                "duplicate-employee",
                f"员工 {card.employee_id} 同时出现在 {first.path.name}[{first.sheet}]，只计一次，"
                "两处一致前不发放",
                f"employee {card.employee_id} also appears in {first.path.name}[{first.sheet}]; "
                "counted once and not paid until only one remains", source=str(card.path), sheet=card.sheet))
            findings.append(error(
                "duplicate-employee",
                f"员工 {card.employee_id} 另有一张考核表在 {card.path.name}[{card.sheet}]：两处一致前不发放",
                f"employee {card.employee_id} has another scorecard in {card.path.name}[{card.sheet}]: "
                "not paid until only one remains", source=str(first.path), sheet=first.sheet))
            continue
        seen[card.employee_id] = card
        cards.append(card)

    summary, money_columns, incomplete = _score(catalog, cards, month, findings)
    return ReportData(month, summary, money_columns, findings, incomplete, list(books), cards)


def _month_list(counts: dict[str, int]) -> str:
    return "、".join(f"{m or '（空）'}（{n} 张 / {n} cards）" for m, n in sorted(counts.items()))


def _one_month(cards: list[Card], month: str | None, findings: list[Diagnostic]):
    """One month per report: the cards of ``month`` (default: the one month all books are
    of). Books of another month are left out with one finding each; books that disagree
    without ``--month`` stop the report, as does a ``--month`` no book is of."""
    counts: dict[str, int] = {}
    for card in cards:
        m = str(card.fields.get("month") or "")
        counts[m] = counts.get(m, 0) + 1
    if not cards:
        return cards, month or ""
    if month is None:
        if len(counts) > 1:
            raise Refused([error(
                "mixed-months", f"考核表的月份不一致：{_month_list(counts)}；请用 --month 选定一个月",
                f"the scorecards are of different months: {_month_list(counts)}; choose one with --month")])
        month = next(iter(counts))
    elif month not in counts:
        raise KpiError([error(
            "month-not-found", f"--month {month} 与任何考核表都不符（考核表的月份：{_month_list(counts)}）",
            f"--month {month} matches no scorecard (their months: {_month_list(counts)})")])
    kept: list[Card] = []
    left_out: dict[tuple[str, str], list[Card]] = {}
    for card in cards:
        m = str(card.fields.get("month") or "")
        if m == month:
            kept.append(card)
        else:
            left_out.setdefault((str(card.path), m), []).append(card)
    for (path, m), group in left_out.items():
        findings.append(error(
            "month-mismatch",
            f"{Path(path).name} 的月份是 {m or '（空）'}，不是报表月份 {month}：其 {len(group)} 张考核表未计入",
            f"{Path(path).name} is of month {m or '(empty)'}, not the report's {month}: its "
            f"{len(group)} scorecards are left out", source=path, sheet=group[0].sheet,
            cell=group[0].names.get("KPI_MONTH", "")))
    return kept, month


def read_one_book(catalog: Catalog, path: Path) -> tuple[list[Card], list[Diagnostic]]:
    """One book's cards and findings: read once, its formulas checked, its 名单 compared.
    A damaged book raises KpiError (``parallel.read_books`` makes it findings)."""
    book = read_workbook(catalog, path, sheets=("名单",))  # the book is read once
    found = book.cards
    diags = book.diagnostics + formula_findings(catalog, path, found) + \
        _roster_gaps(path, found, book.sheets.get("名单", []))
    _slim(found)
    return found, diags


def _slim(cards: list[Card]) -> None:
    """What the report keeps of each card once its sheet is checked: its every cell and its
    inputs' contents go (a worker sends the cards to the report; at 100,000 cards those were
    most of its memory), and the maps every card of a form shares — its names, its inputs'
    cells — are one object (pickled once per book, not once per card)."""
    names: dict[str, list[dict]] = {}  # role → the maps its cards have had (one, usually)
    cells: dict[str, list[dict]] = {}
    for card in cards:
        card.sheet_cells = {}
        card.contents = {}
        card.names = _one_of(names.setdefault(card.role_id, []), card.names)
        card.cells = _one_of(cells.setdefault(card.role_id, []), card.cells)


def _one_of(known: list[dict], mine: dict) -> dict:
    """An equal map seen before (compared whole, in C), else ``mine``, kept for the next."""
    for other in known:
        if other == mine:
            return other
    if len(known) < 8:  # a book of broken sheets shares nothing: never a long search
        known.append(mine)
    return mine


def _roster_gaps(path: Path, cards: list[Card], roster: list[list[object]]) -> list[Diagnostic]:
    """Employees on the workbook's 名单 whose scorecard sheet is gone."""
    have = {c.employee_id for c in cards}
    out = []
    for r, row in enumerate(roster[1:], start=2):
        employee_id = str(row[0] if row and row[0] is not None else "").strip()
        name = row[1] if len(row) > 1 and row[1] is not None else ""
        if employee_id and employee_id not in have:
            out.append(error("missing-sheet",
                             f"名单中的员工 {employee_id}（{name}）没有考核表（工作表被删除或改坏）",
                             f"employee {employee_id} on 名单 has no scorecard sheet (deleted or broken)",
                             source=str(path), sheet="名单", cell=f"A{r}"))
    return out


def _score(catalog: Catalog, cards: list[Card], month: str, findings: list[Diagnostic]):
    if not cards:
        return pd.DataFrame(), [], pd.DataFrame()
    employees = pd.DataFrame([{**c.fields, "role": c.role_id} for c in cards])
    owners = [c.catalog or catalog for c in cards]  # each card's rules: its version, its 设置
    distinct = list({id(c): c for c in owners}.values())
    scored = _score_each(distinct, owners, cards, employees)
    problems = _card_problems(catalog, cards, scored, findings)
    in_error = np.array([bool(problems[i]) for i in range(len(cards))], dtype=bool)
    # Team pay needs the whole department: a card in error or not complete takes no award or
    # pool share, and the amounts of its team wait for it (待定) rather than go to the others.
    frame = scored.frame  # copied before a change only (the team pay kinds copy it anyway)
    if in_error.any():
        frame = frame.copy()
        frame.loc[in_error, "complete"] = False
        frame.loc[in_error, "status"] = "error"
    rank_waits = _rank_waiting(catalog, cards, frame)
    if rank_waits and frame is scored.frame:
        frame = frame.copy()
    for pos, who in rank_waits.items():
        frame.loc[pos, "complete"] = False
        frame.loc[pos, "status"] = "incomplete"
    frame = _combined({id(c): apply_deduction_pools(c, apply_team_awards(c, frame)) for c in distinct},
                      distinct, owners)
    waits = [c for c in frame.columns if str(c).startswith("wait.")]

    # labels of the money columns: rules with the same label share a column
    money_columns: list[str] = []
    label_of: dict[str, str] = {}
    for role_id in employees["role"].unique():
        for own in distinct:
            if role_id not in own.roles:
                continue
            for rule in own.role_pay_rules(own.roles[role_id]):
                label_of[rule.id] = rule.label
                if rule.label not in money_columns:
                    money_columns.append(rule.label)

    missing_by_card: dict[int, list[str]] = {}
    specs_of: dict[tuple[int, str], dict] = {}  # (catalog, role) → its inputs, worked out once
    for role_id, scores in scored.by_role.items():
        for pos, miss, errs in zip(scored.rows[role_id], scores.missing, scores.errors):
            card = cards[int(pos)]
            own = owners[int(pos)]
            specs = specs_of.get((id(own), role_id))
            if specs is None:
                role = own.roles[role_id]
                specs = specs_of[(id(own), role_id)] = {
                    s.key: s for s in input_specs(role, own.role_pay_rules(role))}
            findings += card_error_diags(card, errs)
            missing_by_card[int(pos)] = [_missing_text(card, specs, key) for key in miss] + [str(e) for e in errs]
    for pos, who in rank_waits.items():
        missing_by_card.setdefault(pos, []).append(f"名次待定：等待同部门 {who} / the rank waits for {who}")

    rows = []
    # one dict per card of the columns read here (far faster than frame.loc[i], and than
    # all of the frame's columns: every item of every role has one)
    records = _records(frame, ROW_COLUMNS)
    engine = _records(scored.frame, ROW_COLUMNS)  # what the sheet shows: no team pay
    # a bad input is named by its own finding; its sheet shows 错误, not a stale result
    bad_input = {(d.source, d.sheet) for d in findings if d.code in BAD_INPUT_CODES}
    pay_columns = [(f"pay.{rule_id}", label) for rule_id, label in label_of.items()
                   if f"pay.{rule_id}" in frame.columns]  # the rules some card of the month has
    pays_of: dict[tuple[int, str], bool] = {}  # (catalog, role) → whether it has pay rules
    for i, card in enumerate(cards):
        r = records[i]
        role = catalog.roles[card.role_id]
        complete = bool(r["complete"]) and not in_error[i]
        row: dict[str, Any] = {"工号": card.employee_id, "姓名": card.fields.get("name", ""),
               "部门": card.fields.get("department", ""), "岗位": role.name, "岗位ID": role.id,
               "月份": card.fields.get("month", ""), "总分": float(r["total"]),
               "等级": r["grade"] if complete else None}
        for label in money_columns:
            row[label] = None
        for column, label in pay_columns:
            amount = r[column]  # NaN where the card's role has no such rule
            if (amount == amount) if type(amount) is float else not pd.isna(amount):
                row[label] = (row[label] or 0.0) + float(amount)
        waiting = [r[w] for w in waits if isinstance(r.get(w), str) and r[w]] if complete else []
        for w in waits:
            if complete and isinstance(r.get(w), str) and r[w]:
                row[label_of[w.removeprefix("wait.")]] = PENDING
        row["应发绩效合计"] = PENDING if waiting else None if pd.isna(r["pay.total"]) else float(r["pay.total"])
        row["状态"] = STATUS_TEXT["error" if in_error[i] else r["status"]]
        row["问题"] = "；".join(problems[i]) or None
        notes = [*waiting, r.get("excluded_reason"), r.get("pay_notes")]
        key = (id(owners[i]), card.role_id)
        pays = pays_of.get(key)
        if pays is None:
            pays = pays_of[key] = bool(owners[i].role_pay_rules(owners[i].roles[card.role_id]))
        if complete and not pays:
            row["应发绩效合计"] = None  # nothing to pay by rule: empty, never a ¥0.00 earned
            notes.append(NO_PAY_RULE)
        row["说明"] = "；".join(n for n in notes if isinstance(n, str) and n)
        if in_error[i] or i in rank_waits:  # money is sacred: a card in error is never paid
            row.update({label: None for label in money_columns}, 等级=None, 应发绩效合计=None)
        row["_file"] = str(card.path)
        row["_sheet"] = card.sheet
        row["_missing"] = missing_by_card.get(i, []) + [p for p in problems[i]
                                                         if p not in missing_by_card.get(i, [])]
        rows.append(row)
        if (str(card.path), card.sheet) not in bad_input and not card.template_unknown:
            _compare_cached(owners[i], card, engine[i], findings)
    summary = pd.DataFrame(rows)
    done = summary["状态"] == STATUS_TEXT["complete"]
    summary["部门排名"] = summary[done].groupby("部门")["总分"].rank(method="min", ascending=False)
    summary["全员排名"] = summary[done]["总分"].rank(method="min", ascending=False)
    summary["预警"] = ""
    waiting = ~done & (summary["状态"] != STATUS_TEXT["excluded"])  # 不参与 is not 未完成
    incomplete = summary[waiting][["工号", "姓名", "部门", "岗位", "_sheet", "_missing", "_file"]]
    return summary, money_columns, incomplete


ROW_COLUMNS = ("complete", "total", "grade", "status", "excluded_reason", "pay_notes")


def _records(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[dict]:
    """``frame.to_dict("records")`` of ``columns`` and every pay column (pay.*, and wait.*:
    a team amount that waits), those of them the frame has."""
    keep = [c for c in frame.columns if c in columns or str(c).startswith(("pay.", "wait."))]
    values = [_natives(frame[c]) for c in keep]
    return [dict(zip(keep, row)) for row in zip(*values)] if keep else [{} for _ in range(len(frame))]


def _natives(column: pd.Series) -> list:
    """A column's values as ``to_dict`` gives them (Python numbers, not NumPy's), without
    pandas' call per value."""
    if isinstance(column.dtype, pd.StringDtype):
        return column.to_numpy(dtype=object).tolist()
    values = column.tolist()  # NumPy dtypes: Python objects already
    if column.dtype == object:
        values = [v.item() if isinstance(v, np.generic) else v for v in values]
    return values


def _rank_waiting(catalog: Catalog, cards: list[Card], frame: pd.DataFrame) -> dict[int, str]:
    """Cards whose rank is worked out from their team's metric (rank items, G9) while a card
    of that team (same role and department) that takes part is not complete and clean: their
    rank, and so their total, grade and pay, wait for it. Card position → whom it waits for."""
    from ...kinds.base import waiting_for
    from ...rules.model import RankRule

    out: dict[int, str] = {}
    for role_id in dict.fromkeys(c.role_id for c in cards):
        role = catalog.roles.get(role_id)
        if role is None:
            continue
        metrics = [f"{item.id}.{item.rule.metric.id}" for _, item in role.items()
                   if isinstance(item.rule, RankRule) and item.rule.metric is not None]
        if not metrics:
            continue
        mine = [i for i, c in enumerate(cards) if c.role_id == role_id]
        teams: dict[str, list[int]] = {}
        for i in mine:
            teams.setdefault(cards[i].department, []).append(i)
        for team in teams.values():
            ranked = [i for i in team if any(cards[i].values.get(k, math.nan) == cards[i].values.get(k, math.nan)
                                             for k in metrics)]  # a metric given: ranked by it
            if not ranked:
                continue
            who = waiting_for(frame, team)
            if who:
                for i in ranked:
                    if bool(frame.loc[i, "complete"]):
                        out[i] = who
    return out


def _values(catalog: Catalog, cards: list[Card], roles) -> dict[str, dict[str, np.ndarray]]:
    groups: dict[str, list[Card]] = {r: [] for r in roles}
    for c in cards:
        if c.role_id in groups:
            groups[c.role_id].append(c)
    values = {}
    for role_id in roles:
        role = catalog.roles[role_id]
        keys = [s.key for s in input_specs(role, catalog.role_pay_rules(role))]
        values[role_id] = card_arrays(groups[role_id], keys)
    return values


def _score_each(distinct: list[Catalog], owners: list[Catalog], cards: list[Card], employees):
    """The month scored with each card's own catalog (its book's 设置, its template
    version). Each catalog scores every card, so that ranks still span the whole month;
    each card keeps the row of its own."""
    roles = list(employees["role"].unique())
    results = {id(c): score_month(c, employees, _values(c, cards, roles), team_awards=False)
               for c in distinct}
    base = results[id(distinct[0])]
    if len(distinct) == 1:
        return base
    frame = _combined({k: r.frame for k, r in results.items()}, distinct, owners)
    by_role = {}
    for role_id, scores in base.by_role.items():
        own = [results[id(owners[int(p)])].by_role[role_id] for p in base.rows[role_id]]
        by_role[role_id] = dataclasses.replace(
            scores, missing=[o.missing[j] for j, o in enumerate(own)],
            errors=[o.errors[j] for j, o in enumerate(own)])
    return MonthScores(frame, by_role, base.rows)


def _combined(frames: dict[int, pd.DataFrame], distinct: list[Catalog], owners: list[Catalog]) -> pd.DataFrame:
    """One frame: each card's row from the frame of its own catalog (with one catalog, its
    frame itself: the caller only reads it)."""
    if len(distinct) == 1:
        return frames[id(distinct[0])]
    frame = frames[id(distinct[0])].copy()
    for own in distinct[1:]:
        mine = np.array([o is own for o in owners], dtype=bool)
        other = frames[id(own)]
        for column in other.columns:
            if column not in frame.columns:
                frame[column] = np.nan
            if other[column].dtype != frame[column].dtype:  # e.g. a grade column of None only
                frame[column] = frame[column].astype(object)
            frame.loc[mine, column] = other.loc[mine, column]
        for column in frame.columns.difference(other.columns):  # e.g. a pay rule it has not
            frame.loc[mine, column] = np.nan
    return frame


def _card_problems(catalog: Catalog, cards: list[Card], scored, findings: list[Diagnostic]) -> list[list[str]]:
    """Per card, the text of every error on it: an error finding on its sheet (a value out of
    range, a negative count, text in a number cell, a changed formula, an error value, a
    duplicate), a value no rule accepts, or a total or pay that is not a finite number. Any
    one of them makes the card 错误: it is not graded and not paid."""
    by_sheet: dict[tuple[str, str], list[str]] = {}
    for d in findings:
        if d.severity == "error" and d.sheet:
            by_sheet.setdefault((d.source, d.sheet), []).append(f"{d.cell} {d.message}".strip())
    # an error on a book's 设置 (deleted, broken, out of order) is an error on each of its cards
    for d in findings:
        if d.severity == "error" and d.code in SETTINGS_ERRORS:
            line = f"{d.sheet}!{d.cell} {d.message}" if d.cell else f"{d.sheet} {d.message}"
            for c in cards:
                if str(c.path) == d.source:
                    by_sheet.setdefault((d.source, c.sheet), []).append(line)
    problems = [list(dict.fromkeys(by_sheet.get((str(c.path), c.sheet), []))) for c in cards]
    for role_id, scores in scored.by_role.items():
        for pos, errs in zip(scored.rows[role_id], scores.errors):
            problems[int(pos)] += [str(e) for e in errs]
    frame = scored.frame
    numbers = ["total"] + [c for c in frame.columns if c.startswith("pay.")]
    values = frame[numbers].to_numpy(dtype=float)
    infinite = np.isinf(values)  # NaN is "no value", reported elsewhere; ±inf is never money
    fields = ("base_salary", "q_amount")
    for i in np.flatnonzero(infinite.any(axis=1) | np.array(
            [any(isinstance(v := c.fields.get(f), float) and math.isinf(v) for f in fields)
             for c in cards], dtype=np.bool_)):
        card = cards[i]
        bad = [_column_label(catalog, c) for c, hit in zip(numbers, infinite[i]) if hit]
        bad += [f for f in fields if isinstance(v := card.fields.get(f), float) and math.isinf(v)]
        if bad:
            d = error("non-finite", f"{'、'.join(bad)} 不是有限的数（数值过大或计算出错），不予计算与发放",
                      f"{', '.join(bad)} is not a finite number (too large, or a failed calculation): "
                      "not scored or paid", source=str(card.path), sheet=card.sheet,
                      cell=card.names.get("KPI_PAY", ""))
            findings.append(d)
            problems[i].append(f"{d.cell} {d.message}".strip())
    return problems


def _column_label(catalog: Catalog, column: str) -> str:
    """总分, 应发绩效合计 or a pay rule's label, for an engine column."""
    if column == "total":
        return "总分"
    if column == "pay.total":
        return "应发绩效合计"
    rule = catalog.pay_rules.get(column.removeprefix("pay."))
    return rule.label if rule is not None else column


FIELD_CELLS = {"employee.base_salary": "KPI_BASE_SALARY", "employee.q_amount": "KPI_Q_AMOUNT"}
BAD_INPUT_CODES = ("text-in-number", "bad-value", "bad-field")


def _missing_text(card: Card, specs: dict, key: str) -> str:
    """'考核项目/输入（自评） F12' for an empty required input."""
    spec = specs.get(key)
    label = spec.label_path() if spec is not None else key
    ref = card.cells.get(key) or card.names.get(FIELD_CELLS.get(key, ""), "")
    return f"{label} {ref}".strip()


def _sheet_pay(catalog: Catalog, card: Card, row) -> float | None:
    """The pay the sheet itself can show: every rule but the team awards, which need the
    whole department and are computed by the report only."""
    if pd.isna(row["pay.total"]):
        return None
    team = sum(float(row[f"pay.{r.id}"]) for r in catalog.role_pay_rules(catalog.roles[card.role_id])
               if r.kind in TEAM_PAY_KINDS and not pd.isna(row.get(f"pay.{r.id}", np.nan)))
    return clean_round(float(row["pay.total"]) - team, 2)


def _compare_cached(catalog: Catalog, card: Card, row, findings: list[Diagnostic]) -> None:
    """A cached KPI value that disagrees with the engine: the sheet was tampered or is stale.

    Cells without a cached value (saved by a program that does not calculate) and cached
    error values (an input error already reported by cell) are not compared. A workbook
    written by the generator and never opened carries XlsxWriter's placeholder 0 in every
    formula cell, also in the status cell whose real value is always text: such a sheet was
    never calculated and is skipped, unless a number was typed over its total.
    """
    cached = card.cached
    if not cached:
        return
    complete = bool(row["complete"])
    never_calculated = isinstance(cached.get("KPI_STATUS"), (int, float))
    for name in KPI_OUTPUTS:
        got = cached.get(name)
        if got is None or (isinstance(got, str) and got.startswith("#")):
            continue
        if never_calculated and not (name == "KPI_TOTAL" and got != 0):
            continue
        # what the engine gives, worked out for the cells compared only
        want = (float(row["total"]) if name == "KPI_TOTAL" else
                (row["grade"] if complete else None) if name == "KPI_GRADE" else
                _sheet_pay(catalog, card, row) if name == "KPI_PAY" else
                COMPLETE if complete else None)
        if name == "KPI_STATUS":
            if (got == COMPLETE) != complete and got is not None:
                _mismatch(card, name, got, "完成" if complete else "未完成", findings)
            continue
        if got in (None, "") and want is None:
            continue
        if isinstance(want, float) and isinstance(got, (int, float)) and math.isclose(got, want, abs_tol=1e-9):
            continue
        if got == want:
            continue
        _mismatch(card, name, got, want, findings)


NAME_LABELS = {"KPI_TOTAL": "总分", "KPI_GRADE": "等级", "KPI_PAY": "绩效工资", "KPI_STATUS": "状态"}


def _mismatch(card: Card, name: str, got, want, findings: list[Diagnostic]) -> None:
    shown, should = ("" if v is None else str(v) for v in (got, want))
    findings.append(warning(
        "cached-mismatch",  # the Chinese names the cell as the card does (it is printed)
        f"{NAME_LABELS.get(name, name)}单元格显示 {shown}，按输入重算应为 {should}：考核表被改动或未重新计算",
        f"{name} shows {got!r} but the inputs give {want!r}: the sheet was tampered with or is stale",
        source=str(card.path), sheet=card.sheet, cell=card.names.get(name, "")))
