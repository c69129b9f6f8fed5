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


@pytest.mark.parametrize("role_id", ROLES)
def test_totals_stay_within_declared_bounds(role_id):
    role = CATALOG.roles[role_id]
    bound = 100 + declared_bonus(role)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(role_inputs(role, CATALOG.role_pay_rules(role)))
    def check(inputs):
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

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.one_of(st.sampled_from(points), st.floats(lo, hi)), min_size=2, max_size=2))
    def check(pair):
        a, b = sorted(pair)
        masks_a = [band.when.matches(np.array([a]))[0] for band in rule.bands]
        masks_b = [band.when.matches(np.array([b]))[0] for band in rule.bands]
        if not any(masks_a) or not any(masks_b):
            return
        pa = rule.bands[masks_a.index(True)].points
        pb = rule.bands[masks_b.index(True)].points
        assert pb >= pa if rule.monotone == "increasing" else pb <= pa

    check()
