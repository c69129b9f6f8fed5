"""Read scorecards back from workbooks, through their defined names only.

A scorecard is any sheet with the names KPI_EMPLOYEE_ID and KPI_ROLE; its inputs are the
KPI_IN_* names. Nothing is located by position, so a renamed sheet still reads. Problems
(unparseable or out-of-range values, error values, broken names) become diagnostics with
file, sheet and cell; a workbook that cannot be opened at all is one error.
"""

from __future__ import annotations

import functools
import math
import operator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...diagnostics import Diagnostic, KpiError, error, info
from ...kinds.inputs import InputSpec, input_specs, parse_value
from ...kinds.base import card_flag
from ...numbers import ParseError, clean_round, is_blank, number_text, parse_flag, parse_money, parse_month, parse_number
from ...rules.loader import Catalog
from ..xlsx.package import Book, column_number, split_ref
from ..xlsx.limits import check_file, check_xlsx
from .form import cell_findings, name_findings, oversized, sheet_form
from .settings import read_settings
from .versions import TEMPLATE_NAME, registry
from .versions import current as template_of

KPI_OUTPUTS = ("KPI_TOTAL", "KPI_GRADE", "KPI_PAY", "KPI_STATUS")


@dataclass
class Card:
    path: Path
    sheet: str
    employee_id: str
    role_id: str
    names: dict[str, str]  # defined name → cell (A1, no $)
    fields: dict[str, object] = field(default_factory=dict)  # employee fields, parsed
    values: dict[str, float] = field(default_factory=dict)  # canonical key → parsed value
    cells: dict[str, str] = field(default_factory=dict)  # canonical key → cell
    contents: dict[str, object] = field(default_factory=dict)  # cell → what it holds now
    cached: dict[str, object] = field(default_factory=dict)  # KPI_* cached values, if any
    sheet_cells: dict[str, object] = field(default_factory=dict)  # every non-empty cell now
    # the catalog this card is scored with: its template version's rules with its book's 设置
    catalog: Catalog | None = None
    template: str = ""  # the fingerprint of the template version that built it (KPI_TEMPLATE)
    template_unknown: bool = False  # built by a version this kpi-workbook no longer has

    @property
    def department(self) -> str:
        return str(self.fields.get("department") or "")


def open_book(path: Path, data_only: bool = False, read_only: bool = True):
    """Open a workbook to read it. Read-only mode skips styles and merged-cell binding,
    which is most of openpyxl's load time on formatted scorecards."""
    import openpyxl  # here: the report reads through package.py and never imports it

    from ..xlsx.limits import DAMAGED

    check_xlsx(path)
    try:
        return openpyxl.load_workbook(path, data_only=data_only, read_only=read_only,
                                      keep_vba=path.suffix.lower() == ".xlsm")
    except DAMAGED as exc:
        raise KpiError([error("unreadable", f"无法读取工作簿 {path.name}：{exc}",
                              f"cannot read workbook {path.name}: {exc}", source=str(path))]) from None


class SheetCells(dict):
    """A sheet read once: {"A1": value or "=formula"} of its non-empty cells; a missing
    cell reads None."""

    def __init__(self, title: str, contents: dict[str, object]):
        super().__init__(contents)
        self.title = title

    def __getitem__(self, ref: str):
        return self.get(ref)


def open_package(path: Path) -> Book:
    """The book at ``path``, opened once through the package layer (bounded, linear)."""
    check_file(path)  # not a zip at all: encrypted, old .xls, a looping link
    return Book.open(path)


@dataclass
class BookRead:
    """What one pass over a book gives: its scorecards, their findings, and the rows of
    any other sheets asked for (e.g. 名单) — the book is opened and scanned once."""

    cards: list[Card]
    diagnostics: list[Diagnostic]
    sheets: dict[str, list[list[object]]] = field(default_factory=dict)


def read_workbook(catalog: Catalog, path: Path | str, with_cached: bool = True,
                  sheets: tuple[str, ...] = ()) -> BookRead:
    path = Path(path)
    with open_package(path) as package:
        others = [t for t in dict.fromkeys(sheets) if t in package.sheet_names]
        cards, diags, read = _read_cards(catalog, path, package, with_cached, others)
        diags += _book_settings(cards, path, package)
        rows = {title: _rows(read[title].contents) for title in others}
    if not cards and not any(d.code in ("broken-sheet", "unknown-role") for d in diags):
        diags.append(error("no-scorecards", f"{path.name} 中没有考核表（不是 kpi-workbook new 生成的工作簿，"
                                            "或名称被删除）",
                           f"{path.name} has no scorecard sheet (not made by `kpi-workbook new`, "
                           "or its names were removed)", source=str(path)))
    return BookRead(cards, diags, rows)


def read_book(catalog: Catalog, path: Path | str, with_cached: bool = True) -> tuple[
        list[Card], list[Diagnostic]]:
    read = read_workbook(catalog, path, with_cached)
    return read.cards, read.diagnostics


def _read_cards(catalog: Catalog, path: Path, package: Book, with_cached: bool,
                others: list[str] | tuple[str, ...] = ()):
    """The scorecards of the book, their findings, and the sheets read: the cards' and
    ``others`` (e.g. 名单), read in one batch, so that a big book's go on every core."""
    cards: list[Card] = []
    diags: list[Diagnostic] = []
    titles = [t for t in package.sheet_names
              if {"KPI_EMPLOYEE_ID", "KPI_ROLE"} & package.names.get(t, {}).keys()]
    datas = package.sheets(list(dict.fromkeys(titles + list(others))))
    for title in titles:
        names, broken = package.names.get(title, {}), package.broken.get(title, [])
        data = datas[title]
        # cells larger than Excel allows are never read: reported once the form is known
        too_large = oversized(data.contents) if data.long_text else {}
        ws = SheetCells(title, {k: v for k, v in data.contents.items() if k not in too_large}
                        if too_large else data.contents)
        where = {"source": str(path), "sheet": title}
        for name in broken:
            diags.append(error("broken-name", f"名称 {name} 已损坏（#REF!），相关单元格可能被删除",
                               f"defined name {name} is broken (#REF!): its cell was deleted", **where))
        if "KPI_EMPLOYEE_ID" not in names or "KPI_ROLE" not in names:
            diags.append(error("broken-sheet", "考核表缺少 KPI_EMPLOYEE_ID 或 KPI_ROLE 名称",
                               "scorecard sheet lacks KPI_EMPLOYEE_ID or KPI_ROLE", **where))
            continue
        role_id = str(ws[names["KPI_ROLE"]] or "").strip()
        employee_id = str(ws[names["KPI_EMPLOYEE_ID"]] or "").strip()
        if role_id not in catalog.roles:
            diags.append(error("unknown-role", f"未知岗位 '{role_id}'", f"unknown role '{role_id}'",
                               cell=names["KPI_ROLE"], **where))
            continue
        card = Card(path, title, employee_id, role_id, names, sheet_cells=ws)
        diags += _read_fields(card, ws)
        found = _template_version(catalog, card, ws, where)
        diags += found
        if card.template_unknown:  # its inputs are not this catalog's: one error says so
            cards.append(card)
            continue
        assert card.catalog is not None  # set by _template_version
        # the sheet against its template's form: names where the layout puts them, no cell
        # the template does not know (form.py), in this same pass
        form = sheet_form(card.catalog, card.catalog.roles[role_id])
        if names != form.names or title in package.repeated or title in package.elsewhere:
            diags += name_findings(form, names, package.repeated.get(title, {}),
                                   package.elsewhere.get(title, {}), broken, **where)
        if too_large or not (data.contents.keys() <= form.cells.keys() and data.cached.keys() <= form.formulas):
            diags += cell_findings(form, data.contents, data.cached.keys(), too_large, **where)
        diags += _read_inputs(card.catalog, card, ws)
        if with_cached:  # what each KPI cell shows: a formula's cached result, or a typed value
            card.cached = {n: data.cached[names[n]] if names[n] in data.cached
                           else data.contents.get(names[n]) for n in KPI_OUTPUTS if n in names}
        cards.append(card)
    return cards, diags, datas


def _template_version(catalog: Catalog, card: Card, ws, where) -> list[Diagnostic]:
    """Which template version built the sheet, and the catalog of its rules. A sheet with no
    KPI_TEMPLATE (built before fingerprints) is taken as of the current version."""
    card.catalog = catalog
    ref = card.names.get(TEMPLATE_NAME)
    card.template = str(ws[ref] or "").strip() if ref else ""
    if not card.template:
        return []
    current = template_of(catalog, card.role_id)
    if card.template == current:
        return []
    version = registry(catalog).get((card.role_id, card.template))
    if version is None:
        card.template_unknown = True
        return [error("template-unknown",
                      f"本表由模板版本 {card.template} 生成，本 kpi-workbook 已没有该版本（现行版本 {current}），"
                      "无法按其规则检查与计分：考核表为错误，不评等级、不计薪酬；请用 new 重新生成",
                      f"built from template version {card.template}, which this kpi-workbook no longer has "
                      f"(current: {current}); it cannot be checked or scored, so the card is in error: "
                      "rebuild it with `new`", cell=card.names.get("KPI_ROLE", ""), **where)]
    card.catalog = version
    return [info("template-older",
                 f"本表由较早的模板版本 {card.template} 生成（现行版本 {current}）：按该版本的规则检查与计分；"
                 "用 new 重新生成可改用现行模板",
                 f"built from an older template (version {card.template}, current {current}): checked and "
                 "scored with that version's rules; rebuild with `new` to use the current template",
                 cell=card.names.get("KPI_ROLE", ""), **where)]


def _book_settings(cards: list[Card], path: Path, package: Book) -> list[Diagnostic]:
    """Each card's catalog with its book's 设置 in place (settings.py), read once per
    template version present; the findings on 设置, each once."""
    groups: dict[int, list[Card]] = {}
    for card in cards:
        if card.catalog is not None:
            groups.setdefault(id(card.catalog), []).append(card)
    out: list[Diagnostic] = []
    for group in groups.values():
        base = group[0].catalog
        assert base is not None  # grouped by their catalog above
        roles = [base.roles[r] for r in dict.fromkeys(c.role_id for c in group)]
        book_catalog, found = read_settings(base, package, str(path), roles)
        for card in group:
            card.catalog = book_catalog
        out += [d for d in found if d not in out]
    return out


def _rows(contents: dict[str, object]) -> list[list[object]]:
    """The cells as rows (A1 first), None where no cell is: each cell's place as
    ``split_ref`` gives it (its letters' column worked out once per column)."""
    if not contents:
        return []
    columns: dict[str, int] = {}
    places: list[tuple[int, int, object]] = []
    for ref, value in contents.items():
        digits = ref.lstrip(_LETTERS)
        letters = ref[:len(ref) - len(digits)]
        if letters and digits.isdigit() and digits.isascii():  # "B3": nearly every cell
            column = columns.get(letters)
            if column is None:
                column = columns[letters] = column_number(letters)
            places.append((int(digits), column, value))
        else:
            places.append((*split_ref(ref), value))
    width = max(c for _, c, _ in places)
    rows: list[list[object]] = [[None] * width for _ in range(max(r for r, _, _ in places))]
    for r, c, value in places:
        if r > 0 and c > 0:  # a place split_ref gives outside the sheet (row 0): no cell
            rows[r - 1][c - 1] = value
    return rows


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def sheet_values(path: Path, title: str) -> list[list[object]] | None:
    """The rows of one sheet as a spreadsheet shows them (a formula's cached result in its
    place), or None when the book has no such sheet: how reports and histories are read."""
    with open_package(path) as package:
        if title not in package.sheet_names:
            return None
        data = package.sheet(title)
    return _rows({**data.contents, **data.cached})


def sheet_rows(path: Path, title: str) -> list[list[object]]:
    """The values of one sheet as rows (A1 first), e.g. to read 名单 without openpyxl."""
    with open_package(path) as package:
        if title not in package.sheet_names:
            return []
        return _rows(package.sheet(title).contents)


FIELDS = {"KPI_NAME": "name", "KPI_DEPARTMENT": "department", "KPI_MONTH": "month",
          "KPI_BASE_SALARY": "base_salary", "KPI_Q_AMOUNT": "q_amount",
          "KPI_FULL_ATTENDANCE": "full_attendance", "KPI_MONTHS_ABSENT": "months_absent"}


def _read_fields(card: Card, ws) -> list[Diagnostic]:
    diags = []
    card.fields = {"employee_id": card.employee_id}
    for name, field_name in FIELDS.items():
        ref = card.names.get(name)
        value = ws[ref] if ref else None
        if field_name in ("base_salary", "q_amount", "months_absent"):
            found = text_in_number(ref, value, False, *FIELD_LABELS[field_name], source=str(
                card.path), sheet=card.sheet) if (ref is not None and isinstance(value, str)
                                                  and not is_blank(value)) else None
            if found is not None:
                diags.append(found)
                card.fields[field_name] = math.nan
                continue
            try:
                value = math.nan if is_blank(value) else parse_money(value)
            except ParseError as exc:
                diags.append(error("bad-field", f"{field_name}：{exc.zh}", f"{field_name}: {exc.en}",
                                   source=str(card.path), sheet=card.sheet, cell=ref))
                value = math.nan
        elif field_name == "month":
            try:
                value = "" if is_blank(value) else _month_text(value) if type(value) is str and \
                    len(value) <= 40 else parse_month(value)
            except ParseError as exc:
                diags.append(error("bad-field", f"月份单元格：{exc.zh}", f"the month cell: {exc.en}",
                                   source=str(card.path), sheet=card.sheet, cell=ref))
                value = ""
        elif field_name == "full_attendance":
            found = not_yes_no(ref, value, "全勤", "full attendance", source=str(card.path),
                               sheet=card.sheet) if ref is not None else None  # no cell: blank
            if found is not None:
                diags.append(found)
                value = None
            else:
                value = None if is_blank(value) else parse_flag(value)
        else:
            value = "" if value is None else str(value).strip()
        card.fields[field_name] = value
    return diags


@functools.lru_cache(maxsize=256)
def _month_text(text: str) -> str:
    """parse_month of a month's text, worked out once (every card of a book has the same;
    a text it refuses is not kept: it raises each time)."""
    return parse_month(text)


NUMBER_TYPES = ("number", "percent", "count", "points")
FIELD_LABELS = {"base_salary": ("基本工资", "base salary"), "q_amount": ("绩效基数Q", "Q amount"),
                "months_absent": ("缺岗月数", "months absent")}


def text_in_number(ref: str, raw: str, percent: bool, label: str = "", label_en: str = "",
                   **where) -> Diagnostic | None:
    """A number cell of a workbook holding text ("38%" pasted as text): the sheet's formulas
    cannot score it the way the engine would (Excel converts such text in arithmetic, but
    never calls it a number), so it is an error, never read leniently as in JSON/CSV.
    None when the text is no number at all (that is a plain bad value)."""
    shown = raw.strip()
    try:
        number = parse_number(shown, percent=percent)
    except ParseError:
        return None
    if percent:
        hint_zh = f"请输入数字 {number_text(number)} 或 {number_text(clean_round(number * 100, 9))}%"
        hint_en = f"type it as a number ({number_text(number)} or {number_text(clean_round(number * 100, 9))}%)"
    else:
        hint_zh = f"请输入数字 {number_text(number)}"
        hint_en = f"type it as a number ({number_text(number)})"
    what = f"（{label}）" if label else ""
    what_en = f" ({label_en or label})" if label_en or label else ""
    return error("text-in-number", f"{ref} 是文本“{shown}”，{hint_zh}{what}",
                 f"{ref} holds the text '{shown}': {hint_en}{what_en}", cell=ref, **where)


def not_yes_no(ref: str, raw, label: str = "", label_en: str = "", **where) -> Diagnostic | None:
    """A yes/no cell of a workbook holding anything but an answer the sheet's formulas read
    (kinds.base.card_flag: 是/否, 有/无, Y/N, 1/0, √/✓, ×/✗) or nothing — "x", a number,
    TRUE: an error naming the cell, never read leniently."""
    if raw is None or (isinstance(raw, str) and raw == "") or card_flag(raw) is not None:
        return None
    what = f"（{label}）" if label else ""
    what_en = f" ({label_en or label})" if label_en or label else ""
    return error("bad-value", f"{ref} 应为 是/否、有/无、Y/N、1/0、√/✓ 或 ×/✗，得到“{raw}”：请从列表中选择{what}",
                 f"{ref} must be 是/否, 有/无, Y/N, 1/0, √/✓ or ×/✗, got '{raw}': pick it from the list{what_en}",
                 cell=ref, **where)


def _input_name(spec: InputSpec) -> str:
    return f"KPI_IN_{spec.owner}__{spec.input.id}" + (f"__{spec.rater}" if spec.rater else "")


_SPECS: dict[tuple[int, str], tuple] = {}


def _role_specs(catalog: Catalog, role_id: str) -> tuple:
    """A role's input specs and their cells' names, made once per catalog and role (every
    card of a role reads the same inputs)."""
    key = (id(catalog), role_id)
    hit = _SPECS.get(key)
    if hit is None or hit[0] is not catalog:
        role = catalog.roles[role_id]
        specs = input_specs(role, catalog.role_pay_rules(role))
        hit = _SPECS[key] = (catalog, tuple((s, _input_name(s), _number_range(s)) for s in specs))
    return hit[1]


def _number_range(spec: InputSpec) -> tuple[float, float, bool] | None:
    """(lowest, highest, whole numbers only) of a number input, as ``parse_value`` checks
    them (±inf where the input sets no bound), or None for any other input."""
    d = spec.input
    if d.type not in NUMBER_TYPES:
        return None
    low = 0 if d.type in ("count", "points") and d.min is None else d.min
    return (-math.inf if low is None else low, math.inf if d.max is None else d.max, d.type == "count")


_WHOLE = 2**53  # an int cell below it in size is a float exactly (parse_number's float())


def _read_inputs(catalog: Catalog, card: Card, ws) -> list[Diagnostic]:
    diags = []
    where = {"source": str(card.path), "sheet": card.sheet}
    for spec, name, number in _role_specs(catalog, card.role_id):
        ref = card.names.get(name)
        if ref is None:
            diags.append(error("missing-name", f"缺少输入单元格名称 {name}（{spec.label_path()}）",
                               f"input cell name {name} is missing", **where))
            continue
        card.cells[spec.key] = ref
        raw = ws.get(ref)
        card.contents[ref] = raw
        if raw is None:  # an empty cell: nothing to check (is_blank, parse_value's first step)
            card.values[spec.key] = math.nan
            continue
        kind = type(raw)
        if number is not None and (kind is float or (kind is int and -_WHOLE < raw < _WHOLE)):
            # a number typed in a number cell (nearly every input): what parse_value gives
            # when it is finite, in range and whole where it must be; else parse_value says why
            value = float(raw)
            if value - value == 0.0 and number[0] <= value <= number[1] and (not number[2] or value.is_integer()):
                card.values[spec.key] = value
                continue
        try:
            if isinstance(raw, str) and raw.startswith("="):
                raise ParseError("输入单元格里是公式", "an input cell holds a formula")
            if isinstance(raw, str) and raw.strip().startswith("#"):
                raise ParseError(f"错误值 {raw}", f"error value {raw}")
            found = text_in_number(ref, raw, spec.input.type == "percent", spec.label_path(),
                                   spec.key, **where) if isinstance(raw, str) and not is_blank(raw) \
                and spec.input.type in NUMBER_TYPES else None
            if spec.input.type == "flag":
                found = not_yes_no(ref, raw, spec.label_path(), spec.key, **where)
            if isinstance(raw, str) and is_blank(raw) and spec.input.type in (*NUMBER_TYPES, "flag"):
                found = error("bad-value", f"{ref} 只有空格（文本），请清空该单元格（{spec.label_path()}）",
                              f"{ref} holds only spaces (text): clear the cell ({spec.key})",
                              cell=ref, **where)
            if found is not None:
                card.values[spec.key] = math.nan
                diags.append(found)
                continue
            card.values[spec.key] = parse_value(spec, raw)
        except ParseError as exc:
            card.values[spec.key] = math.nan
            diags.append(error("bad-value", f"{spec.label_path()}：{exc.zh}",
                               f"{spec.label_path()}: {exc.en}", cell=ref, **where))
    return diags


def card_arrays(cards: list[Card], keys) -> dict[str, np.ndarray]:
    """Input arrays for a role's cards, keyed by canonical key (NaN where empty or bad)."""
    keys = list(keys)
    if len(keys) < 2 or not cards:
        return {k: np.array([c.values.get(k, math.nan) for c in cards], dtype=float) for k in keys}
    take = operator.itemgetter(*keys)  # one C call per card, when it has every key (the usual)
    rows = []
    for c in cards:
        try:
            rows.append(take(c.values))
        except KeyError:
            rows.append(tuple(c.values.get(k, math.nan) for k in keys))
    table = np.array(rows, dtype=float).reshape(len(cards), len(keys))
    return {k: np.ascontiguousarray(table[:, j]) for j, k in enumerate(keys)}
