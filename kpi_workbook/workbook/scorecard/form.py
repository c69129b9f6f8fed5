"""The form of a scorecard sheet: every cell and every defined name its template gives it.

A sheet must match the form of the template version that built it (``KPI_TEMPLATE``,
versions.py). :func:`sheet_form` says, from the role's layout (layout.py), what each cell
of the sheet may hold:

- a **formula** cell holds the template's formula (validate.formula_findings compares it);
- an **input** cell holds what a supervisor types (reader.py checks the value);
- a **field** (name, department, base salary, …), a **label** (headings, criteria, the
  title, signatures) or a **note** (备注, the remark rows: free text) holds a value, never a
  formula;
- every other cell is not the template's: it stays empty.

and where each ``KPI_*`` name points. :func:`form_findings` checks one sheet as read (the
reader's single pass): a name moved, deleted, added, defined twice or pointing at another
sheet is an error naming the name and both cells (the engine reads through the names, so a
moved name would pay what the sheet does not show); a formula where the form has none, or a
cell larger than Excel allows, is an error; a value in a cell the form does not own is a
warning (nothing reads it). An error makes the card 错误: not graded, not paid. The findings
of one sheet are bounded (:data:`MAX_LISTED` cells, then one line saying how many more).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ...diagnostics import Diagnostic, error, warning
from ...limits import refuse
from ...limits import value as limit
from ...rules.loader import Catalog
from ...rules.model import TEAM_PAY_KINDS, Role
from .formulas import role_formulas
from .layout import FIELD_NAMES, HEADER_FIELDS, TABLE_HEADER_ROW, cell, sheet_layout
from .versions import TEMPLATE_NAME

FORMULA, INPUT, FIELD, LABEL, NOTE = "formula", "input", "field", "label", "note"
KPI_NAMES = {"total": "KPI_TOTAL", "grade": "KPI_GRADE", "pay_total": "KPI_PAY", "status": "KPI_STATUS"}
MAX_LISTED = 20  # cells listed one by one per sheet and kind; the rest in one line


@dataclass(frozen=True)
class SheetForm:
    cells: Mapping[str, str]  # cell (A1) → FORMULA, INPUT, FIELD, LABEL or NOTE
    names: Mapping[str, str]  # KPI_* name → its cell (A1)
    formulas: frozenset[str]  # the cells that may hold a formula: FORMULA (and INPUT, which
    # the reader checks itself: "an input cell holds a formula")

    def kind(self, ref: str) -> str | None:
        return self.cells.get(ref)


def sheet_form(catalog: Catalog, role: Role) -> SheetForm:
    """The form of ``role``'s sheet (made once per catalog and role; read-only)."""
    return catalog.derived("sheet_form", role, _form)


def _form(catalog: Catalog, role: Role) -> SheetForm:
    layout = sheet_layout(catalog, role)
    at = lambda r, c: cell(r, c, absolute=False)  # noqa: E731
    plain = lambda ref: ref.replace("$", "")  # noqa: E731
    cells: dict[str, str] = {}
    names: dict[str, str] = {}
    last_col = layout.width - 1
    col = layout.col

    cells[at(0, 0)] = LABEL  # the title
    for field, name in FIELD_NAMES.items():
        if field in layout.fields:
            names[name] = plain(layout.fields[field])
            cells[names[name]] = FIELD
    names[TEMPLATE_NAME] = at(0, last_col + 1)  # the version's stamp, in a hidden column
    cells[names[TEMPLATE_NAME]] = FIELD
    for field, _, r, c in HEADER_FIELDS:
        cells[at(r, c)] = LABEL
        cells[at(r, c + 1)] = FIELD  # role_name has no name, but is the employee's
    for c in range(layout.width):
        cells[at(TABLE_HEADER_ROW, c)] = LABEL
    for block in layout.blocks:
        top = block.first_row
        for key in ("no", "item", "criteria", "max"):
            cells[at(top, col(key))] = LABEL
        if "item_grade" in layout.columns:
            cells[at(top, col("item_grade"))] = LABEL
        for r in range(top, block.last_row + 1):
            cells[at(r, col("note"))] = NOTE
        for key, ic in block.inputs.items():
            if key != "alloc":
                cells[at(ic.row, col("input"))] = LABEL
    for block in layout.blocks:  # a section's label, again on each page it runs onto
        for r in range(block.first_row, block.last_row + 1):
            cells[at(r, col("section"))] = LABEL
    pc = col("points")
    for key, row in layout.footer.items():
        cells[at(row.row, 0)] = LABEL
        if key.startswith("remark."):
            cells[at(row.row, col("input") + 1)] = NOTE
    for rule in layout.pay_rules:
        if rule.kind in TEAM_PAY_KINDS:  # "月度报表计算"
            cells[at(layout.footer[f"pay.{rule.id}"].row, pc + 1)] = LABEL
    if "months_absent" in layout.footer:  # the roster's value, and the rule beside it
        cells[at(layout.footer["months_absent"].row, pc + 1)] = LABEL
    for c in range(layout.width):  # the signature lines, wherever the builder spreads them
        cells[at(layout.signature_row, c)] = LABEL
    for ic in layout.inputs:
        cells[plain(ic.ref)] = INPUT
        names[ic.name] = plain(ic.ref)
    for ref in role_formulas(catalog, role):
        cells[ref] = FORMULA
    for key, name in KPI_NAMES.items():
        names[name] = plain(layout.footer_cell(key))
    return SheetForm(MappingProxyType(cells), MappingProxyType(names),
                     frozenset(ref for ref, kind in cells.items() if kind in (FORMULA, INPUT)))


def _shown(value, width: int = 40) -> str:
    text = str(getattr(value, "text", value))
    return text if len(text) <= width else text[:width] + "…"


def name_findings(form: SheetForm, names: Mapping[str, str], repeated: Mapping[str, list[str]],
                  elsewhere: Mapping[str, str], broken: list[str], **where) -> list[Diagnostic]:
    """Every ``KPI_*`` name of the sheet against the form: ``names`` as read (name → cell),
    ``repeated`` (name → every cell it was defined at), ``elsewhere`` (name → the other
    sheet it points into), ``broken`` (names pointing nowhere, reported by the reader)."""
    if names == form.names and not repeated and not elsewhere:
        return []  # the common case: one comparison
    unpaid_zh, unpaid_en = "考核表为错误，不评等级、不计薪酬", "the card is in error, not graded or paid"
    out: list[Diagnostic] = []
    for name, want in form.names.items():
        got = names.get(name)
        if name in elsewhere:
            out.append(error("name-elsewhere",
                             f"名称 {name} 指向另一张工作表的 {elsewhere[name]}，模板中应在本表 {want}：{unpaid_zh}",
                             f"defined name {name} points at {elsewhere[name]} on another sheet; the template "
                             f"puts it at {want} on this sheet: {unpaid_en}", cell=want, **where))
        elif name in repeated:
            cells = "、".join(repeated[name])
            out.append(error("name-duplicated",
                             f"名称 {name} 被定义了 {len(repeated[name])} 次（{cells}），模板中只在 {want}：{unpaid_zh}",
                             f"defined name {name} is defined {len(repeated[name])} times ({', '.join(repeated[name])}); "
                             f"the template defines it once, at {want}: {unpaid_en}", cell=want, **where))
        elif got is None:
            if name in broken or name.startswith("KPI_IN_"):
                continue  # reported by the reader (a broken name; a missing input cell name)
            out.append(error("name-deleted", f"名称 {name} 被删除（模板中在 {want}）：{unpaid_zh}",
                             f"defined name {name} was deleted (the template puts it at {want}): {unpaid_en}",
                             cell=want, **where))
        elif got != want:
            out.append(error("name-moved", f"名称 {name} 指向 {got}，模板中应在 {want}：{unpaid_zh}",
                             f"defined name {name} points at {got}; the template puts it at {want}: {unpaid_en}",
                             cell=got, **where))
    for name, got in names.items():
        if name not in form.names and name.upper().startswith("KPI_"):
            out.append(error("name-added", f"名称 {name}（指向 {got}）不是模板的名称：{unpaid_zh}",
                             f"defined name {name} (at {got}) is not one of the template's names: {unpaid_en}",
                             cell=got, **where))
    return out


def oversized(contents: Mapping[str, object]) -> dict[str, int]:
    """Cells holding more than Excel allows (text, or a formula): cell → characters. One
    pass over the sheet's cells, in a comprehension (it runs for every card)."""
    text_max, formula_max = limit("cell_text_chars"), limit("formula_chars")
    return {ref: len(v) for ref, v in contents.items()
            if v.__class__ is str and len(v) > formula_max and (len(v) > text_max or v[:1] == "=")}


def cell_findings(form: SheetForm, contents: Mapping[str, object], formula_cells, too_large: Mapping[str, int],
                  **where) -> list[Diagnostic]:
    """Every cell of the sheet against the form: a cell too large, a formula where the form
    has none, a value in a cell the form does not own (at most MAX_LISTED of each kind).
    ``formula_cells``: the cells that hold a formula (the package's cached results' keys)."""
    kinds = form.cells
    unknown = contents.keys() - kinds.keys()  # set operations: this runs for every card
    misplaced = formula_cells - form.formulas
    if not (too_large or unknown or misplaced):
        return []
    order = {ref: k for k, ref in enumerate(contents)}  # the sheet's order, for the listing
    formulas = sorted((ref for ref in misplaced if ref not in too_large and ref in contents), key=order.__getitem__)
    values = sorted((ref for ref in unknown if ref not in too_large and ref not in formula_cells),
                    key=order.__getitem__)
    out: list[Diagnostic] = []
    text_max, formula_max = limit("cell_text_chars"), limit("formula_chars")
    for ref, n in list(too_large.items())[:MAX_LISTED]:
        out.append(error("cell-too-large",
                         f"{ref} 有 {n:,} 个字符，超过 Excel 单元格的上限（文字 {text_max:,}、公式 {formula_max:,}）："
                         "内容未读取，考核表为错误，不评等级、不计薪酬",
                         f"{ref} holds {n:,} characters, more than an Excel cell may ({text_max:,} of text, "
                         f"{formula_max:,} of formula): not read; the card is in error, not graded or paid",
                         cell=ref, **where))
    for ref in formulas[:MAX_LISTED]:
        kind = kinds.get(ref)
        what_zh = {NOTE: "备注只能填文字", FIELD: "此处应为数值或文字", LABEL: "此处是模板的文字"}.get(
            kind or "", "模板在此处没有单元格")
        what_en = {NOTE: "a note holds text only", FIELD: "this cell holds a value",
                   LABEL: "this cell holds the template's text"}.get(kind or "", "the template has no cell here")
        out.append(error("unknown-formula",
                         f"{ref} 有公式 {_shown(contents[ref])}，而{what_zh}：考核表为错误，不评等级、不计薪酬",
                         f"{ref} holds the formula {_shown(contents[ref])}, but {what_en}: the card is in "
                         "error, not graded or paid", cell=ref, **where))
    for ref in values[:MAX_LISTED]:
        out.append(warning("unknown-cell",
                           f"{ref} 不属于模板，却有内容 {_shown(contents[ref])}：请清空",
                           f"{ref} is not part of the template but holds {_shown(contents[ref])}: clear it",
                           cell=ref, **where))
    more = sum(max(len(found) - MAX_LISTED, 0) for found in (too_large, formulas, values))
    if more:
        out.append(warning("more-cells", f"另有 {more:,} 个不属于模板的单元格未逐一列出",
                           f"{more:,} more cells that are not the template's are not listed one by one",
                           **where))
    return out


# --- how big a book of these sheets is -----------------------------------------------------

BOOK_SHEETS = 3  # 设置, 名单, 说明 beside the scorecards
SHEET_BYTES_MAX = 200_000  # no sheet of a role is this big (the largest is about 60 KB)
ROSTER_ROW_BYTES = 1_000  # a row of 名单 and its defined names, at most
FIXED_BYTES = 256 * 1024  # 设置, 说明, styles and the package's other parts, at most


def sheet_cells(catalog: Catalog, role: Role) -> int:
    """At most how many cells a sheet of ``role`` holds as written (every cell of its table
    and the stamp's column, as the readers count them: empty styled cells too)."""
    layout = sheet_layout(catalog, role)
    return (layout.signature_row + 1) * (layout.width + 1)


@dataclass(frozen=True)
class SheetCost:
    cells: int  # the sheet's cells as the readers count them
    bytes: int  # its part inflated, and its defined names in the workbook part


def sheet_cost(catalog: Catalog, role: Role) -> SheetCost:
    """What one sheet of ``role`` costs the readers, measured on a sheet written by ``new``
    itself (once per catalog and role): exact where :func:`sheet_cells` is a bound."""
    return catalog.derived("sheet_cost", role, _measure)


def _measure(catalog: Catalog, role: Role) -> SheetCost:
    import tempfile
    from pathlib import Path

    import pandas as pd

    from ..xlsx.package import Book
    from .build import build_workbook

    one = pd.DataFrame([{"employee_id": "E00000000", "name": "员工" * 8, "department": "部门" * 8,
                         "role": role.id, "base_salary": 99999.99, "q_amount": 99999.99,
                         "full_attendance": True, "supervisor": "", "months_absent": 0}])
    with tempfile.TemporaryDirectory(prefix="kpi-measure-") as tmp:
        path = Path(tmp) / "one.xlsx"
        build_workbook(catalog, one, "2026-01", path)
        with Book.open(path) as book:
            title = book.sheet_names[BOOK_SHEETS]
            data = book.read(book.parts[title])
            index = book.sheet_names.index(title)
            names = sum(len(n) + len(body) + 40 for n, local, body in book.defined if local == index)
    return SheetCost(data.count(b"<c "), len(data) + names)


def book_size(catalog: Catalog, roles) -> tuple[int, int]:
    """(sheets, cells at most) of a scorecard book for these employees' roles (one role id
    each): the quick bound, no sheet written."""
    counts: dict[str, int] = {}
    for role_id in roles:
        counts[role_id] = counts.get(role_id, 0) + 1
    people = sum(counts.values())
    cells = sum(n * sheet_cells(catalog, catalog.roles[r]) for r, n in counts.items())
    cells += (people + 1) * 10 + 2_000  # 名单, 设置 and 说明
    return people + BOOK_SHEETS, cells


def _measured_size(catalog: Catalog, counts: dict[str, int]) -> tuple[int, int]:
    """(cells, inflated bytes at most) of the book, from one measured sheet per role."""
    people = sum(counts.values())
    costs = {r: sheet_cost(catalog, catalog.roles[r]) for r in counts}
    cells = sum(n * costs[r].cells for r, n in counts.items()) + (people + 1) * 10 + 2_000
    size = sum(n * (costs[r].bytes + costs[r].bytes // 100 + 512) for r, n in counts.items())
    return cells, size + people * ROSTER_ROW_BYTES + FIXED_BYTES


def refuse_big_books(catalog: Catalog, books, split_by: str | None) -> None:
    """Before ``new`` writes anything: refuse a book the readers would refuse — more sheets,
    cells or inflated bytes than the table of limits allows — with the way around it
    (``--split-by 部门``, or a finer split). The quick bounds decide most rosters; one near a
    limit has a sheet of each of its roles written and measured first."""
    sheets_max, cells_max, bytes_max = limit("sheets"), limit("cells"), limit("book_mb") << 20
    for path, part in books:
        sheets, cells = book_size(catalog, part["role"])
        size = sheets * SHEET_BYTES_MAX + FIXED_BYTES
        what, bound = "", 0
        if sheets > sheets_max:
            what, bound = "sheets", sheets
        elif cells > cells_max or size > bytes_max:
            counts = part["role"].value_counts().to_dict()
            cells, size = _measured_size(catalog, counts)
            if cells > cells_max:
                what, bound = "cells", cells
            elif size > bytes_max:
                what, bound = "book_mb", size >> 20
        if not what:
            continue
        unit_zh, unit_en = {"sheets": ("张工作表", "sheets"), "cells": ("个单元格", "cells"),
                            "book_mb": ("MB（解压后）", "MB inflated")}[what]
        if split_by:
            way = ("请换更细的拆分（如 --split-by 直接上级），或分几次生成",
                   "split it finer (e.g. --split-by 直接上级), or make it in parts")
        else:
            way = ("请用 --split-by 部门 --out-dir 文件夹，每个部门一个工作簿",
                   "use --split-by 部门 --out-dir FOLDER: one workbook per department")
        raise refuse("too-large", f"{path.name} 将有 {len(part):,} 张考核表、约 {bound:,} {unit_zh}，"
                     "一个工作簿放不下（读取时会被拒绝），未生成任何文件",
                     f"{path.name} would hold {len(part):,} scorecards, about {bound:,} {unit_en}: more "
                     "than one workbook may (it would be refused when read); nothing was written",
                     what, way=way, source=str(path))


def writer_findings(catalog: Catalog, card, get, package=None) -> list[Diagnostic]:
    """For a command that writes through the names (fill): ``card``'s ``KPI_*`` names against
    the form of the template version that built it (``get(ref)`` reads a cell of its sheet;
    ``package`` the opened book, for names defined twice or into another sheet). A card
    built by a version no longer known gives nothing here: the readers say so."""
    from .versions import current, registry

    role = catalog.roles.get(card.role_id)
    if role is None:
        return []
    ref = card.names.get(TEMPLATE_NAME)
    version = str(get(ref) or "").strip() if ref else ""
    own = catalog if not version or version == current(catalog, role.id) else registry(catalog).get(
        (role.id, version))
    if own is None:
        return []
    return name_findings(sheet_form(own, own.roles[role.id]), card.names,
                         package.repeated.get(card.sheet, {}) if package is not None else {},
                         package.elsewhere.get(card.sheet, {}) if package is not None else {},
                         package.broken.get(card.sheet, []) if package is not None else [],
                         source=str(card.path), sheet=card.sheet)
