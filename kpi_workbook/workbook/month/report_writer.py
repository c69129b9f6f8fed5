"""Write the monthly report workbook: 月度汇总, 部门统计 (a native chart per grade scheme), 校准,
未完成, 问题 — every sheet printable (A4 landscape, one page wide, title block, page numbers)."""

from __future__ import annotations

import io
import math
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from ...diagnostics import Diagnostic
from ...numbers import clean_round
from ...engine.describe import job_title
from ...rules.loader import Catalog
from ..scorecard.build import GRADE_COLOURS
from ..xlsx import sheet_rows
from ..files import atomic_output
from ..xlsx.printing import chinese_part, print_setup, signature_line
from .calibration import calibration_sheet, card_roles
from .report import ReportData
from .report_rows import PART as ROWS_PART, compact_part
from .tables import (FINDINGS, column_values, INCOMPLETE, STATS, SUMMARY, SUMMARY_HEAD, SUMMARY_TAIL, table_formats,
                     report_title, schemes_by_role, write_table)
from ..xlsx.sheet_rows import SheetRows



def job_titles(catalog: Catalog, role_ids) -> list[str]:
    """The job title of each role id, worked out once per role."""
    titles: dict[str, str] = {}
    return [titles[r] if r in titles else titles.setdefault(r, job_title(catalog.roles[r])) for r in role_ids]


def grade_order(catalog: Catalog, summary: pd.DataFrame) -> list[str]:
    """Every grade that occurs, in the order of the schemes that define them."""
    order: list[str] = []
    for role_id in dict.fromkeys(summary["岗位ID"]):
        for g in catalog.grade_scheme(catalog.roles[role_id]).grades():
            if g not in order:
                order.append(g)
    return order


STATS_COLUMNS = ("部门", "岗位ID", "状态", "总分", "等级", "应发绩效合计")  # what department_stats reads


def department_stats(catalog: Catalog, data: ReportData, scheme_id: str | None = None
                     ) -> tuple[pd.DataFrame, list[str]]:
    """Per department: counts, average, extremes, grade counts and shares, pay.

    With ``scheme_id`` only the cards graded by that scheme, and only its grades: two grade
    scales never share a table or a chart. (Worked out on plain lists: a department is a
    few dozen cards, where each pandas step costs more than the arithmetic.)"""
    s = data.summary
    scheme_of = schemes_by_role(catalog, s["岗位ID"]) if len(s) else {}
    if scheme_id is not None:
        grades = catalog.grade_schemes[scheme_id].grades()
    else:
        grades = grade_order(catalog, s)
    departments: dict[object, list[tuple]] = {}
    for card in zip(*(column_values(s[c]) for c in STATS_COLUMNS)) if len(s) else ():
        if scheme_id is None or scheme_of[card[1]] == scheme_id:
            departments.setdefault(card[0], []).append(card)
    rows = []
    for dept, part in departments.items():
        done = [c for c in part if c[2] == "已完成"]
        totals = np.array([c[3] for c in done], dtype=float)
        pay = np.array([c[5] if isinstance(c[5], (int, float)) else np.nan for c in done], dtype=float)  # 待定: none
        row = {"部门": dept, "人数": len(part), "已完成": len(done),
               "平均分": clean_round(float(totals.mean()), 1) if len(done) else None,
               "最高分": float(totals.max()) if len(done) else None,
               "最低分": float(totals.min()) if len(done) else None,
               "应发合计": clean_round(float(np.where(np.isnan(pay), 0.0, pay).sum()), 2),
               "强制分布": forced_distribution(catalog, done, scheme_of)}
        for g in grades:
            n = sum(1 for c in done if c[4] == g)
            row[g] = n
            row[f"{g}占比"] = n / len(done) if len(done) else None
        rows.append(row)
    return pd.DataFrame(rows), grades


def schemes_in_use(catalog: Catalog, summary: pd.DataFrame) -> list[str]:
    """Grade scheme ids of the report's cards, in first-seen order."""
    if summary.empty:
        return []
    return list(dict.fromkeys(catalog.roles[r].grade_scheme for r in summary["岗位ID"]))


def forced_distribution(catalog: Catalog, done: list[tuple], scheme_of: dict[str, str]) -> str:
    """Grades whose share of the department exceeds the scheme's max_share; ``done`` holds
    the department's complete cards as tuples (部门, 岗位ID, 状态, 总分, 等级, …)."""
    problems = []
    for role_id in dict.fromkeys(c[1] for c in done):
        scheme = catalog.grade_scheme(catalog.roles[role_id])
        if not scheme.max_share:
            continue
        group = [c[4] for c in done if scheme_of[c[1]] == scheme.id]
        for grade, limit in scheme.max_share.items():
            share = sum(1 for g in group if g == grade) / len(group) if group else 0
            if share > limit + 1e-9:
                problems.append(f"{grade} 占 {share:.0%} > {limit:.0%}")
    return "；".join(dict.fromkeys(problems))


def write_report(catalog: Catalog, data: ReportData, out: Path, force: bool = False,
                 company: str = "", printed: date | None = None, record=None) -> None:
    """The report workbook; ``record`` (verify.Record: the books it was made from, and the
    approval it shows) goes into the hidden sheet 来源 that approve and payroll check."""
    with atomic_output(out, force=force) as tmp:
        written = io.BytesIO()  # XlsxWriter's package; the big tables' rows go in on saving
        book = xlsxwriter.Workbook(written, {"in_memory": True, "nan_inf_to_errors": True,
                                             "strings_to_formulas": False, "strings_to_urls": False,
                                             "strings_to_numbers": False})
        f = table_formats(book)
        page = {"company": company, "printed": printed, "stamp": _stamp_text(record)}
        summary = _summary_sheet(book, catalog, data, f, page)
        _stats_sheet(book, catalog, data, f, page)  # XlsxWriter's cells: its charts' caches read them
        cards = calibration_sheet(book, catalog, data, f, page)
        tables = [summary, cards, _incomplete_sheet(book, data, f, page, catalog),
                  _findings_sheet(book, data.findings, f, page, data.month)]
        if record is not None:
            _sources_sheet(book, record)
        book.close()
        # 月度汇总's rows and the cards' 岗位ID as read back from the sheets, in one compact
        # part: approve and payroll of the report as written read it instead (report_rows.py)
        rows = compact_part(summary.values_read(), card_roles(cards.values_read()))
        sheet_rows.save(written, tables, tmp, {ROWS_PART: rows})


def _stamp_text(record) -> str:
    """The approval a report approve rewrote shows at the foot of every printed page."""
    stamp = getattr(record, "stamp", None)
    if stamp is None:
        return ""
    when = stamp.when.replace("T", " ")[:16]
    return f"审批：{stamp.by}　{when}　第 {stamp.version} 版　月度哈希 {stamp.digest[:12]}"


_TITLE = re.compile(r'(<oddHeader>.*?&amp;C&amp;"[^"<]*,Bold"&amp;14 )(.*?)(&amp;R&amp;"[^"<]*"&amp;11 打印日期 )'
                    r'(\d{4}-\d{2}-\d{2})(</oddHeader>)', re.S)
_FOOTER = re.compile(r'<oddFooter>(?:(?!</oddFooter>).)*?&amp;[CR](&amp;"[^"<]*"&amp;11 第 &amp;P 页，共 &amp;N 页)</oddFooter>',
                     re.S)  # the page number centred, or at the right beside an earlier stamp (print_setup)
_SHEET_DATA = re.compile(r"<sheetData>.*?</sheetData>|<sheetData/>", re.S)
APPROVED_MARK = "（已审批）"


def stamp_report(report: Path, record, printed: date | None = None, before=None) -> None:
    """Put the approval ``record.stamp`` on a report whose cells do not change: its 来源
    record, and on every printed page the title's （已审批）, the day printed and the stamp at
    the foot — what write_report gives with that record — every other part copied as it is
    stored (package.rewrite: not deflated again). For ``approve`` of a report without
    calibration: no card is scored again to write it. ``before(path)``: called with the
    stamped file written, before it takes the report's name (an exception there leaves the
    report as it was)."""
    from xml.sax.saxutils import escape

    from ..xlsx.package import Book, rewrite
    from ..xlsx.printing import FONT, _escape
    from .verify import SOURCES, record_rows

    stamp = _stamp_text(record)
    day = (printed or date.today()).isoformat()
    foot = escape(f'&L&"{FONT},Regular"&11 {_escape(stamp)}')

    def title(m: re.Match) -> str:
        text = m.group(2) if m.group(2).endswith(APPROVED_MARK) else m.group(2) + APPROVED_MARK
        return f"{m.group(1)}{text}{m.group(3)}{day}{m.group(5)}"

    def stamped(part: str, data: bytes) -> tuple[bytes | memoryview, ...] | None:
        name = sheets.get(part)
        if name is None:
            return None
        if name != SOURCES:
            # the header and footer follow the cells (<headerFooter> comes after <sheetData>
            # in a worksheet): only the part after them is looked at and changed, the cells
            # (most of a big sheet) kept as bytes
            cut = max(data.rfind(b"</sheetData>"), 0)
            xml = data[cut:].decode("utf-8")
            after = _FOOTER.sub(lambda m: f"<oddFooter>{foot}&amp;R{m.group(1)}</oddFooter>",
                                _TITLE.sub(title, xml, 1), 1)
            return (memoryview(data)[:cut], after.encode("utf-8")) if after != xml else None
        rows = "".join(  # 来源: the record with its stamp
            f'<row r="{i}">' + "".join(sheet_rows.cell(f"{sheet_rows.xl_col_to_name(j)}{i}", "", str(v))
                                       for j, v in enumerate(row)) + "</row>"
            for i, row in enumerate(record_rows(record), start=1))
        return (_SHEET_DATA.sub(lambda _: f"<sheetData>{rows}</sheetData>", data.decode("utf-8"),
                                count=1).encode("utf-8"),)

    with Book.open(report) as book:  # closed before the report is replaced
        sheets = {part: name for name, part in book.parts.items()}
        with atomic_output(report, force=True) as tmp:
            rewrite(book, tmp, stamped)
            book.close()
            if before is not None:
                before(tmp)


def _sources_sheet(book, record) -> None:
    """来源: very hidden (not in the sheet tabs, never printed); every value written as text."""
    from .verify import SOURCES, record_rows

    ws = book.add_worksheet(SOURCES)
    for i, row in enumerate(record_rows(record)):
        for j, value in enumerate(row):
            ws.write_string(i, j, str(value))
    ws.set_column(0, 0, 10)
    ws.set_column(1, 3, 40)
    ws.very_hidden()  # not in the sheet tabs, never printed


SUMMARY_WIDTHS = {"工号": 5, "姓名": 5.5, "部门": 7, "岗位": 12, "月份": 7, "总分": 5, "等级": 5.5,
                  "部门排名": 4, "全员排名": 4, "应发绩效合计": 8, "状态": 6, "预警": 13, "问题": 14,
                  "说明": 14}
MONEY_WIDTH = 7.0  # "2,346.95" in 10 pt Arial
PRINT_WIDTH = 138.0  # the printed columns' widths on A4 landscape at about 92 % (10 pt → 9.2)


def _summary_sheet(book, catalog: Catalog, data: ReportData, f, page) -> SheetRows:
    ws = book.add_worksheet(SUMMARY)
    rows = SheetRows(ws, keep=True)  # its values read back kept too: report_rows.py
    s = data.summary
    columns = SUMMARY_HEAD + data.money_columns + SUMMARY_TAIL
    frame = s.reindex(columns=columns) if len(s) else pd.DataFrame(columns=columns)
    if len(s):  # 岗位 shows the job title, not the form's title
        frame["岗位"] = job_titles(catalog, s["岗位ID"])
    # 问题 and 说明 (the reasons behind 错误 and team pay) stay on one line and out of the print
    # area: the printout is the boss's overview; every finding prints on the 问题 sheet.
    formats = {"总分": f["num"], "部门排名": f["int"], "全员排名": f["int"], "预警": f["warn"], "问题": f["flag"],
               "姓名": f["wrap"], "部门": f["wrap"], "岗位": f["wrap"],
               **{c: f["money"] for c in data.money_columns + ["应发绩效合计"]}}
    widths = [SUMMARY_WIDTHS.get(c, MONEY_WIDTH) for c in columns]
    if len(s):
        frame["预警"] = printed_remarks(frame)
    # a pay rule of the month's roles that pays nobody anything: a column of blanks and 0.00
    # on paper, hidden (its cells stay, read by name like every column); the width it frees
    # goes to 岗位 and 预警, so that their rows need fewer lines
    idle = [c in data.money_columns and len(frame) > 0 and
            not pd.to_numeric(frame[c], errors="coerce").fillna(0).any() for c in columns]
    printed = columns.index("预警") + 1
    spare = max(0.0, PRINT_WIDTH - sum(w for w, hidden in zip(widths[:printed], idle) if not hidden))
    widths[columns.index("岗位")] += min(3.0, spare / 3)
    widths[columns.index("预警")] += min(12.0, spare - min(3.0, spare / 3))
    write_table(rows, frame, formats, f, widths=widths)
    for j, (width, hidden) in enumerate(zip(widths, idle)):
        ws.set_column(j, j, width, None, {"hidden": hidden})
    n = len(frame)
    _summary_furniture(rows, frame, columns, data.money_columns + ["应发绩效合计"], f)
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
    print_setup(ws, f"{report_title(data.month)} · {SUMMARY}", **page)
    ws.print_area(0, 0, max(n, 1) + SIGNATURE_GAP, columns.index("预警"))
    return rows


SIGNATURE_GAP = 4  # rows under the table: a blank row, 合计, a blank row, then the signatures


def printed_remarks(frame: pd.DataFrame) -> list[str]:
    """The 预警 column as printed: the streak warnings; for a card in 错误 the reason (in
    Chinese: the 问题 column stays off paper), for one 不参与 why it takes no part."""
    out = []
    for status, warning, problem, note in zip(*(column_values(frame[c]) for c in ("状态", "预警", "问题", "说明"))):
        text = "" if not isinstance(warning, str) else warning
        if status == "错误" and isinstance(problem, str) and problem:
            text = "；".join(t for t in (text, "错误：" + _first_clauses(chinese_part(problem))) if t)
        elif status == "不参与" and isinstance(note, str) and note:
            text = "；".join(t for t in (text, _first_clauses(chinese_part(note), 1)) if t)
        out.append(text)
    return out


def _first_clauses(text: str, most: int = 2) -> str:
    """Each of the first ``most`` '；'-parts of ``text`` up to its first '，' (the rest is
    on the card and on the 问题 sheet), and how many more there are."""
    parts = [p.split("，")[0].strip() for p in text.split("；") if p.strip()]
    more = f"等 {len(parts)} 项" if len(parts) > most else ""
    return "；".join(parts[:most]) + more


def _summary_furniture(rows: SheetRows, frame: pd.DataFrame, columns: list[str], money: list[str],
                       f) -> None:
    """Under 月度汇总: a 合计 row (people, money of the complete cards) and the signature
    line; a 不参与 card shows no total. The 合计 row has no 工号, so that the readers of the
    sheet (approve, payroll) never take it for a card."""
    n = len(frame)
    total_col = columns.index("总分")
    for i, status in enumerate(frame["状态"].tolist(), start=1):
        if status == "不参与":  # not scored this period: no total on paper (the value stays)
            rows.write(i, total_col, frame.iloc[i - 1]["总分"], f["none"])
    row = n + 2
    rows.write(row, columns.index("部门"), "合计", f["total_label"])
    rows.write(row, columns.index("岗位"), f"共 {n} 人", f["total_label"])
    for j, c in enumerate(columns):
        if c in ("部门", "岗位"):
            continue
        if c in money:
            values = pd.to_numeric(frame[c], errors="coerce")
            rows.write(row, j, float(values.fillna(0).sum()), f["total_money"])
        elif j <= columns.index("预警"):
            rows.write(row, j, None, f["total_label"])
    rows.set_row(row, 18)
    rows.write(row + 2, 1, signature_line(), f["signature"])  # never under 工号: not a card
    rows.set_row(row + 2, 30)


STATS_WIDTHS: list[float] = [10, 5, 6, 6, 6, 6, 10, 18]  # 部门 … 最低分, 应发合计, 强制分布; then the grades
CHART_ROWS = 17  # rows under a chart of 320 px at 20 px a row, with a margin


def _stats_sheet(book, catalog: Catalog, data: ReportData, f, page) -> None:
    """One block per grade scheme in use: its table, then its chart, each block on its own
    printed page (a page break before every block but the first)."""
    ws = book.add_worksheet(STATS)
    print_setup(ws, f"{report_title(data.month)} · {STATS}", header_rows=None, **page)
    if data.summary.empty:
        ws.write(0, 0, "没有考核表 / no scorecards")
        return
    row, breaks, width = 0, [], 1
    for scheme_id in schemes_in_use(catalog, data.summary):
        scheme = catalog.grade_schemes[scheme_id]
        stats, grades = department_stats(catalog, data, scheme_id)
        if row:
            breaks.append(row)
        ws.write(row, 0, f"等级方案：{scheme.label}", f["title"])
        formats = {"平均分": f["num"], "最高分": f["num"], "最低分": f["num"], "应发合计": f["money"],
                   "强制分布": f["warn"], **{g: f["int"] for g in grades},
                   **{f"{g}占比": f["pct"] for g in grades}}
        widths: list[float] = STATS_WIDTHS + [6] * (len(stats.columns) - len(STATS_WIDTHS))
        write_table(ws, stats, formats, f, start_row=row + 2, widths=widths)
        width = max(width, len(stats.columns))
        n = len(stats)
        first, last = row + 2, row + 1 + n
        _stats_total(ws, catalog, data, scheme_id, list(stats.columns), grades, last + 1, f)
        last_printed = last + 1
        chart = book.add_chart({"type": "column", "subtype": "stacked"})
        for g in grades:
            col = list(stats.columns).index(g)
            chart.add_series({"name": [STATS, row + 1, col], "categories": [STATS, first, 0, last, 0],
                              "values": [STATS, first, col, last, col]})
        top = int(stats[grades].sum(axis=1).max()) if n else 1
        chart.set_title({"name": f"{data.month} 各部门等级分布 · {scheme.label}",
                         "name_font": {"size": 12}})
        chart.set_y_axis({"name": "人数", "min": 0, "max": max(top, 1),
                          "major_unit": max(1, math.ceil(top / 10)), "num_format": "0",
                          "major_gridlines": {"visible": True}})
        chart.set_legend({"position": "right"})
        chart.set_size({"width": 640, "height": 300})
        ws.insert_chart(last_printed + 2, 0, chart)
        row = last_printed + 2 + CHART_ROWS
    for j, w in enumerate(STATS_WIDTHS + [6] * (width - len(STATS_WIDTHS))):
        ws.set_column(j, j, w)
    if breaks:
        ws.set_h_pagebreaks(breaks)


def _stats_total(ws, catalog: Catalog, data: ReportData, scheme_id: str, columns: list[str],
                 grades: list[str], row: int, f) -> None:
    """The 合计 row of a 部门统计 table: the same figures over every department of the scheme."""
    # department_stats reads these columns only: the others are not copied (a group's summary
    # is a hundred thousand rows)
    whole = ReportData(data.month, data.summary[list(STATS_COLUMNS)].assign(部门="合计"), data.money_columns)
    total, _ = department_stats(catalog, whole, scheme_id)
    if total.empty:
        return
    values = total.iloc[0].to_dict()
    values["强制分布"] = ""
    kinds = {"平均分": "total_num", "最高分": "total_num", "最低分": "total_num", "应发合计": "total_money",
             "人数": "total_int", "已完成": "total_int", **{g: "total_int" for g in grades},
             **{f"{g}占比": "total_pct" for g in grades}}
    for j, c in enumerate(columns):
        value = values.get(c)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            value = None
        if value is None:
            ws.write_blank(row, j, None, f[kinds.get(c, "total_label")])
        else:
            ws.write(row, j, value, f[kinds.get(c, "total_label")])


def _incomplete_sheet(book, data: ReportData, f, page, catalog: Catalog | None = None) -> SheetRows:
    ws = book.add_worksheet(INCOMPLETE)
    out = SheetRows(ws)
    s = data.summary
    wanted = {str(e) for e in data.incomplete["工号"]} if len(data.incomplete) else set()
    listed = [(str(e), r) for e, r in zip(s["工号"], s["岗位ID"]) if str(e) in wanted] \
        if catalog is not None and wanted else []
    titles = dict(zip((e for e, _ in listed), job_titles(catalog, (r for _, r in listed)))) \
        if listed and catalog is not None else {}
    rows = [{"工号": r["工号"], "姓名": r["姓名"], "部门": r["部门"],
             "岗位": titles.get(str(r["工号"]), r["岗位"]), "工作表": r["_sheet"],
             "缺少或有误": chinese_part("；".join(r["_missing"])), "文件": Path(r["_file"]).name}
            for r in data.incomplete.to_dict("records")]
    frame = pd.DataFrame(rows, columns=["工号", "姓名", "部门", "岗位", "工作表", "缺少或有误", "文件"])
    widths = [7, 7, 9.5, 14, 12, 60, 20]
    write_table(out, frame, {"缺少或有误": f["warn"], "文件": f["wrap"], "部门": f["wrap"], "岗位": f["wrap"]},
                 f, widths=widths)
    for j, width in enumerate(widths):
        ws.set_column(j, j, width)
    print_setup(ws, f"{report_title(data.month)} · {INCOMPLETE}", **page)
    if frame.empty:  # nothing missing: no blank page on paper, nothing to look at
        ws.hide()
    return out


SEVERITY = {"error": "错误", "warning": "警告", "info": "提示"}  # read back by payroll (either form)


def _findings_sheet(book, findings: list[Diagnostic], f, page, month: str = "") -> SheetRows:
    ws = book.add_worksheet(FINDINGS)
    rows = SheetRows(ws)
    # on paper: the level and the sentence in Chinese; the code and the English sentence in
    # hidden columns to the right (for whoever helps HR)
    frame = pd.DataFrame([{"级别": SEVERITY.get(d.severity, d.severity),
                           "文件": Path(d.source).name if d.source else "", "工作表": d.sheet,
                           "单元格": d.cell, "说明": d.message_zh, "代码": d.code, "说明（英文）": d.message_en}
                          for d in findings],
                         columns=["级别", "文件", "工作表", "单元格", "说明", "代码", "说明（英文）"])
    widths: list[float] = [7, 16, 12, 8, 90, 14, 60]
    write_table(rows, frame, {"说明": f["warn"], "文件": f["wrap"]}, f, widths=widths)
    for j, width in enumerate(widths):
        ws.set_column(j, j, width, None, {"hidden": j >= 5})
    ws.autofilter(0, 0, max(len(frame), 1), 4)
    print_setup(ws, f"{report_title(month)} · {FINDINGS}".strip(" ·"), **page)
    if frame.empty:  # LibreOffice prints a hidden sheet that has a print area: none then
        ws.hide()
    else:
        ws.print_area(0, 0, len(frame), 4)
    return rows
