"""绩效校准 (calibration): the report's 校准 sheet and reading HR's calibrated grades back.

The sheet has two tables. 等级分布: per department and grade scheme, each grade's count and
share of the complete cards against the scheme's target (grades.yaml ``max_share``). 校准录入:
one row per complete card; the cards beyond a grade's quota are highlighted (超出配额: within
an over-quota grade, the cards with the lowest totals past the number the quota allows), and
HR may pick a calibrated grade (a dropdown of the card's scheme's grades) and must give a
reason. :func:`read_calibration` reads the entries back by column name and checks them;
``approve`` takes them into the history and payroll.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from xlsxwriter.utility import xl_range

from ...diagnostics import Diagnostic, KpiError, error, warning
from ...engine.describe import job_title
from ...rules.loader import Catalog
from ...words import PENDING
from ..xlsx.printing import print_setup, row_height
from ..xlsx.sheet_rows import SheetRows
from .tables import column_values, report_title, schemes_by_role, write_table

SHEET = "校准"
DIST_HEAD = ["部门", "等级方案", "等级", "人数", "占比", "上限", "配额人数", "是否超出"]
CARD_HEAD = ["工号", "姓名", "部门", "岗位", "月份", "等级方案", "总分", "等级", "超出配额",
             "校准等级", "校准理由"]
OVER = "超出"
ROLE_ID = "岗位ID"  # a hidden column right of the entry table: the card's role, for its pay rules
DIST_COL = 2  # the distribution table starts under 部门 of the card table, whose widths suit it


@dataclass(frozen=True)
class Calibration:
    employee_id: str
    month: str
    grade: str  # the report's grade
    calibrated_grade: str
    reason: str
    scheme: str
    cell: str  # where HR typed the calibrated grade, e.g. "J12"
    role_id: str = ""  # the card's role (the sheet's hidden 岗位ID column)

    def to_dict(self) -> dict:
        return {"employee_id": self.employee_id, "month": self.month, "grade": self.grade,
                "calibrated_grade": self.calibrated_grade, "reason": self.reason,
                "scheme": self.scheme, "cell": self.cell, "role_id": self.role_id}


def distribution(catalog: Catalog, summary: pd.DataFrame) -> tuple[pd.DataFrame, set[str]]:
    """The 等级分布 rows, and the ids of the cards beyond a quota (on plain lists: a
    department's cards are a few dozen, where each pandas step costs more than the counting)."""
    rows = []
    over_cards: set[str] = set()
    if summary.empty:
        return pd.DataFrame(columns=DIST_HEAD), over_cards

    scheme_of = schemes_by_role(catalog, summary["岗位ID"])
    groups: dict[tuple, list[tuple]] = {}
    columns = ("部门", "岗位ID", "状态", "总分", "等级", "工号")
    for dept, role_id, status, total, grade, employee in zip(*(summary[c].tolist() for c in columns)):
        if status == "已完成":
            groups.setdefault((dept, scheme_of[role_id]), []).append((total, str(employee), grade))
    for (dept, scheme_id), group in groups.items():
        scheme = catalog.grade_schemes[scheme_id]
        n = len(group)
        for grade in scheme.grades():
            cards = [c for c in group if c[2] == grade]
            limit = scheme.max_share.get(grade)
            allowed = math.floor(limit * n + 1e-9) if limit is not None else None
            over = allowed is not None and len(cards) > allowed
            rows.append({"部门": dept, "等级方案": scheme.label, "等级": grade, "人数": len(cards),
                         "占比": len(cards) / n if n else None, "上限": limit, "配额人数": allowed,
                         "是否超出": OVER if over else ""})
            if over:  # the lowest totals past the quota: whom to look at first
                ranked = sorted(cards, key=lambda c: c[1])  # 工号 ascending, then 总分 descending:
                ranked.sort(key=lambda c: c[0], reverse=True)  # both stable, as sort_values
                over_cards |= {c[1] for c in ranked[allowed:]}
    return pd.DataFrame(rows, columns=DIST_HEAD), over_cards


def calibration_sheet(book, catalog: Catalog, data, f, page) -> SheetRows:

    ws = book.add_worksheet(SHEET)
    # every cell of the sheet: its rows are written on saving; 工号 and the hidden 岗位ID kept
    # as read back too, for the report's compact part (report_rows.py)
    cells = SheetRows(ws, keep=frozenset((CARD_HEAD.index("工号"), len(CARD_HEAD))))
    dist, over_cards = distribution(catalog, data.summary)
    cells.write(0, 0, "等级分布与目标（按部门、等级方案）", f["title"])
    write_table(cells, dist, {"占比": f["pct"], "上限": f["pct"], "人数": f["int"], "配额人数": f["int"],
                            "是否超出": f["warn"]}, f, start_row=2, start_col=DIST_COL)
    for r, value in enumerate(dist["是否超出"], start=2):
        if value:
            cells.write(r, DIST_COL + DIST_HEAD.index("是否超出"), value, f["over"])
    top = len(dist) + 3
    cells.write(top, 0, "校准录入：选校准等级并写理由（不改的留空）", f["title"])
    header_row = top + 1
    s = data.summary if data.graded is None else data.graded  # the grades the engine gave
    cards = s[s["状态"] == "已完成"].copy() if len(s) else pd.DataFrame(columns=list(s.columns))
    rows = []
    if len(cards):
        cards["_scheme"] = cards["岗位ID"].map(lambda r: catalog.roles[r].grade_scheme)
        cards = cards.sort_values(["部门", "_scheme", "总分"], ascending=[True, True, False], kind="stable")
        titles = {r: job_title(catalog.roles[r]) for r in dict.fromkeys(cards["岗位ID"])}
        labels = {g: catalog.grade_schemes[g].label for g in dict.fromkeys(cards["_scheme"])}
        none = (None, None)
        for eid, name, dept, role_id, month, scheme, total, grade in zip(*(column_values(cards[c]) for c in (
                "工号", "姓名", "部门", "岗位ID", "月份", "_scheme", "总分", "等级"))):
            eid = str(eid)
            chosen = data.calibrations.get(eid, none)
            rows.append({"工号": eid, "姓名": name, "部门": dept, "岗位": titles[role_id], "月份": month,
                         "等级方案": labels[scheme], "_scheme": scheme, "总分": total, "等级": grade,
                         "超出配额": OVER if eid in over_cards else "",
                         "校准等级": chosen[0], "校准理由": chosen[1], ROLE_ID: role_id})
    frame = pd.DataFrame(rows, columns=CARD_HEAD)
    widths = [6, 6.5, 9.5, 15, 7.5, 15, 6, 5.5, 7, 8, 29]
    write_table(cells, frame, {"总分": f["num"], "校准等级": f["input"], "校准理由": f["input"]}, f,
                 start_row=header_row + 1, widths=widths)
    grade_col, over_col = CARD_HEAD.index("校准等级"), CARD_HEAD.index("超出配额")
    for i, row in enumerate(rows, start=header_row + 1):
        if row["超出配额"]:
            for j in (0, 1, over_col):
                cells.write(i, j, row[CARD_HEAD[j]], f["over"])
    # one dropdown per grade scheme, over the runs of rows of its cards
    runs: dict[str, list[list[int]]] = {}
    for i, row in enumerate(rows, start=header_row + 1):
        mine = runs.setdefault(row["_scheme"], [])
        if mine and mine[-1][1] == i - 1:
            mine[-1][1] = i
        else:
            mine.append([i, i])
    for scheme_id, spans in runs.items():
        grades = catalog.grade_schemes[scheme_id].grades()
        ranges = " ".join(xl_range(a, grade_col, b, grade_col) for a, b in spans)
        ws.data_validation(spans[0][0], grade_col, spans[0][1], grade_col, {
            "validate": "list", "source": grades, "error_title": "校准等级 / grade",
            "error_message": f"请从列表选择：{'、'.join(grades)} / pick one of the list",
            "multi_range": ranges})
    for j, width in enumerate(widths):
        ws.set_column(j, j, width)
    role_col = len(CARD_HEAD)  # hidden: never printed, read back by approve and payroll
    cells.write(header_row, role_col, ROLE_ID, f["head"])
    for i, row in enumerate(rows, start=header_row + 1):
        cells.write(i, role_col, str(row[ROLE_ID]))
    ws.set_column(role_col, role_col, 12, None, {"hidden": True})
    cells.set_row(header_row, row_height(CARD_HEAD, widths, set(range(len(widths)))))
    ws.set_h_pagebreaks([top])  # the entry table starts on a page of its own
    print_setup(ws, f"{report_title(data.month)} · {SHEET}", header_rows=(header_row, header_row), **page)
    return cells


def read_calibration(report: Path, catalog: Catalog | None = None,
                     rows: list[list] | None = None) -> tuple[list[Calibration], list[Diagnostic]]:
    """HR's calibrated grades from a report's 校准 sheet, and what is wrong with them.

    Columns are found by name in the header row that has 工号 and 校准等级. A row with a
    calibrated grade needs a reason and a grade of the card's scheme; a row whose calibrated
    grade is its grade changes nothing and is left out. Rows in error are left out too (their
    diagnostic names the cell), so a mistake never changes pay.
    """
    from ...rules.loader import builtin_catalog
    from ..scorecard.reader import sheet_values

    catalog = catalog or builtin_catalog()
    report = Path(report)
    rows = sheet_values(report, SHEET) if rows is None else rows  # through the package layer
    if rows is None:
        raise KpiError([error("no-calibration", f"{report.name} 没有“{SHEET}”工作表（不是新版月度报表）",
                              f"{report.name} has no {SHEET} sheet (not a current monthly report)",
                              source=str(report))])
    start = next((i for i, r in enumerate(rows)
                  if r and "工号" in [_text(v) for v in r] and "校准等级" in [_text(v) for v in r]), None)
    if start is None:
        raise KpiError([error("no-calibration", f"{report.name} 的“{SHEET}”没有 工号、校准等级 列",
                              f"{SHEET} of {report.name} has no 工号 and 校准等级 columns",
                              source=str(report), sheet=SHEET)])
    header = [_text(v) for v in rows[start]]
    col = {name: header.index(name) for name in CARD_HEAD + [ROLE_ID] if name in header}
    entries: list[Calibration] = []
    diags: list[Diagnostic] = []
    for i, r in enumerate(rows[start + 1:], start=start + 2):
        def get(name):
            j = col.get(name)
            return _text(r[j]) if j is not None and j < len(r) else ""

        employee, new, reason = get("工号"), get("校准等级"), get("校准理由")
        if not employee or not new:
            if employee and reason:
                diags.append(warning("calibration-no-grade", f"员工 {employee} 写了校准理由但没有校准等级，忽略",
                                     f"employee {employee} has a reason but no calibrated grade: ignored",
                                     source=str(report), sheet=SHEET, cell=_cell(col.get("校准等级"), i)))
            continue
        where = {"source": str(report), "sheet": SHEET, "cell": _cell(col["校准等级"], i)}
        scheme_id = get("等级方案")  # the scheme's label as printed (its id in older reports)
        scheme = catalog.grade_schemes.get(scheme_id) or next(
            (g for g in catalog.grade_schemes.values() if g.label == scheme_id), None)
        if scheme is None:
            diags.append(error("calibration-scheme", f"员工 {employee} 的等级方案“{scheme_id}”未知",
                               f"employee {employee}: unknown grade scheme '{scheme_id}'", **where))
            continue
        if new not in scheme.grades():
            diags.append(error("calibration-grade",
                               f"员工 {employee} 的校准等级“{new}”不是 {scheme.label} 的等级（{'、'.join(scheme.grades())}）",
                               f"employee {employee}: calibrated grade '{new}' is not a grade of "
                               f"{scheme_id} ({', '.join(scheme.grades())})", **where))
            continue
        if new == get("等级"):
            continue
        if not reason:
            diags.append(error("calibration-reason", f"员工 {employee} 的校准等级 {new} 没有写理由",
                               f"employee {employee}: calibrated grade {new} has no reason",
                               source=str(report), sheet=SHEET, cell=_cell(col.get("校准理由"), i)))
            continue
        month = r[col["月份"]] if "月份" in col and col["月份"] < len(r) else None
        entries.append(Calibration(employee, _month(month), get("等级"), new, reason, scheme.id, where["cell"],
                                   get(ROLE_ID)))
    return entries, diags


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _cell(col: int | None, row: int) -> str:
    if col is None:
        return ""
    from xlsxwriter.utility import xl_col_to_name

    return f"{xl_col_to_name(col)}{row}"


# --- taking calibrated grades into pay (approve, payroll) -------------------------------------

# Pay rule kinds by how they depend on the grade. A kind in neither set (a new kind) makes a
# calibration of its cards refused rather than paid on a guess: money is sacred.
GRADE_PAY_KINDS = ("grade_amount", "fail_penalty")  # the card's own grade
TEAM_GRADE_PAY_KINDS = ("top_scorer_award",)  # the department's top scorer, by their grade
GRADE_FREE_PAY_KINDS = ("base_pct", "point_value", "score_base", "q_level", "quarterly_commission",
                        "commission_share", "attendance_award", "deduction_pool")
TOTAL = "应发绩效合计"


@dataclass(frozen=True)
class Change:
    """One value of a card that a calibration changed (for the history's 审计 sheet)."""
    employee_id: str
    field: str  # 等级, a money column's header, or 应发绩效合计
    before: str
    after: str
    reason: str


@dataclass
class Calibrated:
    summary: pd.DataFrame  # 月度汇总 with the calibrated grades and the pay they give
    entries: list[Calibration]
    changes: list[Change]
    diagnostics: list[Diagnostic]  # warnings of the 校准 sheet (its errors are refused)


def calibrate_report(report: Path, summary: pd.DataFrame, catalog: Catalog | None = None,
                     roles: dict[str, str] | None = None, rows: list[list] | None = None) -> Calibrated:
    """The report's 月度汇总 as HR calibrated it in its 校准 sheet.

    Each calibrated card takes its calibrated grade, and every grade-dependent pay rule of
    its role is worked out again by the engine's own pay functions for the old and the new
    grade (the department's top-scorer award too); the difference goes into the rule's money
    column and the card's 应发绩效合计. A report without a 校准 sheet (an older report) is
    taken as it is. Any error in the entries refuses the whole calibration (Refused, exit 1)
    with the cells named: a wrong entry never changes pay.

    Each card's role (whose rules decide its pay and grade scheme) is ``roles`` (employee →
    role id, as the engine read the scorecards); a calibrated card whose hidden 岗位ID column
    on the sheet says otherwise is refused. ``rows``: the 校准 sheet's rows, when read already.
    """
    from ...diagnostics import Refused
    from ...rules.loader import builtin_catalog
    from ..scorecard.reader import sheet_values

    catalog = catalog or builtin_catalog()
    rows = sheet_values(Path(report), SHEET) if rows is None else rows  # ``rows``: read already
    if rows is None:
        return Calibrated(summary, [], [], [])
    entries, diags = read_calibration(report, catalog, rows)
    known = {**card_roles(rows), **(roles or {})}
    for c in entries:
        if roles and c.employee_id in roles and c.role_id and c.role_id != roles[c.employee_id]:
            diags.append(error("calibration-role", f"员工 {c.employee_id} 在校准表的岗位ID“{c.role_id}”与考核表的"
                               f"“{roles[c.employee_id]}”不符（校准表被改过？）",
                               f"employee {c.employee_id}: role '{c.role_id}' of the sheet differs from "
                               f"'{roles[c.employee_id]}' on the scorecard (was the sheet edited?)",
                               source=str(report), sheet=SHEET, cell=c.cell))
    if not any(d.severity == "error" for d in diags):
        result, more = apply_calibration(catalog, summary, entries, Path(report), known)
        diags = diags + more
    if any(d.severity == "error" for d in diags):
        raise Refused([d for d in diags if d.severity == "error"])
    return Calibrated(result.summary, entries, result.changes, diags)


def apply_calibration(catalog: Catalog, summary: pd.DataFrame, entries: list[Calibration],
                      report: Path, roles: dict[str, str]) -> tuple[Calibrated, list[Diagnostic]]:
    """``summary`` with ``entries`` applied; the errors that stop it (then nothing applied).
    ``roles``: employee → role id, for the cards' pay rules."""
    from ...engine.score import compute_pay
    from ...numbers import clean_round

    summary = summary.reset_index(drop=True)
    role_of = summary["工号"].map(lambda e: roles.get(str(e), ""))
    diags: list[Diagnostic] = []
    index = {(str(e), _month(m)): i for i, (e, m) in enumerate(zip(summary["工号"], summary["月份"]))}
    seen: dict[str, Calibration] = {}
    plan: dict[int, Calibration] = {}
    for c in entries:
        where = {"source": str(report), "sheet": SHEET, "cell": c.cell}

        def refuse(code: str, zh: str, en: str) -> None:
            diags.append(error(code, f"员工 {c.employee_id}：{zh}", f"employee {c.employee_id}: {en}", **where))

        i = index.get((c.employee_id, _month(c.month)))
        if c.employee_id in seen:
            refuse("calibration-twice", f"校准了两次（另见 {seen[c.employee_id].cell}）",
                   f"calibrated twice (see also {seen[c.employee_id].cell})")
            continue
        seen[c.employee_id] = c
        if i is None:
            refuse("calibration-card", f"月度汇总中没有 {c.month} 的这张考核表",
                   f"no card of {c.month} in the summary")
            continue
        r = summary.iloc[i]
        if _text(r.get("状态")) != "已完成":
            refuse("calibration-card", f"考核表状态为“{_text(r.get('状态'))}”，只有已完成的考核表可校准",
                   f"the card is {_text(r.get('状态'))}: only complete cards can be calibrated")
            continue
        if _text(r.get("等级")) != c.grade:
            refuse("calibration-stale", f"校准表的等级 {c.grade} 与月度汇总的 {_text(r.get('等级'))} 不符（报表被改过？）",
                   f"the sheet's grade {c.grade} differs from the summary's {_text(r.get('等级'))} "
                   "(was the report edited?)")
            continue
        role = catalog.roles.get(role_of[i])
        if role is None:
            refuse("calibration-role", f"岗位“{role_of[i]}”不在模板中（校准表的 {ROLE_ID} 列）",
                   f"role '{role_of[i]}' is not in the templates (the sheet's {ROLE_ID} column)")
            continue
        scheme = catalog.grade_schemes[role.grade_scheme]
        if c.calibrated_grade not in scheme.grades():
            refuse("calibration-grade", f"校准等级“{c.calibrated_grade}”不在该岗位的等级方案 {scheme.label} 中"
                   f"（{'、'.join(scheme.grades())}）",
                   f"calibrated grade '{c.calibrated_grade}' is not in the card's scheme {role.grade_scheme} "
                   f"({', '.join(scheme.grades())})")
            continue
        unknown = [p.kind for p in catalog.role_pay_rules(role) if p.kind not in
                   GRADE_PAY_KINDS + TEAM_GRADE_PAY_KINDS + GRADE_FREE_PAY_KINDS]
        if unknown:
            refuse("calibration-pay-kind", f"薪酬规则类型 {'、'.join(unknown)} 是否随等级变化未知，不能校准",
                   f"pay rule kind {', '.join(unknown)}: not known whether it follows the grade; "
                   "cannot calibrate")
            continue
        plan[i] = c
    if diags or not plan:
        return Calibrated(summary.copy(), entries, [], []), diags

    old = summary["等级"].copy()
    new = old.copy()
    for i, c in plan.items():
        new.iloc[i] = c.calibrated_grade
    delta: dict[int, dict[str, float]] = {}  # card → money column → change
    rebuilt: dict[int, dict[str, float]] = {}  # card → money column → the old grade's amount

    def add(i: int, label: str, before: float, after: float) -> None:
        rebuilt.setdefault(i, {})[label] = rebuilt.get(i, {}).get(label, 0.0) + before
        delta.setdefault(i, {})[label] = delta.get(i, {}).get(label, 0.0) + after - before

    one = pd.DataFrame(index=[0])
    nothing = np.zeros(1)
    for i, c in plan.items():
        r = summary.iloc[i]
        total = np.array([float(r["总分"])])
        for rule in catalog.role_pay_rules(catalog.roles[role_of[i]]):
            if rule.kind in GRADE_PAY_KINDS:
                pay = [compute_pay([rule], one, total, np.array([g], dtype=object), nothing, nothing,
                                   lambda key: np.full(1, np.nan))[rule.id][0] for g in (c.grade, c.calibrated_grade)]
                add(i, rule.label, float(pay[0]), float(pay[1]))
    # the top-scorer award: who is top does not change (totals do not), what they get may;
    # only a calibrated card's grade changed, so only its award can
    for rule_id, (label, before, after) in _team_awards(catalog, summary, role_of, old, new).items():
        for i in plan:
            role = catalog.roles[role_of[i]]
            if rule_id in {p.id for p in catalog.role_pay_rules(role)}:
                add(i, label, float(before[i]), float(after[i]))

    out = summary.copy()
    changes: list[Change] = []
    for i, c in plan.items():
        r = summary.iloc[i]
        changes.append(Change(c.employee_id, "等级", c.grade, c.calibrated_grade, c.reason))
        for label, amount in rebuilt.get(i, {}).items():
            shown = _number(r.get(label))
            other = [p for p in catalog.role_pay_rules(catalog.roles[role_of[i]])
                     if p.label == label and p.kind in GRADE_FREE_PAY_KINDS]
            if not other and r.get(label) != PENDING and (shown is None or abs(shown - amount) > 0.005):
                diags.append(error("calibration-pay-mismatch",
                                   f"员工 {c.employee_id} 的“{label}”在报表中为 {r.get(label)}，按模板应为 {amount:.2f}："
                                   "报表与模板不符（换了模板？），不能校准",
                                   f"employee {c.employee_id}: {label} is {r.get(label)} in the report but "
                                   f"{amount:.2f} by the templates (other templates?): cannot calibrate",
                                   source=str(report), sheet=SHEET, cell=c.cell))
        pending = {label for label in delta.get(i, {}) if r.get(label) == PENDING}
        for label in pending:  # a team amount that waits for its department stays 待定
            delta[i].pop(label)
        moved = sum(delta.get(i, {}).values())
        for label, d in delta.get(i, {}).items():
            before = _number(r.get(label)) or 0.0
            after = clean_round(before + d, 2)
            if after != before:
                out.at[out.index[i], label] = after
                changes.append(Change(c.employee_id, label, f"{before:.2f}", f"{after:.2f}", c.reason))
        if moved and r.get(TOTAL) != PENDING:
            before = _number(r.get(TOTAL)) or 0.0
            after = clean_round(before + moved, 2)
            out.at[out.index[i], TOTAL] = after
            changes.append(Change(c.employee_id, TOTAL, f"{before:.2f}", f"{after:.2f}", c.reason))
        out.at[out.index[i], "等级"] = c.calibrated_grade
    if diags:
        return Calibrated(summary.copy(), entries, [], []), diags
    return Calibrated(out, entries, changes, []), []


def _team_awards(catalog: Catalog, summary: pd.DataFrame, role_of: pd.Series, old: pd.Series,
                 new: pd.Series) -> dict:
    """Per top-scorer rule: (its money column, each card's award with the old grades, with the
    new ones), by the engine's apply_team_awards over the whole month's complete cards."""
    from ...engine.month import apply_team_awards

    roles = [r for r in dict.fromkeys(role_of) if r in catalog.roles]
    rules = {p.id: p for r in roles for p in catalog.role_pay_rules(catalog.roles[r])
             if p.kind in TEAM_GRADE_PAY_KINDS}
    if not rules:
        return {}
    frame = pd.DataFrame({"role": role_of, "department": summary["部门"].map(_text),
                          "complete": (summary["状态"].map(_text) == "已完成") & role_of.isin(roles),
                          "total": pd.to_numeric(summary["总分"], errors="coerce")}, index=summary.index)
    for rule_id in rules:
        frame[f"pay.{rule_id}"] = 0.0
    frame = frame[frame["role"].isin(roles)]
    awarded = [apply_team_awards(catalog, frame.assign(grade=grades.loc[frame.index]))
               for grades in (old, new)]
    return {rule_id: (rule.label, awarded[0][f"pay.{rule_id}"].fillna(0.0).reindex(summary.index, fill_value=0.0),
                      awarded[1][f"pay.{rule_id}"].fillna(0.0).reindex(summary.index, fill_value=0.0))
            for rule_id, rule in rules.items()}


def card_roles(rows: list[list]) -> dict[str, str]:
    """Employee → role id of every card in the 校准 sheet's rows (its hidden 岗位ID column)."""
    start = next((i for i, r in enumerate(rows)
                  if r and "工号" in [_text(v) for v in r] and ROLE_ID in [_text(v) for v in r]), None)
    if start is None:
        return {}
    header = [_text(v) for v in rows[start]]
    e, j = header.index("工号"), header.index(ROLE_ID)
    return {_text(r[e]): _text(r[j]) for r in rows[start + 1:] if len(r) > max(e, j) and _text(r[e])}


def _month(value) -> str:
    """'2026-10' whether kept as text or turned into a date by a spreadsheet."""
    from ...numbers import ParseError, parse_month

    try:
        return parse_month(value)
    except ParseError:
        return _text(value)


def _number(value) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number
