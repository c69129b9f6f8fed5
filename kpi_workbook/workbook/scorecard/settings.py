"""设置 is the month's rule book: the grade thresholds and pay parameters a workbook holds.

The builder writes them on the 设置 sheet under defined names (GRADE_<scheme>_MIN_<k>,
GRADE_<scheme>_NAME_<k>, PAY_<key>_<PARAM>: formulas.py) and every scorecard formula reads
them there, so HR may edit one and the sheets follow. ``read_settings`` reads those cells
from the package already opened (the book is not opened again) and returns the catalog that
book's cards are scored with — the template's, with the book's values in place (frozen
models changed by ``model_copy(update=)``) — and its findings: an info finding for every
value that differs from the template, an error naming the cell for a missing or broken one
(sheet deleted, name deleted, text or an error value, thresholds out of order). Errors are
book-level: every card of that book is 错误, not graded and not paid (report.py).

The values are parsed and checked from the sheet's cells, {"C12": value} (:func:`parse_settings`),
wherever they come from: ``read_settings`` finds each cell by the book's defined names;
``read_settings_values`` (the worksheet functions, given 设置 as a range of values) finds it by
the heading of its grade scheme and the key of its pay rule, as the builder lays the sheet out.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from ...diagnostics import Diagnostic, error, info
from ...numbers import number_text
from ...rules.loader import Catalog
from ...rules.model import PARAMETER_RANGES, GradeScheme, PayRule, Role
from ...words import SETTINGS_SHEET
from . import formulas as F
from ..xlsx.package import Book, column_letters, single_cell

# the codes of book-level errors: each one makes every card of its book 错误
SETTINGS_ERRORS = ("settings-missing", "settings-broken")


@dataclass(frozen=True)
class Setting:
    """One cell of 设置 the formulas read: its defined name, what the template says, how to
    say which value it is, and where it goes in the catalog."""

    name: str
    template: object  # a number, or a grade's name (text)
    zh: str  # "B 档下限"
    en: str  # "the minimum of B"
    target: tuple  # ("min", scheme id, k) | ("name", scheme id, k) | ("pay", role id, rule id, field, grade)
    key: str = ""  # the pay rule's settings key (column D of its rows); "" for a grade's cells


def scheme_heading(scheme: GradeScheme) -> str:
    """The heading of a grade scheme's block on 设置 (the builder writes it; :func:`locate`
    finds the block by it)."""
    return f"等级方案：{scheme.label}（{scheme.id}）"


# Where the builder puts each value on 设置 (build._settings_sheet): a scheme's tiers start two
# rows below its heading, the grade's name in A and its minimum in C; each pay parameter is a
# row with its value in C and its rule's settings key in D.
NAME_COLUMN, VALUE_COLUMN, KEY_COLUMN, TIERS_BELOW_HEADING = "A", "C", "D", 2


def expected(catalog: Catalog, roles: list[Role], also: tuple[GradeScheme, ...] = ()) -> list[Setting]:
    """Every setting the builder writes for ``roles``, in the 设置 sheet's order (and those
    of the grade schemes ``also``)."""
    out: list[Setting] = []
    schemes: dict[str, GradeScheme] = {r.grade_scheme: catalog.grade_schemes[r.grade_scheme] for r in roles}
    for role in roles:
        for _, item in role.items():
            if item.grade_scheme:
                schemes[item.grade_scheme] = catalog.grade_schemes[item.grade_scheme]
    schemes.update((scheme.id, scheme) for scheme in also)
    for scheme in schemes.values():
        for k, tier in enumerate(scheme.tiers):
            out.append(Setting(F.grade_name_name(scheme, k), tier.grade, f"第 {k + 1} 档等级名称",
                               f"the name of grade {k + 1}", ("name", scheme.id, k)))
            if tier.min is not None:
                out.append(Setting(F.grade_min_name(scheme, k), tier.min, f"{tier.grade} 档下限",
                                   f"the minimum of {tier.grade}", ("min", scheme.id, k)))
    for role, rule, key, scheme, param, label, value in F.pay_parameter_rows(catalog, roles):
        field, grade = _field(param, scheme)
        who = "" if key == rule.id else f"（{role.name}）"
        out.append(Setting(F.pay_param_name(key, param), value, f"{rule.label}{who}：{label}",
                           f"{rule.label_en or rule.id} {param}",
                           ("pay", role.id if key != rule.id else "", rule.id, field, grade), key))
    return out


def _field(param: str, scheme: GradeScheme) -> tuple[str, str | None]:
    """The pay rule's field a 设置 parameter holds: amount_<k> is amounts[grade k]."""
    if param.startswith("amount_"):
        return "amounts", scheme.tiers[int(param.removeprefix("amount_")) - 1].grade
    return param, None


def read_settings(catalog: Catalog, package: Book, source: str, roles: list[Role]) -> tuple[
        Catalog, list[Diagnostic]]:
    """The catalog the book's cards of ``roles`` are scored with, and the findings on 设置."""
    if not roles:
        return catalog, []
    wanted = expected(catalog, roles)
    where = {"source": source, "sheet": SETTINGS_SHEET}
    if SETTINGS_SHEET not in package.sheet_names:
        return catalog, [error(
            "settings-missing", "工作簿缺少“设置”工作表（已被删除）：等级与薪酬无法计算，本工作簿的考核表均为错误，"
            "不评等级、不计薪酬；请用 new 重新生成或恢复该工作表",
            "the workbook has no 设置 sheet (deleted): grades and pay cannot be worked out, so every "
            "scorecard of this book is in error, not graded or paid; rebuild it with `new` or restore the sheet",
            **where)]
    names = {n: body for n, local_id, body in package.defined if local_id is None}
    data = package.sheet(SETTINGS_SHEET)
    diags: list[Diagnostic] = []
    cells: dict[str, str] = {}
    for s in wanted:
        body = names.get(s.name)
        if body is None:
            diags.append(error("settings-missing", f"设置缺少名称 {s.name}（{s.zh}）：名称被删除，无法计算，"
                               "本工作簿的考核表均为错误",
                               f"设置 lacks the name {s.name} ({s.en}): it was deleted, so every scorecard "
                               "of this book is in error", **where))
            continue
        ref = single_cell(body)
        if ref is None or ref[0] != SETTINGS_SHEET:
            diags.append(error("settings-broken", f"设置的名称 {s.name}（{s.zh}）已损坏：{body[:40]}，"
                               "本工作簿的考核表均为错误",
                               f"the name {s.name} of 设置 ({s.en}) is broken: {body[:40]}; every "
                               "scorecard of this book is in error", **where))
            continue
        cells[s.name] = ref[1]
    return parse_settings(catalog, wanted, cells, data.contents, data.cached, where, diags)


def parse_settings(catalog: Catalog, wanted: list[Setting], cells: dict[str, str],
                   contents: Mapping[str, object], cached: Mapping[str, object], where: dict,
                   diags: list[Diagnostic] | None = None) -> tuple[Catalog, list[Diagnostic]]:
    """The catalog with the values of 设置 in place, and the findings, from the sheet's cells:
    ``contents`` {"C12": value or "=formula"}, ``cached`` the formulas' results, ``cells``
    {setting's name: its cell} (found by the book's defined names, or by :func:`locate`)."""
    diags = list(diags or [])
    values: dict[str, object] = {}
    for s in wanted:
        if s.name not in cells:
            continue  # not found: its finding is in diags already
        cell = cells[s.name]
        raw = contents.get(cell)
        formula = isinstance(raw, str) and raw.startswith("=")
        if formula:
            raw = cached.get(cell)
        problem = _bad(s, raw) if not (formula and raw is None) else (
            f"是公式 {str(contents[cell])[:40]}，尚未计算（请在 Excel/WPS 中打开并保存，或直接输入数字）",
            f"holds the formula {str(contents[cell])[:40]}, never calculated (open and save it in Excel/WPS, "
            "or type the number)")
        if problem is not None:
            zh, en = problem
            sep = "" if zh.endswith("？") else "："
            diags.append(error("settings-broken", f"设置 {cell}（{s.zh}）{zh}{sep}本工作簿的考核表均为错误，"
                               "不评等级、不计薪酬",
                               f"设置 {cell} ({s.en}) {en}{'' if en.endswith('?') else ':'} every scorecard of "
                               "this book is in error, not graded or paid", cell=cell, **where))
            continue
        values[s.name] = raw
    diags += _order(catalog, wanted, values, cells, where)
    changed = [s for s in wanted if s.name in values and not _same(values[s.name], s.template)]
    for s in changed:
        new = values[s.name]
        if s.target[0] == "name":  # grade names drive pay and warnings: not an edit 设置 takes
            diags.append(error("settings-broken", f"设置 {cells[s.name]} 的等级名称被改为“{new}”（模板为“{s.template}”）："
                               "等级名称决定薪酬与预警，只能在模板中修改；请改回，本工作簿的考核表均为错误",
                               f"设置 {cells[s.name]}: the grade name was changed to '{new}' (the template's "
                               f"is '{s.template}'); grade names drive pay and warnings and are changed in the "
                               "templates only: change it back (every scorecard of this book is in error)",
                               cell=cells[s.name], **where))
            continue
        diags.append(info("settings-changed", f"本月设置与模板不同：{s.zh} {_shown(s.template)} → {_shown(new)}",
                          f"设置 differs from the template: {s.en} from {_shown(s.template)} to {_shown(new)}",
                          cell=cells[s.name], **where))
    # a number wherever the target is not a grade's name (_bad refused anything else)
    edits = {s.target: float(cast(float, values[s.name])) for s in changed if s.target[0] != "name"}
    return (_applied(catalog, edits) if edits else catalog), diags


def read_settings_values(catalog: Catalog, contents: Mapping[str, object], roles: list[Role],
                         also: tuple[GradeScheme, ...] = (), source: str = "") -> tuple[
        Catalog, list[Diagnostic]]:
    """:func:`read_settings` from the values of a 设置 sheet, {"C12": value} (already
    calculated: what a worksheet function is given, see :func:`contents_of`), without the
    book's defined names: each value is found by its scheme's heading or its rule's key."""
    wanted = expected(catalog, roles, also)
    where = {"source": source, "sheet": SETTINGS_SHEET}
    cells, diags = locate(contents, wanted, where)
    return parse_settings(catalog, wanted, cells, contents, {}, where, diags)


def contents_of(rows, origin: tuple[int, int] = (1, 1)) -> dict[str, object]:
    """{"A1": value} of a range's values (a list of rows) whose top-left cell is ``origin``
    (row, column, from 1); empty cells (None) are left out, as in a sheet's contents."""
    top, left = origin
    letters = [column_letters(left + j) for j in range(max((len(r) for r in rows), default=0))]
    return {f"{letters[j]}{top + i}": value for i, row in enumerate(rows)
            for j, value in enumerate(row) if value is not None}


_REF_PARTS = re.compile(r"([A-Z]{1,3})([0-9]+)")
_HEADING_ID = re.compile(r"^等级方案：.*（([^（）]+)）\s*$")


def _marks(contents: Mapping[str, object]) -> tuple[dict[str, int], dict[str, list[int]]]:
    """(scheme id → its heading's row, settings key → the rows of its parameters)."""
    headings: dict[str, int] = {}
    keys: dict[str, list[int]] = {}
    for ref, value in contents.items():
        parts = _REF_PARTS.fullmatch(ref)
        if parts is None or not isinstance(value, str):
            continue
        column, row = parts.group(1), int(parts.group(2))
        heading = _HEADING_ID.match(value) if column == NAME_COLUMN else None
        if heading is not None:
            headings.setdefault(heading.group(1), row)
        elif column == KEY_COLUMN:
            keys.setdefault(value.strip(), []).append(row)
    for rows in keys.values():
        rows.sort()
    return headings, keys


def holds_settings(contents: Mapping[str, object]) -> bool:
    """Whether these are the cells of a scorecard book's 设置 (it has a grade scheme's
    heading), not of another sheet of that name (the HR master workbook has one)."""
    return bool(_marks(contents)[0])


def locate(contents: Mapping[str, object], wanted: list[Setting], where: dict) -> tuple[
        dict[str, str], list[Diagnostic]]:
    """{setting's name: its cell} as the builder lays 设置 out, found by the headings and
    keys the sheet shows; an error for each scheme or pay rule it does not have."""
    headings, keys = _marks(contents)
    cells: dict[str, str] = {}
    diags: list[Diagnostic] = []
    taken: dict[str, int] = {}
    for s in wanted:
        if s.target[0] in ("min", "name"):
            scheme_id, k = s.target[1], s.target[2]
            row = headings.get(scheme_id)
            if row is not None:
                column = NAME_COLUMN if s.target[0] == "name" else VALUE_COLUMN
                cells[s.name] = f"{column}{row + TIERS_BELOW_HEADING + k}"
            elif k == 0 and s.target[0] == "name":  # once per scheme
                diags.append(error(
                    "settings-missing", f"设置中没有等级方案 {scheme_id} 的分数线（找不到“等级方案：…（{scheme_id}）”）：无法评等级",
                    f"设置 has no thresholds of the grade scheme {scheme_id} (no heading '等级方案：…（{scheme_id}）'): "
                    "cannot grade", **where))
            continue
        i = taken[s.key] = taken.get(s.key, -1) + 1
        rows = keys.get(s.key, [])
        if i < len(rows):
            cells[s.name] = f"{VALUE_COLUMN}{rows[i]}"
        elif i == len(rows):  # once per rule
            diags.append(error(
                "settings-missing", f"设置中没有薪酬参数 {s.zh}（{KEY_COLUMN} 列应为 {s.key}）：无法计算薪酬",
                f"设置 lacks the pay parameter {s.en} (column {KEY_COLUMN} should say {s.key}): cannot work out pay",
                **where))
    return cells, diags


_APPLIED: dict[tuple, tuple[Catalog, Catalog]] = {}


def _applied(catalog: Catalog, edits: dict[tuple, float]) -> Catalog:
    """:func:`apply`, one catalog for books with the same edits (the report scores the month
    once per distinct catalog)."""
    key = (id(catalog), tuple(sorted(edits.items(), key=repr)))
    hit = _APPLIED.get(key)
    if hit is None or hit[0] is not catalog:
        hit = _APPLIED[key] = (catalog, apply(catalog, edits))
    return hit[1]


def _bad(s: Setting, raw) -> tuple[str, str] | None:
    if s.target[0] == "name":
        if not isinstance(raw, str) or not raw.strip() or raw.startswith("#"):
            return f"应为等级名称，得到 {_shown(raw)}", f"should hold a grade's name, got {_shown(raw)}"
        return None
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return "为空，请输入数字", "is empty: type a number"
    if isinstance(raw, str) and raw.startswith("#"):
        return f"是错误值 {raw}", f"holds the error value {raw}"
    if isinstance(raw, str):
        return f"是文本“{raw}”，请输入数字", f"holds the text '{raw}': type it as a number"
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw):
        return f"不是数字：{_shown(raw)}", f"is not a number: {_shown(raw)}"
    bounds = PARAMETER_RANGES.get(s.target[3]) if s.target[0] == "pay" else None
    if bounds is not None and not bounds.fits(float(raw)):
        return _out_of_range(s, float(raw), bounds)
    return None


def _out_of_range(s: Setting, value: float, bounds) -> tuple[str, str]:
    """'比例 10 超出 0–1：是否应为 10% / 0.1？' — what is wrong, and what was likely meant."""
    shown = _shown(value)
    if bounds.kind == "ratio" and 1 < value <= 100:
        meant = number_text(value / 100)
        return (f"{shown} 超出 {bounds.text()}：是否应为 {shown}% / {meant}？",
                f"{shown} is outside {bounds.text()}: did you mean {shown}% (= {meant})?")
    if value < bounds.low:
        return f"为负数 {shown}，超出 {bounds.text()}", f"is negative ({shown}), outside {bounds.text()}"
    if bounds.whole and not value.is_integer():
        return f"{shown} 须为整数", f"{shown} must be a whole number"
    return (f"{shown} 超出 {bounds.text()}，不可信，请核对", f"{shown} is outside {bounds.text()}: implausible, "
            "check it")


def _order(catalog: Catalog, wanted: list[Setting], values: dict, cells: dict, where) -> list[Diagnostic]:
    """Each grade's minimum above the next one's: thresholds out of order grade wrongly."""
    out = []
    mins = [s for s in wanted if s.target[0] == "min"]
    for s, t in zip(mins, mins[1:]):
        if s.target[1] != t.target[1] or s.name not in values or t.name not in values:
            continue
        if not values[s.name] > values[t.name]:
            tiers = catalog.grade_schemes[s.target[1]].tiers
            a, b = tiers[s.target[2]].grade, tiers[t.target[2]].grade
            out.append(error(
                "settings-broken",
                f"设置 {cells[t.name]}：{b} 档下限 {_shown(values[t.name])} 不低于 {a} 档下限 "
                f"{_shown(values[s.name])}（{cells[s.name]}），分数线须从高到低：本工作簿的考核表均为错误",
                f"设置 {cells[t.name]}: the minimum of {b} ({_shown(values[t.name])}) is not below that of "
                f"{a} ({_shown(values[s.name])}, {cells[s.name]}); thresholds must go down: every "
                "scorecard of this book is in error", cell=cells[t.name], **where))
    return out


def apply(catalog: Catalog, edits: dict[tuple, float]) -> Catalog:
    """The catalog with 设置's values in place of the template's (a new catalog; the
    template's models are never changed)."""
    schemes = dict(catalog.grade_schemes)
    pay_rules = dict(catalog.pay_rules)
    roles = dict(catalog.roles)
    for target, value in edits.items():
        if target[0] == "min":
            _, scheme_id, k = target
            scheme = schemes[scheme_id]
            tiers = list(scheme.tiers)
            tiers[k] = tiers[k].model_copy(update={"min": value})
            schemes[scheme_id] = scheme.model_copy(update={"tiers": tiers})
    for target, value in edits.items():
        if target[0] != "pay":
            continue
        _, role_id, rule_id, field, grade = target
        if not role_id:  # a rule's own row: every role using it without an override
            rule = pay_rules[rule_id]
            pay_rules[rule_id] = rule.model_copy(update={field: _value(rule, field, grade, value)})
            continue
        role = roles[role_id]
        resolved = next(r for r in catalog.role_pay_rules(catalog.roles[role_id]) if r.id == rule_id)
        refs = []
        for ref in role.pay_rules:
            if ref.id == rule_id:
                current = {**resolved.model_dump(), **ref.with_}
                with_ = {**ref.with_, field: _value_of(current, field, grade, value)}
                ref = ref.model_copy(update={"with_": with_})
            refs.append(ref)
        roles[role_id] = role.model_copy(update={"pay_rules": refs})
    return dataclasses.replace(catalog, roles=roles, grade_schemes=schemes, pay_rules=pay_rules)  # the catalog's caches start empty (init=False)


def _value(rule: PayRule, field: str, grade: str | None, value: float):
    return _value_of(rule.model_dump(), field, grade, value)


def _value_of(current: dict, field: str, grade: str | None, value: float):
    if grade is None:
        return value
    return {**current[field], grade: value}


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=0, abs_tol=1e-12)
    return a == b


def _shown(value) -> str:
    if isinstance(value, bool) or value is None:
        return "空" if value is None else str(value)
    if isinstance(value, (int, float)):
        return number_text(value)
    return f"“{value}”"
