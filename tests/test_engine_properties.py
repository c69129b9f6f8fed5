"""Properties of every shipped role, over generated inputs (hypothesis)."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi_workbook.engine.api import score_card
from kpi_workbook.rules.lint import band_sample_points
from kpi_workbook.rules.loader import builtin_catalog

from .strategies import role_inputs
from .workbook_cases import edge_cases

CATALOG = builtin_catalog()
ROLES = sorted(CATALOG.roles)
EMPLOYEE = {"id": "E1", "name": "测试", "base_salary": 6000, "q_amount": 3000,
            "full_attendance": True}


def declared_bonus(role) -> float:
    """How far a total may go above 100: adjustments and items allowed above their max."""
    extra = 0.0
    for _, item in role.items():
        if item.adjustment:
            extra += math.inf if item.allow_above_max else item.max
        elif item.allow_above_max:
            rule = item.rule
            if rule.kind == "bands":
                extra += max(b.points for b in rule.bands) * item.max / item.full_scale - item.max
            else:
                extra += math.inf
    return extra


def _check_bounds(role_id: str, inputs: dict, bound: float) -> None:
    result = score_card(CATALOG, role_id, {"employee": EMPLOYEE, "inputs": inputs})
    assert 0 <= result["total"] <= bound + 1e-9
    if result["status"] == "complete":
        assert result["grade"] is not None and result["pay"]["total"] is not None
        assert not result["missing"]
    else:
        assert result["grade"] is None and result["missing"]
    for it in result["items"]:
        if it["points"] is not None and not it.get("adjustment"):
            assert it["points"] >= 0


@pytest.mark.parametrize("role_id", ROLES)
def test_totals_stay_within_declared_bounds(role_id):
    role = CATALOG.roles[role_id]
    bound = 100 + declared_bonus(role)
    # first the systematic cards (workbook_cases.edge_cases: every threshold, a hair either
    # side, every level and extreme, empty and half-filled), but the one that breaks a
    # section's allocation on purpose (an error, not a card); then hypothesis's
    edges = [c for c in edge_cases(CATALOG, role) if not any(k.endswith(".alloc") for k in c)]
    assert len(edges) >= 5
    for inputs in edges:
        _check_bounds(role_id, inputs, bound)

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(role_inputs(role, CATALOG.role_pay_rules(role)))
    def check(inputs):
        _check_bounds(role_id, inputs, bound)

    check()


MONOTONE = [(rid, item) for rid in ROLES for _, item in CATALOG.roles[rid].items()
            if item.rule.kind == "bands" and item.rule.monotone]


def test_some_band_tables_declare_a_direction():
    assert len(MONOTONE) >= 5


@pytest.mark.parametrize("role_id, item", MONOTONE, ids=[f"{r}.{i.id}" for r, i in MONOTONE])
def test_declared_monotone_bands_are_monotone(role_id, item):
    rule = item.rule
    points = band_sample_points(rule)
    lo, hi = min(points), max(points)

    def band_of(values):
        """The points of the first band matching each value (NaN where none matches)."""
        xs = np.array(values, dtype=float)
        masks = np.array([band.when.matches(xs) for band in rule.bands])
        first = masks.argmax(axis=0)
        points_of = np.array([band.points for band in rule.bands], dtype=float)
        return np.where(masks.any(axis=0), points_of[first], np.nan)

    # a sorted draw of many values is monotone iff every pair of them is (one example
    # checks what 30 × 29 / 2 drawn pairs would)
    @settings(max_examples=40, deadline=None)
    @given(st.lists(st.one_of(st.sampled_from(points), st.floats(lo, hi)), min_size=2, max_size=30))
    def check(values):
        ys = band_of(sorted(values))
        ys = ys[~np.isnan(ys)]
        steps = np.diff(ys)
        assert np.all(steps >= 0) if rule.monotone == "increasing" else np.all(steps <= 0), \
            list(zip(sorted(values), band_of(sorted(values))))

    check()
