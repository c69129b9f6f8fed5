"""S6 presales_team_lead: review raters 自评 → 主管审核 → 经理审核 (last non-empty wins)."""

ROLE = "presales_team_lead"


def base_inputs(**overrides):
    inputs = {
        "single_order_rate": {"self": 18, "supervisor": 16, "manager": 15},
        "wealth_edition_rate": {"supervisor": 14},
        "info_management": {"self": "优秀", "manager": "良好"},
        "issue_archiving": {"supervisor": 5},
        "daily_summary": {"supervisor": 4},
        "member_reporting.lapses": 1,
        "member_support": {"supervisor": 3},
        "member_complaints.complaints": 1,
        "work_attitude": {"supervisor": 4},
        "market_development": {"supervisor": 8},
        "discipline": {"supervisor": "良好"},
        "initiative": {"self": "自主研究"},
    }
    inputs.update(overrides)
    return inputs


def test_complete_card_by_hand(score):
    r = score(ROLE, base_inputs())
    # 工作业绩: 单笔成交率 经理 15; 财富版 主管 14; 信息管理 经理 良好 4 → 33
    # 团队管理: 5 + 4 + (6 − 1×2 = 4) + 3 + (10 − 1×5 = 5) = 21
    # 工作态度: 4
    # 工作能力: 市场 8 + 纪律性 良好 4 + 自发性 自主研究 5 = 17
    # total = 33 + 21 + 4 + 17 = 75 → C (70 ≤ 75 < 80); no pay rules
    assert r["status"] == "complete"
    points = {i["id"]: i["points"] for i in r["items"]}
    assert points["single_order_rate"] == 15.0
    assert points["info_management"] == 4.0
    assert points["member_reporting"] == 4.0
    assert points["member_complaints"] == 5.0
    assert r["total"] == 75.0
    assert r["grade"] == "C"
    assert r["pay"] == {"total": 0.0}


def test_review_order_manager_overrides_supervisor_overrides_self(score):
    def pts(rating):
        r = score(ROLE, base_inputs(single_order_rate=rating))
        return next(i["points"] for i in r["items"] if i["id"] == "single_order_rate"), r["total"]

    assert pts({"self": 20}) == (20.0, 80.0)                                   # 75 − 15 + 20
    assert pts({"self": 20, "supervisor": 12}) == (12.0, 72.0)                 # 75 − 15 + 12
    assert pts({"self": 20, "supervisor": 12, "manager": 17}) == (17.0, 77.0)  # 75 − 15 + 17
    # a skipped middle column: the last non-empty one still wins
    assert pts({"self": 20, "manager": 9}) == (9.0, 69.0)


def test_levels_follow_review_order_too(score):
    r = score(ROLE, base_inputs(info_management={"self": "优秀", "supervisor": "较差"}))
    # 信息管理 主管审核 较差 0 → 75 − 4 + 0 = 71
    assert next(i["points"] for i in r["items"] if i["id"] == "info_management") == 0.0
    assert r["total"] == 71.0


def test_complaints_floor_at_zero(score):
    r = score(ROLE, base_inputs(**{"member_complaints.complaints": 3}))
    # 10 − 15 → 0: total 75 − 5 = 70 → C
    assert r["total"] == 70.0
    assert r["grade"] == "C"


def test_missing_rating_is_incomplete(score):
    inputs = base_inputs()
    del inputs["wealth_edition_rate"]
    r = score(ROLE, inputs)
    assert r["status"] == "incomplete"
    assert r["grade"] is None
    assert "wealth_edition_rate.points.manager" in r["missing"]
    assert r["total"] == 61.0  # 75 − 14: the total still shows (G10)
