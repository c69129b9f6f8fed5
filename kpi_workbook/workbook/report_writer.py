"""Write the monthly report workbook: 月度汇总, 部门统计 (with a native chart), 未完成, 问题."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from ..diagnostics import Diagnostic
from ..numbers import clean_round
from ..rules.loader import Catalog
from .build import GRADE_COLOURS
from .files import atomic_output
from .report import ReportData

SUMMARY, STATS, INCOMPLETE, FINDINGS = "月度汇总", "部门统计", "未完成", "问题"
SUMMARY_HEAD = ["工号", "姓名", "部门", "岗位", "月份", "总分", "等级", "部门排名", "全员排名"]
SUMMARY_TAIL = ["应发绩效合计", "状态", "预警", "问题", "说明"]  # 说明: how team pay came about


def grade_order(catalog: Catalog, summary: pd.DataFrame) -> list[str]:
    """Every grade that occurs, in the order of the schemes that define them."""
    order: list[str] = []
    for role_id in dict.fromkeys(summary["岗位ID"]):
        for g in catalog.grade_scheme(catalog.roles[role_id]).grades():
            if g not in order:
                order.append(g)
    return order


def department_stats(catalog: Catalog, data: ReportData) -> tuple[pd.DataFrame, list[str]]:
    s = data.summary
    grades = grade_order(catalog, s)
    rows = []
    for dept, part in s.groupby("部门", sort=False):
        done = part[part["状态"] == "已完成"]
        row = {"部门": dept, "人数": len(part), "已完成": len(done),
               "平均分": clean_round(float(done["总分"].mean()), 1) if len(done) else None,
               "最高分": float(done["总分"].max()) if len(done) else None,
               "最低分": float(done["总分"].min()) if len(done) else None}
        for g in grades:
            n = int((done["等级"] == g).sum())
            row[g] = n
            row[f"{g}占比"] = n / len(done) if len(done) else None
        row["应发合计"] = clean_round(float(done["应发绩效合计"].fillna(0).sum()), 2)
        row["强制分布"] = forced_distribution(catalog, done)
        rows.append(row)
    return pd.DataFrame(rows), grades


def forced_distribution(catalog: Catalog, done: pd.DataFrame) -> str:
    """Grades whose share of the department exceeds the scheme's max_share."""
    problems = []
    for role_id in dict.fromkeys(done["岗位ID"]):
        scheme = catalog.grade_scheme(catalog.roles[role_id])
        if not scheme.max_share:
            continue
        group = done[done["岗位ID"].map(lambda r: catalog.roles[r].grade_scheme) == scheme.id]
        for grade, limit in scheme.max_share.items():
            share = (group["等级"] == grade).mean() if len(group) else 0
            if share > limit + 1e-9:
                problems.append(f"{grade} 占 {share:.0%} > {limit:.0%}")
    return "；".join(dict.fromkeys(problems))


def write_report(catalog: Catalog, data: ReportData, out: Path, force: bool = False) -> None:
    with atomic_output(out, force=force) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"nan_inf_to_errors": True, "strings_to_formulas": False,
                                              "strings_to_urls": False, "strings_to_numbers": False})
        f = _formats(book)
        _summary_sheet(book, catalog, data, f)
        _stats_sheet(book, catalog, data, f)
        _incomplete_sheet(book, data, f)
        _findings_sheet(book, data.findings, f)
        book.close()


def _formats(book):
    base = {"font_name": "等线", "font_size": 10, "border": 1, "valign": "vcenter"}
    return {
        "title": book.add_format({"font_name": "等线", "bold": True, "font_size": 14}),
        "head": book.add_format({**base, "bold": True, "bg_color": "#D9E1F2", "align": "center",
                                 "text_wrap": True}),
        "text": book.add_format(base),
        "num": book.add_format({**base, "num_format": "0.0", "align": "center"}),
        "int": book.add_format({**base, "num_format": "0", "align": "center"}),
        "money": book.add_format({**base, "num_format": "#,##0.00"}),
        "pct": book.add_format({**base, "num_format": "0%", "align": "center"}),
        "warn": book.add_format({**base, "font_color": "#9C0006", "text_wrap": True}),
        "wrap": book.add_format({**base, "text_wrap": True}),
    }


def _write_table(ws, frame: pd.DataFrame, formats: dict[str, object], f, start_row: int = 1) -> None:
    ws.write_row(start_row - 1, 0, list(frame.columns), f["head"])
    for i, row in enumerate(frame.itertuples(index=False), start=start_row):
        for j, (column, value) in enumerate(zip(frame.columns, row)):
            fmt = formats.get(column, f["text"])
            if value is None or (isinstance(value, float) and pd.isna(value)):
                ws.write_blank(i, j, None, fmt)
            elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
                ws.write_number(i, j, float(value), fmt)
            else:
                ws.write_string(i, j, str(value), fmt)


def _summary_sheet(book, catalog: Catalog, data: ReportData, f) -> None:
    ws = book.add_worksheet(SUMMARY)
    s = data.summary
    columns = SUMMARY_HEAD + data.money_columns + SUMMARY_TAIL
    frame = s.reindex(columns=columns) if len(s) else pd.DataFrame(columns=columns)
    formats = {"总分": f["num"], "部门排名": f["int"], "全员排名": f["int"], "预警": f["warn"], "问题": f["warn"],
               "说明": f["wrap"],
               **{c: f["money"] for c in data.money_columns + ["应发绩效合计"]}}
    _write_table(ws, frame, formats, f)
    widths = {"姓名": 8, "部门": 10, "岗位": 24, "预警": 30, "工号": 8, "月份": 8, "问题": 40, "说明": 40}
    for j, c in enumerate(columns):
        ws.set_column(j, j, widths.get(c, 10))
    n = len(frame)
    ws.freeze_panes(1, 2)
    ws.autofilter(0, 0, max(n, 1), len(columns) - 1)
    grade_col = columns.index("等级")
    for k, g in enumerate(grade_order(catalog, s) if n else []):
        ws.conditional_format(1, grade_col, n, grade_col, {
            "type": "cell", "criteria": "==", "value": f'"{g}"',
            "format": book.add_format({"bg_color": GRADE_COLOURS[k % len(GRADE_COLOURS)]})})
    status_col = columns.index("状态")
    ws.conditional_format(1, status_col, max(n, 1), status_col, {
        "type": "text", "criteria": "containing", "value": "未完成",
        "format": book.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})})
    ws.conditional_format(1, status_col, max(n, 1), status_col, {
        "type": "text", "criteria": "containing", "value": "错误",
        "format": book.add_format({"bg_color": "#FF0000", "font_color": "#FFFFFF", "bold": True})})
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)


def _stats_sheet(book, catalog: Catalog, data: ReportData, f) -> None:
    ws = book.add_worksheet(STATS)
    if data.summary.empty:
        ws.write(0, 0, "没有考核表 / no scorecards")
        return
    stats, grades = department_stats(catalog, data)
    formats = {"平均分": f["num"], "最高分": f["num"], "最低分": f["num"], "应发合计": f["money"],
               "强制分布": f["warn"], **{g: f["int"] for g in grades},
               **{f"{g}占比": f["pct"] for g in grades}}
    _write_table(ws, stats, formats, f)
    ws.set_column(0, 0, 12)
    ws.set_column(1, len(stats.columns) - 1, 8)
    ws.freeze_panes(1, 1)
    chart = book.add_chart({"type": "column", "subtype": "stacked"})
    n = len(stats)
    for g in grades:
        col = list(stats.columns).index(g)
        chart.add_series({"name": [STATS, 0, col], "categories": [STATS, 1, 0, n, 0],
                          "values": [STATS, 1, col, n, col]})
    chart.set_title({"name": f"{data.month} 各部门等级分布"})
    chart.set_y_axis({"name": "人数", "major_gridlines": {"visible": True}})
    chart.set_size({"width": 720, "height": 360})
    ws.insert_chart(n + 3, 0, chart)


def _incomplete_sheet(book, data: ReportData, f) -> None:
    ws = book.add_worksheet(INCOMPLETE)
    rows = [{"工号": r["工号"], "姓名": r["姓名"], "部门": r["部门"], "岗位": r["岗位"],
             "工作表": r["_sheet"], "缺少或有误": "；".join(r["_missing"]), "文件": r["_file"]}
            for r in data.incomplete.to_dict("records")]
    frame = pd.DataFrame(rows, columns=["工号", "姓名", "部门", "岗位", "工作表", "缺少或有误", "文件"])
    _write_table(ws, frame, {"缺少或有误": f["warn"]}, f)
    ws.set_column(0, 4, 12)
    ws.set_column(5, 5, 60)
    ws.set_column(6, 6, 30)


def _findings_sheet(book, findings: list[Diagnostic], f) -> None:
    ws = book.add_worksheet(FINDINGS)
    frame = pd.DataFrame([{"级别": d.severity, "代码": d.code, "文件": Path(d.source).name if d.source else "",
                           "工作表": d.sheet, "单元格": d.cell, "说明": d.message} for d in findings],
                         columns=["级别", "代码", "文件", "工作表", "单元格", "说明"])
    _write_table(ws, frame, {"说明": f["warn"]}, f)
    ws.set_column(0, 4, 12)
    ws.set_column(5, 5, 90)
    ws.autofilter(0, 0, max(len(frame), 1), 5)
