"""Score the scorecards of one role for many employees at once.

Input: a frame of employees and a dict of parsed input arrays keyed by canonical input key.
Output: a frame with every item's points, the total, grade, status and pay, plus the
explanation data of each item. The arithmetic order is the one the generated spreadsheet
formulas use (item → section → total → grade → pay), so both give the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..diagnostics import Bilingual
from ..kinds import pay_kind, rule_kind
from ..kinds.base import PayValues
from ..numbers import clean_round_array
from ..rules.loader import Catalog
from ..rules.model import GradeScheme, Item, PayRule, Role
from ..kinds.inputs import input_specs, is_rated, item_inputs

ALLOCATION_TOLERANCE = 1e-6  # as formulas.allocation_errors: Σ allocations outside total ± 0.000001


class CardError(Bilingual):
    """A card the rules cannot grade (``code``), located by the input keys it concerns."""

    def __init__(self, zh: str, en: str, code: str, keys: list[str]) -> None:
        super().__init__(zh, en)
        self.code, self.keys = code, list(keys)


EMPLOYEE_FIELDS = ("employee_id", "name", "department", "base_salary", "q_amount",
                   "full_attendance", "supervisor", "months_absent")
FIELD_LABELS = {"months_absent": ("缺岗月数", "months absent")}


def exclusions(role: Role, employees: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """(mask, reason text) of the employees who do not take part this period (the role's
    ``exclude_if``): the first rule that applies gives the reason."""
    n = len(employees)
    mask = np.zeros(n, dtype=bool)
    reasons = [""] * n
    for rule in role.exclude_if:
        column = employees.get(rule.field, pd.Series([np.nan] * n))
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
        zh, en = FIELD_LABELS[rule.field]
        for i in np.flatnonzero((values > rule.above) & ~mask):
            reasons[i] = (f"不参与：{zh} {values[i]:g} > {rule.above:g}，{rule.reason} / not taking "
                          f"part: {en} {values[i]:g} > {rule.above:g}, {rule.reason_en or rule.reason}")
            mask[i] = True
    return mask, reasons


@dataclass
class RoleScores:
    role: Role
    frame: pd.DataFrame
    details: dict[str, dict[str, np.ndarray]]  # item id → explanation arrays
    missing: list[list[str]]  # per employee: canonical keys of empty required inputs
    errors: list[list[Bilingual]]  # per employee: values no rule accepts (bad input)
    warnings: list[list[str]] = field(default_factory=list)
    # what ``frame`` was made of (column → array, Series or scalar): the month puts the
    # roles' columns together from these (engine.month), faster than from the frames
    columns: dict = field(default_factory=dict, repr=False)


def score_role(catalog: Catalog, role: Role, employees: pd.DataFrame,
               values: dict[str, np.ndarray]) -> RoleScores:
    n = len(employees)
    pay_rules = catalog.role_pay_rules(role)
    specs = {s.key: s for s in input_specs(role, pay_rules)}
    empty = np.full(n, np.nan)
    missing: list[list[str]] = [[] for _ in range(n)]
    errors: list[list[Bilingual]] = [[] for _ in range(n)]
    warnings: list[list[str]] = [[] for _ in range(n)]

    def get(key: str) -> np.ndarray:
        v = np.asarray(values.get(key, empty), dtype=float)
        spec = specs.get(key)
        if spec is not None and spec.input.default is not None:
            v = np.where(np.isnan(v), spec.input.default, v)
        return v

    def flag_missing(mask: np.ndarray, key: str) -> None:
        for i in np.flatnonzero(mask):
            missing[i].append(key)

    out: dict[str, np.ndarray] = {}
    details: dict[str, dict[str, np.ndarray]] = {}
    bonus = np.zeros(n)
    deduction = np.zeros(n)
    total_raw = np.full(n, float(role.total.base))
    total_max = float(role.total.base)
    adjust = np.zeros(n)

    for section in role.sections:
        sec_points = np.zeros(n)
        sec_max = np.zeros(n)
        for item in section.items:
            row_max = get(f"{item.id}.alloc") if section.allocation else np.full(n, item.max)
            points, detail = _item_points(role, section, item, row_max, get, flag_missing,
                                           errors)
            details[item.id] = detail
            out[f"points.{item.id}"] = points
            b, d = item_bonus_deduction(item, points, row_max)
            bonus, deduction = bonus + b, deduction + d
            if item.grade_scheme:
                out[f"grade.{item.id}"] = grade_of(catalog.grade_schemes[item.grade_scheme],
                                                   points / item.max * 100)
            if item.adjustment:
                adjust = adjust + np.nan_to_num(points)
            elif item.in_total:
                sec_points = sec_points + np.nan_to_num(points)
                sec_max = sec_max + row_max
        if section.allocation is not None:
            # S4: a split that does not add up is an error on the card (not graded, not paid),
            # never rescaled silently; the sheet's status shows 错误 by the same test
            want = section.allocation.total
            off = np.abs(sec_max - want) > ALLOCATION_TOLERANCE
            keys = [f"{it.id}.alloc" for it in section.items]
            for i in np.flatnonzero(off):
                errors[i].append(CardError(
                    f"{section.label} 分配分值合计 {sec_max[i]:g}，应为 {want:g}（相差 "
                    f"{sec_max[i] - want:+g}）",
                    f"allocations in {section.id} add up to {sec_max[i]:g}, not {want:g} "
                    f"(off by {sec_max[i] - want:+g})", code="allocation-total", keys=keys))
        if (section.normalize or section.allocation) and section.weight is not None:
            with np.errstate(invalid="ignore", divide="ignore"):
                sec_points = np.where(sec_max > 0, section.weight * sec_points / sec_max, 0.0)
            sec_max = np.full(n, float(section.weight))
        out[f"section.{section.id}"] = sec_points
        total_raw = total_raw + sec_points
        total_max = total_max + (section.weight if section.weight is not None else sec_max[0] if n else 0)

    if role.total.normalize:
        total_raw = total_raw / total_max * 100
    total = total_raw + adjust
    if role.total.floor is not None:
        total = np.maximum(total, role.total.floor)
    total = clean_round_array(total, 1)

    employees = employees.reset_index(drop=True)
    pay_missing = _pay_needs(pay_rules, employees)
    for key, mask in pay_missing.items():
        flag_missing(mask, key)
    excluded, reasons = exclusions(role, employees)
    for i in np.flatnonzero(excluded):
        missing[i] = []  # nothing is required of a card that does not take part
    complete = np.array([not m and not e for m, e in zip(missing, errors)], dtype=bool) & ~excluded

    scheme = catalog.grade_scheme(role)
    grades = grade_of(scheme, total)
    pay = compute_pay(pay_rules, employees, total, grades, bonus, deduction, get)

    columns = {  # an employee field as its array (its own dtype), not aligned again as a Series
        **{c: employees[c].array if employees[c].dtype != object else employees[c]
           for c in EMPLOYEE_FIELDS if c in employees},
        "role": role.id,
        "total": total,
        "adjust": adjust,
        "bonus": bonus,
        "deduction": deduction,
        "complete": complete,
        "status": np.where(excluded, "excluded", np.where(
            complete, "complete", np.where([bool(e) for e in errors], "error", "incomplete"))),
        "excluded_reason": reasons,
        "grade": np.where(complete, grades, np.array(None, dtype=object)),
        **{f"pay.{k}": np.where(complete, v, np.nan) for k, v in pay.items()},
        **out,
    }
    return RoleScores(role, pd.DataFrame(columns), details, missing, errors, warnings, columns)


def item_bonus_deduction(item: Item, points: np.ndarray, row_max: np.ndarray):
    """奖分 and 扣分 of an item as the S7 form shows them: points above the item's max are
    奖分, points short of it 扣分 (so deductions stop where the item's points do, 扣完为止);
    an adjustment counts by its sign. A separate rating (not in the total) counts for neither.
    """
    if not item.in_total and not item.adjustment:
        return 0.0, 0.0
    p = np.nan_to_num(points)
    if item.adjustment:
        return np.maximum(p, 0.0), np.maximum(-p, 0.0)
    return np.maximum(p - row_max, 0.0), np.maximum(row_max - p, 0.0)


def _item_points(role: Role, section, item: Item, row_max, get, flag_missing, errors):
    """Points of one item for every employee, with its explanation data."""
    kind = rule_kind(item.rule)
    n = len(row_max)
    if role.raters is not None and is_rated(role, item):
        raws, detail = [], {}

        def rater_value(rater: str):
            return lambda iid: get(f"{item.id}.{iid}.{rater}" if iid == kind.rated_input
                                   else f"{item.id}.{iid}")

        for r in role.raters.raters:
            raw, d = kind.evaluate(item, item.rule, rater_value(r.id), row_max)
            raws.append(raw)
            detail.update({f"{k}.{r.id}": v for k, v in d.items()})
            detail[f"raw.{r.id}"] = raw
        stacked = np.vstack(raws)
        key = f"{item.id}.{kind.rated_input}"
        if role.raters.mode == "weighted":
            weights = np.array([r.weight for r in role.raters.raters])[:, None]
            raw = (stacked * weights).sum(axis=0)  # NaN if any rater is empty
            for r, row in zip(role.raters.raters, raws):
                flag_missing(np.isnan(row), f"{key}.{r.id}")
        else:
            # review order: the last non-empty column is final (G5)
            raw = np.full(n, np.nan)
            for row in raws:
                raw = np.where(np.isnan(row), raw, row)
            flag_missing(np.isnan(raw), f"{key}.{role.raters.raters[-1].id}")
    else:
        raw, detail = kind.evaluate(item, item.rule, lambda iid: get(f"{item.id}.{iid}"),
                                    row_max)
        _check_required(role, section, item, get, flag_missing)
        raw, refused = kind.check(item, item.rule, detail, raw)
        for i, err in refused:
            errors[i].append(err)

    if kind.in_item_points or (item.scale is None and section.allocation is None):
        points = raw
    else:
        points = raw * row_max / item.full_scale
    low = -np.inf if item.allow_negative else 0.0
    high = np.inf if item.allow_above_max else row_max
    points = np.clip(points, low, high)
    if item.round is not None:
        points = clean_round_array(points, item.round)
    return points, detail


def _check_required(role: Role, section, item: Item, get, flag_missing) -> None:
    kind = rule_kind(item.rule)
    for d in item_inputs(role, section, item):
        if kind.required(item.rule, d):
            flag_missing(np.isnan(get(f"{item.id}.{d.id}")), f"{item.id}.{d.id}")


def grade_of(scheme: GradeScheme, totals: np.ndarray) -> np.ndarray:
    """The first tier whose min the total reaches; NaN totals get None."""
    totals = np.asarray(totals, dtype=float)
    masks = [totals >= t.min for t in scheme.tiers[:-1]] + [~np.isnan(totals)]
    choice = np.select(masks, np.arange(len(scheme.tiers)), default=-1)
    names = np.array(scheme.grades() + [None], dtype=object)
    return names[choice]


def _pay_needs(pay_rules: list[PayRule], employees: pd.DataFrame) -> dict[str, np.ndarray]:
    """Employee fields a pay rule cannot do without, where they are empty."""
    out = {}
    for rule in pay_rules:
        col = pay_kind(rule).employee_field
        if col:
            values = pd.to_numeric(employees.get(col, pd.Series([np.nan] * len(employees))),
                                   errors="coerce").to_numpy(dtype=float)
            out[f"employee.{col}"] = np.isnan(values)
    return out


def compute_pay(pay_rules: list[PayRule], employees: pd.DataFrame, total: np.ndarray,
                grades: np.ndarray, bonus: np.ndarray, deduction: np.ndarray,
                get) -> dict[str, np.ndarray]:
    """Money per pay rule (rounded to 2 decimals, as ROUND(ROUND(x,9),2)) and the sum."""
    n = len(total)

    def column(name: str) -> np.ndarray:
        if name not in employees:
            return np.full(n, np.nan)
        return pd.to_numeric(employees[name], errors="coerce").to_numpy(dtype=float)

    def flags(name: str) -> np.ndarray:
        att = employees.get(name, pd.Series([False] * n))
        return att.fillna(False).astype(bool).to_numpy()

    values = PayValues(n, total, grades, bonus, deduction, column, flags, get)
    pay: dict[str, np.ndarray] = {}
    for rule in pay_rules:
        amount = pay_kind(rule).amount(rule, values)
        pay[rule.id] = clean_round_array(amount, 2)
    total_pay = np.zeros(n)
    for amount in pay.values():
        total_pay = total_pay + amount
    pay["total"] = clean_round_array(total_pay, 2)
    return pay
