"""绩效结果通知书 / 面谈表: one A4 page per employee, to hand over at the talk about the month.

`kpi-workbook notices REPORT --history H --out 通知书.xlsx` (and a PDF beside it where
LibreOffice is present). Each page: the employee's grade, total and pay; every item with its
points and the engine's one-line explanation of how they came about; the totals of the last
six months (a small table and a line chart); boxes for 面谈记录 and 改进计划; signature lines
for the employee and the supervisor. Chinese, nothing internal (no ids, codes or English).

Nothing on a notice is copied from the report: the scorecard books the report was made of
(its hidden 来源 sheet records them; an older report: the .xlsx files in and below its
folder) are read and scored again by the engine, the report's 校准 sheet is applied as
``approve`` and ``payroll`` apply it, and the report is checked against the recomputation: a
card whose total or status differs from the report's 月度汇总 gets no notice (the report is
stale: run it again). With the history, each notice shows the month's approval as payroll
does (已审批 2026-11-05 王经理, 与审批不符, 未审批), and the trend is read from the history
through its reader (the current month from the recomputation).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from ...diagnostics import Diagnostic, KpiError, error, info, warning
from ...engine.describe import job_title
from ...engine.explain import explain_item
from ...engine.month import score_month
from ...kinds.inputs import input_specs
from ...rules.loader import Catalog
from ...words import PENDING
from ..files import atomic_output, refuse_existing
from ..scorecard.build import sheet_name
from ..scorecard.reader import Card, card_arrays
from ..xlsx.printing import FONT, lines_needed
from .approval import approval_rows, approval_states, read_summary
from .calibration import calibrate_report
from .history import read_history_book
from .report import collect_books

TREND_MONTHS = 6
COMPLETE = "已完成"


@dataclass
class ItemLine:
    section: str
    label: str
    max: float | None
    points: float | None
    explain: str


@dataclass
class Notice:
    employee_id: str
    name: str
    department: str
    job: str
    month: str
    supervisor: str
    total: float
    grade: str
    pay: float | str | None  # 待定 while team pay waits for the department
    pay_lines: list[tuple[str, float | str]]  # (pay rule label, amount or 待定) of the card's rules
    rank: str  # "3 / 16" in the department, or ""
    approval: str  # 已审批 2026-11-05 王经理, 未审批, … ("" without a history)
    calibrated: str  # "B → C（理由）" when HR calibrated the grade, else ""
    items: list[ItemLine]
    trend: list[tuple[str, float | None, str]]  # (month, total, grade), oldest first
    warnings: str  # the report's streak warnings (预警), or ""


@dataclass
class NoticeData:
    month: str
    notices: list[Notice]
    diagnostics: list[Diagnostic] = field(default_factory=list)


def source_books(report: Path) -> list[Path]:
    """The scorecard books ``report`` was made of, as its 来源 record names them (beside the
    report first, so a moved month folder still works; a book no longer there is left out
    and its cards are named below); a report without a record: the .xlsx files in and below
    the report's folder."""
    from .verify import read_record

    try:
        record = read_record(report)
    except KpiError:  # an older report: no record of its books
        here = report.absolute().parent
        folders = [here] + sorted(Path(root) / d for root, dirs, _ in os.walk(here) for d in dirs)  # no links
        return collect_books(folders, exclude=[report])
    found: list[Path] = []
    for source in record.books:
        candidates = (([report.absolute().parent / source.relative] if source.relative else []) +
                      ([Path(source.absolute)] if source.absolute else []))
        hit = next((c for c in candidates if _is_file(c)), None)
        if hit is not None:
            found.append(hit)
    return found


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, RuntimeError):  # a looping symlink
        return False


def build_notices(catalog: Catalog, report: Path, history: Path | None = None,
                  books: list[Path] | None = None) -> NoticeData:
    """The notices of the complete cards of ``report``'s month, worked out again from its
    books (see the module's docstring); every card left out is a diagnostic."""
    from .report import build_report

    report = Path(report)
    reported = read_summary(report)  # the report's 月度汇总: checked, never a source
    months = sorted({m for m in reported["月份"].astype(str) if m})
    if len(months) != 1:
        raise KpiError([error("notices-month", f"{report.name} 须恰好是一个月的报表（有：{'、'.join(months) or '无'}）",
                              f"{report.name} must hold exactly one month ({', '.join(months) or 'none'})",
                              source=str(report))])
    month = months[0]
    paths = [Path(b) for b in books] if books else source_books(report)
    paths = collect_books(paths, exclude=[report] + ([history] if history else []))
    if not paths:
        raise KpiError([error("no-books", f"找不到 {report.name} 的考核表工作簿：请用 --books 指定",
                              f"the scorecard books of {report.name} are not found: name them with --books",
                              source=str(report))])
    data = build_report(catalog, paths, month)
    diags: list[Diagnostic] = []  # the cards' own findings are the report's: each card in error is named below
    summary = data.summary
    scored = set(summary["工号"].astype(str)) if len(summary) else set()
    for eid, name in zip(reported["工号"], reported["姓名"]):
        if str(eid) not in scored:
            diags.append(error("notice-no-card", f"{eid}（{name}）在 {report.name} 中，但其考核表不在所读的工作簿中："
                                                 "不出通知书（用 --books 指定工作簿）",
                               f"{eid} ({name}) is in {report.name} but no book read has their card: no notice "
                               "(name the books with --books)", source=str(report), sheet="月度汇总"))
    if summary.empty:
        return NoticeData(month, [], diags)
    book = read_history_book(history) if history is not None else None
    roles = {str(e): str(r) for e, r in zip(summary["工号"], summary["岗位ID"])}  # as the engine read the cards
    calibrated = calibrate_report(report, summary.drop(columns=[c for c in summary.columns
                                                               if str(c).startswith("_")]), catalog, roles)
    final = calibrated.summary.reset_index(drop=True)
    states = (approval_states(book, approval_rows(final, list(data.money_columns)))
              if book is not None else [""] * len(final))
    changes = {c.employee_id: c for c in calibrated.changes if c.field == "等级"}
    shown = {str(e): r for e, r in zip(reported["工号"], reported.to_dict("records"))}
    items = explanations(catalog, data.cards)
    past = book.rows if book is not None else pd.DataFrame(columns=["工号", "月份", "总分", "等级", "状态"])
    notices: list[Notice] = []
    for i, r in enumerate(final.to_dict("records")):
        eid, name = str(r["工号"]), str(r["姓名"])
        if r["状态"] != COMPLETE:
            diags.append(info("notice-not-complete", f"{eid}（{name}）状态为“{r['状态']}”，不出通知书",
                              f"{eid} ({name}) is {r['状态']}: no notice", source=str(report)))
            continue
        theirs = shown.get(eid)
        if theirs is None or str(theirs.get("状态")) != COMPLETE or not _same(theirs.get("总分"), r["总分"]):
            diags.append(error("notice-stale", f"{eid}（{name}）考核表重算为 {r['总分']:.1f} 分，与 {report.name} 的"
                                               f"月度汇总不符：请重新生成月度报表，此人不出通知书",
                               f"{eid} ({name}) scores {r['总分']:.1f} on the cards, which the summary of "
                               f"{report.name} does not show: run the report again; no notice",
                               source=str(report), sheet="月度汇总"))
            continue
        if states[i] == "与审批不符":
            diags.append(warning("notice-not-approved", f"{eid}（{name}）与审批不符：通知书上注明",
                                 f"{eid} ({name}) differs from the approval: the notice says so",
                                 source=str(history) if history else "", sheet="审批"))
        card = data.cards[i]
        change = changes.get(eid)
        pay_lines = [(label, _amount(r[label])) for label in data.money_columns
                     if label in r and not _blank(r[label])]
        notices.append(Notice(
            employee_id=eid, name=name, department=str(r["部门"]), job=job_title(catalog.roles[r["岗位ID"]]),
            month=month, supervisor=str(card.fields.get("supervisor") or ""), total=float(r["总分"]),
            grade=str(r["等级"]), pay=None if _blank(r["应发绩效合计"]) else _amount(r["应发绩效合计"]),
            pay_lines=pay_lines, rank=_rank(r, final), approval=states[i],
            calibrated=f"{change.before} → {change.after}（{change.reason}）" if change else "",
            items=items[i], trend=trend(past, eid, month, float(r["总分"]), str(r["等级"])),
            warnings=str(theirs.get("预警") or "") if theirs else ""))
    return NoticeData(month, notices, diags)


def _amount(value) -> float | str:
    """A money cell of the recomputed summary: a number, or 待定 (team pay waiting for the
    department: no amount is printed that is not the amount paid)."""
    return PENDING if str(value).strip() == PENDING else float(value)


def _same(a, b) -> bool:
    try:
        return math.isclose(float(a), float(b), abs_tol=0.05)
    except (TypeError, ValueError):
        return False


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def _rank(row: dict, summary: pd.DataFrame) -> str:
    rank = row.get("部门排名")
    if rank is None or _blank(rank):
        return ""
    done = summary[(summary["部门"] == row["部门"]) & (summary["状态"] == COMPLETE)]
    return f"{int(rank)} / {len(done)}"


def explanations(catalog: Catalog, cards: list[Card]) -> list[list[ItemLine]]:
    """Per card: every item of its role with its points and the engine's sentence, scored
    by the card's own rules (its template version and its book's 设置) over the whole month,
    as the report scores it (ranks span the month)."""
    if not cards:
        return []
    employees = pd.DataFrame([{**c.fields, "role": c.role_id} for c in cards])
    owners = [c.catalog or catalog for c in cards]
    roles = list(dict.fromkeys(c.role_id for c in cards))
    results = {}
    for own in {id(o): o for o in owners}.values():
        values = {}
        for role_id in roles:
            role = own.roles[role_id]
            keys = [s.key for s in input_specs(role, own.role_pay_rules(role))]
            values[role_id] = card_arrays([c for c in cards if c.role_id == role_id], keys)
        results[id(own)] = score_month(own, employees, values, team_awards=False)
    out = []
    for i, card in enumerate(cards):
        scored = results[id(owners[i])]
        j = int(np.flatnonzero(np.asarray(scored.rows[card.role_id]) == i)[0])
        scores = scored.by_role[card.role_id]
        role = scores.role
        row = scores.frame.iloc[j]
        lines = []
        for section, item in role.items():
            points = float(row[f"points.{item.id}"])
            points_or_none = None if math.isnan(points) else points
            text = explain_item(role, item, scores.details[item.id], j, points)["text"]
            lines.append(ItemLine(section.label, item.label + ("（加减分）" if item.adjustment else ""),
                                  item.max, points_or_none, text))
        out.append(lines)
    return out


def trend(history: pd.DataFrame, employee_id: str, month: str, total: float, grade: str
          ) -> list[tuple[str, float | None, str]]:
    """The last six months up to ``month``: (month, total, grade) of each complete card in
    the history (its reader's rows), this month from the recomputation."""
    from .history import previous_month

    months = [previous_month(month, k) for k in range(TREND_MONTHS - 1, 0, -1)]
    mine = history[history["工号"].astype(str) == employee_id] if len(history) else history
    by_month = {str(r["月份"]): r for r in mine.to_dict("records")} if len(mine) else {}
    out: list[tuple[str, float | None, str]] = []
    for m in months:
        r = by_month.get(m)
        if r is not None and str(r.get("状态")) == COMPLETE and not _blank(r.get("总分")):
            out.append((m, float(r["总分"]), str(r.get("等级") or "")))
        else:
            out.append((m, None, ""))
    out.append((month, total, grade))
    return out


# ---------------------------------------------------------------------------------------
# Writing: one sheet per employee, one A4 portrait page each.

WIDTHS = (11, 15, 7, 7, 48)  # labels / 序号, 考核项目, 配分, 得分, 得分说明: A4 portrait at 100 %
LINE = 13.5  # points per line of 10 pt text


def write_notices(data: NoticeData, out: Path, force: bool = False, company: str = "",
                  printed: date | None = None, step=None) -> None:
    with atomic_output(Path(out), force=force) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False,
                                              "strings_to_numbers": False, "nan_inf_to_errors": True})
        f = _formats(book)
        taken: set[str] = set()
        if not data.notices:
            ws = book.add_worksheet("通知书")
            ws.write(0, 0, f"{data.month} 没有已完成的考核表，无通知书", f["text"])
        for notice in data.notices:
            _notice_sheet(book, book.add_worksheet(sheet_name(notice.employee_id, notice.name, taken)),
                          notice, f, company, printed)
            if step is not None:
                step(1, notice.employee_id)
        book.close()


def _formats(book) -> dict:
    base = {"font_name": FONT, "font_size": 10, "valign": "vcenter"}
    box = {**base, "border": 1}
    add = lambda **kw: book.add_format({**base, **kw})  # noqa: E731
    return {
        "company": add(font_size=12, align="center"),
        "title": add(font_size=16, bold=True, align="center"),
        "label": add(**{"border": 1}, bold=True, bg_color="#F2F2F2", align="center"),
        "value": add(**{"border": 1}, align="left"),
        "big": add(**{"border": 1}, bold=True, font_size=14, align="center"),
        "big_money": add(**{"border": 1}, bold=True, font_size=14, align="center", num_format="¥#,##0.00"),
        "head": add(**{"border": 1}, bold=True, bg_color="#D9E1F2", align="center", text_wrap=True),
        "section": add(bold=True, font_size=11, font_color="#1F4E78"),
        "cell": add(**{"border": 1}, align="center"),
        "num": add(**{"border": 1}, align="center", num_format="0.##"),
        "text": add(**{"border": 1}, text_wrap=True),
        "wrap": book.add_format({**box, "text_wrap": True, "align": "left"}),
        "money": add(**{"border": 1}, num_format="¥#,##0.00", align="right"),
        "box": book.add_format({**box, "text_wrap": True, "valign": "top", "align": "left"}),
        "sign": add(valign="bottom"),
        "note": add(font_color="#595959", text_wrap=True, valign="top"),
    }


def _notice_sheet(book, ws, n: Notice, f, company: str, printed: date | None) -> None:
    last = len(WIDTHS) - 1
    for j, w in enumerate(WIDTHS):
        ws.set_column(j, j, w)
    row = 0
    if company:
        ws.merge_range(row, 0, row, last, company, f["company"])
        row += 1
    year, mon = n.month.split("-")
    ws.merge_range(row, 0, row, last, f"{year} 年 {int(mon)} 月 绩效结果通知书（面谈表）", f["title"])
    ws.set_row(row, 30)
    ws.set_row(row + 1, GAP)
    row += 2
    fields = [("姓名", n.name, "工号", n.employee_id), ("部门", n.department, "岗位", n.job),
              ("考核月份", n.month, "直接上级", n.supervisor)]
    for a, av, b, bv in fields:
        ws.write(row, 0, a, f["label"])
        ws.merge_range(row, 1, row, 2, av, f["value"])
        ws.write(row, 3, b, f["label"])
        ws.write(row, 4, bv, f["value"])
        ws.set_row(row, 18)
        row += 1
    identity = row - 1  # title and fields: repeated on a second page, which then says whose it is
    ws.set_row(row, GAP)
    row += 1
    ws.write(row, 0, "总分", f["label"])
    ws.merge_range(row, 1, row, 2, n.total, f["big"])
    ws.write(row, 3, "等级", f["label"])
    ws.write(row, 4, n.grade, f["big"])
    ws.set_row(row, 24)
    row += 1
    ws.write(row, 0, "绩效工资", f["label"])
    if n.pay is None:
        ws.merge_range(row, 1, row, 2, "—", f["big"])
    elif isinstance(n.pay, str):  # 待定: team pay waits for the department
        ws.merge_range(row, 1, row, 2, f"{n.pay}（见月度报表）", f["big"])
    else:
        ws.merge_range(row, 1, row, 2, n.pay, f["big_money"])
    ws.write(row, 3, "部门排名", f["label"])
    ws.write(row, 4, n.rank or "—", f["big"])
    ws.set_row(row, 24)
    row += 1
    extra = [("审批", n.approval), ("等级校准", n.calibrated), ("预警", n.warnings)]
    pay = "；".join(f"{label} {amount}" if isinstance(amount, str) else f"{label} ¥{amount:,.2f}"
                   for label, amount in n.pay_lines if amount)
    extra.insert(0, ("绩效工资构成", pay or "—"))
    for label, text in extra:
        if not text:
            continue
        ws.write(row, 0, label, f["label"])
        ws.merge_range(row, 1, row, last, text, f["wrap"])
        ws.set_row(row, _height(text, sum(WIDTHS[1:])))
        row += 1
    ws.set_row(row, GAP)
    row += 1
    ws.write(row, 0, "考核明细（得分说明由评分引擎给出）", f["section"])
    row += 1
    ws.write_row(row, 0, ["序号", "考核项目", "配分", "得分", "得分说明"], f["head"])
    ws.set_row(row, 18)
    row += 1
    for k, item in enumerate(n.items, start=1):
        ws.write(row, 0, k, f["cell"])
        ws.write(row, 1, item.label, f["text"])
        _number(ws, row, 2, item.max, f["num"])
        _number(ws, row, 3, item.points, f["num"])
        ws.write(row, 4, item.explain, f["wrap"])
        ws.set_row(row, max(_height(item.explain, WIDTHS[4]), _height(item.label, WIDTHS[1])))
        row += 1
    ws.set_row(row, GAP)
    row += 1
    # one page at the text's own size; a card of many items puts the trend and the boxes for
    # the talk on a second page rather than shrinking the print under 9 pt
    two_pages = _used(ws, row) + TREND_PT + 2 * MIN_BOX + BELOW > PAGE_PT
    if two_pages:
        ws.set_h_pagebreaks([row])
        ws.repeat_rows(0, identity)
    trend_row = row
    ws.write(row, 0, f"近 {TREND_MONTHS} 个月总分", f["section"])
    row += 1
    top = row
    ws.write_row(row, 0, ["月份", "总分", "等级"], f["head"])
    for k, (m, total, grade) in enumerate(n.trend, start=1):
        ws.write(row + k, 0, m, f["cell"])
        if total is None:  # no card that month: a gap in the line, not a 0
            ws.write_blank(row + k, 1, None, f["num"])
        else:
            ws.write_number(row + k, 1, total, f["num"])
        ws.write(row + k, 2, grade or "—", f["cell"])
    chart = book.add_chart({"type": "line"})
    name = ws.name.replace("'", "''")
    chart.add_series({"categories": f"='{name}'!$A${top + 2}:$A${top + 1 + len(n.trend)}",
                      "values": f"='{name}'!$B${top + 2}:$B${top + 1 + len(n.trend)}",
                      "marker": {"type": "circle", "size": 6}, "data_labels": {"value": True},
                      "line": {"color": "#1F4E78", "width": 2}})
    chart.set_legend({"none": True})
    chart.set_title({"none": True})
    top_total = max([t for _, t, _ in n.trend if t is not None] + [100.0])
    chart.set_y_axis({"min": 0, "max": math.ceil(top_total / 20) * 20, "major_unit": 20, "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
                      "num_font": {"size": 9}})
    chart.set_x_axis({"num_font": {"size": 9}})
    chart.show_blanks_as("gap")
    chart.set_size({"width": 360, "height": 150})
    ws.insert_chart(top, 3, chart, {"x_offset": 6, "y_offset": 0, "object_position": 1})
    ws.set_row(top + len(n.trend) + 1, GAP + 4)  # under the chart
    row = top + len(n.trend) + 2
    box = _box_height(_used(ws, row) - (_used(ws, trend_row) if two_pages else 0))
    for label in ("面谈记录（绩效反馈、员工意见）", "改进计划（目标、措施、完成时间）"):
        ws.write(row, 0, label, f["section"])
        row += 1
        ws.merge_range(row, 0, row, last, "", f["box"])
        ws.set_row(row, box)
        ws.set_row(row + 1, GAP)
        row += 2
    ws.merge_range(row, 0, row, 2, "被考核人签字：______________", f["sign"])
    ws.merge_range(row, 3, row, last, "直接上级签字：______________      日期：______年____月____日", f["sign"])
    ws.set_row(row, 30)
    ws.set_paper(9)
    ws.set_portrait()
    ws.set_margins(left=0.5, right=0.5, top=0.5, bottom=0.5)
    ws.fit_to_pages(1, 0)  # the width fits at 100 %; the height by the rows above, never shrunk
    ws.center_horizontally()
    ws.hide_gridlines(2)
    ws.print_area(0, 0, row, last)
    ws.set_header("")
    ws.set_footer(f'&C&"{FONT},Regular"&10 打印日期 {(printed or date.today()).isoformat()}')


PAGE_PT = (11.69 - 1.0) * 72 - 40  # A4 portrait inside the margins, less the footer
GAP = 8.0  # a blank row between the blocks
TREND_PT = 15 + 7 * 15 + 12  # the trend's label, table (the chart beside it, a little taller)
MIN_BOX, MAX_BOX = 36.0, 130.0
BELOW = 2 * 15 + 2 * GAP + 30  # the boxes' two labels, two gaps, the signature row


def _used(ws, row: int) -> float:
    """The height in points of the rows above ``row`` (XlsxWriter keeps pixels; 15 unset)."""
    info = ws.row_info
    return sum(info[r].height * 0.75 if r in info and info[r].height is not None else 15.0
               for r in range(row))


def _box_height(used: float) -> float:
    """Each of the two boxes for the talk: what the page has left under ``used`` points and
    above the labels and signatures, between MIN_BOX and MAX_BOX."""
    return max(MIN_BOX, min(MAX_BOX, (PAGE_PT - used - BELOW) / 2))


def _number(ws, row: int, col: int, value, fmt) -> None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        ws.write_string(row, col, "—", fmt)
    else:
        ws.write_number(row, col, float(value), fmt)


def _height(text: str, width: float) -> float:
    return max(16.0, lines_needed(text, width) * LINE + 3)


@dataclass
class NoticesResult:
    out: Path
    pdf: Path | None
    data: NoticeData
    notes: list[str] = field(default_factory=list)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.data.diagnostics

    def summary_line(self) -> str:
        n = len(self.data.notices)
        pdf = f"，PDF {self.pdf}" if self.pdf else ""
        return (f"{self.out}\t{self.data.month}：绩效结果通知书 {n} 份{pdf} / {n} result notices"
                + (f", PDF {self.pdf}" if self.pdf else ""))

    def to_dict(self) -> dict:
        return {"out": str(self.out), "pdf": str(self.pdf) if self.pdf else None, "month": self.data.month,
                "notices": [n.employee_id for n in self.data.notices], "notes": list(self.notes),
                "diagnostics": [d.to_dict() for d in self.diagnostics]}


def run_notices(catalog: Catalog, report: Path, out: Path, history: Path | None = None,
                books: list[Path] | None = None, force: bool = False, company: str = "",
                pdf: bool = True, step=None) -> NoticesResult:
    """`kpi-workbook notices`: the notices as .xlsx at ``out`` and, where LibreOffice is
    present and ``pdf``, printed beside it as .pdf."""
    from ..libreoffice import export_pdf, find_soffice

    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise KpiError([error("bad-format", f"输出须为 .xlsx：{out}", f"the output must be .xlsx: {out}",
                              source=str(out))])
    refuse_existing(out, force)
    target_pdf = out.with_suffix(".pdf")
    if pdf:
        refuse_existing(target_pdf, force)
    if Path(report).absolute() == out.absolute():
        raise KpiError([error("output-is-input", f"--out 与月度报表是同一个文件：{out}",
                              f"--out is the report itself: {out}", source=str(out))])
    data = build_notices(catalog, Path(report), history, books)
    write_notices(data, out, force=force, company=company, step=step)
    notes: list[str] = []
    made = None
    if pdf and data.notices:
        if find_soffice() is None:
            notes.append("未安装 LibreOffice：只写了 .xlsx，可在 Excel/WPS 中打印 / LibreOffice is not "
                         "installed: only the .xlsx was written; print it from Excel or WPS")
        else:
            if step is not None:
                step(0, "PDF")
            made = export_pdf(out, target_pdf)
    return NoticesResult(out, made, data, notes)
