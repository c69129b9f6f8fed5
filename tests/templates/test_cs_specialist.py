"""S1 cs_specialist: five S15 indicators, 20 points each, supervisor scores 0–100."""

ITEMS = ("problem_resolution", "customer_satisfaction", "response_time",
         "complaint_handling", "quality_monitoring")


def test_complete_card_by_hand(score):
    inputs = dict(zip(ITEMS, (85, 90, 80, 75, 95)))
    r = score("cs_specialist", inputs, {"base_salary": 5000})
    # 20×85/100 + 20×90/100 + 20×80/100 + 20×75/100 + 20×95/100
    # = 17 + 18 + 16 + 15 + 19 = 85 → grade_a_e B (80 ≤ 85 < 96)
    # pay_base_pct: 5000 × 10% × 85/100 = 425.00
    assert r["status"] == "complete"
    assert r["total"] == 85.0
    assert r["grade"] == "B"
    assert r["pay"]["pay_base_pct"] == 425.0
    assert r["pay"]["total"] == 425.0
    points = {i["id"]: i["points"] for i in r["items"]}
    assert points == dict(zip(ITEMS, (17.0, 18.0, 16.0, 15.0, 19.0)))


def test_total_rounded_to_one_decimal_and_pay_from_rounded_total(score):
    inputs = dict(zip(ITEMS, (83.3, 91.1, 77.7, 88.8, 86.6)))
    r = score("cs_specialist", inputs, {"base_salary": 4321})
    # 20/100 × (83.3 + 91.1 + 77.7 + 88.8 + 86.6) = 0.2 × 427.5 = 85.5 → 85.5
    # pay: 4321 × 0.10 × 85.5/100 = 369.4455 → 369.45
    assert r["total"] == 85.5
    assert r["grade"] == "B"
    assert r["pay"]["pay_base_pct"] == 369.45


def test_below_80_pays_nothing(score):
    inputs = dict(zip(ITEMS, (80, 80, 75, 80, 80)))
    r = score("cs_specialist", inputs, {"base_salary": 5000})
    # 16 + 16 + 15 + 16 + 16 = 79 < 80 → 绩效工资 0; grade C (70 ≤ 79 < 80)
    assert r["total"] == 79.0
    assert r["grade"] == "C"
    assert r["pay"]["pay_base_pct"] == 0.0
    assert r["pay"]["total"] == 0.0


def test_missing_score_is_incomplete(score):
    inputs = dict(zip(ITEMS[:4], (85, 90, 80, 75)))
    r = score("cs_specialist", inputs, {"base_salary": 5000})
    assert r["status"] == "incomplete"
    assert r["grade"] is None
    assert "quality_monitoring.points" in r["missing"]
    assert r["pay"]["total"] is None


def test_missing_base_salary_is_incomplete(score):
    r = score("cs_specialist", dict(zip(ITEMS, (85, 90, 80, 75, 95))))
    assert r["status"] == "incomplete"
    assert r["grade"] is None
    assert "employee.base_salary" in r["missing"]
