"""Score one scorecard given as JSON-style data: the function behind ``kpi-workbook score``."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..diagnostics import KpiError, error
from ..numbers import ParseError, parse_month
from ..rules.loader import Catalog
from ..rules.model import TEAM_PAY_KINDS
from .explain import explain_item
from ..kinds.inputs import input_specs, parse_inputs
from .score import EMPLOYEE_FIELDS, RoleScores, score_role

EMPLOYEE_ALIASES = {"id": "employee_id", "工号": "employee_id", "姓名": "name",
                    "部门": "department", "基本工资": "base_salary", "绩效基数Q": "q_amount",
                    "q": "q_amount", "全勤": "full_attendance", "直接上级": "supervisor",
                    "缺岗月数": "months_absent"}


def employee_frame(employee: dict) -> pd.DataFrame:
    """One employee's fields, under their canonical names."""
    fields = {}
    for key, value in (employee or {}).items():
        name = EMPLOYEE_ALIASES.get(key, key)
        if name in EMPLOYEE_FIELDS:
            fields[name] = value
    from ..numbers import is_blank, parse_money

    for name in ("base_salary", "q_amount"):  # money: a finite number or empty, never raw JSON
        if name in fields:
            fields[name] = math.nan if is_blank(fields[name]) else parse_money(fields[name])
    if "full_attendance" in fields and not isinstance(fields["full_attendance"], bool):
        from ..numbers import parse_flag

        value = fields["full_attendance"]
        fields["full_attendance"] = None if is_blank(value) else parse_flag(value)
    return pd.DataFrame([fields]) if fields else pd.DataFrame(index=[0])


def score_card(catalog: Catalog, role_key: str, card: dict, source: str = "") -> dict:
    """Score one scorecard; raise KpiError listing every bad input."""
    found = score_cards(catalog, role_key, [card], source)[0]
    if isinstance(found, KpiError):
        raise found
    return found


def score_cards(catalog: Catalog, role_key: str, cards: list, source: str = "") -> list[dict | KpiError]:
    """Score many scorecards of one role in one pass of the engine: for each card its result,
    or the KpiError that :func:`score_card` would raise for it. An unknown role is raised.

    Cards giving the same employee fields are scored together (the engine is row by row;
    the same columns keep each row's types as they are when it is scored alone)."""
    role = catalog.role(role_key)
    specs = input_specs(role, catalog.role_pay_rules(role))
    out: list[dict | KpiError] = []
    groups: dict[tuple, list[tuple[int, dict, pd.DataFrame]]] = {}
    for i, card in enumerate(cards):
        try:
            values, employees = _parse_card(specs, card, source)
        except KpiError as exc:
            out.append(exc)
            continue
        out.append({})  # its result, below
        groups.setdefault(tuple(employees.columns), []).append((i, values, employees))
    for group in groups.values():
        employees = pd.concat([e for _, _, e in group], ignore_index=True)
        keys = dict.fromkeys(k for _, values, _ in group for k in values)
        arrays = {k: np.array([values.get(k, np.nan) for _, values, _ in group], dtype=float) for k in keys}
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused below, once
            scores = score_role(catalog, role, employees, arrays)
        for j, (i, _, _) in enumerate(group):
            out[i] = _outcome(catalog, scores, j, source)
    return out


def _parse_card(specs, card, source: str) -> tuple[dict, pd.DataFrame]:
    """(parsed input values, the employee's one-row frame) of a card; KpiError if it is bad."""
    if not isinstance(card, dict):
        raise KpiError([error("bad-input", "输入须为 JSON 对象", "input must be a JSON object",
                              source=source)])
    month = card.get("month")
    if month is not None:
        try:
            month = parse_month(month)
        except ParseError as exc:
            raise KpiError([error("bad-month", exc.zh, exc.en, source=source, path=("month",))]) from None
    raw_inputs = card.get("inputs") or {}
    if not isinstance(raw_inputs, dict):
        raise KpiError([error("bad-input", "inputs 须为对象", "inputs must be an object",
                              source=source, path=("inputs",))])
    values, diags = parse_inputs(specs, raw_inputs, source)
    if diags:
        raise KpiError(diags)
    employee = card.get("employee")
    if employee is not None and not isinstance(employee, dict):
        raise KpiError([error("bad-input", "employee 须为对象（如 {\"base_salary\": 5000}）",
                              'employee must be an object (such as {"base_salary": 5000})',
                              source=source, path=("employee",))])
    try:
        employees = employee_frame(employee or {})
    except ValueError as exc:
        raise KpiError([error("bad-input", f"员工信息无效：{exc}", f"bad employee field: {exc}",
                              source=source, path=("employee",))]) from None
    return values, employees


def _outcome(catalog: Catalog, scores: RoleScores, i: int, source: str) -> dict | KpiError:
    """Row ``i``'s result, or the KpiError of the values no rule accepts or of an overflow."""
    if scores.errors[i]:
        return KpiError([error(getattr(e, "code", "bad-input"), e.zh, e.en, source=source,
                               path=("inputs", *getattr(e, "keys", [])[:1]))
                         for e in scores.errors[i]])
    result = card_result(catalog, scores, i)
    where = _not_finite(result)
    if where is not None:  # huge inputs overflow: a result must be a finite number
        return KpiError([error("not-finite", f"结果 {'/'.join(map(str, where))} 超出数字范围：输入过大",
                               f"the result {'/'.join(map(str, where))} is out of the range of numbers: "
                               "the inputs are too large", source=source, path=tuple(where))])
    return result


def _not_finite(data, path=()) -> tuple | None:
    """The path of the first infinite or NaN number in a result (None is an empty value)."""
    if isinstance(data, float) and not math.isfinite(data):
        return path
    items: Iterable[tuple[object, object]]
    if isinstance(data, dict):
        items = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return None
    for key, value in items:
        found = _not_finite(value, path + (key,))
        if found is not None:
            return found
    return None


def card_result(catalog: Catalog, scores: RoleScores, i: int) -> dict:
    """The JSON result of employee row ``i`` of a scored role."""
    role, row = scores.role, scores.frame.iloc[i]
    items = []
    for section, item in role.items():
        points = float(row[f"points.{item.id}"])
        rec = {"id": item.id, "label": item.label, "section": section.id, "max": item.max,
               "points": None if math.isnan(points) else points,
               "explain": explain_item(role, item, scores.details[item.id], i, points)}
        if item.adjustment:
            rec["adjustment"] = True
        if not item.in_total:
            rec["in_total"] = False
        if f"grade.{item.id}" in row:
            rec["grade"] = row[f"grade.{item.id}"]
        items.append(rec)
    complete = bool(row["complete"])
    pay = {}
    for rule in catalog.role_pay_rules(role):
        value = float(row[f"pay.{rule.id}"])
        pay[rule.id] = None if math.isnan(value) else value
    total_pay = float(row["pay.total"])
    pay["total"] = None if math.isnan(total_pay) else total_pay
    warnings = list(scores.warnings[i])
    if row["excluded_reason"]:
        warnings.append(row["excluded_reason"])
    team = [r.id for r in catalog.role_pay_rules(role) if r.kind in TEAM_PAY_KINDS]
    if team:
        warnings.append(f"{', '.join(team)} 需全部门当月数据，在月度报表中计算 / computed in the "
                        f"monthly report, which sees the whole department")
    return {
        "role": role.id,
        "status": str(row["status"]),
        "total": float(row["total"]),
        "grade": row["grade"] if complete else None,
        "pay": pay,
        "items": items,
        "missing": list(scores.missing[i]),
        "warnings": warnings,
    }
