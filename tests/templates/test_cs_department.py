"""S15 cs_department: five indicators, 20% each, each scored 0–100."""

ROLE = "cs_department"
ITEMS = ("resolution_rate", "customer_satisfaction", "response_time", "complaint_handling",
         "quality_monitoring")


def test_complete_card(score):
    # 90×20% = 18; 80×20% = 16; 70×20% = 14; 85×20% = 17; 95×20% = 19
    # total = 18+16+14+17+19 = 84.0 → grade_a_e B (>= 80); no pay rule → 0
    r = score(ROLE, dict(zip(ITEMS, (90, 80, 70, 85, 95))))
    assert r["status"] == "complete"
    assert [it["points"] for it in r["items"]] == [18, 16, 14, 17, 19]
    assert r["total"] == 84.0
    assert r["grade"] == "B"
    assert r["pay"] == {"total": 0.0}


def test_missing_indicator_is_incomplete(score):
    r = score(ROLE, dict(zip(ITEMS[:4], (100, 100, 100, 100))))
    assert r["status"] == "incomplete"
    assert r["grade"] is None
    assert r["missing"] == ["quality_monitoring.points"]
    assert r["total"] == 80.0
