"""Scorecard cases for workbook tests: edge cases made systematically, plus generated ones.

A case is (role id, employee fields, canonical inputs). Edge cases put every bands input on
each of its thresholds (and a hair either side), pick every level, leave cards empty or
half-filled, and use the extremes of every other input; hypothesis adds random ones.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from kpi_workbook.kinds.inputs import input_specs
from kpi_workbook.engine.month import score_month
from kpi_workbook.rules.lint import band_sample_points


def typical_value(spec):
    """A valid, middling value for one input."""
    d = spec.input
    if d.type == "level":
        return spec.levels[len(spec.levels) // 2]
    if d.type == "flag":
        return False
    if d.id in ("rank", "team_size"):
        return 2 if d.id == "rank" else 4
    if spec.item is not None and spec.item.rule.kind == "bands" and d.id == spec.item.rule.input.id:
        points = band_sample_points(spec.item.rule)
        if d.type == "count":
            points = [p for p in points if float(p).is_integer()] or [0]
            return int(points[len(points) // 2])
        return points[len(points) // 2]
    low = d.min if d.min is not None else 0
    high = d.max if d.max is not None else low + 10
    value = low + (high - low) * 0.6
    return int(value) if d.type == "count" else round(value, 2)


def edge_cases(catalog, role) -> list[dict]:
    """Cards that together put every input on each of its interesting values.

    Card j sets every input to its j-th variant at once (cycling shorter lists), so each
    band threshold, level, flag and extreme appears in some card while the number of cards
    stays the length of the longest variant list, not the sum.
    """
    specs = [s for s in input_specs(role, catalog.role_pay_rules(role)) if s.input.id != "alloc"]
    base = {s.key: typical_value(s) for s in specs if s.input.required or s.rater}
    variants: dict[str, list] = {}
    for s in specs:
        item = s.item
        d = s.input
        if item is not None and item.rule.kind == "bands" and d.id == item.rule.input.id:
            values = [v for v in band_sample_points(item.rule)
                      if (d.type != "count" or float(v).is_integer()) and v >= (d.min or -math.inf)]
            variants[s.key] = [int(v) if d.type == "count" else v for v in values]
        elif d.type == "level":
            variants[s.key] = list(s.levels)
        elif d.type == "flag":
            variants[s.key] = [True, False]
        elif d.id not in ("rank", "team_size"):
            low = d.min if d.min is not None else 0
            high = d.max if d.max is not None else low + 25
            high = min(high, 40) if d.id != "points" else high
            mid = low + (high - low) / 3
            variants[s.key] = [int(v) for v in (low, high, mid)] if d.type == "count" else [
                low, high, round(mid, 2)]
    for s in specs:
        if d_id(s) == "team_size":
            variants[s.key] = [1, 5, 7, 4]
            variants[f"{s.owner}.rank"] = [1, 5, 3, 4]
    longest = max((len(v) for v in variants.values()), default=1)
    cases = [dict(base), {}, dict(list(base.items())[: len(base) // 2])]  # full, empty, half
    for j in range(longest):
        cases.append({**base, **{k: v[j % len(v)] for k, v in variants.items()}})
    for section in role.sections:
        if section.allocation:
            n = len(section.items)
            cases.append({**base, **{f"{it.id}.alloc": (section.allocation.total / n) * (1.5 if k == 0 else 1)
                                     for k, it in enumerate(section.items)}})
    return cases


def d_id(spec) -> str:
    return spec.input.id


def employee_for(role, k: int) -> dict:
    return {"employee_id": f"{role.id[:6].upper()}{k:04d}", "name": f"测试{k}",
            "department": ["一组", "二组"][k % 2], "role": role.id,
            "base_salary": 4000.0 + 137 * (k % 13), "q_amount": 3000.0 if k % 5 else math.nan,
            "full_attendance": bool(k % 3), "supervisor": ""}


def engine_results(catalog, role, employees: list[dict], inputs: list[dict]) -> pd.DataFrame:
    """The engine's scores for these cards, via the same parse path as `score`."""
    from kpi_workbook.kinds.inputs import parse_value

    specs = {s.key: s for s in input_specs(role, catalog.role_pay_rules(role))}
    columns: dict[str, list[float]] = {k: [] for k in specs}
    for card in inputs:
        for k, spec in specs.items():
            columns[k].append(parse_value(spec, card[k]) if k in card else math.nan)
    values = {k: np.array(v, dtype=float) for k, v in columns.items()}
    frame = pd.DataFrame(employees)
    # as the month is scored: ranks derived from the team metric, as `fill` writes them
    return score_month(catalog, frame, {role.id: values}, team_awards=False).frame


def fill_rows(employees: list[dict], inputs: list[dict]):
    """(employee_id, key, rater, value) rows for `fill`, values as a person would type them."""
    rows = []
    for e, card in zip(employees, inputs):
        for key, value in card.items():
            if isinstance(value, bool):
                value = "是" if value else "否"
            rows.append((e["employee_id"], key, None, value))
    return rows
