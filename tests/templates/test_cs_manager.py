"""S18 cs_manager: 服务质量 40%, 团队管理 30%, 绩效达成 20%, 个人发展 10%, each 0–100."""

ROLE = "cs_manager"


def test_complete_card(score):
    # 85×40% = 34; 90×30% = 27; 70×20% = 14; 60×10% = 6
    # total = 34+27+14+6 = 81.0 → grade_a_e B (>= 80); no pay rule → 0
    r = score(ROLE, {"service_quality": 85, "team_management": 90,
                     "performance_delivery": 70, "personal_development": 60})
    assert r["status"] == "complete"
    assert [it["points"] for it in r["items"]] == [34, 27, 14, 6]
    assert r["total"] == 81.0
    assert r["grade"] == "B"
    assert r["pay"] == {"total": 0.0}


def test_missing_area_is_incomplete(score):
    r = score(ROLE, {"service_quality": 85, "performance_delivery": 70,
                     "personal_development": 60})
    assert r["status"] == "incomplete"
    assert r["grade"] is None
    assert r["missing"] == ["team_management.points"]
