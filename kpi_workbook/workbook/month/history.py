"""Month history for streak warnings: one row per employee and month.

Re-running a month replaces that month's rows (idempotent), never duplicates them. The
warnings of the digest are read from the grade schemes: a grade in consecutive months or in
enough months of the year (S5: E; S9/S10: 不及格), and the department's lowest total
several months running (S9/S10).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ...diagnostics import KpiError, error
from ...numbers import ParseError, parse_month
from ...rules.loader import Catalog
from ..files import atomic_output
from ..scorecard.reader import sheet_values

SHEET = "历史"
COLUMNS = ["工号", "姓名", "部门", "岗位ID", "月份", "总分", "等级", "状态", "部门最低", "应发绩效合计"]

# Approval and audit (issue 9): who approved which month, every approved version of every
# row (nothing is ever deleted), and every value a reopened month changed.
APPROVALS, VERSIONS, AUDIT = "审批", "审批版本", "审计"
APPROVAL_COLUMNS = ["月份", "版本", "状态", "审批人", "审批时间", "行数", "哈希",
                    "重开人", "重开时间", "重开原因"]
VERSION_COLUMNS = ["月份", "版本", "工号", "姓名", "部门", "总分", "等级", "状态", "应发绩效合计",
                   "金额明细", "行哈希"]
AUDIT_COLUMNS = ["月份", "工号", "字段", "之前", "之后", "操作人", "时间", "原因"]
APPROVED, REOPENED = "已审批", "已重开"


@dataclass
class HistoryBook:
    """Every sheet of a history file: the month rows, and the approvals, approved versions
    and audit trail that only ever grow."""
    rows: pd.DataFrame
    approvals: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=APPROVAL_COLUMNS))
    versions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=VERSION_COLUMNS))
    audit: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=AUDIT_COLUMNS))

    def approval(self, month: str) -> dict | None:
        """The month's latest approval record (``状态`` 已审批 or 已重开), or None."""
        mine = self.approvals[self.approvals["月份"].astype(str) == month]
        if not len(mine):
            return None
        return mine.sort_values("版本", kind="stable").iloc[-1].to_dict()

    def approved_rows(self, month: str) -> pd.DataFrame:
        """The rows of the month's latest approval (any state)."""
        record = self.approval(month)
        if record is None:
            return pd.DataFrame(columns=VERSION_COLUMNS)
        v = self.versions
        return v[(v["月份"].astype(str) == month) & (v["版本"] == record["版本"])]


def read_history_book(path: Path | None) -> HistoryBook:
    if path is None or not Path(path).exists():
        return HistoryBook(pd.DataFrame(columns=COLUMNS))
    rows = read_history(path)

    def sheet(name: str, columns: list[str]) -> pd.DataFrame:
        values = sheet_values(Path(path), name)
        if values is None:
            return pd.DataFrame(columns=columns)
        header = [str(c).strip() if c is not None else "" for c in values[0]] if values else []
        frame = pd.DataFrame([r[:len(header)] for r in values[1:] if any(c is not None for c in r)],
                             columns=header)
        for c in columns:
            if c not in frame:
                frame[c] = None
        if "月份" in frame:
            frame["月份"] = frame["月份"].map(_month_text)
        if "版本" in frame:
            frame["版本"] = pd.to_numeric(frame["版本"], errors="coerce").fillna(0).astype(int)
        for c in ("工号", "行哈希", "哈希"):
            if c in frame:
                frame[c] = frame[c].map(lambda v: "" if v is None else str(v).strip())
        return frame[columns].reset_index(drop=True)

    return HistoryBook(rows, sheet(APPROVALS, APPROVAL_COLUMNS), sheet(VERSIONS, VERSION_COLUMNS),
                       sheet(AUDIT, AUDIT_COLUMNS))


def read_history(path: Path | None) -> pd.DataFrame:
    if path is None or not Path(path).exists():
        return pd.DataFrame(columns=COLUMNS)
    rows = sheet_values(Path(path), SHEET) or []
    header = [str(c).strip() if c is not None else "" for c in rows[0]] if rows else []
    if not {"工号", "月份"} <= set(header):
        # not a history file (a scorecard workbook or a report named by mistake): never
        # overwrite it with one
        raise KpiError([error("not-history", f"{Path(path).name} 不是月度历史文件（没有“{SHEET}”工作表及 工号、月份 列）",
                              f"{Path(path).name} is not a history file (no {SHEET} sheet with 工号 and 月份)",
                              source=str(path))])
    frame = pd.DataFrame(rows[1:], columns=header)
    frame = frame.loc[(frame["工号"].notna() & (frame["工号"].astype(str).str.strip() != "")).astype(bool)]
    for c in COLUMNS:
        if c not in frame:
            frame[c] = None
    frame["工号"] = frame["工号"].astype(str).str.strip()
    frame["月份"] = frame["月份"].map(_month_text)
    frame["部门最低"] = frame["部门最低"].map(lambda v: v is True or str(v).strip().upper() in ("TRUE", "1", "是"))
    return frame[COLUMNS].reset_index(drop=True)


def _month_text(value) -> str:
    """'2026-08' whether it was kept as text or Excel turned it into a date."""
    try:
        return parse_month(value)
    except ParseError:
        return "" if value is None else str(value).strip()


def month_rows(catalog: Catalog, summary: pd.DataFrame, month: str | None = None) -> pd.DataFrame:
    """This month's history rows, with who is lowest in their department (per grade scheme).

    Only cards of ``month`` (the report's month) are kept: a stray card of another month is
    an error finding in the report and must not overwrite that other month's history. Being
    the lowest needs at least two complete cards to compare.
    """
    rows = summary[["工号", "姓名", "部门", "岗位ID", "月份", "总分", "等级", "状态", "应发绩效合计"]].copy()
    if month is not None:
        rows = rows[rows["月份"].astype(str) == month]
    rows["工号"] = rows["工号"].astype(str)
    rows["scheme"] = rows["岗位ID"].map(lambda r: catalog.roles[r].grade_scheme)
    done = rows["状态"] == "已完成"
    groups = rows[done].groupby(["部门", "scheme"])["总分"]
    lowest, size = groups.transform("min"), groups.transform("count")
    rows["部门最低"] = False
    rows.loc[lowest.index, "部门最低"] = (rows.loc[lowest.index, "总分"] == lowest) & (size >= 2)
    return rows.drop(columns="scheme").reset_index(drop=True)


def merge_month(history: pd.DataFrame, current: pd.DataFrame, month: str | None = None) -> pd.DataFrame:
    """History with ``month``'s rows (default: the months in ``current``) replaced by ``current``."""
    months = {month} if month is not None else set(current["月份"].astype(str))
    kept = history[~history["月份"].astype(str).isin(months)]
    parts = [p for p in (kept[COLUMNS], current[COLUMNS]) if len(p)]
    merged = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)
    return merged.sort_values(["月份", "工号"], kind="stable").reset_index(drop=True)


def write_history(path: Path, history: pd.DataFrame | HistoryBook) -> None:
    """Write the history file: 历史, then the approval sheets when there are any."""
    import xlsxwriter

    whole = history if isinstance(history, HistoryBook) else HistoryBook(history)
    history = whole.rows
    with atomic_output(path, force=True) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"nan_inf_to_errors": True, "strings_to_formulas": False,
                                              "strings_to_urls": False, "strings_to_numbers": False})
        ws = book.add_worksheet(SHEET)
        bold = book.add_format({"bold": True, "bg_color": "#D9E1F2"})
        ws.write_row(0, 0, COLUMNS, bold)
        for i, row in enumerate(history[COLUMNS].itertuples(index=False), start=1):
            for j, value in enumerate(row):
                if value is None or (isinstance(value, float) and pd.isna(value)):
                    continue
                if COLUMNS[j] == "部门最低":
                    ws.write_boolean(i, j, bool(value))
                elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
                    ws.write_number(i, j, float(value))
                else:  # always text, never a formula (a name may start with '=')
                    ws.write_string(i, j, str(value))
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, len(history), len(COLUMNS) - 1)
        ws.set_column(0, len(COLUMNS) - 1, 11)
        for name, frame, columns in ((APPROVALS, whole.approvals, APPROVAL_COLUMNS),
                                     (VERSIONS, whole.versions, VERSION_COLUMNS),
                                     (AUDIT, whole.audit, AUDIT_COLUMNS)):
            if len(frame):  # a history never approved keeps its one sheet
                _plain_sheet(book, name, frame.reindex(columns=columns), bold)
        book.close()


def _plain_sheet(book, name: str, frame: pd.DataFrame, bold) -> None:
    """A sheet of text and numbers, never a formula (a reason may start with '=')."""
    ws = book.add_worksheet(name)
    ws.write_row(0, 0, list(frame.columns), bold)
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        for j, value in enumerate(row):
            if value is None or (isinstance(value, float) and pd.isna(value)):
                continue
            if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
                ws.write_number(i, j, float(value))
            else:
                ws.write_string(i, j, str(value))
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(frame), 1), len(frame.columns) - 1)
    ws.set_column(0, len(frame.columns) - 1, 12)


def previous_month(month: str, back: int = 1) -> str:
    year, mon = map(int, month.split("-"))
    index = year * 12 + (mon - 1) - back
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def streak_warnings(catalog: Catalog, history: pd.DataFrame, month: str) -> dict[str, list[str]]:
    """Employee id → warning texts for ``month`` (history must include that month)."""
    out: dict[str, list[str]] = {}
    by_key = {(str(r.工号), str(r.月份)): r for r in history.itertuples(index=False)}
    grades_this_year: dict[str, list[str]] = {}  # employee → grades of this year, to ``month``
    for (e, m), row in by_key.items():
        if m.startswith(month[:4]) and m <= month:
            grades_this_year.setdefault(e, []).append(row.等级)
    current = history[history["月份"].astype(str) == month]
    for r in current.itertuples(index=False):
        role = catalog.roles.get(r.岗位ID)
        if role is None:
            continue
        scheme = catalog.grade_schemes[role.grade_scheme]
        employee = str(r.工号)
        texts = []
        for rule in scheme.warnings:
            if rule.consecutive and all(
                    getattr(by_key.get((employee, previous_month(month, k))), "等级", None) == rule.grade
                    for k in range(rule.consecutive)):
                texts.append(f"连续{rule.consecutive}个月{rule.grade}：{rule.action}".rstrip("："))
            if rule.in_year:
                count = grades_this_year.get(employee, []).count(rule.grade)
                if count >= rule.in_year and not any(t.startswith("连续") and rule.grade in t for t in texts):
                    texts.append(f"本年{count}个月为{rule.grade}：{rule.action}".rstrip("："))
                elif count >= rule.in_year:
                    texts.append(f"本年{count}个月为{rule.grade}")
        n = scheme.lowest_in_department
        if n and all(bool(getattr(by_key.get((employee, previous_month(month, k))), "部门最低", False))
                     for k in range(n)):
            texts.append(f"连续{n}个月部门最低分")
        if texts:
            out[employee] = texts
    return out
