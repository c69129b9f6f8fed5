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

import pandas as pd

from ..diagnostics import Diagnostic, KpiError, error, warning
from ..rules.describe import job_title
from ..rules.loader import Catalog
from .printing import print_setup, row_height

SHEET = "校准"
DIST_HEAD = ["部门", "等级方案", "等级", "人数", "占比", "上限", "配额人数", "是否超出"]
CARD_HEAD = ["工号", "姓名", "部门", "岗位", "月份", "等级方案", "总分", "等级", "超出配额",
             "校准等级", "校准理由"]
OVER = "超出"
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

    def to_dict(self) -> dict:
        return {"employee_id": self.employee_id, "month": self.month, "grade": self.grade,
                "calibrated_grade": self.calibrated_grade, "reason": self.reason,
                "scheme": self.scheme, "cell": self.cell}


def distribution(catalog: Catalog, summary: pd.DataFrame) -> tuple[pd.DataFrame, set[str]]:
    """The 等级分布 rows, and the ids of the cards beyond a quota."""
    rows, over_cards = [], set()
    if summary.empty:
        return pd.DataFrame(columns=DIST_HEAD), over_cards
    done = summary[summary["状态"] == "已完成"].copy()
    done["_scheme"] = done["岗位ID"].map(lambda r: catalog.roles[r].grade_scheme)
    for (dept, scheme_id), group in done.groupby(["部门", "_scheme"], sort=False):
        scheme = catalog.grade_schemes[scheme_id]
        n = len(group)
        for grade in scheme.grades():
            cards = group[group["等级"] == grade]
            limit = scheme.max_share.get(grade)
            allowed = math.floor(limit * n + 1e-9) if limit is not None else None
            over = allowed is not None and len(cards) > allowed
            rows.append({"部门": dept, "等级方案": scheme.label, "等级": grade, "人数": len(cards),
                         "占比": len(cards) / n if n else None, "上限": limit, "配额人数": allowed,
                         "是否超出": OVER if over else ""})
            if over:  # the lowest totals past the quota: whom to look at first
                ranked = cards.sort_values(["总分", "工号"], ascending=[False, True], kind="stable")
                over_cards |= set(ranked["工号"].astype(str).iloc[allowed:])
    return pd.DataFrame(rows, columns=DIST_HEAD), over_cards


def calibration_sheet(book, catalog: Catalog, data, f, page) -> None:
    from .report_writer import _write_table, report_title

    ws = book.add_worksheet(SHEET)
    dist, over_cards = distribution(catalog, data.summary)
    ws.write(0, 0, "等级分布与目标 / grade distribution against the targets", f["title"])
    _write_table(ws, dist, {"占比": f["pct"], "上限": f["pct"], "人数": f["int"], "配额人数": f["int"],
                            "是否超出": f["warn"]}, f, start_row=2, start_col=DIST_COL)
    for r, value in enumerate(dist["是否超出"], start=2):
        if value:
            ws.write_string(r, DIST_COL + DIST_HEAD.index("是否超出"), value, f["over"])
    top = len(dist) + 3
    ws.write(top, 0, "校准录入：选校准等级并写理由（不改的留空）/ calibration: pick a grade and give "
             "a reason (leave empty to keep)", f["title"])
    header_row = top + 1
    s = data.summary
    cards = s[s["状态"] == "已完成"].copy() if len(s) else pd.DataFrame(columns=list(s.columns))
    rows = []
    if len(cards):
        cards["_scheme"] = cards["岗位ID"].map(lambda r: catalog.roles[r].grade_scheme)
        cards = cards.sort_values(["部门", "_scheme", "总分"], ascending=[True, True, False], kind="stable")
        for r in cards.to_dict("records"):
            rows.append({"工号": str(r["工号"]), "姓名": r["姓名"], "部门": r["部门"],
                         "岗位": job_title(catalog.roles[r["岗位ID"]]), "月份": r["月份"],
                         "等级方案": r["_scheme"], "总分": r["总分"], "等级": r["等级"],
                         "超出配额": OVER if str(r["工号"]) in over_cards else "",
                         "校准等级": None, "校准理由": None})
    frame = pd.DataFrame(rows, columns=CARD_HEAD)
    widths = [6, 6.5, 9.5, 15, 7.5, 12, 6, 5.5, 7, 8, 32]
    _write_table(ws, frame, {"总分": f["num"], "校准等级": f["input"], "校准理由": f["input"]}, f,
                 start_row=header_row + 1, widths=widths)
    grade_col, over_col = CARD_HEAD.index("校准等级"), CARD_HEAD.index("超出配额")
    for i, row in enumerate(rows, start=header_row + 1):
        if row["超出配额"]:
            for j in (0, 1, over_col):
                ws.write_string(i, j, row[CARD_HEAD[j]], f["over"])
        grades = catalog.grade_schemes[row["等级方案"]].grades()
        ws.data_validation(i, grade_col, i, grade_col, {
            "validate": "list", "source": grades, "error_title": "校准等级 / grade",
            "error_message": f"请从列表选择：{'、'.join(grades)} / pick one of the list"})
    for j, width in enumerate(widths):
        ws.set_column(j, j, width)
    ws.set_row(header_row, row_height(CARD_HEAD, widths, set(range(len(widths)))))
    ws.set_h_pagebreaks([top])  # the entry table starts on a page of its own
    print_setup(ws, f"{report_title(data.month)} · {SHEET}", header_rows=(header_row, header_row), **page)


def read_calibration(report: Path, catalog: Catalog | None = None) -> tuple[list[Calibration], list[Diagnostic]]:
    """HR's calibrated grades from a report's 校准 sheet, and what is wrong with them.

    Columns are found by name in the header row that has 工号 and 校准等级. A row with a
    calibrated grade needs a reason and a grade of the card's scheme; a row whose calibrated
    grade is its grade changes nothing and is left out. Rows in error are left out too (their
    diagnostic names the cell), so a mistake never changes pay.
    """
    from ..rules.loader import builtin_catalog
    from .reader import open_book

    catalog = catalog or builtin_catalog()
    report = Path(report)
    book = open_book(report, data_only=True)
    if SHEET not in book.sheetnames:
        raise KpiError([error("no-calibration", f"{report.name} 没有“{SHEET}”工作表（不是新版月度报表）",
                              f"{report.name} has no {SHEET} sheet (not a current monthly report)",
                              source=str(report))])
    rows = list(book[SHEET].iter_rows(values_only=True))
    start = next((i for i, r in enumerate(rows)
                  if r and "工号" in [_text(v) for v in r] and "校准等级" in [_text(v) for v in r]), None)
    if start is None:
        raise KpiError([error("no-calibration", f"{report.name} 的“{SHEET}”没有 工号、校准等级 列",
                              f"{SHEET} of {report.name} has no 工号 and 校准等级 columns",
                              source=str(report), sheet=SHEET)])
    header = [_text(v) for v in rows[start]]
    col = {name: header.index(name) for name in CARD_HEAD if name in header}
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
        scheme_id = get("等级方案")
        scheme = catalog.grade_schemes.get(scheme_id)
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
        entries.append(Calibration(employee, get("月份"), get("等级"), new, reason, scheme_id, where["cell"]))
    return entries, diags


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _cell(col: int | None, row: int) -> str:
    if col is None:
        return ""
    from xlsxwriter.utility import xl_col_to_name

    return f"{xl_col_to_name(col)}{row}"
