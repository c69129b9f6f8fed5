"""S11 qc_event_ledger: base 100 ± recorded events; 彻底执行力 is a separate 5-level rating."""

import pytest

from kpi_workbook.diagnostics import KpiError

ROLE = "qc_event_ledger"


def _items(result):
    return {it["id"]: it for it in result["items"]}


def test_no_events_starts_at_100(score):
    # 100 (base) + 0 events = 100.0 → grade_a_e: 100 >= 96 → A; no pay rule → pay total 0
    r = score(ROLE, {"execution": 100})
    assert r["status"] == "complete"
    assert r["total"] == 100.0
    assert r["grade"] == "A"
    assert r["pay"] == {"total": 0.0}
    items = _items(r)
    assert items["execution"]["points"] == 100
    assert items["execution"]["grade"] == "很好"   # execution_5_level: 100 → 很好
    assert items["execution"].get("in_total") is False
    for cat in ("quality_assurance", "work_quality", "discipline", "communication",
                "attention_to_detail", "responsibility"):
        assert items[cat]["points"] == 0


def test_bonus_and_deduction_events(score):
    # 品质保证: 当月品质良好 +20                          = +20
    # 工作质量: 报表错误 2 × −3 = −6; 重大异常 1 × +10   = +4
    # 工作纪律: 迟到早退 1 × −5                          = −5
    # 内外沟通: 被投诉 1 × −10                           = −10
    # 细节关注度: 帮助同事 2 × +4                        = +8
    # 工作责任心: 文件丢失 1 × −20                       = −20
    # total = 100 + 20 + 4 − 5 − 10 + 8 − 20 = 97.0 → A (>= 96)
    # 彻底执行力 85 → 好 (80–89), not in the total
    r = score(ROLE, {
        "quality_assurance.good_month": "是",
        "work_quality.report_error": 2,
        "work_quality.major_issue_found": 1,
        "discipline.late_early": 1,
        "communication.complained": 1,
        "attention_to_detail.help_colleague": 2,
        "responsibility.doc_lost": 1,
        "execution": 85,
    })
    assert r["status"] == "complete"
    items = _items(r)
    assert items["quality_assurance"]["points"] == 20
    assert items["work_quality"]["points"] == 4
    assert items["discipline"]["points"] == -5
    assert items["communication"]["points"] == -10
    assert items["attention_to_detail"]["points"] == 8
    assert items["responsibility"]["points"] == -20
    assert items["execution"]["grade"] == "好"
    assert r["total"] == 97.0
    assert r["grade"] == "A"
    assert r["pay"] == {"total": 0.0}


def test_deductions_lower_the_grade(score):
    # 批量不良 1 × −20; 后工序投诉3–5% 2 × −5 = −10; 工作散漫 1 × −5; 月均3次异常 −10 (flag)
    # total = 100 − 20 − 10 − 5 − 10 = 55.0 → E (< 60); 执行力 69 → 很差 (< 70)
    r = score(ROLE, {
        "quality_assurance.batch_defect": 1,
        "quality_assurance.downstream_3_5pct": 2,
        "responsibility.careless": 1,
        "responsibility.monthly_anomalies": True,
        "execution": 69,
    })
    assert r["total"] == 55.0
    assert r["grade"] == "E"
    assert _items(r)["quality_assurance"]["points"] == -30
    assert _items(r)["responsibility"]["points"] == -15
    assert _items(r)["execution"]["grade"] == "很差"


def test_total_floors_at_zero(score):
    # 语言行为过激 6 × −20 = −120 → 100 − 120 = −20, role floor 0 → 0.0 → E
    r = score(ROLE, {"communication.improper_conduct": 6, "execution": 90})
    assert _items(r)["communication"]["points"] == -120
    assert r["total"] == 0.0
    assert r["grade"] == "E"
    assert _items(r)["execution"]["grade"] == "较好"   # 90 → 较好 (>= 90)


def test_execution_rating_missing_is_incomplete(score):
    # events are optional (empty = did not happen); the execution rating is required
    r = score(ROLE, {"work_quality.major_issue_found": 1})
    assert r["status"] == "incomplete"
    assert r["grade"] is None
    assert r["pay"]["total"] is None
    assert "execution.points" in r["missing"]
    assert r["total"] == 110.0   # the total still shows: 100 + 10


def test_execution_above_100_is_rejected(score):
    with pytest.raises(KpiError):
        score(ROLE, {"execution": 101})
