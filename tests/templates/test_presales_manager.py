"""S8 presales_manager: part 1 80 points; part 2 weight 20 over maxima 15 (normalised, G7)."""

ROLE = "presales_manager"


def base_inputs(**overrides):
    inputs = {
        "sales_achievement": "95%",
        "inquiry_conversion": "16.5%",
        "dsr_score": 1,
        "daily_work": 0.85,
        "rigor": "协助补救",
        "initiative": 4,
        "customer_focus": "主动征询",
        "teamwork": "提出建议",
        "learning": "学以致用",
    }
    inputs.update(overrides)
    return inputs


def test_complete_card_by_hand(score):
    r = score(ROLE, base_inputs(**{"commission_quarterly.quarter_sales": 1_000_000,
                                   "commission_quarterly.quarter_plan": 1_200_000}))
    # part 1: 30 × 0.95 = 28.5; 16.5% ≥ 16% → 25; one DSR below → 8; 85% ≥ 80% → 8 = 69.5
    # part 2: 2 + 4 + 1 + 2 + 1 = 10 of 15 → 20 × 10 / 15 = 13.333…
    # total = 69.5 + 13.333… = 82.833… → 82.8 → B
    # commission: 1,000,000 / 1,200,000 = 83% (≥ 60%, ≤ plan) → 0.5% × 1,000,000 = 5000
    assert r["status"] == "complete"
    points = {i["id"]: i["points"] for i in r["items"]}
    assert points["sales_achievement"] == 28.5
    assert points["inquiry_conversion"] == 25.0
    assert points["dsr_score"] == 8.0
    assert points["daily_work"] == 8.0
    assert r["total"] == 82.8
    assert r["grade"] == "B"
    assert r["pay"]["commission_quarterly"] == 5000.0
    assert r["pay"]["total"] == 5000.0


def test_commission_above_plan_and_below_60_percent(score):
    above = score(ROLE, base_inputs(**{"commission_quarterly.quarter_sales": 1_000_000,
                                       "commission_quarterly.quarter_plan": 900_000}))
    below = score(ROLE, base_inputs(**{"commission_quarterly.quarter_sales": 500_000,
                                       "commission_quarterly.quarter_plan": 900_000}))
    assert above["pay"]["commission_quarterly"] == 10000.0  # 1% × 1,000,000 above plan
    assert below["pay"]["commission_quarterly"] == 0.0      # 55.6% < 60% of plan
    unsettled = score(ROLE, base_inputs())
    assert unsettled["pay"]["commission_quarterly"] == 0.0  # not settled this month
    assert unsettled["status"] == "complete"


def test_full_marks_and_ratio_cap(score):
    r = score(ROLE, base_inputs(sales_achievement="130%", inquiry_conversion="18%", dsr_score=0,
                                daily_work="100%", rigor="预防问题", initiative=5,
                                customer_focus="超出期望", teamwork="共同成功", learning="主动拓展"))
    # 30 (capped) + 30 + 10 + 10 = 80; part 2 15/15 → 20; total 100 → A
    assert r["total"] == 100.0
    assert r["grade"] == "A"


def test_band_edges(score):
    def pts(item, value):
        r = score(ROLE, base_inputs(**{item: value}))
        return next(i["points"] for i in r["items"] if i["id"] == item)

    assert [pts("inquiry_conversion", v) for v in ("9.99%", "10%", "13%", "15.9%", "18%")] == \
        [0.0, 10.0, 20.0, 20.0, 30.0]
    assert [pts("dsr_score", n) for n in (0, 1, 2, 3)] == [10.0, 8.0, 5.0, 0.0]
    assert [pts("daily_work", v) for v in ("49%", "50%", "60%", "79%", "100%")] == \
        [0.0, 5.0, 6.0, 6.0, 10.0]


def test_missing_metric_is_incomplete(score):
    inputs = base_inputs()
    del inputs["inquiry_conversion"]
    del inputs["learning"]
    r = score(ROLE, inputs)
    assert r["status"] == "incomplete"
    assert r["grade"] is None
    assert "inquiry_conversion.rate" in r["missing"]
    assert "learning.level" in r["missing"]
