"""S17 cs_manager_monthly: bands + a normalised 态度指标 section, total normalised, Q pay."""

ROLE = "cs_manager_monthly"
Q = {"q_amount": 3000}


def _items(result):
    return {it["id"]: it for it in result["items"]}


def test_complete_card(score):
    # 客服流程体系 92% → >= 90% → 20
    # 客户信息管理 错漏 2% → <= 3% → 5
    # 销售额 105% of last year → >= 100% → 5
    # 流失数 1 → 0
    # 态度指标: 主动性 4级 20 + 以客户为中心 3级 15 + 服务细致 5级 25 = 60 of 75
    #           → section = 15 × 60 / 75 = 12
    # raw = 20 + 5 + 5 + 0 + 12 = 42 of 55 → total = 42 / 55 × 100 = 76.3636… → 76.4
    # grade_a_e: 76.4 >= 70 → C; pay = Q × 76.4 / 100 = 3000 × 0.764 = 2292.00
    r = score(ROLE, {"service_process": "92%", "customer_info": 0.02, "sales": "105%",
                     "customer_loss": 1, "initiative": "4级", "customer_focus": "3级",
                     "service_detail": "5级"}, Q)
    assert r["status"] == "complete"
    items = _items(r)
    assert items["service_process"]["points"] == 20
    assert items["customer_info"]["points"] == 5
    assert items["sales"]["points"] == 5
    assert items["customer_loss"]["points"] == 0
    assert items["initiative"]["points"] == 20
    assert r["total"] == 76.4
    assert r["grade"] == "C"
    assert r["pay"] == {"pay_q_level": 2292.0, "total": 2292.0}


def test_assumed_80_85_gap_and_other_bands(score):
    # 流程 82% → [80%, 85%) assumed 0; 信息 错漏 0 → 10; 销售额 98% → 0; 流失 0 → 5
    # 态度 5级 ×3 = 75 of 75 → 15
    # raw = 0 + 10 + 0 + 5 + 15 = 30 → 30 / 55 × 100 = 54.5454… → 54.5 → E (< 60)
    # pay = 3000 × 54.5 / 100 = 1635.00
    r = score(ROLE, {"service_process": 0.82, "customer_info": 0, "sales": 0.98,
                     "customer_loss": 0, "initiative": "5级", "customer_focus": "5级",
                     "service_detail": "5级"}, Q)
    items = _items(r)
    assert items["service_process"]["points"] == 0
    assert items["service_process"]["explain"]["when"] == "[0.8, 0.85)"
    assert items["customer_info"]["points"] == 10
    assert r["total"] == 54.5
    assert r["grade"] == "E"
    assert r["pay"]["pay_q_level"] == 1635.0


def test_band_boundaries(score):
    # 流程 exactly 85% → 10; 错漏 exactly 3% → 5; 销售额 exactly 100% → 5; 流失 0 → 5
    # 态度 1级 ×3 = 15 of 75 → 15 × 15 / 75 = 3
    # raw = 10 + 5 + 5 + 5 + 3 = 28 → 28 / 55 × 100 = 50.909… → 50.9 → E
    # pay = 3000 × 50.9 / 100 = 1527.00
    r = score(ROLE, {"service_process": "85%", "customer_info": "3%", "sales": "100%",
                     "customer_loss": 0, "initiative": "1级", "customer_focus": "1级",
                     "service_detail": "1级"}, Q)
    assert [it["points"] for it in r["items"][:4]] == [10, 5, 5, 5]
    assert r["total"] == 50.9
    assert r["pay"]["pay_q_level"] == 1527.0


def test_missing_input_is_incomplete(score):
    r = score(ROLE, {"service_process": "92%", "sales": "105%", "customer_loss": 0,
                     "initiative": "4级", "customer_focus": "3级", "service_detail": "5级"}, Q)
    assert r["status"] == "incomplete"
    assert r["grade"] is None
    assert r["pay"]["total"] is None
    assert "customer_info.error_rate" in r["missing"]


def test_missing_q_amount_is_incomplete(score):
    r = score(ROLE, {"service_process": "92%", "customer_info": 0, "sales": "105%",
                     "customer_loss": 0, "initiative": "4级", "customer_focus": "3级",
                     "service_detail": "5级"})
    assert r["status"] == "incomplete"
    assert "employee.q_amount" in r["missing"]
