"""The month's entry grid (录入表): every input of a book's scorecards on one sheet per role.

``kpi-workbook entry-sheet BOOK --out 录入表.xlsx`` writes, per role, one row per employee of
the book(s) and one column per input, headed as the card is — two header rows, 考核项目 over
its 输入项 (a rater's column as ``得分/主管``) — with the card's data validation, and the
inputs already on the cards filled in. A supervisor of twenty types the month into one grid
instead of twenty forms; ``fill BOOK --inputs 录入表.xlsx`` reads it back through the same
header resolution as any wide table (``fill.py``), every sheet, with the grid's month and
each row's 姓名 checked against the card.

The grid is known by the sheet-scoped name ``KPI_ENTRY_MONTH`` on its 说明 sheet, the cell
holding its month; it is read through the package layer (bounded, linear) like a scorecard.
Inputs fill works out itself are left out: a rank item's rank and team size (from its metric).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter

from ...diagnostics import Diagnostic, KpiError, error, warning
from ...kinds.inputs import InputSpec, input_specs
from ...numbers import is_blank, parse_month
from ...rules.loader import Catalog
from ...rules.model import RATER_LABELS, Role
from ...rules.names import job_title
from ..files import atomic_output
from ..xlsx.limits import check_xlsx
from ..xlsx.package import Book, column_letters, split_ref
from .build import _validation as card_validation
from .editable import open_editable
from .rows import InputRow, split_rater

GUIDE = "说明"
MONTH_NAME = "KPI_ENTRY_MONTH"
PERSON = ("工号", "姓名", "部门")
COMPUTED = ("rank", "team_size")
COLUMNS_PER_PAGE = 12  # input columns on one printed page (A4 landscape)  # a rank item's: fill ranks the team from its metric
_FORBIDDEN = str.maketrans({"/": "／", "\\": "＼", "?": "？", "*": "＊", "[": "【", "]": "】", ":": "："})


@dataclass(frozen=True)
class Person:
    employee_id: str
    name: str
    department: str
    values: dict[str, object]  # canonical key → what the card's input cell holds


@dataclass(frozen=True)
class EntryGrid:
    path: Path
    month: str
    sheets: tuple[tuple[str, str, int], ...]  # (sheet, role id, employees)
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def people(self) -> int:
        return sum(n for _, _, n in self.sheets)


def grid_inputs(catalog: Catalog, role: Role) -> list[InputSpec]:
    """The columns of a role's sheet: every input a person types, in card order."""
    return [s for s in input_specs(role, catalog.role_pay_rules(role))
            if not (s.item is not None and s.item.rule.kind == "rank" and s.input.id in COMPUTED)]


def headers(spec: InputSpec) -> tuple[str, str]:
    """(考核项目, 输入项) as the grid's two header rows show them; fill reads them back as
    ``考核项目/输入项[/评分人]``."""
    below = spec.input.label + (f"/{RATER_LABELS[spec.rater]}" if spec.rater else "")
    return spec.owner_label, below


def write_entry_grid(catalog: Catalog, books: list[Path], out: Path, force: bool = False) -> EntryGrid:
    """One sheet per role of the scorecards in ``books``; refuses a book set of several months."""
    diags: list[Diagnostic] = []
    by_role: dict[str, list[Person]] = {}
    months: set[str] = set()
    for path in books:
        book = open_editable(path)
        try:
            cards = book.scorecards()
            if not cards:
                diags.append(warning("no-scorecards", f"{path.name} 中没有考核表", f"{path.name} has no "
                                     "scorecard sheets", source=str(path)))
            for card in cards:
                role = catalog.roles.get(card.role_id)
                if role is None:
                    diags.append(error("unknown-role", f"工作表岗位 '{card.role_id}' 不存在，未列入录入表",
                                       f"sheet role '{card.role_id}' is unknown: left out of the grid",
                                       source=str(path), sheet=card.sheet))
                    continue
                get = lambda name: book.get(card.sheet, card.names[name]) if name in card.names else None  # noqa: E731
                month = get("KPI_MONTH")
                if not is_blank(month):
                    months.add(parse_month(month))
                values = {}
                for spec in grid_inputs(catalog, role):
                    name = f"KPI_IN_{spec.owner}__{spec.input.id}" + (f"__{spec.rater}" if spec.rater else "")
                    if name in card.names:
                        values[spec.key] = book.get(card.sheet, card.names[name])
                by_role.setdefault(role.id, []).append(Person(
                    card.employee_id, str(get("KPI_NAME") or ""), card.department, values))
        finally:
            book.close()
    if len(months) > 1:
        raise KpiError([error("several-months", f"这些考核表属于不同月份（{'、'.join(sorted(months))}）："
                              "每个月份做一张录入表", f"these scorecards are of several months "
                              f"({', '.join(sorted(months))}): make one grid per month")])
    if not by_role:
        raise KpiError([error("no-scorecards", "没有可列入录入表的考核表", "no scorecards to put in a grid",
                              source=", ".join(str(p) for p in books)), *diags])
    month = next(iter(months), "")
    sheets = _write(catalog, out, month, by_role, force)
    return EntryGrid(out, month, tuple(sheets), tuple(diags))


def _write(catalog: Catalog, out: Path, month: str, by_role: dict[str, list[Person]],
           force: bool) -> list[tuple[str, str, int]]:
    written: list[tuple[str, str, int]] = []
    with atomic_output(out, force=force) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"strings_to_numbers": False, "strings_to_formulas": False,
                                              "strings_to_urls": False})
        base = {"font_name": "等线", "font_size": 10, "valign": "vcenter", "border": 1}
        head = book.add_format({**base, "bold": True, "bg_color": "#D9E1F2", "align": "center",
                                "text_wrap": True})
        person = book.add_format({**base, "bg_color": "#F2F2F2", "num_format": "@"})
        kinds = {"percent": book.add_format({**base, "bg_color": "#FFFDE7", "num_format": "0.00%",
                                             "locked": False}),
                 "count": book.add_format({**base, "bg_color": "#FFFDE7", "num_format": "0", "locked": False})}
        plain = book.add_format({**base, "bg_color": "#FFFDE7", "locked": False})
        note = book.add_format({"font_name": "等线", "font_size": 10, "text_wrap": True, "valign": "top"})
        title = book.add_format({"font_name": "等线", "font_size": 14, "bold": True})

        guide = book.add_worksheet(GUIDE)
        taken = {GUIDE}
        names = []
        for role_id in by_role:
            names.append(_sheet_name(catalog.roles[role_id], taken))
        guide.set_column(0, 0, 34)
        guide.set_column(1, 1, 70)
        guide.write(0, 0, f"{month} 绩效数据录入表", title)
        guide.write(1, 0, "月份", head)
        guide.write_string(1, 1, month, person)
        book.define_name(f"'{GUIDE}'!{MONTH_NAME}", f"='{GUIDE}'!$B$2")
        lines = ("每个岗位一张表，每人一行，每个输入项一列；表头第一行是考核项目，第二行是输入项（与考核表上的一致）。",
                 "黄色格子可填写；下拉框和数值范围与考核表相同。已在考核表上填过的数据已经带出。",
                 "请勿修改工号、姓名和两行表头；不需要的列留空即可（留空不会清除考核表上已有的数据）。",
                 "填好后保存，由人事在主控工作簿点“导入数据”（把本表放进 <月份>/数据/）写入各人的考核表。")
        for k, line in enumerate(lines):
            guide.merge_range(3 + k, 0, 3 + k, 1, line, note)
            guide.set_row(3 + k, 28)
        guide.write(3 + len(lines) + 1, 0, "岗位", head)
        guide.write(3 + len(lines) + 1, 1, "人数", head)
        for k, (name, (role_id, people)) in enumerate(zip(names, by_role.items())):
            guide.write_url(4 + len(lines) + 1 + k, 0, f"internal:'{name}'!A1", string=name)
            guide.write_number(4 + len(lines) + 1 + k, 1, len(people))
        guide.set_paper(9)
        guide.fit_to_pages(1, 0)

        for name, (role_id, people) in zip(names, by_role.items()):
            role = catalog.roles[role_id]
            specs = grid_inputs(catalog, role)
            ws = book.add_worksheet(name)
            for j, label in enumerate(PERSON):
                ws.merge_range(0, j, 1, j, label, head)
            ws.set_column(0, 0, 9)
            ws.set_column(1, 2, 10)
            groups: list[tuple[str, int, int]] = []
            for k, spec in enumerate(specs):
                top, below = headers(spec)
                col = len(PERSON) + k
                if groups and groups[-1][0] == top and spec.owner == specs[k - 1].owner:
                    groups[-1] = (top, groups[-1][1], col)
                else:
                    groups.append((top, col, col))
                ws.write_string(1, col, below, head)
                ws.set_column(col, col, max(9.0, min(24.0, _width(below))))
            for top, first, last in groups:
                if first == last:
                    ws.write_string(0, first, top, head)
                else:
                    ws.merge_range(0, first, 0, last, top, head)
            ws.set_row(0, 30)
            ws.set_row(1, 45)
            for i, p in enumerate(people, start=2):
                ws.write_string(i, 0, p.employee_id, person)
                ws.write_string(i, 1, p.name, person)
                ws.write_string(i, 2, p.department, person)
                for k, spec in enumerate(specs):
                    fmt = kinds.get(spec.input.type, plain)
                    value = p.values.get(spec.key)
                    _write_value(ws, i, len(PERSON) + k, value, fmt)
            last_row = 1 + len(people)
            for k, spec in enumerate(specs):
                criteria = spec.item.criteria if spec.item is not None else ""
                ws.data_validation(2, len(PERSON) + k, max(last_row, 2), len(PERSON) + k,
                                   card_validation(spec, criteria))
            ws.freeze_panes(2, len(PERSON))
            ws.set_landscape()
            ws.set_paper(9)
            ws.fit_to_pages(math.ceil(len(specs) / COLUMNS_PER_PAGE) or 1, 0)  # readable, not squeezed
            ws.repeat_rows(0, 1)
            ws.repeat_columns(0, 1)
            written.append((name, role_id, len(people)))
        book.close()
    return written


def _write_value(ws, row: int, col: int, value, fmt) -> None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_string(row, col, "是" if value else "否", fmt)
    elif isinstance(value, (int, float)):
        ws.write_number(row, col, float(value), fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def _width(text: str) -> float:
    return sum(2.0 if ord(ch) > 0x2E7F else 1.1 for ch in text) / 2 + 2


def _sheet_name(role: Role, taken: set[str]) -> str:
    """The role's short name (来料检验员); where two roles share it, the form's name."""
    used = {t.lower() for t in taken}
    for text in (job_title(role), role.name):
        candidate = text.translate(_FORBIDDEN).strip("'").strip()[:31]
        if candidate and candidate.lower() not in used:
            break
    base, k = candidate or role.id, 2
    while candidate.lower() in used:
        candidate, k = f"{base[:28]}~{k}", k + 1
    taken.add(candidate)
    return candidate


# ---------------------------------------------------------------------------------------
# Reading it back (fill).


def is_entry_grid(path: Path) -> bool:
    """An .xlsx made by :func:`write_entry_grid` (its 说明 sheet names the month)."""
    if Path(path).suffix.lower() not in (".xlsx", ".xlsm") or not Path(path).is_file():
        return False
    check_xlsx(path)
    with Book.open(path) as book:
        return MONTH_NAME in book.names.get(GUIDE, {})


def read_entry_grid(path: Path) -> list[InputRow]:
    """Every filled cell of every role sheet, headed ``考核项目/输入项``, with the grid's month
    and each row's 姓名 (checked by fill against the card)."""
    path = Path(path)
    rows: list[InputRow] = []
    with Book.open(path) as book:
        month = book.sheet(GUIDE).contents.get(book.names[GUIDE][MONTH_NAME])
        for sheet in book.sheet_names:
            if sheet == GUIDE:
                continue
            cells = book.sheet(sheet).contents
            grid: dict[int, dict[int, object]] = {}
            for ref, value in cells.items():
                r, c = split_ref(ref)
                grid.setdefault(r, {})[c] = value
            top, below = grid.get(1, {}), grid.get(2, {})
            if not top or _text(top.get(1)) != PERSON[0]:
                raise KpiError([error("bad-grid", f"{path.name} 的“{sheet}”表 A1 应为“工号”：表头被改动",
                                      f"sheet '{sheet}' of {path.name}: A1 should be 工号 (the headers "
                                      "were changed)", source=str(path), sheet=sheet, cell="A1")])
            columns: dict[int, str] = {}
            above = ""
            for c in range(1, max([*top, *below]) + 1):
                upper, lower = _text(top.get(c)), _text(below.get(c))
                if upper:
                    above = upper
                elif lower:
                    upper = above  # under a merged 考核项目
                if not upper:
                    continue
                columns[c] = f"{upper}/{lower}" if lower else upper
            id_col = next(c for c, h in columns.items() if h == PERSON[0])
            name_col = next((c for c, h in columns.items() if h == PERSON[1]), None)
            for r in sorted(k for k in grid if k > 2):
                line = grid[r]
                employee = _text(line.get(id_col))
                if not employee:
                    continue
                for c, header in columns.items():
                    if header in PERSON or is_blank(line.get(c)):
                        continue
                    key, rater = split_rater(header)
                    rows.append(InputRow(employee, key, rater, line[c], r, header,
                                         line.get(name_col) if name_col else None, month, sheet))
    return rows


def _text(value) -> str:
    return "" if is_blank(value) else str(value).strip()


__all__ = ["EntryGrid", "write_entry_grid", "is_entry_grid", "read_entry_grid", "column_letters"]
