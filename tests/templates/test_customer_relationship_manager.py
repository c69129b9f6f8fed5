"""S16 customer_relationship_manager: four areas of 25%, levels 优秀/良好/一般/较差."""

ROLE = "customer_relationship_manager"


def _items(result):
    return {it["id"]: it for it in result["items"]}


def test_complete_card(score):
    # 优秀 100 × 25% = 25; 良好 80 × 25% = 20; 一般 60 × 25% = 15; 良好 → 20
    # total = 25+20+15+20 = 80.0 → grade_a_e B (>= 80); no pay rule → 0
    r = score(ROLE, {"client_relations": "优秀", "sales_results": "良好",
                     "complaint_resolution": "一般", "teamwork_sharing": "良好"})
    assert r["status"] == "complete"
    items = _items(r)
    assert items["client_relations"]["points"] == 25
    assert items["complaint_resolution"]["points"] == 15
    assert r["total"] == 80.0
    assert r["grade"] == "B"
    assert r["pay"] == {"total": 0.0}


def test_assumed_lowest_level(score):
    # 优秀 25 + 优秀 25 + 较差 (assumed 0) 0 + 良好 20 = 70.0 → C (>= 70)
    r = score(ROLE, {"client_relations": "优秀", "sales_results": "优秀",
                     "complaint_resolution": "较差", "teamwork_sharing": "良好"})
    assert _items(r)["complaint_resolution"]["points"] == 0
    assert r["total"] == 70.0
    assert r["grade"] == "C"


def test_missing_level_is_incomplete(score):
    r = score(ROLE, {"client_relations": "优秀", "complaint_resolution": "一般",
                     "teamwork_sharing": "良好"})
    assert r["status"] == "incomplete"
    assert r["grade"] is None
    assert "sales_results.level" in r["missing"]
