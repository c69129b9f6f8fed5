"""S14 presales_dept_staff: 自评 → 上级审核 (review order), point ranges as guidance."""

import pytest

from kpi_workbook.diagnostics import KpiError

ROLE = "presales_dept_staff"


def _items(result):
    return {it["id"]: it for it in result["items"]}


def test_complete_card_last_rater_is_final(score):
    # review order 自评 → 上级审核: the last non-empty column is final (G5)
    # 工作业绩 self 28 / sup 27 → 27      成本意识 9 / 8 → 8
    # 职业道德 self 5 / sup empty → 5     客户沟通 8 / 9 → 9
    # 合作精神 sup 7 → 7                  方案制作 13 / 12 → 12
    # 产品认识 9 / 9 → 9                  纪律性 10 / 10 → 10
    # total = 27+8+5+9+7+12+9+10 = 87.0 → grade_a_e B (>= 80); no pay rule → 0
    r = score(ROLE, {
        "work_results": {"self": 28, "supervisor": 27},
        "cost_awareness": {"self": 9, "supervisor": 8},
        "professional_ethics": {"self": 5},
        "customer_communication": {"自评": 8, "上级审核": 9},
        "cooperation": {"supervisor": 7},
        "solution_design": {"self": 13, "supervisor": 12},
        "product_knowledge": {"self": 9, "supervisor": 9},
        "discipline": {"self": 10, "supervisor": 10},
    })
    assert r["status"] == "complete"
    assert r["total"] == 87.0
    assert r["grade"] == "B"
    assert r["pay"] == {"total": 0.0}
    items = _items(r)
    assert items["work_results"]["points"] == 27
    assert items["professional_ethics"]["points"] == 5
    # guidance levels: 工作业绩 27 in B 25–29; 成本意识 8 in C (8); 纪律性 10 in A
    assert items["work_results"]["explain"]["level"] == "B"
    assert items["cost_awareness"]["explain"]["level"] == "C"
    assert items["discipline"]["explain"]["level"] == "A"


def test_unrated_item_is_incomplete(score):
    r = score(ROLE, {
        "work_results": {"supervisor": 30},
        "cost_awareness": {"supervisor": 10},
        "professional_ethics": {"supervisor": 5},
        "customer_communication": {"supervisor": 10},
        "solution_design": {"supervisor": 15},
        "product_knowledge": {"supervisor": 10},
        "discipline": {"supervisor": 10},
    })
    assert r["status"] == "incomplete"
    assert r["grade"] is None
    assert "cooperation.points.supervisor" in r["missing"]
    assert r["total"] == 90.0   # shown anyway: 100 − 10 for the empty 合作精神


def test_points_above_max_rejected(score):
    with pytest.raises(KpiError):
        score(ROLE, {"work_results": {"self": 31}})
