"""S9 taobao_cs_staff: 自评 40% + 主管 60% on rated items; grade_5_level; S9 awards."""

ROLE = "taobao_cs_staff"


def base_inputs(**overrides):
    inputs = {
        "sales_completion": "90%",
        "assigned_tasks": {"self": 18, "supervisor": 16},
        "discipline": {"self": "无违纪", "supervisor": "迟到早退1-3次"},
        "problem_handling": {"self": "独立处事", "supervisor": "一般"},
        "coordination": {"self": "通报表扬", "supervisor": "主管表扬"},
        "passion": {"自评": "激情感染", "主管": "良好"},
    }
    inputs.update(overrides)
    return inputs


def test_complete_card_by_hand(score):
    r = score(ROLE, base_inputs(), {"full_attendance": True})
    # 月销售额完成率 30 × 0.9 = 27
    # 上级任务 0.4×18 + 0.6×16 = 7.2 + 9.6 = 16.8
    # 纪律性 0.4×10 + 0.6×6 = 4 + 3.6 = 7.6
    # 处事能力 0.4×20 + 0.6×15 = 8 + 9 = 17
    # 工作协调 0.4×10 + 0.6×8 = 4 + 4.8 = 8.8
    # 工作激情 0.4×10 + 0.6×8 = 8.8
    # total = 27 + 16.8 + 7.6 + 17 + 8.8 + 8.8 = 86.0 → 优秀 (85 ≤ 86 < 95)
    # pay: 全勤 50; 部门第一奖 0 on a single card (monthly report); no fail penalty → 50
    assert r["status"] == "complete"
    points = {i["id"]: i["points"] for i in r["items"]}
    assert points["assigned_tasks"] == 16.8
    assert points["discipline"] == 7.6
    assert r["total"] == 86.0
    assert r["grade"] == "优秀"
    assert r["pay"]["award_full_attendance"] == 50.0
    assert r["pay"]["award_top_scorer"] == 0.0
    assert r["pay"]["penalty_fail"] == 0.0
    assert r["pay"]["total"] == 50.0
    assert any("award_top_scorer" in w for w in r["warnings"])


def test_rater_weights_self_40_supervisor_60(score):
    def tasks(rating):
        r = score(ROLE, base_inputs(assigned_tasks=rating))
        return next(i["points"] for i in r["items"] if i["id"] == "assigned_tasks")

    assert tasks({"self": 20, "supervisor": 0}) == 8.0    # 0.4 × 20
    assert tasks({"self": 0, "supervisor": 20}) == 12.0   # 0.6 × 20
    assert tasks({"self": 20, "supervisor": 20}) == 20.0


def test_fail_grade_is_penalised(score):
    r = score(ROLE, {
        "sales_completion": 0.3,
        "assigned_tasks": {"self": 10, "supervisor": 10},
        "discipline": {"self": "通报批评", "supervisor": "通报批评"},
        "problem_handling": {"self": "差", "supervisor": "差"},
        "coordination": {"self": "必要合作", "supervisor": "必要合作"},
        "passion": {"self": "一般", "supervisor": "一般"},
    }, {"full_attendance": False})
    # 9 + 10 + 0 + 5 + 4 + 5 = 33 → 不及格 → −200; no 全勤
    assert r["total"] == 33.0
    assert r["grade"] == "不及格"
    assert r["pay"]["penalty_fail"] == -200.0
    assert r["pay"]["award_full_attendance"] == 0.0
    assert r["pay"]["total"] == -200.0


def test_one_rater_missing_is_incomplete(score):
    r = score(ROLE, base_inputs(assigned_tasks={"supervisor": 16}), {"full_attendance": True})
    # weighted raters need both columns (G5, G10)
    assert r["status"] == "incomplete"
    assert r["grade"] is None
    assert "assigned_tasks.points.self" in r["missing"]
    assert r["pay"]["total"] is None


def test_missing_sales_is_incomplete(score):
    inputs = base_inputs()
    del inputs["sales_completion"]
    r = score(ROLE, inputs)
    assert r["status"] == "incomplete"
    assert r["grade"] is None
    assert "sales_completion.rate" in r["missing"]
