"""S20 qc_ipqc_patrol: 过程检验员（巡检）, truncated in the seed and completed from S7."""

ROLE = "qc_ipqc_patrol"


def test_complete_card_by_hand(score):
    r = score(ROLE, {
        "miss_detection": 1,
        "daily_inspection.not_per_drawing": 1,
        "daily_inspection.status_label_error": 1,
        "discipline.leave_irregular": 1,
        "five_s.maintenance_false": 2,
        "proposal_bonus.adopted": "是",
    })
    # 错漏检 1 次 → 20; 日常检验 20 − 5 − 2 = 13; 工作纪律 15 − 3 = 12; 工作效率 10;
    # 团队精神 10; 沟通 15; 5S 10 − 2×3 = 4 → 20 + 13 + 12 + 10 + 10 + 15 + 4 = 84;
    # 提案被采纳 +5 → 89 → B (80 ≤ 89 < 96)
    # 扣分 5 + 2 + 3 + 6 = 16, 奖分 5 → (5 − 16) × ¥2 = −22
    assert r["status"] == "complete"
    assert r["total"] == 89.0
    assert r["grade"] == "B"
    assert r["pay"]["pay_point_value"] == -22.0
    assert r["pay"]["pool_deductions"] == 0.0
    assert r["pay"]["total"] == -22.0


def test_miss_bands(score):
    totals = {n: score(ROLE, {"miss_detection": n})["total"] for n in (0, 2, 3, 4)}
    # 22/15/10/0 + 80 from the other items at full marks
    assert totals == {0: 102.0, 2: 95.0, 3: 90.0, 4: 80.0}


def test_everything_after_the_first_line_is_assumed(catalog):
    role = catalog.roles[ROLE]
    items = [i for _, i in role.items()]
    assert not items[0].assumed  # 错漏检: in the seed
    assert all(i.assumed and i.note for i in items[1:])
    assert "首检、巡检、终检" in items[1].criteria
    assert [r.id for r in role.pay_rules] == ["pay_point_value", "pool_deductions"]
