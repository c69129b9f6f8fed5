"""The worksheet functions' logic, without xlwings: ranges in, arrays out, errors as text.

``udfs`` (desktop Excel, through the xlwings add-in) and ``macros/lite/main.py`` (xlwings
Lite) both wrap these functions in a few lines each, so the two can never disagree.

Conventions shared by every function:

* A range arrives as a scalar or as (nested) lists, as xlwings passes it (``ndim=2``: a list
  of rows). The result has the shape of the input range and spills in Excel 365; a scalar
  in gives a scalar out.
* Empty cells give empty cells. A cell Python cannot use gives a one-sentence error text
  starting with ``#KPI!`` (Chinese / English) in that cell; an error that concerns the whole
  call (an unknown role, an unknown input key) is that text alone. Nothing raises.
* Work is done on whole columns with numpy and the API's vectorised ``score_columns``:
  each input column is parsed once by the engine's parser, every employee is scored at once.
* The functions that grade or pay follow a book's 设置 (its thresholds and pay parameters),
  as the card's own formulas and the report do: ``settings`` is the 设置 sheet's values from
  A1 (a range such as ``设置!A1:D200``), or :class:`CallerBook` (the book a desktop UDF is
  called from, when no range is given); without either, the templates' values. 设置 is
  parsed by ``api.with_settings`` (the report's reader) once per distinct content; a broken
  value is that reader's finding, naming the cell, as the function's ``#KPI!`` text.
"""

from __future__ import annotations

import functools
import math
import os
from functools import lru_cache

import numpy as np
import pandas as pd

from .. import api
from ..diagnostics import KpiError
from ..kinds.inputs import KeyResolver, input_specs, parse_value
from ..numbers import (ParseError, clean_round, excel_round, is_blank, normalise_text,
                       parse_flag, parse_number)
from ..rules.conditions import OPERATORS, Condition
from ..rules.loader import Catalog
from ..rules.model import GradeScheme, Role
from ..words import BROKEN, COMPLETE, EXCLUDED, INCOMPLETE, SETTINGS_SHEET

ERROR = "#KPI!"
TEMPLATES_ENV = "KPI_WORKBOOK_TEMPLATES"  # a template folder for the functions; default built-in
RESULT_COLUMNS = ("总分", "等级", "绩效工资", "状态")  # what KPI_SCORE returns per employee
NUMERIC_FIELDS = ("base_salary", "q_amount", "months_absent")


class CellError(Exception):
    """An error that concerns the whole call; shown as one sentence in the cell."""


def message(zh: str, en: str) -> str:
    return f"{ERROR} {zh} / {en}"


def guarded(func):
    """Run ``func``; any failure becomes the error text instead of an exception."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except CellError as exc:
            return str(exc)
        except KpiError as exc:
            first = exc.diagnostics[0].message if exc.diagnostics else str(exc)
            return f"{ERROR} {first}"
        except Exception as exc:  # never a traceback in a cell
            return message(f"内部错误 {type(exc).__name__}：{exc}",
                           f"internal error {type(exc).__name__}: {exc}")
    return wrapper


@lru_cache(maxsize=4)
def _catalog_from(directory: str | None) -> Catalog:
    return api.load_templates(directory)


def catalog() -> Catalog:
    return _catalog_from(os.environ.get(TEMPLATES_ENV) or None)


# ---------------------------------------------------------------------------------------
# The book's 设置.


class CallerBook:
    """The 设置 sheet of an open xlwings book (the book a Lite script is given, or the book of
    the range that called a desktop UDF), read when a function runs, inside its guard: a
    failure to read it is the function's error text, not an exception."""

    def __init__(self, book=None, caller=None):
        self._book, self._caller = book, caller

    def values(self) -> tuple[list, tuple[int, int]] | None:
        """(the used range's rows, its top-left (row, column)), or None without a 设置 sheet."""
        book = self._book if self._caller is None else self._caller.sheet.book
        if SETTINGS_SHEET not in [sheet.name for sheet in book.sheets]:
            return None
        used = book.sheets[SETTINGS_SHEET].used_range
        return used.options(ndim=2, err_to_str=True).value, (used.row, used.column)


def given_or_caller(settings, caller):
    """The 设置 range given, else the caller's book (desktop xlwings passes ``caller``)."""
    if settings is not None or caller is None:
        return settings
    return CallerBook(caller=caller)


@lru_cache(maxsize=16)
def _contents(rows: tuple, origin: tuple[int, int]) -> tuple[dict, bool]:
    return api.settings_contents(rows, origin)


_PARSED: dict[tuple, tuple[Catalog, tuple[Catalog, list]]] = {}
PARSED_KEPT = 64  # distinct (设置 content, role) pairs kept parsed


def _parsed(base: Catalog, rows: tuple, origin: tuple[int, int], role_ids: tuple[str, ...],
            scheme_ids: tuple[str, ...]) -> tuple[Catalog, list]:
    """api.with_settings, once per catalog, 设置 content and roles: a sheet of a thousand
    calls with the same 设置 parses it once (the key holds the values themselves)."""
    key = (id(base), rows, origin, role_ids, scheme_ids)
    hit = _PARSED.get(key)
    if hit is None or hit[0] is not base:
        while len(_PARSED) >= PARSED_KEPT:
            _PARSED.pop(next(iter(_PARSED)))
        contents, _ = _contents(rows, origin)
        hit = _PARSED[key] = (base, api.with_settings(
            base, contents, roles=[base.roles[r] for r in role_ids],
            schemes=[base.grade_schemes[s] for s in scheme_ids]))
    return hit[1]


def book_catalog(settings, roles: tuple[Role, ...] = (), schemes: tuple[GradeScheme, ...] = ()) -> Catalog:
    """The catalog to grade and pay ``roles`` (and ``schemes``) with: :func:`catalog` with the
    values of the 设置 ``settings`` in place; CellError naming the cell for a broken value."""
    base = catalog()
    if settings is None:
        return base
    given = not isinstance(settings, CallerBook)
    found = (grid(settings).tolist(), (1, 1)) if given else settings.values()
    if found is None:
        return base  # a book without 设置: the templates' values
    rows = tuple(tuple(_plain(v) for v in row) for row in found[0])
    if not _contents(rows, found[1])[1]:
        if not given:  # another sheet called 设置 (the HR master workbook's): not a rule book
            return base
        raise CellError(message("settings 应为考核工作簿的“设置”表，从 A1 起（如 设置!A1:D200），其中没有“等级方案：”标题",
                                "settings should be a scorecard book's 设置 sheet from A1 (e.g. 设置!A1:D200); "
                                "this range has no 等级方案 heading"))
    book, diags = _parsed(base, rows, found[1], tuple(r.id for r in roles), tuple(s.id for s in schemes))
    broken = next((d for d in diags if d.severity == "error"), None)
    if broken is not None:
        raise CellError(f"{ERROR} {broken.message}")
    return book


def _role(settings, role) -> tuple[Catalog, Role]:
    """(the catalog that follows 设置, the role) for a role's id or name."""
    chosen = catalog().role(text(role))
    cat = book_catalog(settings, roles=(chosen,))
    return cat, cat.roles[chosen.id]


# ---------------------------------------------------------------------------------------
# Ranges in and out.


def grid(value) -> np.ndarray:
    """Any range value as a 2-D object array (a scalar is 1×1, a flat list one row)."""
    a = np.empty((1, 1), dtype=object)
    if isinstance(value, (list, tuple, np.ndarray)):
        rows = np.asarray(value, dtype=object) if not isinstance(value, np.ndarray) else value
        if rows.ndim == 1:
            a = rows.astype(object).reshape(1, -1)
        elif rows.ndim == 2:
            a = rows.astype(object)
        else:
            raise CellError(message("区域须为一维或二维", "a range must have one or two dimensions"))
    else:
        a[0, 0] = value
    return a


def _plain(value):
    """A numpy scalar, NaN or empty text as what xlwings writes to a cell."""
    if value is None:
        return None
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.str_):
        return str(value)
    return value


_PLAIN = np.frompyfunc(_plain, 1, 1)


def shaped(result: np.ndarray, like):
    """``result`` (2-D) in the shape of the argument ``like``: scalar, flat list or rows."""
    cells = _PLAIN(np.asarray(result, dtype=object))
    if not isinstance(like, (list, tuple, np.ndarray)):
        return cells.reshape(-1)[0]
    if np.ndim(like) == 1:
        return cells.reshape(-1).tolist()
    return cells.tolist()


def _try(parse, value):
    """``parse(value)`` as a float, NaN for a blank cell, or the error text."""
    if is_blank(value):
        return math.nan
    try:
        return float(parse(value))
    except ParseError as exc:
        return f"{ERROR} {exc}"


_TRY = np.frompyfunc(_try, 2, 1)
_IS_TEXT = np.frompyfunc(lambda v: isinstance(v, str), 1, 1)


def parse_cells(cells: np.ndarray, parse=parse_number) -> tuple[np.ndarray, np.ndarray]:
    """(floats with NaN where blank or bad, error text where bad else "") for an array."""
    parsed = _TRY(parse, cells) if cells.size else cells
    bad = _IS_TEXT(parsed).astype(bool) if cells.size else np.zeros(cells.shape, bool)
    numbers = np.where(bad, np.nan, parsed).astype(float)
    return numbers, np.where(bad, parsed, "").astype(object)


def text(value) -> str:
    return "" if is_blank(value) else normalise_text(str(value))


_TEXT = np.frompyfunc(text, 1, 1)
# "#KPI! reason" → "#KPI! input：reason", so a row's error names the column it came from
_NAMED = np.frompyfunc(lambda name, bad: f"{ERROR} {name}：{bad[len(ERROR) + 1:]}" if bad else "",
                       2, 1)


# ---------------------------------------------------------------------------------------
# KPI_ROUND, KPI_BAND, KPI_GRADE


@guarded
def kpi_round(values, digits=0, clean=False):
    """Excel's ROUND over a range; ``clean`` rounds to 9 decimals first (scores, money)."""
    d = int(parse_number(digits if not is_blank(digits) else 0))
    numbers, bad = parse_cells(grid(values))
    rounding = np.frompyfunc(clean_round if parse_flag(clean or False) else excel_round, 2, 1)
    rounded = rounding(numbers, d).astype(float)
    return shaped(np.where(bad != "", bad, rounded), values)


@guarded
def kpi_band(values, thresholds, points, direction=">="):
    """Points of the first row whose threshold the value meets (``>=``, ``>``, ``<=``, …)."""
    op = normalise_text(str(direction or ">=")).replace("≥", ">=").replace("≤", "<=")
    op = "==" if op == "=" else op
    if op not in OPERATORS:
        raise CellError(message(f"方向须为 {'、'.join(OPERATORS)} 之一，得到“{direction}”",
                                f"direction must be one of {', '.join(OPERATORS)}, got '{direction}'"))
    limits, limit_bad = parse_cells(grid(thresholds).reshape(-1))
    scores, score_bad = parse_cells(grid(points).reshape(-1))
    if len(limits) != len(scores):
        raise CellError(message(f"分数线有 {len(limits)} 个而分值有 {len(scores)} 个，须一样多",
                                f"{len(limits)} thresholds but {len(scores)} points: they must pair up"))
    bad = next((b for b in (*limit_bad, *score_bad) if b), "")
    if bad or np.isnan(limits).any() or np.isnan(scores).any():
        raise CellError(bad or message("分数线和分值不能为空", "thresholds and points cannot be empty"))
    numbers, value_bad = parse_cells(grid(values))
    masks = [Condition(op, value=t).matches(numbers) for t in limits]
    index = np.select(masks, np.arange(len(limits)), default=-1)
    found = np.append(scores, np.nan)[index].astype(object)
    nothing = message("不在任何档位", "matches no band")
    out = np.where(value_bad != "", value_bad,
                   np.where(np.isnan(numbers), None, np.where(index < 0, nothing, found)))
    return shaped(out, values)


def grade_scheme(catalog: Catalog, key):
    """A grade scheme by id, or the scheme of a role (id or name)."""
    name = text(key)
    if name in catalog.grade_schemes:
        return catalog.grade_schemes[name]
    try:
        return catalog.grade_scheme(catalog.role(name))
    except KpiError:
        schemes = ", ".join(sorted(catalog.grade_schemes))
        raise CellError(message(f"未知等级方案或岗位“{name}”；等级方案：{schemes}",
                                f"unknown grade scheme or role '{name}'; schemes: {schemes}")) from None


@guarded
def kpi_grade(scheme, scores, settings=None):
    """The grade of each score under a grade scheme (or a role's scheme), by 设置's thresholds."""
    chosen = grade_scheme(catalog(), scheme)
    chosen = book_catalog(settings, schemes=(chosen,)).grade_schemes[chosen.id]
    numbers, bad = parse_cells(grid(scores))
    grades = api.grades(chosen, numbers.reshape(-1)).reshape(numbers.shape)
    return shaped(np.where(bad != "", bad, grades), scores)


# ---------------------------------------------------------------------------------------
# KPI_PAY


PAY_NEEDS = {"base_pct": ("base_salary", "基本工资"), "q_level": ("q_amount", "绩效基数Q")}
NEEDS_ITEMS = ("point_value",)  # pay that needs each item's 扣分/奖分: only KPI_SCORE has them


@guarded
def kpi_pay(role, scores, base_salary=None, q_amount=None, full_attendance=None, settings=None):
    """Performance pay of each score: every rule of the role that depends on the score,
    grade and employee fields (commissions with no inputs count 0, team awards are made in
    the monthly report), by 设置's thresholds and parameters."""
    cat, chosen = _role(settings, role)
    rules = cat.role_pay_rules(chosen)
    needs_items = [r.label for r in rules if r.kind in NEEDS_ITEMS]
    if needs_items:
        raise CellError(message(f"{chosen.name}的“{needs_items[0]}”按各项扣分/奖分计算，请用 KPI_SCORE",
                                f"{chosen.id}'s '{needs_items[0]}' depends on item deductions; "
                                f"use KPI_SCORE"))
    total, bad = parse_cells(grid(scores))
    salary, salary_bad = parse_cells(grid(base_salary))
    q, q_bad = parse_cells(grid(q_amount))
    attendance, att_bad = parse_cells(grid(full_attendance), parse_flag)
    try:
        total, salary, q, attendance, bad, salary_bad, q_bad, att_bad = np.broadcast_arrays(
            total, salary, q, attendance, bad, salary_bad, q_bad, att_bad)
    except ValueError:
        raise CellError(message("分数与工资区域大小不一致", "scores and salaries differ in size")) from None
    flat = total.reshape(-1)
    employees = pd.DataFrame({"base_salary": salary.reshape(-1), "q_amount": q.reshape(-1),
                              "full_attendance": np.nan_to_num(attendance.reshape(-1)) > 0})
    pay = api.score_pay(cat, chosen, flat, employees).reshape(total.shape)
    problem = np.where(bad != "", bad, np.where(salary_bad != "", salary_bad,
                                                np.where(q_bad != "", q_bad, att_bad)))
    for rule in rules:
        column, label = PAY_NEEDS.get(rule.kind, (None, None))
        if column:
            empty = np.isnan(salary if column == "base_salary" else q) & ~np.isnan(total)
            problem = np.where((problem == "") & empty,
                               message(f"缺少{label}", f"{column} is missing"), problem)
    out = np.where(problem != "", problem, np.where(np.isnan(total), None, pay))
    return shaped(out, scores)


# ---------------------------------------------------------------------------------------
# Whole scorecards: KPI_SCORE, KPI_ITEM, KPI_EXPLAIN


def _layout(keys, values) -> tuple[list[str], np.ndarray, bool]:
    """(key names, one row per employee, whether employees were columns)."""
    key_grid = grid(keys)
    names = [text(k) for k in key_grid.reshape(-1)]
    rows = grid(values)
    k = len(names)
    by_column = key_grid.shape[0] > 1 and key_grid.shape[1] == 1  # keys down a column
    if not isinstance(values, (list, tuple, np.ndarray)) or np.ndim(values) == 1:
        rows = rows.reshape(1, -1)  # one employee
        by_column = False
    elif by_column or (rows.shape[1] != k and rows.shape[0] == k):
        rows, by_column = rows.T, True
    if rows.shape[1] != k:
        raise CellError(message(f"输入项有 {k} 个，但每人的值有 {rows.shape[1]} 个",
                                f"{k} keys but {rows.shape[1]} values per employee"))
    return names, rows, by_column


def _resolve(resolver: KeyResolver, key: str, prefix: str = "") -> str:
    """The canonical input key of a spelling, or an employee field; CellError if neither."""
    field = api.employee_field(key)
    if field is not None:
        return f"employee.{field}"
    for candidate in ((f"{prefix}.{key}", key) if prefix else (key,)):
        base, rater = resolver.split(candidate)
        if base is None:
            continue
        full = f"{base}.{rater}" if rater else base
        if full in resolver.specs:
            return full
        rated = [s for s in resolver.specs if s.startswith(base + ".")]
        if rated and rater is None:
            raise CellError(message(f"“{key}”按评分人填写，如 {rated[-1]}",
                                    f"'{key}' takes one value per rater, e.g. {rated[-1]}"))
    valid = ", ".join(resolver.valid_keys())
    raise CellError(message(f"未知输入项“{key}”；有效输入项：{valid}",
                            f"unknown input key '{key}'; valid keys: {valid}"))


def score_rows(cat: Catalog, role, names: list[str], rows: np.ndarray, prefix: str = ""):
    """Score every row: (RoleScores, per-row error text or "")."""
    specs = input_specs(role, cat.role_pay_rules(role))
    resolver = KeyResolver(specs)
    n = len(rows)
    values: dict[str, np.ndarray] = {}
    fields: dict[str, np.ndarray] = {}
    problem = np.full(n, "", dtype=object)
    for j, name in enumerate(names):
        if not name:
            continue  # an empty header: a spacer column
        key = _resolve(resolver, name, prefix)
        column = rows[:, j]
        if key.startswith("employee."):
            field = key.split(".", 1)[1]
            if field == "full_attendance":
                parsed, bad = parse_cells(column, parse_flag)
                # numpy's stubs reject None as a scalar; np.where takes it (an object array)
                fields[field] = np.where(np.isnan(parsed), None, parsed > 0)  # type: ignore[call-overload]
            elif field in NUMERIC_FIELDS:
                fields[field], bad = parse_cells(column)
            else:
                fields[field], bad = _TEXT(column), np.full(n, "", dtype=object)
        else:
            spec = resolver.specs[key]
            values[key], bad = parse_cells(column, lambda v, s=spec: parse_value(s, v))
        bad = _NAMED(name, bad)
        problem = np.where((problem == "") & (bad != ""), bad, problem)
    employees = pd.DataFrame(fields) if fields else pd.DataFrame(index=range(n))
    scores = api.score_columns(cat, role, employees, values)
    engine = np.array([f"{ERROR} {e[0]}" if e else "" for e in scores.errors], dtype=object)
    problem = np.where(problem == "", engine, problem)
    return scores, problem


def _oriented(out: np.ndarray, by_column: bool):
    """Results as rows, or as columns when the employees were columns."""
    return shaped(out.T if by_column else out, [[None]])


@guarded
def kpi_score(role, keys, values, settings=None):
    """Total, grade, pay and status of each employee (one per row of ``values``)."""
    cat, chosen = _role(settings, role)
    names, rows, by_column = _layout(keys, values)
    scores, problem = score_rows(cat, chosen, names, rows)
    f = scores.frame
    complete = f["complete"].to_numpy(dtype=bool)
    out = np.empty((len(rows), 4), dtype=object)
    out[:, 0] = f["total"].to_numpy(dtype=float)
    out[:, 1] = np.where(complete, f["grade"].to_numpy(dtype=object), None)
    out[:, 2] = np.where(complete, f["pay.total"].to_numpy(dtype=float), None)
    out[:, 3] = np.where(complete, COMPLETE, np.where(f["status"] == "excluded", EXCLUDED, INCOMPLETE))
    broken = problem != ""
    out[broken] = np.array([None, None, None, BROKEN], dtype=object)
    out[broken, 0] = problem[broken]
    return _oriented(out, by_column)


def find_item(role, key):
    name = text(key)
    for _, item in role.items():
        if name in (item.id, normalise_text(item.label)):
            return item
    valid = ", ".join(item.id for _, item in role.items())
    raise CellError(message(f"{role.name}没有考核项目“{name}”；可选：{valid}",
                            f"role {role.id} has no item '{name}'; items: {valid}"))


@guarded
def kpi_item(role, item, values, keys=None, settings=None):
    """One item's points. Without ``keys``, ``values`` are the item's only input (any shape);
    with ``keys`` (its input ids, e.g. ``accuracy`` or ``points.self``), one row per employee."""
    cat, chosen = _role(settings, role)
    found = find_item(chosen, item)
    if keys is None or all(is_blank(k) for k in grid(keys).reshape(-1)):  # keys omitted
        resolver = KeyResolver(input_specs(chosen, cat.role_pay_rules(chosen)))
        single = resolver.base_key(found.id)
        if single is None or single not in resolver.specs:
            own = [k for k in resolver.specs if k.startswith(found.id + ".")]
            raise CellError(message(f"“{found.label}”有多个输入（{', '.join(own)}），请给出 keys",
                                    f"'{found.id}' has several inputs ({', '.join(own)}); give keys"))
        cells = grid(values)
        scores, problem = score_rows(cat, chosen, [single], cells.reshape(-1, 1))
        points = scores.frame[f"points.{found.id}"].to_numpy(dtype=float)
        out = np.where(problem != "", problem, np.where(np.isnan(points), None, points))
        return shaped(out.reshape(cells.shape), values)
    names, rows, by_column = _layout(keys, values)
    scores, problem = score_rows(cat, chosen, names, rows, prefix=found.id)
    points = scores.frame[f"points.{found.id}"].to_numpy(dtype=float)
    out = np.where(problem != "", problem, np.where(np.isnan(points), None, points))
    return _oriented(out.astype(object).reshape(-1, 1), by_column)


def explanation(cat: Catalog, scores, i: int, item_id: str | None) -> str:
    """One employee's scorecard in a sentence (or one item's explanation)."""
    card = api.card_of(cat, scores, i)
    if item_id:
        rec = next(r for r in card["items"] if r["id"] == item_id)
        return rec["explain"]["text"]
    status = {"complete": COMPLETE, "excluded": EXCLUDED}.get(card["status"], INCOMPLETE)
    head = f"总分 {card['total']:g}" + (f"，等级 {card['grade']}" if card["grade"] else "") + \
        f"，{status}"
    if card["pay"].get("total") is not None and card["status"] == "complete":
        head += f"，绩效工资 {card['pay']['total']:,.2f}"
    parts = [f"{r['label']}：{r['explain']['text']}" for r in card["items"]
             if r["points"] is not None]
    if card["missing"]:
        parts.append("未填：" + "、".join(card["missing"]))
    return head + "。" + "；".join(parts)


@guarded
def kpi_explain(role, keys, values, item=None, settings=None):
    """How each employee's score (or one item's points) came about, as a sentence."""
    cat, chosen = _role(settings, role)
    item_id = None if is_blank(item) else find_item(chosen, item).id
    names, rows, by_column = _layout(keys, values)
    scores, problem = score_rows(cat, chosen, names, rows)
    texts = np.array([problem[i] or explanation(cat, scores, i, item_id)
                      for i in range(len(rows))], dtype=object)  # text is per employee
    return _oriented(texts.reshape(-1, 1), by_column)


# ---------------------------------------------------------------------------------------
# A whole table of employees of several roles (the xlwings Lite script).

TABLE_OUT = ("工号", "姓名", "部门", "岗位", *RESULT_COLUMNS, "说明")


def score_table(table, settings=None) -> tuple[list[list], list[str]]:
    """Score a table whose first row is headers: 岗位 (role) per row, employee fields
    (工号, 姓名, 部门, 基本工资, …) and any roles' input keys. Returns (rows with header
    ``TABLE_OUT``, headers no role in the table knows). Each role is scored at once, by the
    设置 ``settings`` (see :func:`book_catalog`); a role 设置 breaks is 错误 on its rows."""
    cat = catalog()
    cells = grid(table)
    headers = [text(h) for h in cells[0]]
    body = cells[1:]
    role_col = next((j for j, h in enumerate(headers) if h in ("岗位", "role")), None)
    if role_col is None:
        raise CellError(message("表头中没有“岗位”列", "the header row has no 岗位 (role) column"))
    field_col = {api.employee_field(h): j for j, h in enumerate(headers)
                 if api.employee_field(h) is not None}
    out = np.full((len(body), len(TABLE_OUT)), None, dtype=object)
    for key, col in (("employee_id", 0), ("name", 1), ("department", 2)):
        if key in field_col:
            out[:, col] = _TEXT(body[:, field_col[key]])
    out[:, 3] = _TEXT(body[:, role_col])
    used: set[int] = {role_col, *field_col.values()}
    for role_name in dict.fromkeys(out[:, 3]):
        mask = out[:, 3] == role_name
        try:
            role = cat.role(role_name)
        except KpiError as exc:
            out[mask, 7], out[mask, 8] = BROKEN, exc.diagnostics[0].message_zh.split("；")[0]
            continue
        try:
            own, role = _role(settings, role.id)
        except CellError as exc:
            out[mask, 7], out[mask, 8] = BROKEN, str(exc)
            continue
        resolver = KeyResolver(input_specs(role, cat.role_pay_rules(role)))
        columns = []
        for j, h in enumerate(headers):
            if j == role_col or not h:
                continue
            try:
                _resolve(resolver, h)
            except CellError:
                continue
            columns.append(j)
            used.add(j)
        scores, problem = score_rows(own, role, [headers[j] for j in columns],
                                     body[mask][:, columns])
        f = scores.frame
        complete = f["complete"].to_numpy(dtype=bool)
        block = np.empty((mask.sum(), 5), dtype=object)
        block[:, 0] = f["total"].to_numpy(dtype=float)
        block[:, 1] = np.where(complete, f["grade"].to_numpy(dtype=object), None)
        block[:, 2] = np.where(complete, f["pay.total"].to_numpy(dtype=float), None)
        block[:, 3] = np.where(problem != "", BROKEN, np.where(complete, COMPLETE, np.where(
            f["status"] == "excluded", EXCLUDED, INCOMPLETE)))
        block[:, 4] = np.where(problem != "", problem, np.array(
            ["未填：" + "、".join(m) if m else "" for m in scores.missing], dtype=object))
        out[mask, 4:9] = block
    unknown = [h for j, h in enumerate(headers) if h and j not in used]
    return [list(TABLE_OUT)] + shaped(out, [[None]]), unknown


def input_table() -> list[list]:
    """Every role's input keys with labels: the headers a table for ``score_table`` uses."""
    cat = catalog()
    rows = [["岗位 id", "岗位名称", "输入项 / key", "说明 / label", "类型 / type", "必填 / required"]]
    rows += [["(所有岗位)", "", name, "员工信息 / employee field", "", "是" if name == "基本工资" else ""]
             for name in ("工号", "姓名", "部门", "岗位", "基本工资", "绩效基数Q", "全勤")]
    for role in cat.roles.values():
        for spec in input_specs(role, cat.role_pay_rules(role)):
            rows.append([role.id, role.name, spec.key, spec.label_path(), spec.type,
                         "是" if spec.input.required else ""])
    return rows
