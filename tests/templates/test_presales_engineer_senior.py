"""S4 presales_engineer_senior: 60 points allocated over four areas, review raters 自评分 → 考评分."""

import pytest

from kpi_workbook.diagnostics import KpiError

ROLE = "presales_engineer_senior"


def base_inputs(**overrides):
    inputs = {
        "presales_research": {"self": 100, "supervisor": 80},
        "proposal_quality.extra_review_rounds": 1,
        "proposal_quality.low_sales_feedback": 1,
        "bid_quality.rework_after_sealing": 1,
        "knowledge_sharing": {"supervisor": 60},
        "work_attitude": {"self": 19, "supervisor": 17},
        "attendance_rules": {"supervisor": 18},
    }
    inputs.update(overrides)
    return inputs


def test_complete_card_by_hand(score):
    r = score(ROLE, base_inputs(**{"commission_share.project_bonus": 20000,
                                   "commission_share.engineers": 2}))
    # default allocation 15 each (sum 60 = weight, so no rescaling)
    # 售前调研: 考评分 80 (last non-empty column) → 80% × 15 = 12
    # 方案质量: 15 − 1×1 − 1×2 = 12
    # 招投标书: 15 − 1×2 = 13
    # 资料培训: 60% × 15 = 9
    # 业绩完成情况 = 12 + 12 + 13 + 9 = 46
    # 工作态度: 考评分 17; 出勤: 考评分 18
    # total = 46 + 17 + 18 = 81 → B
    # commission_share: 20000 × 25% ÷ 2 = 2500
    assert r["status"] == "complete"
    points = {i["id"]: i["points"] for i in r["items"]}
    assert points == {"presales_research": 12.0, "proposal_quality": 12.0, "bid_quality": 13.0,
                      "knowledge_sharing": 9.0, "work_attitude": 17.0, "attendance_rules": 18.0}
    assert r["total"] == 81.0
    assert r["grade"] == "B"
    assert r["pay"]["commission_share"] == 2500.0
    assert r["pay"]["total"] == 2500.0


def test_review_order_last_non_empty_column_wins(score):
    # self only → self counts; self + supervisor → supervisor counts
    only_self = score(ROLE, base_inputs(work_attitude={"self": 19}))
    both = score(ROLE, base_inputs(work_attitude={"self": 12, "supervisor": 20}))
    def att(r):
        return next(i["points"] for i in r["items"] if i["id"] == "work_attitude")
    assert att(only_self) == 19.0
    assert att(both) == 20.0
    # 46 + 19 + 18 = 83; 46 + 20 + 18 = 84
    assert only_self["total"] == 83.0
    assert both["total"] == 84.0
    assert only_self["status"] == both["status"] == "complete"


def test_supervisor_redistributes_the_60_points(score):
    r = score(ROLE, base_inputs(**{
        "presales_research.alloc": 24, "proposal_quality.alloc": 12,
        "bid_quality.alloc": 12, "knowledge_sharing.alloc": 12}))
    # 24 + 12 + 12 + 12 = 60
    # 调研 80% × 24 = 19.2; 方案 12 − 3 = 9; 标书 12 − 2 = 10; 资料 60% × 12 = 7.2
    # section = 19.2 + 9 + 10 + 7.2 = 45.4; total = 45.4 + 17 + 18 = 80.4 → B
    assert r["total"] == 80.4
    assert r["grade"] == "B"
    assert r["warnings"] == []


def test_a_split_not_adding_to_60_is_an_error_not_rescaled(score):
    # 20 + 20 + 15 + 10 = 65 ≠ 60 (off by +5): the card cannot be graded, nothing is rescaled
    with pytest.raises(KpiError) as caught:
        score(ROLE, base_inputs(**{"presales_research.alloc": 20, "proposal_quality.alloc": 20,
                                   "bid_quality.alloc": 15, "knowledge_sharing.alloc": 10}))
    (d,) = caught.value.diagnostics
    assert d.code == "allocation-total" and d.severity == "error"
    assert "65" in d.message_zh and "60" in d.message_zh and "+5" in d.message_en
    assert d.path == ("inputs", "presales_research.alloc")


def test_deductions_floor_at_zero(score):
    r = score(ROLE, base_inputs(**{"bid_quality.failed_bid": 4}))
    # 15 − 2 − 4×5 = −7 → 0 (G3); section 12 + 12 + 0 + 9 = 33; total 33 + 17 + 18 = 68 → D
    assert next(i["points"] for i in r["items"] if i["id"] == "bid_quality") == 0.0
    assert r["total"] == 68.0
    assert r["grade"] == "D"


def test_missing_rating_is_incomplete(score):
    inputs = base_inputs()
    del inputs["attendance_rules"]
    r = score(ROLE, inputs)
    assert r["status"] == "incomplete"
    assert r["grade"] is None
    assert "attendance_rules.points.supervisor" in r["missing"]
    # commission inputs are optional: empty means not settled this month
    assert not any(k.startswith("commission_share") for k in r["missing"])


def test_guidance_level_judged_on_the_typed_percent(score):
    # 80 typed on the 0–100 scale is 指导下完成, although the item points are 12 (80% × 15)
    r = score(ROLE, base_inputs())
    item = next(i for i in r["items"] if i["id"] == "presales_research")
    assert item["points"] == 12.0
    assert item["explain"]["level"] == "指导下完成"
