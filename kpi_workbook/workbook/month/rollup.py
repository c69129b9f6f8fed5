"""季度汇总 / 年度汇总: a quarter's or a year's months from the history, per employee and per
department, with the period's rating (年度评定) computed by the grade scheme's
``period_rating`` rule (grades.yaml).

The history is read through history.read_history_book, which verifies its hash chain and its
approvals first; its 历史 sheet by column NAMES (unknown columns and other sheets are
ignored); of several rows of an employee-month the last counts. Only complete cards count:
月数 is the number of months scored. A month of the period that is not approved (or was
reopened and not approved again) is an error finding (exit 1), or refuses the roll-up with
``require_approved``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter

from ...diagnostics import Diagnostic, KpiError, error, warning
from ...engine.score import grade_of
from ...numbers import clean_round
from ...engine.describe import job_title
from ...rules.loader import Catalog
from ...rules.model import GradeScheme
from ..files import atomic_output
from ..xlsx.printing import last_column_for, print_setup, row_height, signature_line

HISTORY_SHEET = "历史"
DEPARTMENTS = "部门汇总"
NOTES = "说明"


@dataclass(frozen=True)
class Period:
    text: str  # "2026Q4" or "2026"
    months: tuple[str, ...]
    kind: str  # "quarter" | "year"

    @property
    def label(self) -> str:
        return "季度" if self.kind == "quarter" else "年度"

    @property
    def sheet(self) -> str:
        return f"{self.label}汇总"

    @property
    def rating_column(self) -> str:
        return f"{self.label}评定"

    @property
    def title(self) -> str:
        return f"{self.text} {self.label}绩效汇总"


def parse_period(quarter: str | None = None, year: str | None = None) -> Period:
    """'2026Q4' → 2026-10..12; '2026' → 2026-01..12. Exactly one of the two."""
    if bool(quarter) == bool(year):
        raise KpiError([error("period", "须给出 --quarter 或 --year 之一", "give one of --quarter or --year")])
    if quarter:
        m = re.fullmatch(r"(\d{4})\s*[Qq]([1-4])", quarter.strip())
        if not m:
            raise KpiError([error("period", f"季度须为 YYYYQn（如 2026Q4），得到 '{quarter}'",
                                  f"a quarter is YYYYQn (e.g. 2026Q4), got '{quarter}'")])
        y, q = int(m.group(1)), int(m.group(2))
        return Period(f"{y}Q{q}", tuple(f"{y:04d}-{3 * (q - 1) + k:02d}" for k in (1, 2, 3)), "quarter")
    assert year is not None  # exactly one of the two was given
    if not re.fullmatch(r"\d{4}", year.strip()):
        raise KpiError([error("period", f"年份须为 YYYY（如 2026），得到 '{year}'",
                              f"a year is YYYY (e.g. 2026), got '{year}'")])
    y = int(year)
    return Period(str(y), tuple(f"{y:04d}-{k:02d}" for k in range(1, 13)), "year")


def read_history_rows(path: Path) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """The history's rows, the last of each employee-month, columns by name — after the
    history verified itself (history.read_history_book: a broken chain is refused)."""
    return _rows_of(_book(path))


def _book(path: Path, months=None):
    """The history, verified; of 历史 and 审批版本 only the sheets of ``months`` (default all)."""
    from .history import read_history_book

    path = Path(path)
    if not path.exists():
        raise KpiError([error("no-history", f"找不到历史文件 {path}", f"history file {path} not found",
                              source=str(path))])
    return read_history_book(path, months=months, families=("历史",))


def _rows_of(book) -> tuple[pd.DataFrame, list[Diagnostic]]:
    frame = book.rows.copy()
    frame = frame.sort_values(["_row"], kind="stable").drop_duplicates(["工号", "月份"], keep="last")
    frame["总分"] = pd.to_numeric(frame["总分"], errors="coerce")
    frame["_pay"] = pd.to_numeric(frame["应发绩效合计"], errors="coerce")
    return frame.sort_values(["月份", "_row"], kind="stable").reset_index(drop=True), []


def approval_findings(book, months: list[str], history: Path, require_approved: bool = False) -> list[Diagnostic]:
    """One finding per month of the period that is not approved (or reopened and not approved
    again): its numbers in the roll-up are not signed off. With ``require_approved`` they
    refuse the roll-up instead."""
    from ...diagnostics import Refused
    from .history import APPROVED, REOPENED

    out = []
    for month in months:
        record = book.approval(month)
        if record is not None and record["状态"] == APPROVED:
            continue
        reopened = record is not None and record["状态"] == REOPENED
        zh = (f"{month} 已重开（{record['重开原因']}），未重新审批" if reopened else f"{month} 未审批")
        en = f"{month} was reopened and not approved again" if reopened else f"{month} is not approved"
        out.append(error("rollup-unapproved", f"{zh}：汇总中该月的数字未经审批",
                         f"{en}: its numbers in the roll-up are not signed off", source=str(history),
                         sheet=HISTORY_SHEET))
    if require_approved and out:
        raise Refused(out)
    return out


@dataclass
class RollupData:
    period: Period
    employees: dict[str, pd.DataFrame]  # grade scheme id → one row per employee
    departments: dict[str, pd.DataFrame]  # grade scheme id → one row per department
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def to_dict(self) -> dict:
        def records(frame):
            return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
                    for r in frame.to_dict("records")]

        return {"period": self.period.text, "months": list(self.period.months),
                "employees": {k: records(v) for k, v in self.employees.items()},
                "departments": {k: records(v) for k, v in self.departments.items()},
                "diagnostics": [d.to_dict() for d in self.diagnostics]}


def period_grade(scheme: GradeScheme, totals: list[float], grades: list[str]) -> str | None:
    """The scheme's period_rating rule on an employee's complete months."""
    rule = scheme.period_rating
    if len(totals) < rule.min_months:
        return None
    values = np.asarray(totals, dtype=float)
    basis = {"average": values.mean(), "lowest": values.min(), "median": float(np.median(values))}
    grade = grade_of(scheme, np.array([clean_round(float(basis[rule.basis]), 1)]))[0]
    for d in rule.demote:
        if grades.count(d.grade) >= d.months:
            grade = d.to
    return grade


def build_rollup(catalog: Catalog, history: Path, period: Period, require_approved: bool = False) -> RollupData:
    book = _book(history, period.months)  # the period's month sheets only
    rows, diags = _rows_of(book)
    rows = rows[rows["月份"].isin(period.months)]
    diags += approval_findings(book, sorted(set(rows["月份"].astype(str))), Path(history), require_approved)
    unknown = sorted({str(r) for r in rows["岗位ID"] if r not in catalog.roles})
    for role_id in unknown:
        diags.append(warning("history-unknown-role", f"历史中的岗位 {role_id!r} 不在模板中：其行不计入",
                             f"role {role_id!r} of the history is not in the templates: its rows are left out",
                             source=str(history), sheet=HISTORY_SHEET))
    rows = rows[rows["岗位ID"].isin(list(catalog.roles))].copy()
    rows["_scheme"] = rows["岗位ID"].map(lambda r: catalog.roles[r].grade_scheme)
    done = rows[rows["状态"].astype(str) == "已完成"]
    employees, departments = {}, {}
    for scheme_id in dict.fromkeys(rows["_scheme"]):
        scheme = catalog.grade_schemes[scheme_id]
        part = rows[rows["_scheme"] == scheme_id]
        part_done = done[done["_scheme"] == scheme_id]
        # one pass each: the latest row of every employee, and the complete months' totals,
        # grades and pay of every employee (never a filter per employee: that was quadratic)
        latest_of = {r["工号"]: r for r in part.groupby("工号", sort=False).tail(1).to_dict("records")}
        by_employee = part_done.groupby("工号", sort=False)
        totals_of = by_employee["总分"].agg(list).to_dict()
        grades_of = by_employee["等级"].agg(list).to_dict()
        pay_of = by_employee["_pay"].agg(list).to_dict()
        out = []
        for eid in dict.fromkeys(part["工号"]):
            latest = latest_of[eid]
            totals = [float(t) for t in totals_of.get(eid, [])]
            grades = [str(g) for g in grades_of.get(eid, [])]
            pays = [float(p) for p in pay_of.get(eid, []) if p == p]  # NaN: no amount
            row = {"工号": eid, "姓名": latest["姓名"], "部门": latest["部门"],
                   "岗位": job_title(catalog.roles[latest["岗位ID"]]), "月数": len(totals),
                   "平均分": clean_round(float(np.mean(totals)), 1) if totals else None,
                   "最低分": float(min(totals)) if totals else None}
            for g in scheme.grades():
                row[g] = grades.count(g)
            row["应发合计"] = clean_round(float(sum(pays)), 2) if pays else None
            row[period.rating_column] = period_grade(scheme, totals, grades)
            out.append(row)
        frame = pd.DataFrame(out)
        frame.insert(list(frame.columns).index("应发合计"), "部门排名",
                     frame.groupby("部门")["平均分"].rank(method="min", ascending=False))
        employees[scheme_id] = frame.sort_values(["部门", "部门排名", "工号"], kind="stable").reset_index(drop=True)
        dept_rows = []
        done_of = dict(tuple(part_done.groupby("部门", sort=False)))
        for dept, group in part.groupby("部门", sort=False):
            ok = done_of.get(dept, part_done.iloc[:0])
            grades = ok["等级"].astype(str).tolist()
            row = {"部门": dept, "人数": group["工号"].nunique(), "人月": len(ok),
                   "平均分": clean_round(float(ok["总分"].mean()), 1) if len(ok) else None,
                   "最低分": float(ok["总分"].min()) if len(ok) else None}
            for g in scheme.grades():
                row[g] = grades.count(g)
            row["应发合计"] = clean_round(float(ok["_pay"].sum()), 2) if ok["_pay"].notna().any() else None
            dept_rows.append(row)
        departments[scheme_id] = pd.DataFrame(dept_rows)
    if rows.empty:
        diags.append(warning("rollup-empty", f"历史中没有 {period.text} 的月份（{period.months[0]}…{period.months[-1]}）",
                             f"the history has no month of {period.text}", source=str(history)))
    return RollupData(period, employees, departments, diags)


def write_rollup(catalog: Catalog, data: RollupData, out: Path, force: bool = False,
                 company: str = "", printed: date | None = None) -> None:
    import io

    from ..xlsx import sheet_rows
    from .tables import table_formats, write_table

    page: dict[str, Any] = {"company": company, "printed": printed}
    with atomic_output(out, force=force) as tmp:
        # the two tables' cells as sheet XML (sheet_rows: a call per cell through XlsxWriter
        # was half a quarter's roll-up of 10,000 people); XlsxWriter writes the rest
        written = io.BytesIO()
        book = xlsxwriter.Workbook(written, {"in_memory": True, "nan_inf_to_errors": True,
                                             "strings_to_formulas": False, "strings_to_urls": False,
                                             "strings_to_numbers": False})
        f = table_formats(book)
        sheets: list[sheet_rows.SheetRows] = []
        for name, tables, lead in ((data.period.sheet, data.employees, [6, 6.5, 8, 12, 5, 6, 6]),
                                   (DEPARTMENTS, data.departments, [10, 5, 5, 6, 6])):
            ws = book.add_worksheet(name)
            cells = sheet_rows.SheetRows(ws)
            sheets.append(cells)
            print_setup(ws, f"{data.period.title} · {name}", header_rows=None, **page)
            row, width = 0, len(lead)
            column_widths: dict[int, float] = dict(enumerate(lead))
            if not tables:
                cells.write(0, 0, f"历史中没有 {data.period.text} 的数据")
            for k, (scheme_id, frame) in enumerate(tables.items()):
                scheme = catalog.grade_schemes[scheme_id]
                cells.write(row, 0, f"等级方案：{scheme.label}", f["title"])
                formats = {"平均分": f["num"], "最低分": f["num"], "部门排名": f["int"], "月数": f["int"],
                           "人数": f["int"], "人月": f["int"], "应发合计": f["money"],
                           **{g: f["int"] for g in scheme.grades()}}
                widths: list[float] = [*lead, *[6] * (len(frame.columns) - len(lead))]
                widths = [10 if c == "应发合计" else w for c, w in zip(frame.columns, widths)]  # bold 合计 too
                for j, w in enumerate(widths):
                    column_widths[j] = max(column_widths.get(j, 0), w)
                write_table(cells, frame, formats, f, start_row=row + 2, widths=widths)
                _total_row(cells, frame, scheme.grades(), row + 2 + len(frame), f)
                width = max(width, len(frame.columns))
                row += len(frame) + 5
            for j in range(width):
                ws.set_column(j, j, column_widths.get(j, 7))
            if tables:  # signed where it is handed over: two rows under the last 合计
                row -= 2
                start = 1 if name == data.period.sheet else 0
                cells.write(row, start, signature_line(), f["signature"])
                cells.set_row(row, 30)
                # the print area takes the whole signature line (past a narrow table, 日期 was cut)
                signed = {j: column_widths.get(j, 7) for j in range(width)}
                ws.print_area(0, 0, row, max(width - 1, last_column_for(signature_line(), start, signed)))
        _notes_sheet(book, catalog, data, f, page)
        book.close()
        sheet_rows.save(written, sheets, tmp)


def _total_row(ws, frame: pd.DataFrame, grades: list[str], row: int, f) -> None:  # ws: sheet_rows.SheetRows
    """The table's 合计 row: the people, months, grade counts and pay added up, the lowest
    total of all (an average of averages would not be the period's average)."""
    if frame.empty:
        return
    label_col = 1 if "姓名" in frame.columns else 0  # never under 工号: not an employee
    for j, c in enumerate(frame.columns):
        if j == label_col:
            ws.write(row, j, "合计", f["total_label"])
        elif c in ("人数", "人月", "月数", *grades):
            ws.write(row, j, int(pd.to_numeric(frame[c], errors="coerce").fillna(0).sum()), f["total_int"])
        elif c == "应发合计":
            ws.write(row, j, clean_round(float(pd.to_numeric(frame[c], errors="coerce").fillna(0).sum()), 2),
                     f["total_money"])
        elif c == "最低分" and pd.to_numeric(frame[c], errors="coerce").notna().any():
            ws.write(row, j, float(pd.to_numeric(frame[c], errors="coerce").min()), f["total_num"])
        else:
            ws.write(row, j, None, f["total_label"])


def _notes_sheet(book, catalog: Catalog, data: RollupData, f, page) -> None:
    ws = book.add_worksheet(NOTES)
    print_setup(ws, f"{data.period.title} · {NOTES}", header_rows=None, **page)
    ws.set_column(0, 0, 110)
    lines = [f"期间：{data.period.text}（{data.period.months[0]} … {data.period.months[-1]}）",
             "只计已完成的考核表；同一员工同一月份有多个版本时取最新版本。",
             "月数 = 已评分的月份数；人月 = 部门已评分的考核表数。"]
    for scheme_id in data.employees:
        scheme = catalog.grade_schemes[scheme_id]
        rule = scheme.period_rating
        basis = {"average": "月度总分平均", "lowest": "月度最低总分", "median": "月度总分中位数"}[rule.basis]
        demote = "；".join(f"{d.grade} 达 {d.months} 个月 → {d.to}" for d in rule.demote)
        tiers = "、".join(f"{t.grade}≥{t.min:g}" if t.min is not None else t.grade for t in scheme.tiers)
        lines.append(f"{data.period.rating_column}（{scheme.label}）：{basis}（保留 1 位小数）按 {tiers} 评定；"
                     f"至少 {rule.min_months} 个月" + (f"；{demote}" if demote else ""))
    levels = {"error": "错误", "warning": "提醒", "info": "说明"}
    for d in data.diagnostics:
        lines.append(f"{levels.get(d.severity, d.severity)}：{d.message_zh}")
    for i, text in enumerate(lines):  # each row as high as its wrapped lines: nothing overlaps
        ws.write_string(i, 0, text, f["wrap"])
        ws.set_row(i, row_height([text], [110], {0}))


@dataclass
class RollupResult:
    data: RollupData
    out: Path

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.data.diagnostics

    def summary_line(self) -> str:
        people = sum(len(v) for v in self.data.employees.values())
        return (f"{self.out}\t{self.data.period.title}：{people} 人，{len(self.data.departments)} 个等级方案，"
                f"问题 {len(self.diagnostics)} / {people} employees, {len(self.diagnostics)} findings")

    def to_dict(self) -> dict:
        return {"out": str(self.out), **self.data.to_dict()}


def run_rollup(catalog: Catalog, history: Path, out: Path, quarter: str | None = None,
               year: str | None = None, force: bool = False, company: str = "",
               require_approved: bool = False) -> RollupResult:
    """`kpi-workbook rollup`: read the history, write 季度汇总 / 年度汇总, 部门汇总, 说明."""
    from ..files import refuse_existing

    period = parse_period(quarter, year)
    out = Path(out)
    refuse_existing(out, force)
    if Path(history).resolve() == out.resolve():
        raise KpiError([error("output-is-history", f"--out 与 --history 是同一个文件：{out}",
                              f"--out and --history are the same file: {out}", source=str(out))])
    data = build_rollup(catalog, Path(history), period, require_approved)
    write_rollup(catalog, data, out, force=force, company=company)
    return RollupResult(data, out)
