"""S13 tech_support_lead: nine items rated 0–100, grade_4_level per item and overall."""

ROLE = "tech_support_lead"
ITEMS = ("tech_documents", "training", "parts_claims", "service_level", "assigned_tasks",
         "work_plan", "collaboration", "innovation", "discipline")


def _items(result):
    return {it["id"]: it for it in result["items"]}


def test_complete_card_with_item_grades(score):
    ratings = dict(zip(ITEMS, (95, 88, 80, 76, 91, 60, 70, 100, 85)))
    # Σ = 95+88+80+76+91+60+70+100+85 = 745; total = 745 / 900 × 100 = 82.777… → 82.8
    # grade_4_level: 82.8 >= 76 → 良; no pay rule → 0
    r = score(ROLE, ratings)
    assert r["status"] == "complete"
    assert r["total"] == 82.8
    assert r["grade"] == "良"
    assert r["pay"] == {"total": 0.0}
    # per item: >= 91 优, >= 76 良, >= 61 中, else 差
    expected = {"tech_documents": "优", "training": "良", "parts_claims": "良",
                "service_level": "良", "assigned_tasks": "优", "work_plan": "差",
                "collaboration": "中", "innovation": "优", "discipline": "良"}
    items = _items(r)
    for item_id, grade in expected.items():
        assert items[item_id]["points"] == ratings[item_id]
        assert items[item_id]["grade"] == grade, item_id
    # the guidance level shown for the typed points follows the seed's 优/良/中 ranges
    assert items["tech_documents"]["explain"]["level"] == "优"
    assert items["collaboration"]["explain"]["level"] == "中"


def test_all_91_is_excellent(score):
    # 9 × 91 = 819; 819 / 900 × 100 = 91.0 → 优 (>= 91)
    r = score(ROLE, {i: 91 for i in ITEMS})
    assert r["total"] == 91.0
    assert r["grade"] == "优"


def test_missing_item_is_incomplete(score):
    ratings = {i: 80 for i in ITEMS if i != "work_plan"}
    r = score(ROLE, ratings)
    assert r["status"] == "incomplete"
    assert r["grade"] is None
    assert "work_plan.points" in r["missing"]
    assert _items(r)["work_plan"]["points"] is None
