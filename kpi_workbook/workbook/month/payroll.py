"""`kpi-workbook payroll`: the pay of a report's 月度汇总, for finance.

The columns and their order are data (``templates/payroll.yaml``): every month has the
same columns whatever pay rules its cards use, and the report is read by column names,
never by position. Only clean rows are paid: a row that is not 已完成, carries a problem,
or whose money is not a number (#NUM!) is excluded with its reason; a month with any of
them (or with error findings) is refused unless ``allow_incomplete``. Money is written with
exactly two decimals in the CSV and with a ¥ number format in the xlsx.

CSV is UTF-8 with a BOM so that Excel in China opens it correctly, and any text that a
spreadsheet would take as a formula (starting with =, +, -, @, tab or carriage return) is
neutralised with a leading apostrophe (formula injection).

Calibrated grades (绩效校准) reach the payroll through the report itself: ``prepare_payroll``
applies the report's 校准 sheet exactly as ``approve`` does (calibration.calibrate_report:
the calibrated grade and the pay the engine's rules give for it), so the payroll pays the
calibrated amounts, and with ``--history`` each row's hash is compared with the approved
one: a row whose calibration differs from what was approved shows 与审批不符 (and
``--require-approved`` refuses it). A wrong calibration entry refuses the export (exit 1).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ...diagnostics import Diagnostic, KpiError, Refused, error, info, warning
from ...numbers import clean_round
from ...rules.payroll_layout import PayrollLayout, load_payroll_layout
from ...words import PENDING
from .approval import APPROVED, approval_rows, approval_states, stamped_states
from ..files import atomic_output, refuse_existing
from .history import each_distinct, read_history_book
from .tables import FINDINGS
from ..xlsx.printing import print_setup, row_height, signature_line, text_units

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
UNCHECKED = "未核对"  # no --history given: nothing to compare with


def neutralise(value):
    """Text that a spreadsheet would run as a formula, made inert."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@dataclass
class Payroll:
    month: str
    frame: pd.DataFrame  # the rows to pay, in the layout's columns
    money: list[str]  # headers of the money columns
    excluded: list[tuple[str, str, str, str]] = field(default_factory=list)  # (工号, 姓名, why zh, en)
    problems: list[Diagnostic] = field(default_factory=list)  # error findings of the month
    sheet: str = "工资表"
    total_column: str = "应发绩效合计"  # the header of the column taken from 应发绩效合计
    apart: list[tuple[str, str, str]] = field(default_factory=list)  # 不参与: (工号, 姓名, 说明)
    calibrated: list = field(default_factory=list)  # calibration.Change of the cards HR calibrated
    calibration_notes: list[Diagnostic] = field(default_factory=list)  # warnings of the 校准 sheet

    @property
    def clean(self) -> bool:
        return not self.excluded and not self.problems

    @property
    def total(self) -> float:
        column = self.total_column
        return clean_round(float(self.frame[column].sum()), 2) if len(self.frame) else 0.0

    def summary_line(self, exported: bool = True) -> str:
        n, m = len(self.frame), len(self.excluded)
        k = len(self.apart)
        apart, apart_en = (f"，不参与 {k} 人", f", {k} not taking part") if k else ("", "")
        if exported:
            return (f"{self.month}：发放 {n} 人，排除 {m} 人{apart}，合计 ¥{self.total:,.2f} / "
                    f"{n} paid, {m} excluded{apart_en}, total ¥{self.total:,.2f}")
        return (f"{self.month}：未导出（可发 {n} 人，排除 {m} 人，合计 ¥{self.total:,.2f}） / not exported "
                f"({n} payable, {m} excluded, total ¥{self.total:,.2f})")

    def diagnostics(self, source: str = "") -> list[Diagnostic]:
        """Every excluded row and every problem, one diagnostic each."""
        out = [error("payroll-excluded", f"工号 {e}（{name}）不发放：{zh}", f"employee {e} ({name}) not paid: {en}",
                     source=source, sheet="月度汇总") for e, name, zh, en in self.excluded]
        out += [info("payroll-not-taking-part", f"工号 {e}（{name}）本月不参与考评，无绩效工资：{why}",
                     f"employee {e} ({name}) takes no part this month, no performance pay",
                     source=source, sheet="月度汇总") for e, name, why in self.apart]
        out += [info("payroll-calibrated", f"工号 {c.employee_id} 按校准{c.field}发放：{c.before} → {c.after}（{c.reason}）",
                     f"employee {c.employee_id} paid by the calibration: {c.field} {c.before} → {c.after}",
                     source=source, sheet="校准") for c in self.calibrated if c.field == "等级"]
        return out + self.calibration_notes + self.problems


def prepare_payroll(report: Path, layout: PayrollLayout | None = None, history: Path | None = None,
                    require_approved: bool = False, catalog=None, unapproved: bool = False) -> Payroll:
    """The clean rows of ``report``'s month (as calibrated in its 校准 sheet) in the layout's
    columns, and every row left out and why.

    Every value paid comes from the engine scoring the books the report was made from
    (approval.derive: a changed book, or a report cell that differs, is refused). With
    ``history``, a row not approved as it is (未审批, 已重开, 与审批不符) is left out unless
    ``unapproved`` says to pay it anyway; every such row is then listed."""
    from ...rules.loader import builtin_catalog
    from .approval import derive

    report = Path(report)
    layout = layout or load_payroll_layout()
    catalog = catalog or builtin_catalog()
    # no month sheet read here: the approved month's versions when asked for (approved_rows)
    book = read_history_book(history, months=()) if history is not None else None
    # with the month's 计算记录 in the history, the report is checked against it (no card
    # scored again) — unless the layout takes a column that record does not cover
    fresh, calibrated = derive(catalog, report, book if _recorded(layout) else None, findings=True,
                               need_roles=_needs_roles)
    data = fresh.data
    month = data.month
    money = list(data.money_columns)
    _refuse_unknown_money(money, layout, report)
    summary = calibrated.summary
    notes: list[Diagnostic] = []
    if book is not None:
        assert history is not None  # the book was read from it
        record = book.approval(month)
        if require_approved and (record is None or record["状态"] != APPROVED):
            state = "未审批 / not approved" if record is None else "已重开，待重新审批 / reopened, not approved again"
            raise Refused([error("month-not-approved", f"{month} 在 {Path(history).name} 中{state.split(' / ')[0]}：拒绝导出",
                                 f"{month} is {state.split(' / ')[1]} in {Path(history).name}: not exported",
                                 source=str(history))])
        states = stamped_states(book, fresh, len(summary))  # the approved report as stamped
        if states is None:
            states = approval_states(book, approval_rows(summary, money)) if len(summary) else []
    else:
        states = [UNCHECKED] * len(summary)
        notes.append(warning("payroll-unchecked", "未给出 --history：金额未与任何审批核对",
                             "no --history: nothing was checked against an approval", source=str(report)))

    frame, excluded, apart, waived = _pay_rows(summary, states, layout, catalog, checked=book is not None,
                                               unapproved=unapproved, source=str(report))
    notes += waived
    total = next(c.header for c in layout.money if c.source == "应发绩效合计")
    return Payroll(month, frame, [c.header for c in layout.money], excluded,
                   _month_problems(report, summary, data.findings), layout.sheet, total, apart,
                   calibrated.changes, calibrated.diagnostics + notes)


def _pay_rows(summary: pd.DataFrame, states: list[str], layout: PayrollLayout, catalog, checked: bool,
              unapproved: bool, source: str):
    """The rows of ``summary`` to pay in the layout's columns, and those left out: (frame,
    excluded, apart, warnings of rows paid unapproved). ``checked``: the states are those of
    a history (not 未核对).

    Column by column (issue 24: 100,000 rows): each distinct cell value's verdict and each
    distinct amount's rounding worked out once (history.each_distinct); only a row that is
    not plainly payable is looked at as a whole (_row_problems says why). The row-by-row
    form is kept in tests/test_payroll_rows.py as the reference."""
    from .report import NO_PAY_RULE

    n = len(summary)
    blank = [None] * n

    def column(c: str, work) -> list:
        return each_distinct(summary[c], work) if c in summary.columns else [work(None)] * n

    def record(i: int) -> dict:
        return {c: values[c][i] for c in summary.columns}

    values = {c: summary[c].tolist() for c in summary.columns}
    status = column("状态", lambda v: _text(v).strip())
    problem = column("问题", lambda v: _text(v).strip())
    complete = column("状态", lambda v: isinstance(v, str) and v.strip() == "已完成")
    no_problem = column("问题", _blank)
    has_total = column("应发绩效合计", lambda v: not _blank(v))
    # a complete card whose role has no pay rule: nothing is paid by rule, which the payroll
    # shows as empty money with 说明 本岗位无绩效薪酬规则, never as ¥0.00 earned
    noted = column("说明", lambda v: NO_PAY_RULE in _text(v))
    done = column("状态", lambda v: _text(v) == "已完成")
    ruleless = column("岗位ID", lambda v: _ruleless(catalog, _text(v)))
    unpaid_of = [a and b and c for a, b, c in zip(noted, done, ruleless)]
    # sound: complete, no 问题, every money cell a finite number or blank (_row_problems has
    # nothing to say but, unless unpaid, of a blank 应发绩效合计)
    sound = [a and b for a, b in zip(complete, no_problem)]
    for money_column in dict.fromkeys(m.source for m in layout.money):
        fine = column(money_column, _an_amount)
        sound = [p and f for p, f in zip(sound, fine)]
    payable = [a and b for a, b in zip(sound, has_total)]
    ids = values.get("工号", blank)
    names = column("姓名", _text)
    notes = column("说明", _text)

    kept, excluded, apart, waived = [], [], [], []
    unpaid_rows = set()
    for i, state in zip(range(n), states):
        if status[i] == "不参与" and not problem[i]:
            # S9: not scored this month by the role's rules: nothing to pay, nothing wrong
            apart.append((str(ids[i]), names[i], notes[i]))
            continue
        unpaid = unpaid_of[i]
        reasons = [] if payable[i] or (unpaid and sound[i]) else _row_problems(record(i), layout, unpaid)
        waiting = not reasons and checked and not state.startswith(APPROVED)
        if waiting and not unapproved:
            reasons.append((f"审批状态为“{state}”（按未审批金额发放须加 --unapproved）",
                            f"approval state is {state} (to pay it unapproved, add --unapproved)"))
        elif waiting:
            waived.append(warning("payroll-unapproved",
                                  f"工号 {ids[i]}（{names[i]}）未按审批发放（--unapproved）：{state}",
                                  f"employee {ids[i]} paid without a matching approval (--unapproved): {state}",
                                  source=source, sheet="月度汇总"))
        if reasons:
            excluded.append((str(ids[i]), names[i], "；".join(zh for zh, _ in reasons),
                             "; ".join(en for _, en in reasons)))
            continue
        kept.append(i)
        if unpaid:
            unpaid_rows.add(i)

    out: dict[str, list] = {}
    for c in layout.columns:
        if c.type == "money":
            amounts = column(c.source, _amount)
            raw = values.get(c.source, blank)
            out[c.header] = [None if i in unpaid_rows else
                             (amounts[i] if amounts[i] is not _NOT_AN_AMOUNT else clean_round(float(raw[i]), 2))
                             for i in kept]
        elif c.type == "approval":
            out[c.header] = [states[i] for i in kept]
        else:
            texts = column(c.source, _text)
            out[c.header] = [texts[i] for i in kept]
    headers = [c.header for c in layout.columns]
    frame = pd.DataFrame(out, columns=headers) if kept else pd.DataFrame([], columns=headers)
    return frame, excluded, apart, waived


_NOT_AN_AMOUNT = object()  # a cell no kept row has (text, bool): rounded, if ever, where it is met


def _amount(value):
    """A money cell as the payroll writes it: blank 0.0, else rounded to the cent."""
    if _blank(value):
        return 0.0
    if type(value) is bool or not isinstance(value, (int, float)):
        return _NOT_AN_AMOUNT
    return clean_round(float(value), 2)


def _an_amount(value) -> bool:
    """A money cell of a payable row: a finite number (bool is not) or blank."""
    if type(value) is float:
        return value not in (math.inf, -math.inf)  # NaN: a blank cell
    return type(value) is int or _blank(value)


def _needs_roles(summary: pd.DataFrame) -> bool:
    """Whether any row's pay depends on its role (_pay_rows: a role without a pay rule): a
    complete card whose 说明 says its role has no pay rule."""
    from .report import NO_PAY_RULE

    notes = summary["说明"] if "说明" in summary else pd.Series([], dtype=object)
    return bool(notes.map(lambda v: NO_PAY_RULE in _text(v)).any())


def _recorded(layout: PayrollLayout) -> bool:
    """Every column the layout takes from 月度汇总 is one the history's 计算记录 covers."""
    from .approval import ENGINE_TEXT
    from .history import ROW_FIELDS

    covered = {"工号", "月份", *ROW_FIELDS, *ENGINE_TEXT}
    return all(c.type != "text" or c.source in covered for c in layout.columns)


def read_payroll(report: Path) -> pd.DataFrame:
    """The rows to pay of ``report`` (clean rows only), in the built-in layout."""
    return prepare_payroll(report).frame


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or (
        isinstance(value, str) and not value.strip())


def _text(value) -> str:
    return "" if _blank(value) else str(value)


def _ruleless(catalog, role_id: str) -> bool:
    """A role of the catalog that has no pay rule."""
    role = catalog.roles.get(role_id)
    return role is not None and not catalog.role_pay_rules(role)


def _row_problems(r: dict, layout: PayrollLayout, unpaid: bool = False) -> list[tuple[str, str]]:
    """Why a row must not be paid, each reason in Chinese and English."""
    reasons = []
    status = _text(r.get("状态")).strip()
    if status != "已完成":
        reasons.append((f"状态为“{status or '空'}”", f"status is {status or 'empty'}"))
    problem = _text(r.get("问题")).strip()
    if problem:  # the report's own findings, already in both languages
        reasons.append((f"问题：{problem}", "see the problems in its 问题 column (given above in full)"))
    waits = [c.source for c in layout.money if r.get(c.source) == PENDING]
    if waits:  # team pay of a department not yet whole: no option pays it
        why = _text(r.get("说明")).split("；")
        reasons.append((f"{'、'.join(waits)}待定，等待同部门其他考核表（{'；'.join(w for w in why if '待定' in w)}）",
                        f"{', '.join(waits)} waits for the rest of the department"))
    for column in [c.source for c in layout.money]:
        value = r.get(column)
        if _blank(value) or value == PENDING:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
            reasons.append((f"{column} 不是金额：{value!r}", f"{column} is not an amount: {value!r}"))
    if not reasons and not unpaid and _blank(r.get("应发绩效合计")):
        reasons.append(("应发绩效合计为空", "the pay total 应发绩效合计 is empty"))
    return reasons


def _refuse_unknown_money(money: list[str], layout: PayrollLayout, report: Path) -> None:
    """A money column of the month (a pay rule's label) that the layout does not name, while
    the layout lists pay columns: its columns would no longer add up to the total, so the
    layout must be updated first. A layout of the total alone needs no breakdown."""
    if not any(c.source != "应发绩效合计" for c in layout.money):
        return
    known = {c.source for c in layout.columns}
    for column in money:
        if column not in known:
            raise KpiError([error("payroll-layout-column",
                                  f"{report.name} 的金额列“{column}”不在 payroll.yaml 中：请先在 payroll.yaml 加上这一列",
                                  f"money column '{column}' of {report.name} is not in payroll.yaml: add it there first",
                                  source=str(report), sheet="月度汇总")])


def _month_problems(report: Path, summary: pd.DataFrame, findings: list[Diagnostic]) -> list[Diagnostic]:
    """Error findings of the month that no row already carries."""
    carried = "\n".join(_text(v) for v in summary.get("问题", pd.Series(dtype=object)))
    out = []
    for d in findings:
        text = d.message
        if d.severity != "error" or (text and text in carried):
            continue
        where = " ".join(x for x in (Path(d.source).name if d.source else "", d.sheet, d.cell) if x)
        out.append(error("payroll-finding", f"报表有错误：{where} {text}".strip(),
                         f"the report has an error finding: {where} {text}".strip(), source=str(report),
                         sheet=FINDINGS))
    return out


def check_output(out: Path, force: bool = False) -> str:
    """The output's kind (.csv or .xlsx); refused before any work if it cannot be written."""
    out = Path(out)
    kind = out.suffix.lower()
    if kind not in (".csv", ".xlsx"):
        raise KpiError([error("bad-format", f"输出须为 .csv 或 .xlsx：{out}",
                              f"output must be .csv or .xlsx: {out}", source=str(out))])
    refuse_existing(out, force)
    return kind


def write_payroll(frame: pd.DataFrame, out: Path, force: bool = False, money: list[str] | None = None,
                  sheet: str = "工资表", month: str = "", company: str = "") -> None:
    out = Path(out)
    kind = check_output(out, force)
    if money is None:
        money = [c.header for c in load_payroll_layout().money if c.header in frame.columns]
    text = [c for c in frame.columns if c not in money]
    safe = frame.copy()
    for c in text:
        safe[c] = _neutralised(safe[c])
    with atomic_output(out, force=force) as tmp:
        if kind == ".csv":
            shown = {c: each_distinct(safe[c], _cents) for c in money}  # exactly two decimals: 400.00
            header = [neutralise(c) for c in safe.columns]
            cells = [shown[c] if c in shown else safe[c].tolist() for c in safe.columns]
            # CRLF rows, as Excel writes them: a CR or LF inside a field is then quoted and
            # cannot break a row apart
            if header and all(type(h) is str for h in header) and all(type(v) is str for values in cells for v in values):
                # every cell text already: csv's writer, as DataFrame.to_csv would call it
                with open(tmp, "w", encoding="utf-8-sig", newline="") as f:
                    writer = csv.writer(f, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
                    writer.writerow(header)
                    writer.writerows(zip(*cells))
            else:
                for c in money:
                    safe[c] = shown[c]
                safe.columns = header
                safe.to_csv(tmp, index=False, encoding="utf-8-sig", quoting=csv.QUOTE_MINIMAL,
                            lineterminator="\r\n")
        else:
            _write_xlsx(safe, tmp, set(money), sheet, month, company)


def _neutralised(values: pd.Series) -> pd.Series:
    """``values.map(neutralise)``, the texts that need it found first (most need nothing)."""
    listed = values.tolist()
    if not any(isinstance(v, str) and v.startswith(FORMULA_STARTS) for v in listed):
        return values
    return values.map(neutralise)


def _cents(value) -> str:
    """A money cell in the CSV: exactly two decimals, blank when blank."""
    return "" if _blank(value) else f"{clean_round(float(value), 2):.2f}"


def _write_xlsx(frame: pd.DataFrame, path: Path, money: set[str], sheet: str, month: str = "",
                company: str = "") -> None:
    """Every text cell written as a string, never a formula or a link (the apostrophe keeps
    both exports identical); money as numbers in ¥ format; a frozen, styled header. The rows
    start at A1 for whoever imports them; what finance files is in the print setup."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                           "strings_to_numbers": False, "nan_inf_to_errors": True})
    ws = book.add_worksheet(sheet)
    base = {"font_name": "等线", "font_size": 10, "border": 1, "valign": "vcenter"}
    head = book.add_format({**base, "bold": True, "bg_color": "#D9E1F2", "align": "center", "text_wrap": True})
    cell = book.add_format(base)
    wrap = book.add_format({**base, "text_wrap": True})
    yuan = book.add_format({**base, "num_format": '"¥"#,##0.00;-"¥"#,##0.00', "align": "right"})
    columns = list(frame.columns)
    widths = [payroll_width(c, c in money) for c in columns]
    if "审批" in columns:  # as wide as its longest text: one line each (已审批 2026-11-05 王经理)
        widths[columns.index("审批")] = min(30.0, max(12.0, max((text_units(str(v)) + 1.2 for v in frame["审批"]),
                                                               default=12.0)))
    for j, c in enumerate(columns):
        ws.write_string(0, j, str(neutralise(c)), head)
        # a pay rule nobody has this month: kept in the file (the same columns every month),
        # hidden on paper and screen (the page would be columns of 0.00)
        nothing = c in money and c != "应发绩效合计" and not pd.to_numeric(frame[c], errors="coerce").fillna(0).any()
        ws.set_column(j, j, widths[j], None, {"hidden": bool(nothing and len(frame))})
    ws.set_row(0, row_height(columns, widths, set(range(len(columns)))))
    wrapped = {j for j, c in enumerate(columns) if c in ("审批", "姓名", "部门")}
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        for j, value in enumerate(row):
            if columns[j] in money:
                if _blank(value):
                    ws.write_blank(i, j, None, yuan)
                else:
                    ws.write_number(i, j, clean_round(float(value), 2), yuan)
            else:
                ws.write_string(i, j, "" if value is None else str(value), wrap if j in wrapped else cell)
        if wrapped:
            ws.set_row(i, row_height([str(v) for v in row], widths, wrapped))
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(frame), 1), max(len(columns) - 1, 0))
    _payroll_print(book, ws, frame, columns, money, widths, month, company)
    book.close()


def payroll_width(header: str, money: bool) -> float:
    """Column widths that put a payroll of the built-in layout on one landscape page at
    9 pt or more: money 8.5 (¥9,999.99), 审批 29 (已审批 2026-11-05 人事 王经理 on one line)."""
    if money:  # the total's column: its 合计 (bold, five figures) must not turn into ###
        return 9.5 if header == "应发绩效合计" else 8.5
    return {"工号": 6, "姓名": 6.5, "部门": 8, "月份": 7.5, "状态": 6, "审批": 29, "说明": 40}.get(
        header, max(8, min(30, len(str(header)) * 2 + 2)))


def _payroll_print(book, ws, frame: pd.DataFrame, columns: list[str], money: set[str],
                   widths: list[float], month: str, company: str) -> None:
    """A4 landscape, one page wide; the title block (company, 月份 工资表, date) in the page
    header; a 合计 row and the 制表 / 审核 / 批准 lines under the table; 说明 (the notes on how
    team pay came about, in both languages) stays off paper when it is the last column."""
    base = {"font_name": "等线", "font_size": 10, "border": 1, "valign": "vcenter", "bold": True,
            "bg_color": "#F2F2F2"}
    label = book.add_format({**base, "align": "center"})
    total = book.add_format({**base, "num_format": "#,##0.00", "align": "right"})  # bold: no room for ¥
    n = len(frame)
    row = n + 2  # a blank row, then 合计 (no 工号: an import reading down column A stops before it)
    first_money = next((j for j, c in enumerate(columns) if c in money), len(columns))
    span = max(1, first_money - 1)  # the label over the text columns before the money, never 工号
    if span > 1:
        ws.merge_range(row, 1, row, span, f"合计（{n} 人）", label)
    else:
        ws.write_string(row, 1, f"合计（{n} 人）", label)
    for j, c in enumerate(columns):
        if c in money:
            ws.write_number(row, j, clean_round(float(pd.to_numeric(frame[c], errors="coerce").fillna(0).sum()), 2),
                            total)
        elif j > span:
            ws.write_blank(row, j, None, label)
    last = len(columns) - 1 if columns[-1] != "说明" or len(columns) == 1 else len(columns) - 2
    ws.write_string(row + 2, 1, signature_line(), book.add_format({"font_name": "等线", "font_size": 11}))
    ws.set_row(row + 2, 30)
    print_setup(ws, f"{month} 绩效工资表".strip(), company=company)
    ws.print_area(0, 0, row + 2, last)
