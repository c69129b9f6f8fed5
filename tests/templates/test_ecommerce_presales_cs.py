"""S10 ecommerce_presales_cs: 赤兔 metrics, rank item, 遵守制度 bonus, grade_5_level."""

ROLE = "ecommerce_presales_cs"


def base_inputs(**overrides):
    inputs = {
        "sales_completion": "90%",
        "sales_share.share": "22%", "sales_share.rank": 2, "sales_share.team_size": 5,
        "closed_orders": 30,
        "packing_errors": 2,
        "same_day_payment": "90%",
        "refunds": 5,
        "order_value": 120,
        "inquiry_conversion": "50%",
        "product_knowledge": "熟悉",
        "response_time": 25,
        "reply_rate": "99.2%",
        "service_satisfaction": "比较满意",
        "conversation_quality": 2,
        "standard_phrases": 1.5,
        "duty": 1,
        "review_invitation": "60%",
        "cooperation": 1,
        "compliance_bonus.no_late": "是",
        "compliance_bonus.no_leave": "是",
    }
    inputs.update(overrides)
    return inputs


def test_complete_card_by_hand(score):
    r = score(ROLE, base_inputs())
    # 业务指标: 70 × 0.9 = 63
    # 业务技能: rank 2 of 5 → 3 × (5−2)/(5−1) = 2.25; closed 30 ≤ 50 → 1; 2 packing errors → 1;
    #   90% ≥ 85% → 2; 5 refunds < 20 → 1; ¥120 ≥ 80 → 2; 50% (< 60%, ≥ 40%) → 1; 熟悉 → 1
    #   = 2.25 + 1 + 1 + 2 + 1 + 2 + 1 + 1 = 11.25
    # 服务态度: 25 s (≥ 20, < 30) → 2; 99.2% (< 99.5%, ≥ 99%) → 2; 比较满意 2; 交流 2;
    #   术语 1.5; 值班 1; 评价发送率 60% → 1 = 11.5
    # 团队合作: 1
    # 遵守制度 bonus: 无迟到早退 +1, 无请假 +1 = 2
    # total = 63 + 11.25 + 11.5 + 1 + 2 = 88.75 → 88.8 (half away from zero) → 优秀
    # pay: award_top_scorer needs the department's month: 0 on a single card
    assert r["status"] == "complete"
    points = {i["id"]: i["points"] for i in r["items"]}
    assert points["sales_completion"] == 63.0
    assert points["sales_share"] == 2.25
    assert points["compliance_bonus"] == 2.0
    assert r["total"] == 88.8
    assert r["grade"] == "优秀"
    assert r["pay"] == {"award_top_scorer": 0.0, "total": 0.0}


def test_completion_capped_and_bonus_on_top(score):
    r = score(ROLE, base_inputs(**{
        "sales_completion": "125%", "sales_share.rank": 1, "packing_errors": 0,
        "inquiry_conversion": "60%", "response_time": 19.9, "reply_rate": "99.5%",
        "service_satisfaction": "非常满意", "standard_phrases": 2,
        "compliance_bonus.overtime": "是", "compliance_bonus.perfect_work": "是"}))
    # 70 (capped) + 14 + 15 + 1 = 100; bonus 4 → 104 → 卓越
    assert r["total"] == 104.0
    assert r["grade"] == "卓越"


def test_deduction_metrics_at_their_edges(score):
    def pts(item, value):
        r = score(ROLE, base_inputs(**{item: value}))
        return next(i["points"] for i in r["items"] if i["id"] == item)

    assert [pts("response_time", s) for s in (19.9, 20, 30, 40, 95)] == [3.0, 2.0, 1.0, 0.0, 0.0]
    assert [pts("reply_rate", v) for v in ("99.5%", "99.4%", "99%", "98.9%", "98%", "97.9%")] == \
        [3.0, 2.0, 2.0, 1.0, 1.0, 0.0]
    assert [pts("packing_errors", n) for n in (0, 1, 2, 3, 7)] == [2.0, 2.0, 1.0, 0.0, 0.0]
    assert [pts("closed_orders", n) for n in (50, 51)] == [1.0, 0.0]
    assert [pts("refunds", n) for n in (19, 20)] == [1.0, 0.0]
    assert [pts("inquiry_conversion", v) for v in ("39%", "40%", "59%", "60%")] == [0.0, 1.0, 1.0, 2.0]
    assert [pts("same_day_payment", v) for v in ("84.9%", "85%")] == [0.0, 2.0]
    assert [pts("order_value", v) for v in (79.99, 80)] == [0.0, 2.0]
    assert [pts("review_invitation", v) for v in ("49%", "50%")] == [0.0, 1.0]


def test_rank_item(score):
    def share(rank, n):
        r = score(ROLE, base_inputs(**{"sales_share.rank": rank, "sales_share.team_size": n}))
        return next(i["points"] for i in r["items"] if i["id"] == "sales_share")

    assert share(1, 4) == 3.0   # first: full points
    assert share(4, 4) == 0.0   # last: nothing
    assert share(2, 4) == 2.0   # 3 × 2/3
    assert share(1, 1) == 3.0   # n = 1: full points


def test_missing_rank_is_incomplete(score):
    inputs = base_inputs()
    del inputs["sales_share.rank"]
    del inputs["sales_completion"]
    r = score(ROLE, inputs)
    assert r["status"] == "incomplete"
    assert r["grade"] is None
    assert "sales_share.rank" in r["missing"]
    assert "sales_completion.rate" in r["missing"]
