"""Each rule kind and the general semantics (G1..G10 of the digest) on small synthetic roles."""

from dataclasses import replace

import pytest

from kpi_workbook.diagnostics import KpiError
from kpi_workbook.engine.api import score_card
from kpi_workbook.rules.model import Role


def make_catalog(catalog, sections, **role):
    data = {"id": "t_role", "name": "测试岗位", "family": "cs", "grade_scheme": "grade_a_e",
            "sections": sections, **role}
    r = Role.model_validate(data)
    return replace(catalog, roles={r.id: r}, role_files={})


def run(cat, inputs, employee=None):
    return score_card(cat, "t_role", {"inputs": inputs, "employee": employee or {}})


def item(id, max, rule, **kw):
    return {"id": id, "label": id, "max": max, "rule": rule, **kw}


def filler(points):
    """A direct item that brings the maxima up to 100."""
    return item("rest", points, {"kind": "direct"})


BANDS = {"kind": "bands", "input": {"id": "rate", "label": "转化率", "type": "percent"},
         "bands": [{"when": ">= 38%", "points": 100}, {"when": ">= 35%", "points": 80},
                   {"when": "< 35%", "points": 0}]}


@pytest.fixture
def bands_cat(catalog):
    return make_catalog(catalog, [{"id": "s", "label": "s", "items": [
        item("conv", 20, BANDS, scale=100), filler(80)]}])


@pytest.mark.parametrize("value, points", [
    (0.38, 20.0),      # exactly on the threshold: >= matches
    ("38%", 20.0),
    (0.3799, 16.0),    # 20 × 80/100
    (0.35, 16.0),
    (0.3499, 0.0),
])
def test_bands_first_match_and_scale(bands_cat, value, points):
    result = run(bands_cat, {"conv": value, "rest": 80})
    assert result["items"][0]["points"] == points
    assert result["total"] == points + 80


def test_bands_no_match_is_an_error(catalog):
    rule = {**BANDS, "bands": BANDS["bands"][:2]}  # nothing below 35%, no else
    cat = make_catalog(catalog, [{"id": "s", "label": "s", "items": [
        item("conv", 20, rule, scale=100), filler(80)]}])
    with pytest.raises(KpiError, match="matches no band"):
        run(cat, {"conv": 0.2, "rest": 80})


def test_else_row_catches_the_rest(catalog):
    rule = {**BANDS, "bands": BANDS["bands"][:2] + [{"when": "else", "points": 10}]}
    cat = make_catalog(catalog, [{"id": "s", "label": "s", "items": [
        item("conv", 20, rule, scale=100), filler(80)]}])
    assert run(cat, {"conv": 0.2, "rest": 80})["items"][0]["points"] == 2.0


def test_half_open_ranges(catalog):
    rule = {"kind": "bands", "input": {"id": "s", "label": "秒"},
            "bands": [{"when": "[0, 20)", "points": 10}, {"when": "[20, 30)", "points": 8},
                      {"when": ">= 30", "points": 0}]}
    cat = make_catalog(catalog, [{"id": "s", "label": "s", "items": [
        item("rt", 10, rule), filler(90)]}])
    assert [run(cat, {"rt": v, "rest": 90})["items"][0]["points"] for v in (19.99, 20, 29.9, 30)] \
        == [10, 8, 8, 0]


def test_ratio_with_cap(catalog):
    cat = make_catalog(catalog, [{"id": "s", "label": "s", "items": [
        item("sales", 30, {"kind": "ratio", "input": {"id": "rate", "label": "达成率",
                                                       "type": "percent"}}), filler(70)]}])
    assert run(cat, {"sales": 0.85, "rest": 70})["items"][0]["points"] == pytest.approx(25.5)
    assert run(cat, {"sales": 1.3, "rest": 70})["items"][0]["points"] == 30.0


EVENTS = {"kind": "events", "events": [
    {"id": "late", "label": "迟到", "points": -2},
    {"id": "fraud", "label": "虚假记录", "points": -10, "type": "flag"},
    {"id": "batch", "label": "批量不良", "points": [-5, -2], "type": "points"}]}


@pytest.fixture
def events_cat(catalog):
    return make_catalog(catalog, [{"id": "s", "label": "s", "items": [
        item("daily", 20, EVENTS), filler(80)]}])


def test_events_deduct_from_max(events_cat):
    # 20 − 2×3 − 10 − 4 = 0
    r = run(events_cat, {"daily.late": 3, "daily.fraud": "是", "daily.batch": 4, "rest": 80})
    assert r["items"][0]["points"] == 0.0
    assert r["items"][0]["explain"]["deduction"] == 20.0


def test_events_floor_at_zero(events_cat):
    # 20 − 2×15 = −10 → floors at 0 (G3)
    assert run(events_cat, {"daily.late": 15, "rest": 80})["items"][0]["points"] == 0.0


def test_events_empty_means_none_happened(events_cat):
    r = run(events_cat, {"rest": 80})
    assert r["items"][0]["points"] == 20.0 and r["status"] == "complete"


def test_bonus_events_capped_at_max(catalog):
    rule = {"kind": "events", "base": 0, "events": [
        {"id": "adopted", "label": "采纳", "points": 5, "type": "flag"},
        {"id": "other", "label": "未采纳", "points": 1}]}
    cat = make_catalog(catalog, [{"id": "s", "label": "s", "items": [
        filler(100), item("proposal", 5, rule, adjustment=True)]}])
    r = run(cat, {"rest": 90, "proposal.adopted": True, "proposal.other": 3})
    assert r["items"][1]["points"] == 5.0      # 5 + 3 capped at 5
    assert r["total"] == 95.0                    # adjustments add outside the 100


def test_allow_negative_adjustment(catalog):
    rule = {"kind": "events", "base": 0, "events": [{"id": "bad", "label": "差评", "points": -1}]}
    cat = make_catalog(catalog, [{"id": "s", "label": "s", "items": [
        filler(100), item("adj", 10, rule, adjustment=True, allow_negative=True)]}])
    assert run(cat, {"rest": 90, "adj.bad": 3})["total"] == 87.0


def test_levels_pick_points(catalog):
    rule = {"kind": "levels", "levels": [{"label": "优秀", "points": 5}, {"label": "良好", "points": 4},
                                         {"label": "较差", "points": 0}]}
    cat = make_catalog(catalog, [{"id": "s", "label": "s", "items": [
        item("info", 5, rule), filler(95)]}])
    assert run(cat, {"info": "良好", "rest": 95})["total"] == 99.0
    with pytest.raises(KpiError, match="优秀、良好、较差"):
        run(cat, {"info": "很好", "rest": 95})


def test_direct_points_above_max_rejected(catalog):
    cat = make_catalog(catalog, [{"id": "s", "label": "s", "items": [filler(100)]}])
    with pytest.raises(KpiError, match="得分超过配分"):
        run(cat, {"rest": 101})


def test_direct_level_guidance_first_match(catalog):
    rule = {"kind": "direct", "levels": [{"label": "A", "min": 18, "max": 20},
                                         {"label": "B", "min": 15, "max": 18}]}
    cat = make_catalog(catalog, [{"id": "s", "label": "s", "items": [
        item("attitude", 20, rule), filler(80)]}])
    assert run(cat, {"attitude": 18, "rest": 80})["items"][0]["explain"]["level"] == "A"


@pytest.mark.parametrize("rank, n, points", [(1, 5, 10.0), (5, 5, 0.0), (3, 5, 5.0), (1, 1, 10.0)])
def test_rank_points(catalog, rank, n, points):
    cat = make_catalog(catalog, [{"id": "s", "label": "s", "items": [
        item("share", 10, {"kind": "rank"}), filler(90)]}])
    r = run(cat, {"share.rank": rank, "share.team_size": n, "rest": 90})
    assert r["items"][0]["points"] == points   # 10 × (n − rank)/(n − 1)


def test_rank_above_team_size_rejected(catalog):
    cat = make_catalog(catalog, [{"id": "s", "label": "s", "items": [
        item("share", 10, {"kind": "rank"}), filler(90)]}])
    with pytest.raises(KpiError, match="rank above team size"):
        run(cat, {"share.rank": 6, "share.team_size": 5, "rest": 90})


def test_section_normalisation(catalog):
    # G7: weight 20, maxima 15, points 12 → 20 × 12/15 = 16
    cat = make_catalog(catalog, [
        {"id": "a", "label": "a", "weight": 80, "items": [filler(80)]},
        {"id": "b", "label": "b", "weight": 20, "normalize": True, "items": [
            item("x", 10, {"kind": "direct"}), item("y", 5, {"kind": "direct"})]}])
    assert run(cat, {"rest": 80, "x": 8, "y": 4})["total"] == 96.0


def test_total_normalisation(catalog):
    # G8: maxima 50, raw 40 → 80
    cat = make_catalog(catalog, [{"id": "s", "label": "s", "items": [
        item("x", 30, {"kind": "direct"}), item("y", 20, {"kind": "direct"})]}],
        total={"normalize": True})
    assert run(cat, {"x": 25, "y": 15})["total"] == 80.0


RATED = [{"id": "s", "label": "s", "items": [item("att", 100, {"kind": "direct"})]}]


def test_weighted_raters(catalog):
    cat = make_catalog(catalog, RATED, raters={"mode": "weighted", "raters": [
        {"id": "self", "weight": 0.4}, {"id": "supervisor", "weight": 0.6}]})
    # 0.4 × 90 + 0.6 × 80 = 84
    assert run(cat, {"att": {"自评": 90, "主管": 80}})["total"] == 84.0
    partial = run(cat, {"att": {"self": 90}})
    assert partial["status"] == "incomplete" and "att.points.supervisor" in partial["missing"]


def test_review_order_last_nonempty_wins(catalog):
    cat = make_catalog(catalog, RATED, raters={"mode": "review", "raters": [
        {"id": "self"}, {"id": "supervisor"}, {"id": "manager"}]})
    assert run(cat, {"att": {"self": 90, "supervisor": 80}})["total"] == 80.0
    assert run(cat, {"att": {"self": 90, "supervisor": 80, "manager": 85}})["total"] == 85.0
    assert run(cat, {"att.points.self": 70})["total"] == 70.0
    assert run(cat, {})["status"] == "incomplete"


def test_incomplete_card_has_total_but_no_grade_or_pay(catalog):
    cat = make_catalog(catalog, [{"id": "s", "label": "s", "items": [
        item("x", 50, {"kind": "direct"}), item("y", 50, {"kind": "direct"})]}],
        pay_rules=["pay_grade_amount"])
    r = run(cat, {"x": 40})
    assert r["status"] == "incomplete" and r["total"] == 40.0
    assert r["grade"] is None and r["pay"]["pay_grade_amount"] is None
    assert r["missing"] == ["y.points"]


@pytest.mark.parametrize("total, pay", [(79.9, 0.0), (80, 400.0), (85.5, 427.5)])
def test_pay_base_pct_threshold(catalog, total, pay):
    # 基本工资 5000 × 10% × 总评分/100, zero below 80
    cat = make_catalog(catalog, [{"id": "s", "label": "s", "items": [filler(100)]}],
                       pay_rules=["pay_base_pct"])
    r = run(cat, {"rest": total}, {"base_salary": 5000})
    assert r["pay"]["pay_base_pct"] == pay


def test_pay_needs_base_salary(catalog):
    cat = make_catalog(catalog, [{"id": "s", "label": "s", "items": [filler(100)]}],
                       pay_rules=["pay_base_pct"])
    r = run(cat, {"rest": 90})
    assert r["status"] == "incomplete" and "employee.base_salary" in r["missing"]


def test_pay_override_per_role(catalog):
    cat = make_catalog(catalog, [{"id": "s", "label": "s", "items": [
        item("daily", 100, EVENTS)]}],
        pay_rules=[{"id": "pay_point_value", "with": {"value": 5}}])
    # (0 bonus − 2×2 deduction) × ¥5 = −20
    assert run(cat, {"daily.late": 2})["pay"]["pay_point_value"] == -20.0


def test_total_rounded_half_away_from_zero(catalog):
    # 33.35 + 33.3 + 0.2 … → raw 66.85 → 66.9 (binary 66.849999… would round down in Python)
    cat = make_catalog(catalog, [{"id": "s", "label": "s", "items": [
        item("a", 50, {"kind": "direct"}), item("b", 50, {"kind": "direct"})]}])
    assert run(cat, {"a": 33.55, "b": 33.3})["total"] == 66.9


def test_direct_level_guidance_uses_the_typed_scale(catalog):
    # typed 95 on a 0–100 scale of a 20-point item: points 19, level A (90–100)
    rule = {"kind": "direct", "levels": [{"label": "A", "min": 90, "max": 100},
                                         {"label": "B", "min": 0, "max": 90}]}
    cat = make_catalog(catalog, [{"id": "s", "label": "s", "items": [
        item("x", 20, rule, scale=100), filler(80)]}])
    r = run(cat, {"x": 95, "rest": 80})
    assert r["items"][0]["points"] == 19.0 and r["items"][0]["explain"]["level"] == "A"


def test_explanations_show_percent_metrics_as_percent(bands_cat):
    text = run(bands_cat, {"conv": "36%", "rest": 80})["items"][0]["explain"]["text"]
    assert text == "转化率 36% 落在 >= 35% 档，得 16 分"
