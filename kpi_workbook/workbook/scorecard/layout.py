"""Where everything sits on a role's scorecard sheet.

One pure function, :func:`sheet_layout`, computes every cell of a role's sheet: header
fields, each item's block of rows (one row per input), rater columns, and the footer
(合计, 加减分, 总分, 等级, pay, 状态). The builder writes from it, the formula generator
refers to it, and the readers (fill, validate, report) use the defined names it declares,
so no tool ever guesses a position.

Layouts are frozen (their mappings read-only) and kept beside the catalog they were made
from (:meth:`Catalog.derived`): a layout is shared by every sheet of its role, so nobody
may write into it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from ...kinds.inputs import InputSpec, input_specs, is_rated
from ...rules.loader import Catalog
from ...rules.model import RATER_LABELS, TEAM_PAY_KINDS, Item, PayRule, Role, Section

HEADER_ROWS = 4  # title, two rows of employee fields, a spacer
TABLE_HEADER_ROW = HEADER_ROWS  # 0-based row of the column headers


def cell(row: int, col: int, absolute: bool = True) -> str:
    return xl_rowcol_to_cell(row, col, row_abs=absolute, col_abs=absolute)


def _frozen(mapping: dict) -> Mapping:
    return MappingProxyType(mapping)


@dataclass(frozen=True)
class InputCell:
    spec: InputSpec
    row: int
    col: int

    @property
    def ref(self) -> str:
        return cell(self.row, self.col)

    @property
    def name(self) -> str:
        """The sheet-scoped defined name: KPI_IN_<item>__<input>[__<rater>]."""
        name = f"KPI_IN_{self.spec.owner}__{self.spec.input.id}"
        return f"{name}__{self.spec.rater}" if self.spec.rater else name


@dataclass(frozen=True)
class ItemBlock:
    section: Section
    item: Item
    first_row: int
    last_row: int
    inputs: Mapping[str, InputCell] = field(default_factory=dict)  # by input id (+ .rater)
    event_rows: Mapping[str, int] = field(default_factory=dict)  # event id → row
    max_cell: str = ""  # the 配分 cell (an input cell under an allocation)

    def input(self, input_id: str, rater: str | None = None) -> InputCell:
        return self.inputs[f"{input_id}.{rater}" if rater else input_id]


@dataclass(frozen=True)
class FooterRow:
    key: str  # e.g. "subtotal", "total", "grade", "pay.<rule>", "pay_total", "status"
    label: str
    row: int
    input: InputCell | None = None  # pay inputs: the cell where it is typed


@dataclass(frozen=True)
class SheetLayout:
    role: Role
    pay_rules: tuple[PayRule, ...]
    columns: Mapping[str, int]  # column key → 0-based column
    headers: tuple[tuple[str, str], ...]  # (column key, header text) in order
    fields: Mapping[str, str]  # employee field → value cell (absolute ref)
    blocks: tuple[ItemBlock, ...]
    footer: Mapping[str, FooterRow]
    inputs: tuple[InputCell, ...]
    last_row: int
    signature_row: int

    @property
    def width(self) -> int:
        return len(self.headers)

    def col(self, key: str) -> int:
        return self.columns[key]

    def points_cell(self, block: ItemBlock) -> str:
        return cell(block.first_row, self.col("points"))

    def footer_cell(self, key: str) -> str:
        return cell(self.footer[key].row, self.col("points"))

    def block(self, item_id: str) -> ItemBlock:
        return next(b for b in self.blocks if b.item.id == item_id)


# Employee fields on the header rows: (field, label, row, label column); the value sits in
# the next column. Row 1 and 2 (0-based) below the title.
HEADER_FIELDS = (
    ("name", "姓名", 1, 0), ("employee_id", "工号", 1, 2), ("department", "部门", 1, 4),
    ("month", "月份", 1, 6),
    ("role_name", "岗位", 2, 0), ("base_salary", "基本工资", 2, 2), ("q_amount", "绩效基数Q", 2, 4),
    ("full_attendance", "全勤", 2, 6),
)
FIELD_NAMES = {"employee_id": "KPI_EMPLOYEE_ID", "name": "KPI_NAME", "department": "KPI_DEPARTMENT",
               "month": "KPI_MONTH", "base_salary": "KPI_BASE_SALARY", "q_amount": "KPI_Q_AMOUNT",
               "full_attendance": "KPI_FULL_ATTENDANCE", "role_id": "KPI_ROLE",
               "months_absent": "KPI_MONTHS_ABSENT"}  # the last only where a role excludes


def sheet_layout(catalog: Catalog, role: Role) -> SheetLayout:
    """The layout of ``role`` (computed once per catalog and role, kept beside the catalog:
    it is pure)."""
    return catalog.derived("sheet_layout", role, _layout)


def _layout(catalog: Catalog, role: Role) -> SheetLayout:
    pay_rules = catalog.role_pay_rules(role)
    specs = input_specs(role, pay_rules)
    has_events = any(it.rule.kind == "events" for _, it in role.items())
    has_item_grades = any(it.grade_scheme for _, it in role.items())

    headers = [("no", "序号"), ("section", "考核维度"), ("item", "考核项目"),
               ("criteria", "考核标准"), ("max", "权重%" if role.max_style == "percent" else "配分"),
               ("input", "输入项"), ("value", "实际值")]
    if role.raters:
        headers += [(f"rater.{r.id}", r.title) for r in role.raters.raters]
    if has_events:
        headers.append(("event_points", "扣分/奖分"))
    headers.append(("points", "得分"))
    if has_item_grades:
        headers.append(("item_grade", "等级"))
    headers.append(("note", "备注/纪要"))
    columns = _frozen({key: i for i, (key, _) in enumerate(headers)})

    fields = {f: cell(r, c + 1) for f, _, r, c in HEADER_FIELDS}
    fields["role_id"] = cell(0, len(headers) - 1)

    blocks: list[ItemBlock] = []
    inputs: list[InputCell] = []
    by_owner: dict[str, list[InputSpec]] = {}
    for s in specs:
        by_owner.setdefault(s.owner, []).append(s)

    row = TABLE_HEADER_ROW + 1
    for section, item in role.items():
        owned = by_owner.get(item.id, [])
        lines: list[list[InputSpec]] = []  # one sheet row per input (rated inputs share one)
        alloc = None
        for s in owned:
            if s.input.id == "alloc":
                alloc = s
            elif s.rater:
                if not lines or lines[-1][0].input.id != s.input.id:
                    lines.append([])
                lines[-1].append(s)
            else:
                lines.append([s])
        block_inputs: dict[str, InputCell] = {}
        event_rows: dict[str, int] = {}
        if alloc is not None:
            ic = InputCell(alloc, row, columns["max"])
            block_inputs["alloc"] = ic
            inputs.append(ic)
        for offset, line in enumerate(lines):
            r = row + offset
            for s in line:
                col = columns[f"rater.{s.rater}"] if s.rater else columns["value"]
                ic = InputCell(s, r, col)
                block_inputs[f"{s.input.id}.{s.rater}" if s.rater else s.input.id] = ic
                inputs.append(ic)
            if item.rule.kind == "events":
                event_rows[line[0].input.id] = r
        block = ItemBlock(section, item, row, row + max(len(lines), 1) - 1,
                          _frozen(block_inputs), _frozen(event_rows), cell(row, columns["max"]))
        blocks.append(block)
        row = block.last_row + 1

    footer: dict[str, FooterRow] = {}

    def add(key: str, label: str, spec: InputSpec | None = None) -> None:
        nonlocal row
        typed = InputCell(spec, row, columns["value"]) if spec is not None else None
        if typed is not None:
            inputs.append(typed)
        footer[key] = FooterRow(key, label, row, typed)
        row += 1

    add("subtotal", "合计")
    if any(it.adjustment for _, it in role.items()):
        add("adjust", "加减分")
    if has_events or any(r.kind == "point_value" for r in pay_rules):
        add("bonus", "奖分合计")
        add("deduction", "扣分合计")
    add("total", "总分")
    add("grade", "等级")
    for rule in pay_rules:
        for s in by_owner.get(rule.id, []):
            add(f"payin.{rule.id}.{s.input.id}", s.input.label, s)
        add(f"pay.{rule.id}", rule.label)
    team = any(r.kind in TEAM_PAY_KINDS for r in pay_rules)  # the report adds them: not in this total
    add("pay_total", "绩效工资/奖金合计（不含部门奖励）" if team else "绩效工资/奖金合计")
    if role.exclude_if:  # S9: the roster's 缺岗月数, shown where the status depends on it
        add("months_absent", "缺岗月数")
        fields["months_absent"] = cell(footer["months_absent"].row, columns["points"])
    add("status", "状态")
    for remark in role.remarks:
        add(f"remark.{remark}", remark)
    signature_row = row + 1
    return SheetLayout(role, tuple(pay_rules), columns, tuple(headers), _frozen(fields),
                       tuple(blocks), _frozen(footer), tuple(inputs), signature_row, signature_row)


def rater_label(rater: str) -> str:
    return RATER_LABELS[rater]


def col_letter(col: int) -> str:
    return xl_col_to_name(col)


def input_cells_by_key(layout: SheetLayout) -> dict[str, InputCell]:
    return {ic.spec.key: ic for ic in layout.inputs}


def rated(role: Role, item: Item) -> bool:
    return is_rated(role, item)
