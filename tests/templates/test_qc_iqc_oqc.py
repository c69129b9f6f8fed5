"""S19 qc_iqc_oqc: the 苏州冬建电子 IQC/OQC form (amounts differ from S7's)."""

ROLE = "qc_iqc_oqc"


def test_complete_card_by_hand(score):
    r = score(ROLE, {
        "miss_detection": 2,
        "daily_inspection.false_record": 1,
        "discipline.late_early": 2,
        "teamwork.no_cooperation": 1,
        "communication.dept_complaint": 1,
        "seven_s.report_altered": 1,
        "proposal_bonus.not_adopted": 1,
    })
    # 错漏检 2 次 → 15 (扣 5); 日常检验 20 − 5 (虚假记录, S19: −5 not S7's −2) = 15;
    # 工作纪律 15 − 2×5 = 5; 工作效率 10; 团队精神 10 − 5 = 5; 沟通 15 − 2 = 13; 7S 10 − 3 = 7
    # → 15 + 15 + 5 + 10 + 5 + 13 + 7 = 70; 提案 +1 → 71 → C (70 ≤ 71 < 80)
    # 扣分 5 + 5 + 10 + 5 + 2 + 3 = 30, 奖分 1 → (1 − 30) × ¥2 = −58
    assert r["status"] == "complete"
    assert r["total"] == 71.0
    assert r["grade"] == "C"
    assert r["pay"]["pay_point_value"] == -58.0
    # the deduction pool needs the whole department: 0 on one card, computed by the report
    assert r["pay"]["pool_deductions"] == 0.0
    assert r["pay"]["total"] == -58.0


def test_discipline_deducts_to_zero_and_zero_misses_earn_22(score):
    r = score(ROLE, {"miss_detection": 0, "discipline.left_post": 4})
    # 工作纪律 15 − 4×5 = −5 → 0 (扣完为止: 扣分 15); 错漏检 0 次 → 22 (奖分 2)
    # 22 + 20 + 0 + 10 + 10 + 15 + 10 = 87 → B; (2 − 15) × ¥2 = −26
    assert r["total"] == 87.0
    assert r["grade"] == "B"
    assert r["pay"]["pay_point_value"] == -26.0


def test_amounts_differ_from_s7(score):
    # the same faults cost more on S19: 虚假记录 −5 (S7 −2), 擅自离岗 −5 (S7 −3)
    inputs = {"miss_detection": 1, "daily_inspection.false_record": 1, "discipline.left_post": 1}
    assert score(ROLE, inputs)["total"] == 100.0 - 5 - 5    # 90
    assert score("qc_iqc", inputs)["total"] == 100.0 - 2 - 3  # 95


def test_template_marks_its_assumptions(catalog):
    role = catalog.roles[ROLE]
    assert role.assumed and "20/20/15/10/10/15/10" in role.note
    assert [i.max for _, i in role.items()] == [20, 20, 15, 10, 10, 15, 10, 5]
    assert [r.id for r in role.pay_rules] == ["pay_point_value", "pool_deductions"]
    assert role.signatures == ["考核者（直接上级）", "审核（厂长）", "批准（总经理）"]


def test_missing_miss_count_is_incomplete(score):
    r = score(ROLE, {"seven_s.instrument_misuse": 1})
    assert r["status"] == "incomplete"
    assert "miss_detection.misses" in r["missing"]
    assert r["grade"] is None and r["pay"]["total"] is None
