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

from ..rules.loader import Catalog
from ..rules.model import Role
from . import formulas as F
from .files import atomic_output
from .layout import (FIELD_NAMES, HEADER_FIELDS, TABLE_HEADER_ROW, SheetLayout, cell,
                     sheet_layout)

ROSTER_SHEET, SETTINGS_SHEET = "名单", "设置"
FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
GRADE_COLOURS = ["#C6EFCE", "#DDEBF7", "#FFF2CC", "#FCE4D6", "#FFC7CE"]


def sheet_name(employee_id: str, name: str, taken: set[str]) -> str:
    """'工号 姓名', without Excel's forbidden characters, at most 31 characters, unique."""
    base = FORBIDDEN.sub("_", f"{employee_id} {name}").strip("'").strip() or "员工"
    base = base[:31]
    candidate, k = base, 2
    while candidate.lower() in taken or candidate in (ROSTER_SHEET, SETTINGS_SHEET):
        suffix = f"~{k}"
        candidate, k = base[:31 - len(suffix)] + suffix, k + 1
    taken.add(candidate.lower())
    return candidate


def quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


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
    formula: object
    total: object
    money: object
    section: object
    settings_input: object
    muted: object


def _formats(book: xlsxwriter.Workbook) -> Formats:
    base = {"font_name": "等线", "font_size": 10, "valign": "vcenter", "border": 1}
    f = lambda **kw: book.add_format({**base, **kw})  # noqa: E731
    unlocked = {"locked": False, "bg_color": "#FFFDE7"}
    return Formats(
        title=book.add_format({"font_name": "等线", "bold": True, "font_size": 16,
                               "align": "center", "valign": "vcenter"}),
        label=f(bold=True, bg_color="#F2F2F2", align="center"),
        value=f(align="left"),
        header=f(bold=True, bg_color="#D9E1F2", align="center", text_wrap=True),
        text=f(),
        wrap=f(text_wrap=True, font_size=9),
        number=f(num_format="0.##", align="center"),
        input=f(**unlocked, num_format="General", align="center"),
        input_pct=f(**unlocked, num_format="0.00%", align="center"),
        input_int=f(**unlocked, num_format="0", align="center"),
        formula=f(num_format="0.##", align="center", bg_color="#EDEDED"),
        total=f(bold=True, num_format="0.0", align="center", bg_color="#EDEDED"),
        money=f(num_format="#,##0.00", align="center", bg_color="#EDEDED"),
        section=f(bold=True, align="center", text_wrap=True),
        settings_input=f(**unlocked),
        muted=book.add_format({"font_color": "#BFBFBF", "font_size": 8}),
    )


def build_workbook(catalog: Catalog, roster: pd.DataFrame, month: str, out: Path | str,
                   force: bool = False) -> list[str]:
    """Write one workbook for ``roster`` (checked, canonical columns). Returns sheet names."""
    with atomic_output(Path(out), force=force) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"strings_to_numbers": False,
                                              "strings_to_formulas": False})
        fmt = _formats(book)
        roles = [catalog.roles[r] for r in dict.fromkeys(roster["role"])]
        _settings_sheet(book, catalog, roles, month, fmt)
        taken: set[str] = set()
        names = [sheet_name(str(e.employee_id), str(e["name"]), taken) for _, e in roster.iterrows()]
        _roster_sheet(book, catalog, roster, names, fmt)
        for (_, employee), name in zip(roster.iterrows(), names):
            role = catalog.roles[employee.role]
            _scorecard_sheet(book, catalog, sheet_layout(catalog, role), employee, month, name, fmt)
        book.close()
    return names


# ---------------------------------------------------------------------------------------


def _settings_sheet(book, catalog: Catalog, roles: list[Role], month: str, fmt: Formats) -> None:
    ws = book.add_worksheet(SETTINGS_SHEET)
    ws.set_column(0, 0, 22)
    ws.set_column(1, 3, 14)
    ws.write(0, 0, "设置 / Settings：修改此处的分数线与薪酬参数，所有考核表随之更新", fmt.title)
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
        ws.write(row, 0, f"等级方案：{scheme.label}（{scheme.id}）", fmt.label)
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
    done: set[str] = set()
    for role in roles:
        scheme = catalog.grade_scheme(role)
        for rule in catalog.role_pay_rules(role):
            key = F.pay_key(role, rule)
            if key in done:
                continue
            done.add(key)
            for param, label, value in F.pay_parameters(role, rule, scheme):
                ws.write_string(row, 0, rule.label + ("" if key == rule.id else f"（{role.name}）"),
                                fmt.text)
                ws.write_string(row, 1, label, fmt.text)
                ws.write_number(row, 2, value, fmt.settings_input)
                ws.write_string(row, 3, key, fmt.muted)
                book.define_name(F.pay_param_name(key, param), f"={quote(SETTINGS_SHEET)}!{cell(row, 2)}")
                row += 1
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})


def _roster_sheet(book, catalog: Catalog, roster: pd.DataFrame, names: list[str], fmt) -> None:
    ws = book.add_worksheet(ROSTER_SHEET)
    headers = ["工号", "姓名", "部门", "岗位", "岗位ID", "基本工资", "绩效基数Q", "全勤", "直接上级", "考核表"]
    ws.write_row(0, 0, headers, fmt.header)
    for i, ((_, e), name) in enumerate(zip(roster.iterrows(), names), start=1):
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
    ws.set_column(0, 2, 10)
    ws.set_column(3, 3, 26)
    ws.set_column(4, 4, 24)
    ws.set_column(5, 9, 11)
    ws.autofilter(0, 0, len(roster), len(headers) - 1)
    ws.freeze_panes(1, 0)


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
    return {"percent": fmt.input_pct, "count": fmt.input_int}.get(input_type, fmt.input)


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
        return {**common, "validate": "list", "source": [F.YES, F.NO],
                "error_message": "请选择 是 或 否"}
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


def _scorecard_sheet(book, catalog: Catalog, layout: SheetLayout, employee, month: str,
                     name: str, fmt: Formats) -> None:
    role = layout.role
    ws = book.add_worksheet(name)
    q = quote(name)
    last_col = layout.width - 1

    # Title and employee fields
    ws.merge_range(0, 0, 0, last_col - 1, f"{role.name}（{month}）", fmt.title)
    ws.write_string(0, last_col, role.id, fmt.muted)
    ws.set_row(0, 30)
    values = {"name": str(employee["name"]), "employee_id": str(employee.employee_id),
              "department": str(employee.department), "month": month, "role_name": role.name,
              "base_salary": employee.base_salary, "q_amount": employee.get("q_amount"),
              "full_attendance": _yes_no(employee.get("full_attendance"))}
    for field, label, r, c in HEADER_FIELDS:
        ws.write_string(r, c, label, fmt.label)
        v = values[field]
        if isinstance(v, str):
            ws.write_string(r, c + 1, v, fmt.value)
        else:
            _write_number(ws, r, c + 1, v, fmt.number)
    for field, defined in FIELD_NAMES.items():
        book.define_name(f"{q}!{defined}", f"={q}!{layout.fields[field]}")

    # Table header
    for col, (_, header) in enumerate(layout.headers):
        ws.write_string(TABLE_HEADER_ROW, col, header, fmt.header)
    ws.set_row(TABLE_HEADER_ROW, 28)
    widths = {"no": 5, "section": 10, "item": 14, "criteria": 34, "max": 7, "input": 18,
              "value": 10, "event_points": 9, "points": 8, "item_grade": 6, "note": 16}
    for key, col in layout.columns.items():
        ws.set_column(col, col, widths.get(key, 9))

    # Item blocks
    col = layout.col
    section_start: dict[str, int] = {}
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
        span(col("item"), item.label + ("（加减分）" if item.adjustment else ""), fmt.wrap)
        criteria = item.criteria + (f"【假设】{item.note}" if item.assumed and item.note else "")
        span(col("criteria"), criteria, fmt.wrap)
        if "alloc" in block.inputs:
            ic = block.inputs["alloc"]
            ws.write_blank(ic.row, ic.col, None, fmt.input)
            ws.data_validation(ic.row, ic.col, ic.row, ic.col, _validation(
                ic.spec, f"本月分配给该项的分值，默认 {ic.spec.input.default:g}，本维度合计应为 "
                         f"{block.section.allocation.total:g}"))
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
        for key, ic in block.inputs.items():
            if key == "alloc":
                continue
            spec = ic.spec
            label = spec.input.label + (f"（{spec.input.unit}）" if spec.input.unit and
                                        spec.input.unit not in spec.input.label else "")
            ws.write_string(ic.row, col("input"), label, fmt.text)
            ws.write_blank(ic.row, ic.col, None, _input_format(fmt, spec.input.type))
            ws.data_validation(ic.row, ic.col, ic.row, ic.col, _validation(spec, item.criteria))
            book.define_name(f"{q}!{ic.name}", f"={q}!{ic.ref}")
        for event_id, r in block.event_rows.items():
            ws.write_formula(r, col("event_points"), F.event_display(block, event_id), fmt.formula)
        section_start.setdefault(block.section.id, top)
        ws.set_row(top, 30 if bottom == top else None)

    # Sections: merged labels over their items
    for section in role.sections:
        rows = [b for b in layout.blocks if b.section is section]
        top, bottom = rows[0].first_row, rows[-1].last_row
        label = section.label + (f"\n（{section.weight:g}%）" if section.weight is not None else "")
        if bottom > top:
            ws.merge_range(top, col("section"), bottom, col("section"), label, fmt.section)
        else:
            ws.write_string(top, col("section"), label, fmt.section)

    # Footer
    pc = col("points")
    for key, row in layout.footer.items():
        ws.merge_range(row.row, 0, row.row, col("input"), row.label, fmt.label)
        for c in range(col("input") + 1, layout.width):
            ws.write_blank(row.row, c, None, fmt.text)
        if row.input is not None:
            ws.write_blank(row.row, row.input.col, None, _input_format(fmt, row.input.spec.input.type))
            ws.data_validation(row.row, row.input.col, row.row, row.input.col,
                               _validation(row.input.spec, ""))
            book.define_name(f"{q}!{row.input.name}", f"={q}!{row.input.ref}")
    footer = layout.footer
    ws.write_formula(footer["subtotal"].row, pc, F.subtotal(layout), fmt.formula)
    if "adjust" in footer:
        ws.write_formula(footer["adjust"].row, pc, F.adjust(layout), fmt.formula)
    if "bonus" in footer:
        bonus, deduction = F.bonus_deduction(layout)
        ws.write_formula(footer["bonus"].row, pc, bonus, fmt.formula)
        ws.write_formula(footer["deduction"].row, pc, deduction, fmt.formula)
    ws.write_formula(footer["total"].row, pc, F.total(layout), fmt.total)
    ws.write_formula(footer["grade"].row, pc, F.grade(catalog, layout), fmt.total)
    for rule in layout.pay_rules:
        ws.write_formula(footer[f"pay.{rule.id}"].row, pc, F.pay(catalog, layout, rule), fmt.money)
        if rule.kind in ("top_scorer_award",):
            ws.write_string(footer[f"pay.{rule.id}"].row, pc + 1, "月度报表计算", fmt.muted)
    ws.write_formula(footer["pay_total"].row, pc, F.pay_total(layout), fmt.money)
    ws.write_formula(footer["status"].row, pc, F.status(layout), fmt.total)
    for key in footer:
        if key.startswith("remark."):
            r = footer[key].row
            ws.merge_range(r, col("input") + 1, r, layout.width - 1, "", fmt.input)
    for key, defined in (("total", "KPI_TOTAL"), ("grade", "KPI_GRADE"),
                         ("pay_total", "KPI_PAY"), ("status", "KPI_STATUS")):
        book.define_name(f"{q}!{defined}", f"={q}!{layout.footer_cell(key)}")

    # Conditional formatting: grade colours, incomplete status
    scheme = catalog.grade_scheme(role)
    grade_ref = layout.footer_cell("grade").replace("$", "")
    for k, tier in enumerate(scheme.tiers):
        colour = GRADE_COLOURS[min(k, len(GRADE_COLOURS) - 1) if k < len(scheme.tiers) - 1 else -1]
        ws.conditional_format(grade_ref, {"type": "cell", "criteria": "==",
                                          "value": f'"{tier.grade}"',
                                          "format": book.add_format({"bg_color": colour, "bold": True})})
    ws.conditional_format(layout.footer_cell("status").replace("$", ""), {
        "type": "text", "criteria": "containing", "value": F.INCOMPLETE,
        "format": book.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})})

    # Signatures, print setup, protection
    sig_row = layout.signature_row
    per = max(1, layout.width // max(1, len(role.signatures)))
    for k, signature in enumerate(role.signatures):
        ws.write_string(sig_row, k * per, f"{signature}：", fmt.muted if False else None)
    ws.set_paper(9)  # A4
    ws.set_portrait()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0, TABLE_HEADER_ROW)
    ws.print_area(0, 0, sig_row, last_col - 0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.center_horizontally()
    ws.freeze_panes(TABLE_HEADER_ROW + 1, 0)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True,
                    "format_columns": True, "format_rows": True})
