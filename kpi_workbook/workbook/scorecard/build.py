"""Write scorecard workbooks: 名单, 设置 and one scorecard sheet per employee.

Built with XlsxWriter (fast, and complete for names, validation, protection and print
setup). Every number a supervisor sees is a native formula from ``formulas``, so the book
works in Excel, WPS and LibreOffice without Python.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xlsxwriter

from ...engine.describe import job_title
from ...rules.loader import Catalog
from ...kinds.base import FLAG_CHOICES
from ...rules.model import PARAMETER_RANGES, Role
from ...words import ROSTER_SHEET, SETTINGS_SHEET
from .. import collector
from . import formulas as F
from ..xlsx.clone import SheetCopy, clone_sheets
from ..xlsx.printing import print_nothing
from ..files import atomic_output
from .settings import scheme_heading
from .versions import TEMPLATE_NAME, fingerprint
from .layout import (FIELD_NAMES, HEADER_FIELDS, TABLE_HEADER_ROW, SheetLayout, cell,
                     sheet_layout)

FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
GRADE_COLOURS = ["#C6EFCE", "#DDEBF7", "#FFF2CC", "#FCE4D6", "#FFC7CE"]


def sheet_name(employee_id: str, name: str, taken: set[str]) -> str:
    """'工号 姓名', without Excel's forbidden characters, at most 31 characters, unique."""
    base = FORBIDDEN.sub("_", f"{employee_id} {name}").strip("'").strip() or "员工"
    base = base[:31].rstrip("'").strip() or "员工"  # Excel refuses a name ending in an apostrophe
    candidate, k = base, 2
    while candidate.lower() in taken or candidate in (ROSTER_SHEET, SETTINGS_SHEET):
        suffix = f"~{k}"
        candidate, k = base[:31 - len(suffix)] + suffix, k + 1
    taken.add(candidate.lower())
    return candidate


def quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


MONEY = '"¥"#,##0.00;[Red]-"¥"#,##0.00'
BODY_PT, SMALL_PT = 10, 10  # table text; criteria, item and input labels (≥ 9 pt on paper, fit to width)


@dataclass
class Formats:
    title: object
    label: object
    value: object
    header: object
    text: object
    wrap: object
    number: object
    input: object
    input_pct: object
    input_int: object
    input_text: object  # a yes/no cell: 1 typed there stays the text "1", as the formulas read it
    formula: object
    total: object
    money: object
    section: object
    settings_input: object
    muted: object
    aside: object  # a note beside a value on the card (月度报表计算): grey, as large as the text
    # scorecard-only
    field_label: object
    field_value: object
    field_small: object
    field_money: object
    role_id: object
    item: object
    input_label: object
    blank: object
    foot_label: object
    foot_strong: object
    foot_blank: object
    grade: object
    status: object
    money_total: object
    remark: object
    signature: object
    integer: object  # conditional: whole numbers without Excel's trailing "." of 0.##
    settings_title: object
    settings_heading: object


def _formats(book: xlsxwriter.Workbook) -> Formats:
    base = {"font_name": "等线", "font_size": BODY_PT, "valign": "vcenter", "border": 1}
    f = lambda **kw: book.add_format({**base, **kw})  # noqa: E731
    unlocked = {"locked": False, "bg_color": "#FFFDE7", "shrink": True}
    grey, total_bg = "#F2F2F2", "#EDEDED"
    return Formats(
        title=book.add_format({"font_name": "等线", "bold": True, "font_size": 16,
                               "align": "center", "valign": "vcenter"}),
        label=f(bold=True, bg_color=grey, align="center"),
        value=f(align="left"),
        header=f(bold=True, bg_color="#D9E1F2", align="center", text_wrap=True),
        text=f(),
        wrap=f(text_wrap=True, font_size=SMALL_PT),
        number=f(num_format="General", align="center"),
        input=f(**unlocked, num_format="General", align="center"),
        input_pct=f(**unlocked, num_format="0.00%", align="center"),
        input_int=f(**unlocked, num_format="0", align="center"),
        input_text=f(**unlocked, num_format="@", align="center"),
        formula=f(num_format="0.##", align="center", bg_color=total_bg),
        total=f(bold=True, num_format="0.0", align="center", bg_color=total_bg, font_size=11),
        money=f(num_format=MONEY, align="right", indent=1, bg_color=total_bg),
        section=f(bold=True, align="center", text_wrap=True),
        settings_input=f(**unlocked),
        muted=book.add_format({"font_color": "#BFBFBF", "font_size": 8}),
        aside=book.add_format({"font_name": "等线", "font_color": "#808080", "font_size": BODY_PT,
                               "valign": "vcenter"}),
        field_label=f(bold=True, bg_color=grey, align="center", font_size=SMALL_PT),
        field_value=f(align="left", text_wrap=True),
        field_small=f(align="left", text_wrap=True, font_size=SMALL_PT),
        field_money=f(num_format=MONEY, align="center"),
        role_id=book.add_format({"font_color": "#BFBFBF", "font_size": 7, "align": "right",
                                 "valign": "top", "shrink": True, "num_format": ";;;"}),  # never shown
        item=f(text_wrap=True, font_size=SMALL_PT, align="left"),
        input_label=f(text_wrap=True, font_size=SMALL_PT, align="left"),
        blank=f(),
        foot_label=f(bold=True, bg_color=grey, align="right", indent=1),
        foot_strong=f(bold=True, bg_color="#D9E1F2", align="right", indent=1, font_size=11),
        foot_blank=f(bg_color=grey),
        grade=f(bold=True, align="center", bg_color=total_bg, font_size=12),
        status=f(bold=True, align="center", bg_color=total_bg),
        money_total=f(bold=True, num_format=MONEY, align="right", indent=1, bg_color=total_bg),
        remark=f(locked=False, bg_color="#FFFDE7", text_wrap=True, align="left", valign="top"),
        signature=book.add_format({"font_name": "等线", "font_size": BODY_PT, "align": "left",
                                   "valign": "bottom"}),
        integer=book.add_format({"num_format": "0"}),
        settings_title=book.add_format({"font_name": "等线", "bold": True, "font_size": 12,
                                        "valign": "vcenter"}),
        settings_heading=book.add_format({"font_name": "等线", "bold": True, "font_size": BODY_PT,
                                          "valign": "vcenter"}),
    )


@collector.batch()
def build_workbook(catalog: Catalog, roster: pd.DataFrame, month: str, out: Path | str,
                   force: bool = False, step=None) -> list[str]:
    """Write one workbook for ``roster`` (checked, canonical columns). Returns sheet names.

    XlsxWriter writes 设置, 名单 and one prototype scorecard per role (and header shape);
    ``clone`` then gives every employee a copy of their prototype with their own header.
    """
    with atomic_output(Path(out), force=force) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"in_memory": True, "strings_to_numbers": False,
                                              "strings_to_formulas": False})
        fmt = _formats(book)
        roles = [catalog.roles[r] for r in dict.fromkeys(roster["role"])]
        _settings_sheet(book, catalog, roles, month, fmt)
        taken: set[str] = set()
        people = _employees(roster)
        names = [sheet_name(str(e.employee_id), str(e["name"]), taken) for e in people]
        _roster_sheet(book, catalog, roster, names, fmt, people)
        _notes_sheet(book, catalog, roles, fmt)  # before the prototypes (clone needs them last)
        prototypes: dict[tuple, str] = {}
        copies: list[SheetCopy] = []
        for employee, name in zip(people, names):
            layout = sheet_layout(catalog, catalog.roles[employee.role])
            values = header_values(layout, employee, month)
            key = (layout.role.id, _header_shape(layout, values))
            if key not in prototypes:
                prototypes[key] = proto = f"~proto{len(prototypes)}"
                _scorecard_sheet(book, catalog, layout, employee, month, proto, fmt)
            copies.append(SheetCopy(name, prototypes[key], {
                layout.fields[f].replace("$", ""): values[f] for f in PER_EMPLOYEE
                if f in layout.fields}))
            if step is not None:  # a progress bar's callback (cli)
                step(1, name)
        book.close()
        clone_sheets(tmp, copies)
    return names


def build_workbooks(catalog: Catalog, outputs: list[tuple[Path, pd.DataFrame]], month: str,
                    force: bool = False, step=None) -> list[list[str]]:
    """Several books (`new --split-by`): each ``(path, roster part)`` written as
    :func:`build_workbook` writes it, one book per worker process on every core
    (``pool.each_book``); the sheet names of each, in the order of ``outputs``. ``step``
    is called per employee on one process, per book on several."""
    from . import pool

    if pool.workers(len(outputs)) == 1:
        return [build_workbook(catalog, part, month, path, force=force, step=step)
                for path, part in outputs]

    def done(item, names) -> None:
        if step is not None:  # a progress bar's callback (cli)
            step(len(names), Path(item[0]).name)

    folders = list(dict.fromkeys(Path(path).parent for path, _ in outputs))
    return pool.each_book(_build_one, [(path, part, month, force) for path, part in outputs],
                          shared=catalog, folders=folders, done=done)


def _build_one(catalog: Catalog, item: tuple) -> list[str]:
    path, part, month, force = item
    return build_workbook(catalog, part, month, path, force=force)


# Header cells that differ between employees of a role (the rest of a sheet is the same).
PER_EMPLOYEE = ("name", "employee_id", "department", "base_salary", "q_amount", "full_attendance",
                "months_absent", "role_name")


class _Employee(dict):
    """One roster row, read as a pandas row is (``e.role``, ``e["name"]``, ``e.get(...)``)."""

    def __getattr__(self, column: str):
        try:
            return self[column]
        except KeyError:
            raise AttributeError(column) from None


def _employees(roster: pd.DataFrame) -> list[_Employee]:
    """The roster's rows with the values ``iterrows`` gives (its rows are these arrays),
    without a pandas Series each (100,000 people: seconds)."""
    columns = list(roster.columns)
    return [_Employee(zip(columns, values)) for values in roster.values]


def header_values(layout: SheetLayout, employee, month: str) -> dict[str, object]:
    return {"name": str(employee["name"]), "employee_id": str(employee.employee_id),
            "department": str(employee.department), "month": month,
            "role_name": _job_title(layout.role, employee), "base_salary": employee.base_salary,
            "q_amount": employee.get("q_amount"),
            "full_attendance": _yes_no(employee.get("full_attendance")),
            "months_absent": employee.get("months_absent")}


def _job_title(role: Role, employee) -> str:
    """岗位: the roster's 岗位名称, else the role's short name (never the form's title)."""
    given = employee.get("job_title") if hasattr(employee, "get") else None
    if isinstance(given, str) and given.strip():
        return given.strip()
    return job_title(role)


def _header_text_width(layout: SheetLayout, c: int) -> float:
    """The width a header value in column ``c`` has (the last one runs to the table's edge);
    worked out once per layout and column (it is asked for every employee)."""
    key = (id(layout), c)
    hit = _HEADER_WIDTHS.get(key)
    if hit is not None and hit[0] is layout:
        return hit[1]
    width_of = {layout.col(k): w for k, w in _column_widths(layout).items()}
    last_field_col = max(col + 1 for *_, col in HEADER_FIELDS)
    if c == last_field_col:
        width = sum(width_of.get(k, 9) for k in range(c, layout.width))
    else:
        width = width_of.get(c, 9)
    if len(_HEADER_WIDTHS) > 4096:  # layouts of catalogs gone: start again
        _HEADER_WIDTHS.clear()
    _HEADER_WIDTHS[key] = (layout, width)  # the layout kept: its id is not reused meanwhile
    return width


_HEADER_WIDTHS: dict[tuple[int, int], tuple[SheetLayout, float]] = {}


def _header_shape(layout: SheetLayout, values: dict) -> tuple:
    """How many lines each header text takes: employees with the same shape share a sheet
    prototype, since fonts and row heights of the header follow from it."""
    return tuple(_lines(values[f], _header_text_width(layout, c + 1), BODY_PT)
                 for f, _, _, c in HEADER_FIELDS if isinstance(values[f], str))


# ---------------------------------------------------------------------------------------


def _settings_sheet(book, catalog: Catalog, roles: list[Role], month: str, fmt: Formats) -> None:
    ws = book.add_worksheet(SETTINGS_SHEET)
    ws.set_column(0, 0, 30)
    ws.set_column(1, 1, 24)
    ws.set_column(2, 2, 12)
    ws.set_column(3, 3, 26)
    ws.write(0, 0, "设置 / Settings：修改此处的分数线与薪酬参数，所有考核表随之更新",
             fmt.settings_title)
    ws.set_row(0, 24)
    ws.write(2, 0, "月份", fmt.label)
    ws.write_string(2, 1, month, fmt.value)
    book.define_name("KPI_SETTINGS_MONTH", f"={quote(SETTINGS_SHEET)}!$B$3")
    row = 4
    schemes = {r.grade_scheme: catalog.grade_schemes[r.grade_scheme] for r in roles}
    for role in roles:
        for _, item in role.items():
            if item.grade_scheme:
                schemes[item.grade_scheme] = catalog.grade_schemes[item.grade_scheme]
    for scheme in schemes.values():
        ws.write(row, 0, scheme_heading(scheme), fmt.settings_heading)
        ws.write_row(row + 1, 0, ["等级", "说明", "最低分（≥）"], fmt.header)
        row += 2
        for k, tier in enumerate(scheme.tiers):
            ws.write_string(row, 0, tier.grade, fmt.settings_input)
            ws.write_string(row, 1, tier.label, fmt.text)
            book.define_name(F.grade_name_name(scheme, k), f"={quote(SETTINGS_SHEET)}!{cell(row, 0)}")
            if tier.min is not None:
                ws.write_number(row, 2, tier.min, fmt.settings_input)
                book.define_name(F.grade_min_name(scheme, k), f"={quote(SETTINGS_SHEET)}!{cell(row, 2)}")
            else:
                ws.write_string(row, 2, "—", fmt.text)
            row += 1
        if scheme.assumed:
            ws.write(row, 0, f"假设：{scheme.note}", fmt.muted)
            row += 1
        row += 1
    ws.write_row(row, 0, ["薪酬规则", "参数", "值", "规则 id"], fmt.header)
    row += 1
    for role, rule, key, _, param, label, value in F.pay_parameter_rows(catalog, roles):
        ws.write_string(row, 0, rule.label + ("" if key == rule.id else f"（{role.name}）"), fmt.text)
        ws.write_string(row, 1, label, fmt.text)
        ws.write_number(row, 2, value, fmt.settings_input)
        bounds = PARAMETER_RANGES.get("amounts" if param.startswith("amount_") else param)
        if bounds is not None:  # what the readers refuse, refused as it is typed
            ws.data_validation(row, 2, row, 2, {
                "validate": "integer" if bounds.whole else "decimal", "criteria": "between",
                "minimum": int(bounds.low), "maximum": int(bounds.high), "error_title": "超出范围",
                "error_message": f"{label}须在 {bounds.text()} 之间"
                                 + ("（比例：10% 请输入 0.1 或 10%）" if bounds.kind == "ratio" else "")})
        ws.write_string(row, 3, key, fmt.muted)
        book.define_name(F.pay_param_name(key, param), f"={quote(SETTINGS_SHEET)}!{cell(row, 2)}")
        row += 1
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    print_nothing(ws)  # the month's rule book: edited on screen, never printed with the cards
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})


NOTES_SHEET = "说明"
_ASSUMPTION_ASIDE = re.compile(r"\s*[（(][^（）()]*(?:假设|种子|assum)[^（）()]*[）)]")


def form_criteria(text: str) -> str:
    """考核标准 as printed: the criteria without the asides on assumptions ('（假设档）',
    '（80%–85% 种子未给，假设 0分）'); those stay in 说明 and `roles show`."""
    return _ASSUMPTION_ASIDE.sub("", text or "")


def role_notes(catalog: Catalog, role: Role) -> list[tuple[str, str]]:
    """(what, note) for everything of a role that is assumed or annotated: the source notes
    that the printed form leaves out (also in `roles show`)."""
    out: list[tuple[str, str]] = []
    if role.note:
        out.append((f"{role.name}（{role.id}）", ("【假设】" if role.assumed else "") + role.note))
    for section, item in role.items():
        asides = "".join(m.group(0).strip() for m in _ASSUMPTION_ASIDE.finditer(item.criteria or ""))
        if item.note or item.assumed or asides:
            out.append((f"{section.label} / {item.label}",
                        ("【假设】" if item.assumed else "") + (item.note or "") + asides))
    scheme = catalog.grade_scheme(role)
    if scheme.note:
        out.append((f"等级方案 {scheme.label}", ("【假设】" if scheme.assumed else "") + scheme.note))
    for rule in catalog.role_pay_rules(role):
        if getattr(rule, "note", ""):
            out.append((f"薪酬 {rule.label}", ("【假设】" if rule.assumed else "") + rule.note))
    return out


def _notes_sheet(book, catalog: Catalog, roles: list[Role], fmt) -> None:
    """说明: per role, its source and the notes on assumed or reconstructed rules."""
    ws = book.add_worksheet(NOTES_SHEET)
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 90)
    ws.write(0, 0, "说明 / Notes：模板来源与假设（不打印在考核表上）", fmt.settings_title)
    ws.set_row(0, 24)
    row = 2
    for role in roles:
        ws.write(row, 0, f"{role.name}（{role.id}）", fmt.settings_heading)
        ws.write(row, 1, f"来源 source: {role.source}", fmt.text)
        row += 1
        notes = role_notes(catalog, role) or [("—", "无假设 / no assumptions")]
        for what, note in notes:
            ws.write_string(row, 0, what, fmt.wrap)
            ws.write_string(row, 1, note, fmt.wrap)
            ws.set_row(row, _height(max(_lines(note, 90, SMALL_PT), _lines(what, 34, SMALL_PT)), SMALL_PT))
            row += 1
        row += 1
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    print_nothing(ws)  # notes for whoever keeps the templates: not for paper


def _roster_sheet(book, catalog: Catalog, roster: pd.DataFrame, names: list[str], fmt,
                  people: list) -> None:
    ws = book.add_worksheet(ROSTER_SHEET)
    headers = ["工号", "姓名", "部门", "岗位", "岗位ID", "基本工资", "绩效基数Q", "全勤", "直接上级", "考核表"]
    ws.write_row(0, 0, headers, fmt.header)
    for i, (e, name) in enumerate(zip(people, names), start=1):
        role = catalog.roles[e.role]
        ws.write_string(i, 0, str(e.employee_id), fmt.text)
        ws.write_string(i, 1, str(e["name"]), fmt.text)
        ws.write_string(i, 2, str(e.department), fmt.text)
        ws.write_string(i, 3, role.name, fmt.text)
        ws.write_string(i, 4, role.id, fmt.text)
        _write_number(ws, i, 5, e.base_salary, fmt.number)
        _write_number(ws, i, 6, e.q_amount, fmt.number)
        ws.write_string(i, 7, _yes_no(e.full_attendance), fmt.text)
        ws.write_string(i, 8, "" if pd.isna(e.supervisor) else str(e.supervisor), fmt.text)
        ws.write_url(i, 9, f"internal:{quote(name)}!A1", string=name)
    accounts = roster["wangwang"] if "wangwang" in roster else None  # 旺旺: import profiles match by it
    if accounts is not None and not all(pd.isna(v) or not str(v).strip() for v in accounts):
        headers.append("旺旺")
        ws.write_string(0, 10, "旺旺", fmt.header)
        for i, value in enumerate(accounts, start=1):
            ws.write_string(i, 10, "" if pd.isna(value) else str(value), fmt.text)
    ws.set_column(0, 2, 10)
    ws.set_column(3, 3, 26)
    ws.set_column(4, 4, 28)
    ws.set_column(5, 9, 11)
    ws.autofilter(0, 0, len(roster), len(headers) - 1)
    ws.freeze_panes(1, 0)
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    print_nothing(ws)  # the index of the cards: printing the workbook prints the cards only


def _yes_no(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return F.YES if value else F.NO


def _write_number(ws, row, col, value, fmt) -> None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        ws.write_blank(row, col, None, fmt)
    else:
        ws.write_number(row, col, float(value), fmt)


def _input_format(fmt: Formats, input_type: str):
    return {"percent": fmt.input_pct, "count": fmt.input_int, "flag": fmt.input_text}.get(input_type, fmt.input)


def _validation(spec, criteria: str) -> dict:
    d = spec.input
    title = d.label[:32]
    message = (f"{criteria}" if criteria else d.label)[:255]
    common = {"input_title": title, "input_message": message, "error_title": "输入无效",
              "ignore_blank": True}
    if d.type == "level":
        return {**common, "validate": "list", "source": list(spec.levels),
                "error_message": f"请从列表中选择：{'、'.join(spec.levels)}"[:255]}
    if d.type == "flag":
        return {**common, "validate": "list", "source": list(FLAG_CHOICES),
                "error_message": "请选择 是 或 否（也可输入 有/无、Y/N、1/0、√/✓、×/✗）"}
    low = d.min if d.min is not None else (0 if d.type in ("count", "points") else None)
    kind = "integer" if d.type == "count" else "decimal"
    if low is not None and d.max is not None:
        rule = {"criteria": "between", "minimum": low, "maximum": d.max}
        text = f"请输入 {low:g} 到 {d.max:g} 之间的{'整数' if kind == 'integer' else '数'}"
    elif low is not None:
        rule = {"criteria": ">=", "value": low}
        text = f"请输入不小于 {low:g} 的{'整数' if kind == 'integer' else '数'}"
    else:
        rule = {"criteria": "between", "minimum": -1e15, "maximum": 1e15}
        text = "请输入数字"
    if d.type == "percent":
        text += "（百分数，如 38%）"
    return {**common, "validate": kind, **rule, "error_message": text}


# ---------------------------------------------------------------------------------------
# Sizing. Excel neither widens columns nor heightens rows for merged or wrapped cells, so
# widths and heights are estimated from the text: a CJK character is one em wide, other
# characters about half; a column of width w is about 7w + 5 pixels (Calibri 11 units).

PAGE_PX = 760  # the columns' pixels aimed at: A4 portrait fit to width at about 91 % (10 pt → 9.1 on paper)
WIDTHS = {"no": 4.5, "section": 10, "item": 12, "max": 8.5, "value": 9, "event_points": 8,
          "points": 8, "item_grade": 6, "note": 12}
MIN_ROW, FOOTER_ROW = 17.0, 17.0  # points
FOOTER_STRONG = {"total", "grade", "pay_total", "status"}  # footer rows of 20 pt, in bold


def _char_px(ch: str, pt: float) -> float:
    em = pt * 96 / 72
    return em if ord(ch) > 0x2E7F or ch in "…—" else em * 0.55


def _text_px(text: str, pt: float) -> float:
    return sum(_char_px(ch, pt) for ch in str(text))


def _col_px(width: float) -> float:
    return width * 7 + 5


def _lines(text: str, width: float, pt: float) -> int:
    """Wrapped lines of ``text`` in a column of ``width`` (greedy, character by character)."""
    usable = _col_px(width) - 8
    total = 0
    for para in str(text).split("\n"):
        line, count = 0.0, 1
        for ch in para:
            w = _char_px(ch, pt)
            if line + w > usable and line > 0:
                count, line = count + 1, w
            else:
                line += w
        total += count
    return total


def _height(lines: int, pt: float) -> float:
    return lines * pt * 1.25 + 4


def _width_for(px: float) -> float:
    """The column width that holds ``px`` of text with a little padding."""
    return (px + 5) / 7


def _input_label(spec) -> str:
    d = spec.input
    return d.label + (f"（{d.unit}）" if d.unit and d.unit not in d.label else "")


def _column_widths(layout: SheetLayout) -> dict[str, float]:
    widths: dict[str, float] = {}
    inputs = [ic for b in layout.blocks for k, ic in b.inputs.items() if k != "alloc"]
    labels = [_input_label(ic.spec) for ic in inputs if not ic.spec.rater]
    labels += ["得分"] if any(ic.spec.rater for ic in inputs) else []

    def widest(texts, pt) -> float:
        return _width_for(max((_text_px(t, pt) for t in texts), default=0))

    rated_levels = [lv for ic in inputs if ic.spec.rater for lv in ic.spec.levels]
    own_levels = [lv for ic in inputs if not ic.spec.rater for lv in ic.spec.levels]
    for key in layout.columns:
        if key.startswith("rater."):
            widths[key] = min(max(7.0, widest(rated_levels, BODY_PT)), 10)
        elif key in WIDTHS:
            widths[key] = WIDTHS[key]
    widths["value"] = min(max(widths["value"], widest(own_levels, BODY_PT)), 12)
    widths["input"] = min(max(9.0, widest(labels, SMALL_PT)), 18)
    if layout.pay_rules:  # room for ¥99,999.99 in bold
        widths["points"] = max(widths["points"], 12)
    page_width = (PAGE_PX - 5 * len(layout.columns)) / 7  # in width units (7 px each, 5 px a column)
    rest = page_width - sum(widths.values())
    widths["criteria"] = min(max(rest, 26.0), 44.0)
    # Many rater columns: give up some width elsewhere rather than shrink the whole page.
    # Text under 9 pt on paper is no option: the page's width is what the columns share.
    raters = [k for k in widths if k.startswith("rater.")]
    # An input label wraps on every one of its rows, the criteria once over the item's rows:
    # the criteria give up width before the input labels do.
    for keys, least in ((["note"], 6.0), (["criteria"], 20.0), (["section"], 8.0), (["item"], 10.0),
                        (["value"], 8.0), (raters, 7.0), (["event_points"], 6.0), (["criteria"], 17.0),
                        (["no"], 4.0), (["note"], 4.0), (["input"], 9.0), (["item"], 9.0)):
        keys = [k for k in keys if k in widths]
        over = sum(widths.values()) - page_width
        if over > 0 and keys:
            for key in keys:
                widths[key] = max(least, widths[key] - over / len(keys))
    return widths


def _signature_text(label: str, px: float) -> str:
    """'被考核人签字：__________' filling ``px``; dates as '日期：____年___月___日'."""
    if "日期" in label or "时间" in label:
        return f"{label}：______年____月____日"
    room = px - _text_px(label + "：", BODY_PT) - 16
    return f"{label}：" + "_" * int(min(max(room / _char_px("_", BODY_PT), 8), 20))


def _signature_groups(widths: list[float], labels: list[str]) -> list[tuple[int, int]]:
    """A run of columns per signature, (first, last): each wide enough for its label and a
    short line, the slack spread evenly, starting on the column edge nearest that spot."""
    n = max(1, min(len(labels), len(widths)))
    edges = [0.0]
    for w in widths:
        edges.append(edges[-1] + _col_px(w))
    need = [_text_px(_signature_text(label, 0), BODY_PT) + 16 for label in labels[:n]]
    slack = max(0.0, edges[-1] - sum(need)) / n
    starts: list[int] = []
    for i in range(n):
        if not starts:
            starts.append(0)
            continue
        ideal = sum(need[:i]) + slack * i
        room = edges[starts[-1]] + need[i - 1]
        left = n - i - 1  # signatures still to place after this one
        options = [c for c in range(starts[-1] + 1, len(widths) - left)]
        fitting = [c for c in options if edges[c] >= room - 1] or options[-1:]
        starts.append(min(fitting, key=lambda c: abs(edges[c] - ideal)))
    ends = [c - 1 for c in starts[1:]] + [len(widths) - 1]
    return list(zip(starts, ends))


def _scorecard_sheet(book, catalog: Catalog, layout: SheetLayout, employee, month: str,
                     name: str, fmt: Formats) -> None:
    role = layout.role
    ws = book.add_worksheet(name)
    q = quote(name)
    last_col = layout.width - 1
    widths = _column_widths(layout)
    width_of = {layout.col(k): w for k, w in widths.items()}

    # Title and employee fields
    ws.merge_range(0, 0, 0, last_col - 1, f"{role.name}（{month}）", fmt.title)
    ws.write_string(0, last_col, role.id, fmt.role_id)
    ws.set_row(0, 32)
    values = header_values(layout, employee, month)
    field_rows: dict[int, float] = {}
    last_field_col = max(c + 1 for *_, c in HEADER_FIELDS)
    for field, label, r, c in HEADER_FIELDS:
        ws.write_string(r, c, label, fmt.field_label)
        v = values[field]
        if c + 1 == last_field_col and last_col > last_field_col:  # run on to the table's edge
            ws.merge_range(r, c + 1, r, last_col, "", fmt.field_value)
        if isinstance(v, str):
            width = _header_text_width(layout, c + 1)
            one_line = _lines(v, width, BODY_PT) == 1
            value_fmt, pt = (fmt.field_value, BODY_PT) if one_line else (fmt.field_small, SMALL_PT)
            ws.write_string(r, c + 1, v, value_fmt)
            field_rows[r] = max(field_rows.get(r, MIN_ROW),
                                _height(_lines(v, width, pt), pt))
        else:
            _write_number(ws, r, c + 1, v, fmt.field_money)
    for r, h in field_rows.items():
        ws.set_row(r, h)
    ws.set_row(TABLE_HEADER_ROW - 1, 6)  # spacer
    for field, defined in FIELD_NAMES.items():
        if field in layout.fields:
            book.define_name(f"{q}!{defined}", f"={q}!{layout.fields[field]}")
    # the template version that built this sheet (versions.py), in a hidden cell beside the
    # role id and outside the print area: validate and report check and score by it
    ws.write_string(0, last_col + 1, fingerprint(catalog, role), fmt.role_id)
    ws.set_column(last_col + 1, last_col + 1, None, None, {"hidden": True})
    book.define_name(f"{q}!{TEMPLATE_NAME}", f"={q}!{cell(0, last_col + 1)}")

    # Table header
    for c, (_, header) in enumerate(layout.headers):
        ws.write_string(TABLE_HEADER_ROW, c, header, fmt.header)
    ws.set_row(TABLE_HEADER_ROW, 30)
    for key, c in layout.columns.items():
        ws.set_column(c, c, widths.get(key, 9))

    # Item blocks
    col = layout.col
    heights: dict[int, float] = {}
    for n, block in enumerate(layout.blocks, start=1):
        item, top, bottom = block.item, block.first_row, block.last_row

        def span(c: int, value, cell_fmt, formula: bool = False) -> None:
            if bottom > top:
                ws.merge_range(top, c, bottom, c, "", cell_fmt)
            if formula:
                ws.write_formula(top, c, value, cell_fmt)
            elif isinstance(value, (int, float)):
                ws.write_number(top, c, value, cell_fmt)
            else:
                ws.write_string(top, c, value, cell_fmt)

        span(col("no"), n, fmt.number)
        label = item.label + ("（加减分）" if item.adjustment else "")
        span(col("item"), label, fmt.item)
        criteria = form_criteria(item.criteria)  # what the employee is judged by; notes go to 说明
        span(col("criteria"), criteria, fmt.wrap)
        if "alloc" in block.inputs:
            ic = block.inputs["alloc"]
            allocation = block.section.allocation
            assert allocation is not None  # an alloc input comes from the section's allocation
            # the default allocation typed in (the formulas take it for an empty cell too):
            # 配分 is never blank on paper; the supervisor overwrites it for this month
            ws.write_number(ic.row, ic.col, float(allocation.default), fmt.input)
            ws.data_validation(ic.row, ic.col, ic.row, ic.col, _validation(
                ic.spec, f"本月分配给该项的分值，默认 {ic.spec.input.default:g}，本维度合计应为 "
                         f"{allocation.total:g}"))
            book.define_name(f"{q}!{ic.name}", f"={q}!{ic.ref}")
            for r in range(top + 1, bottom + 1):
                ws.write_blank(r, col("max"), None, fmt.number)
        else:
            span(col("max"), item.max, fmt.number)
        span(col("points"), F.item_points(layout, block), fmt.formula, formula=True)
        if item.grade_scheme:
            span(col("item_grade"), F.item_grade(catalog, layout, block), fmt.formula, formula=True)
        elif "item_grade" in layout.columns:
            span(col("item_grade"), "", fmt.text)
        for r in range(top, bottom + 1):
            ws.write_blank(r, col("note"), None, fmt.input)
            ws.write_blank(r, col("input"), None, fmt.text)
            ws.write_blank(r, col("value"), None, fmt.text)
            for key in layout.columns:
                if key.startswith("rater.") or key == "event_points":
                    ws.write_blank(r, layout.columns[key], None, fmt.text)
            heights[r] = MIN_ROW
        for key, ic in block.inputs.items():
            if key == "alloc":
                continue
            spec = ic.spec
            text = _input_label(spec)
            ws.write_string(ic.row, col("input"), text, fmt.input_label)
            heights[ic.row] = max(heights[ic.row],
                                  _height(_lines(text, widths["input"], SMALL_PT), SMALL_PT))
            ws.write_blank(ic.row, ic.col, None, _input_format(fmt, spec.input.type))
            ws.data_validation(ic.row, ic.col, ic.row, ic.col, _validation(spec, item.criteria))
            book.define_name(f"{q}!{ic.name}", f"={q}!{ic.ref}")
        for event_id, r in block.event_rows.items():
            ws.write_formula(r, col("event_points"), F.event_display(block, event_id), fmt.formula)
        # The merged criteria and item cells need the block's rows to be tall enough.
        need = max(_height(_lines(criteria, widths["criteria"], SMALL_PT), SMALL_PT),
                   _height(_lines(label, widths["item"], SMALL_PT), SMALL_PT))
        _grow(heights, range(top, bottom + 1), need)

    # Sections: merged labels over their items, one merge per printed page the section is on
    # (pages break between items, where they fit: a merged cell across a break would print its
    # label over the next page's header)
    labels = {section.id: section.label + (f"\n（{section.weight:g}%）" if section.weight is not None else "")
              for section in role.sections}
    for section in role.sections:
        rows = [b for b in layout.blocks if b.section is section]
        _grow(heights, range(rows[0].first_row, rows[-1].last_row + 1),
              _height(_lines(labels[section.id], widths["section"], BODY_PT), BODY_PT))
    for r, h in heights.items():
        ws.set_row(r, round(h, 1))
    breaks = card_breaks(layout, planned_heights(ws, layout, heights),
                         sum(_col_px(width_of.get(c, 9)) for c in range(layout.width)))
    for section in role.sections:
        rows = [b for b in layout.blocks if b.section is section]
        top, bottom = rows[0].first_row, rows[-1].last_row
        cuts = [b for b in breaks if top < b <= bottom]
        for first, last in zip([top] + cuts, [c - 1 for c in cuts] + [bottom]):
            if last > first:
                ws.merge_range(first, col("section"), last, col("section"), labels[section.id], fmt.section)
            else:
                ws.write_string(first, col("section"), labels[section.id], fmt.section)

    # Footer: the label runs up to the 输入项 column, right-aligned next to its value
    pc = col("points")
    footer = layout.footer
    strong = FOOTER_STRONG
    for key, row in footer.items():
        r = row.row
        label_fmt = fmt.foot_strong if key in strong else fmt.foot_label
        ws.merge_range(r, 0, r, col("input"), row.label, label_fmt)
        first_free = col("input") + 1
        if row.input is not None:
            ws.write_blank(r, row.input.col, None, _input_format(fmt, row.input.spec.input.type))
            ws.data_validation(r, row.input.col, r, row.input.col, _validation(row.input.spec, ""))
            book.define_name(f"{q}!{row.input.name}", f"={q}!{row.input.ref}")
            first_free = row.input.col + 1
        if key.startswith("remark."):
            continue
        if pc - 1 > first_free:
            ws.merge_range(r, first_free, r, pc - 1, "", fmt.foot_blank)
        elif pc - 1 == first_free:
            ws.write_blank(r, first_free, None, fmt.foot_blank)
        for c in range(pc + 1, layout.width):
            ws.write_blank(r, c, None, fmt.blank)
        ws.set_row(r, 20 if key in strong else FOOTER_ROW)
    ws.write_formula(footer["subtotal"].row, pc, F.subtotal(layout), fmt.formula)
    if "adjust" in footer:
        ws.write_formula(footer["adjust"].row, pc, F.adjust(layout), fmt.formula)
    if "bonus" in footer:
        bonus, deduction = F.bonus_deduction(layout)
        ws.write_formula(footer["bonus"].row, pc, bonus, fmt.formula)
        ws.write_formula(footer["deduction"].row, pc, deduction, fmt.formula)
    ws.write_formula(footer["total"].row, pc, F.total(layout), fmt.total)
    ws.write_formula(footer["grade"].row, pc, F.grade(catalog, layout), fmt.grade)
    for rule in layout.pay_rules:
        # a team kind's cell shows 见月度报表 (the report computes it once the department is whole)
        ws.write_formula(footer[f"pay.{rule.id}"].row, pc, F.pay(catalog, layout, rule), fmt.money)
    ws.write_formula(footer["pay_total"].row, pc, F.pay_total(layout), fmt.money_total)
    if "months_absent" in footer:  # from the roster; above the limit the card is 不参与
        r = footer["months_absent"].row
        _write_number(ws, r, pc, values.get("months_absent"), fmt.number)
        limit = min(x.above for x in role.exclude_if)
        ws.write_string(r, pc + 1, f"超过 {limit:g} 个月不参与", fmt.aside)
    ws.write_formula(footer["status"].row, pc, F.status(layout), fmt.status)
    for key in footer:
        if key.startswith("remark."):
            r = footer[key].row
            ws.merge_range(r, col("input") + 1, r, layout.width - 1, "", fmt.remark)
            ws.set_row(r, 48)
    for key, defined in (("total", "KPI_TOTAL"), ("grade", "KPI_GRADE"),
                         ("pay_total", "KPI_PAY"), ("status", "KPI_STATUS")):
        book.define_name(f"{q}!{defined}", f"={q}!{layout.footer_cell(key)}")

    # Conditional formatting: whole numbers, grade colours, status
    first = layout.blocks[0].first_row
    last_points = max(footer[k].row for k in ("subtotal", "adjust", "bonus", "deduction")
                      if k in footer)
    integer_cols = [pc] + ([col("event_points")] if "event_points" in layout.columns else [])
    for c in integer_cols:
        top_left = cell(first, c, absolute=False)
        ws.conditional_format(first, c, last_points, c, {
            "type": "formula", "criteria": f"=IF(ISNUMBER({top_left}),{top_left}=INT({top_left}),FALSE)",
            "format": fmt.integer})
    scheme = catalog.grade_scheme(role)
    grade_ref = layout.footer_cell("grade").replace("$", "")
    for k, tier in enumerate(scheme.tiers):
        colour = GRADE_COLOURS[min(k, len(GRADE_COLOURS) - 1) if k < len(scheme.tiers) - 1 else -1]
        ws.conditional_format(grade_ref, {"type": "cell", "criteria": "==",
                                          "value": f'"{tier.grade}"',
                                          "format": book.add_format({"bg_color": colour, "bold": True})})
    status_ref = layout.footer_cell("status").replace("$", "")
    ws.conditional_format(status_ref, {
        "type": "cell", "criteria": "==", "value": F.text(F.COMPLETE),
        "format": book.add_format({"bg_color": "#C6EFCE", "font_color": "#006100"})})
    for bad in (F.INCOMPLETE, F.BROKEN):
        ws.conditional_format(status_ref, {
            "type": "text", "criteria": "containing", "value": bad,
            "format": book.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})})

    # Signatures: one merged run of columns each, "label：________"
    sig_row = layout.signature_row
    col_widths = [width_of.get(c, 9) for c in range(layout.width)]
    for (c0, c1), signature in zip(_signature_groups(col_widths, role.signatures),
                                   role.signatures):
        text = _signature_text(signature, sum(_col_px(w) for w in col_widths[c0:c1 + 1]))
        if c1 > c0:
            ws.merge_range(sig_row, c0, sig_row, c1, text, fmt.signature)
        else:
            ws.write_string(sig_row, c0, text, fmt.signature)
    ws.set_row(sig_row - 1, 12)
    ws.set_row(sig_row, 34)

    # Print setup, protection
    ws.set_paper(9)  # A4
    ws.set_portrait()
    ws.set_h_pagebreaks(breaks)
    pages = len(breaks) + 1  # its own count: breaks placed here, each page's rows fit it
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0, TABLE_HEADER_ROW)
    ws.print_area(0, 0, sig_row, last_col)
    ws.set_margins(left=0.3, right=0.3, top=0.5, bottom=0.6)
    ws.set_start_page(1)  # each card counts its own pages, also when the whole book is printed
    ws.set_footer(f'&C&"等线,Regular"&11第 &P 页 / 共 {pages} 页')
    ws.center_horizontally()
    ws.hide_gridlines(2)
    ws.freeze_panes(TABLE_HEADER_ROW + 1, 0)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True,
                    "format_columns": True, "format_rows": True})


PRINTABLE_PT = (8.27 - 0.6) * 72, (11.69 - 1.1) * 72  # A4 portrait inside the margins


def planned_heights(ws, layout: SheetLayout, items: dict[int, float]) -> list[float]:
    """The height in points of every row of a card to its signatures: the rows set on ``ws``
    so far (the title, fields and header; XlsxWriter keeps pixels), the item rows, and the
    footer's and signatures' rows as the footer sets them."""
    info = ws.row_info
    planned = {r.row: (20.0 if key in FOOTER_STRONG else 48.0 if key.startswith("remark.") else FOOTER_ROW)
               for key, r in layout.footer.items()}
    planned.update({layout.signature_row - 1: 12.0, layout.signature_row: 34.0})
    planned.update(items)
    return [planned.get(r, info[r].height * 0.75 if r in info and info[r].height is not None else 15.0)
            for r in range(layout.signature_row + 1)]


def card_breaks(layout: SheetLayout, heights: list[float], width_px: float) -> list[int]:
    """The rows a card's pages start at, after the first: a page holds what fits at the
    card's print scale (fit to the page's width, never shrunk in height, so the text stays
    at its size), an item is never split, the signatures stay with the row above, and
    the title, fields and table header repeat on every page. The footer's "共 n 页" is then
    the card's own count (a spreadsheet's page count is the whole book's)."""
    # LibreOffice's columns come out about 5 % wider than 7 px a unit (measured on its PDFs)
    scale = min(1.0, PRINTABLE_PT[0] / (width_px * 0.75 * 1.05))
    room = PRINTABLE_PT[1] / scale * 0.92  # the footer's room, and the engines' rounding of heights
    head = sum(heights[:TABLE_HEADER_ROW + 1])
    starts = sorted({b.first_row for b in layout.blocks} | {r.row for r in layout.footer.values()}
                    | {layout.signature_row - 1})
    units = zip(starts, starts[1:] + [layout.signature_row + 1])
    breaks: list[int] = []
    used = sum(heights[:starts[0]])
    for first, end in units:
        height = sum(heights[first:end])
        if used + height > room and used > head:
            breaks.append(first)
            used = head
        used += height
    return breaks


def _grow(heights: dict[int, float], rows: range, need: float) -> None:
    """Spread the height a merged cell over ``rows`` still lacks evenly over those rows."""
    have = sum(heights[r] for r in rows)
    if need > have:
        extra = (need - have) / len(rows)
        for r in rows:
            heights[r] += extra
