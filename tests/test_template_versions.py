"""Template fingerprints: a workbook built from an older version of a template.

Each scorecard sheet records the version of its role's template (KPI_TEMPLATE). A book is
built and filled with a tmp copy of templates/, then the template is changed in that copy
and the book validated and reported with the new catalog: without the old version in the
registry it is one error per sheet ("rebuild with new"), never "formula changed"; with the
old version kept (versions.save_version) it is checked and scored by the old rules.

cs_specialist: five items, each scored 0–100 by the supervisor, points = score × max / 100.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from kpi_workbook.rules.loader import builtin_templates_dir, load_catalog
from kpi_workbook.workbook.scorecard.build import build_workbook
from kpi_workbook.workbook.scorecard.fill import fill_workbooks
from kpi_workbook.workbook.month.report import build_report
from kpi_workbook.workbook.scorecard.validate import validate_books
from kpi_workbook.workbook.scorecard.versions import fingerprint, save_version

from .helpers import emp

MONTH = "2026-10"
ITEMS = ("problem_resolution", "customer_satisfaction", "response_time", "complaint_handling",
         "quality_monitoring")
# S1 scores 100 on the first item and 50 on the others.
#   old template (max 20 each): 20 + 4 × 10 = 60.0
#   new template (first max 10, last max 30): 10 + 10 + 10 + 10 + 15 = 55.0
SCORES = {"problem_resolution": 100, "customer_satisfaction": 50, "response_time": 50,
          "complaint_handling": 50, "quality_monitoring": 50}
OLD_TOTAL, NEW_TOTAL = 60.0, 55.0
# S2 scores 90 on all five: 90.0 under both (old 5 × 18; new 9 + 18 + 18 + 18 + 27)


def _templates(tmp_path):
    root = tmp_path / "templates"
    shutil.copytree(builtin_templates_dir(), root, ignore=shutil.ignore_patterns("__pycache__", "history"))
    return root


def _change_maxima(root):
    """problem_resolution max 20 → 10, quality_monitoring max 20 → 30 (still 100 in all)."""
    path = root / "roles" / "cs_specialist.yaml"
    text = path.read_text(encoding="utf-8")
    first = text.index("max: 20")
    last = text.rindex("max: 20")
    text = text[:first] + "max: 10" + text[first + 7:last] + "max: 30" + text[last + 7:]
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def old_book(tmp_path):
    root = _templates(tmp_path)
    old = load_catalog(root)
    roster = pd.DataFrame([emp("S1", "员工1", "客服部", "cs_specialist"), emp("S2", "员工2", "客服部", "cs_specialist")])
    book = tmp_path / "book.xlsx"
    build_workbook(old, roster, MONTH, book)
    rows = [("S1", f"{item}.points", None, score) for item, score in SCORES.items()]
    rows += [("S2", f"{item}.points", None, 90) for item in ITEMS]
    assert [d for d in fill_workbooks(old, [book], rows).diagnostics if d.severity == "error"] == []
    return {"root": root, "old": old, "book": book}


def test_same_template_no_finding(old_book):
    assert validate_books(old_book["old"], [old_book["book"]]) == []
    data = build_report(old_book["old"], [old_book["book"]])
    assert list(data.summary["总分"]) == [OLD_TOTAL, 90.0]


def test_unknown_older_template_is_one_error_per_sheet_not_formula_changed(old_book):
    _change_maxima(old_book["root"])
    new = load_catalog(old_book["root"])
    old_fp = fingerprint(old_book["old"], old_book["old"].roles["cs_specialist"])
    new_fp = fingerprint(new, new.roles["cs_specialist"])
    assert old_fp != new_fp
    found = validate_books(new, [old_book["book"]])
    assert sorted(d.code for d in found) == ["template-unknown", "template-unknown"]
    d = found[0]
    assert d.severity == "error" and old_fp in d.message_zh and new_fp in d.message_zh
    assert "no longer has" in d.message_en and "rebuild it with `new`" in d.message_en
    data = build_report(new, [old_book["book"]])
    assert not [f for f in data.findings if f.code == "formula-changed"]
    summary = data.summary.set_index("工号")
    for e in ("S1", "S2"):  # money is sacred: a card that cannot be scored is never paid
        assert summary.loc[e, "状态"] == "错误" and pd.isna(summary.loc[e, "应发绩效合计"])
        assert old_fp in summary.loc[e, "问题"]


def test_known_older_template_is_checked_and_scored_by_its_rules(old_book):
    save_version(old_book["old"], "cs_specialist")  # kept before the template changes
    _change_maxima(old_book["root"])
    new = load_catalog(old_book["root"])
    found = validate_books(new, [old_book["book"]])
    assert sorted(d.code for d in found) == ["template-older", "template-older"]
    assert {d.severity for d in found} == {"info"}
    assert "built from an older template" in found[0].message_en
    data = build_report(new, [old_book["book"]])
    assert not [f for f in data.findings if f.severity == "error"]
    summary = data.summary.set_index("工号")
    # the old rules: 60.0 (the new ones would give 55.0); B ≥ 80 not reached, C ≥ 70 not, D ≥ 60
    assert summary.loc["S1", "总分"] == OLD_TOTAL != NEW_TOTAL
    assert summary.loc["S1", "等级"] == "D" and summary.loc["S1", "状态"] == "已完成"


def test_a_new_book_of_the_new_template_is_scored_by_the_new_rules(old_book, tmp_path):
    save_version(old_book["old"], "cs_specialist")
    _change_maxima(old_book["root"])
    new = load_catalog(old_book["root"])
    book = tmp_path / "new.xlsx"
    build_workbook(new, pd.DataFrame([emp("N1", "员工3", "客服部", "cs_specialist")]), MONTH, book)
    rows = [("N1", f"{item}.points", None, score) for item, score in SCORES.items()]
    fill_workbooks(new, [book], rows)
    assert validate_books(new, [book]) == []
    data = build_report(new, [book, old_book["book"]])
    totals = dict(zip(data.summary["工号"], data.summary["总分"]))
    assert totals == {"N1": NEW_TOTAL, "S1": OLD_TOTAL, "S2": 90.0}


def test_a_settings_value_changed_in_the_template_is_no_new_version(old_book):
    """A value 设置 holds (pay_base_pct's 10 %) is the workbook's: a template that changes it
    builds the same version, and the old book keeps paying by its own 设置."""
    pay = old_book["root"] / "pay.yaml"
    text = pay.read_text(encoding="utf-8")
    assert "pct: 0.10 " in text
    pay.write_text(text.replace("pct: 0.10 ", "pct: 0.15 ", 1), encoding="utf-8")
    new = load_catalog(old_book["root"])
    assert fingerprint(new, new.roles["cs_specialist"]) == \
        fingerprint(old_book["old"], old_book["old"].roles["cs_specialist"])
    found = validate_books(new, [old_book["book"]])
    assert [d.code for d in found] == ["settings-changed"]
    assert "0.15 → 0.1" in found[0].message_zh
    data = build_report(new, [old_book["book"]])
    # S1 60 is below min_total 80: 0.00; S2 90 by the book's 10 %: 5000 × 0.1 × 90 / 100 =
    # 450.00 (the template's 15 % would pay 675.00)
    assert list(data.summary["应发绩效合计"]) == [0.0, 450.0]


def test_every_shipped_role_version_is_kept_in_history():
    """The package ships a snapshot of each role's current version, so that when a template
    changes, the workbooks built before still score by their own rules. After changing a
    template: ``python -m kpi_workbook.workbook.scorecard.versions`` (it adds the new version)."""
    from kpi_workbook.rules.loader import builtin_catalog
    from kpi_workbook.workbook.scorecard.versions import _load

    catalog = builtin_catalog()
    history = builtin_templates_dir() / "history"
    missing = [r for r, role in sorted(catalog.roles.items())
               if not (history / f"{r}-{fingerprint(catalog, role)}.json").exists()]
    assert not missing, f"no snapshot of {missing}: run python -m kpi_workbook.workbook.scorecard.versions"
    for path in history.glob("*.json"):  # each snapshot reads back, named by its stamp
        loaded = _load(catalog, path)
        assert loaded is not None, path
        (role,), stamped = loaded[0].roles.values(), loaded[1]
        assert path.stem == f"{role.id}-{stamped}"


def test_an_older_version_without_a_pay_rule_is_paid_without_it(old_book, tmp_path):
    """The new template adds the ¥50 全勤奖 (award_full_attendance) to cs_specialist; the old
    book's cards are paid by their own version, without it; a new book's card gets it."""
    save_version(old_book["old"], "cs_specialist")
    path = old_book["root"] / "roles" / "cs_specialist.yaml"
    text = path.read_text(encoding="utf-8")
    assert "pay_rules: [pay_base_pct]\n" in text
    path.write_text(text.replace("pay_rules: [pay_base_pct]\n",
                                 "pay_rules: [pay_base_pct, award_full_attendance]\n"), encoding="utf-8")
    new = load_catalog(old_book["root"])
    book = tmp_path / "new.xlsx"
    build_workbook(new, pd.DataFrame([emp("N1", "员工3", "客服部", "cs_specialist")]), MONTH, book)
    fill_workbooks(new, [book], [("N1", f"{item}.points", None, 90) for item in ITEMS])
    data = build_report(new, [book, old_book["book"]])
    assert not [f for f in data.findings if f.severity == "error"]
    summary = data.summary.set_index("工号")
    # S2 and N1 total 90: 5000 × 0.1 × 90 / 100 = 450.00; N1 (全勤 是) + 50 = 500.00
    assert summary.loc["S2", "应发绩效合计"] == 450.0 and pd.isna(summary.loc["S2", "全勤奖"])
    assert summary.loc["N1", "应发绩效合计"] == 500.0 and summary.loc["N1", "全勤奖"] == 50.0


def test_a_book_is_known_by_the_stamp_its_snapshot_was_saved_with(old_book, tmp_path):
    """A later kpi-workbook may hash the same template differently: the snapshot's own stamp
    still finds the books it built."""
    import json

    from kpi_workbook.workbook.scorecard.editable import XmlBook
    from kpi_workbook.workbook.scorecard.reader import read_workbook

    saved = save_version(old_book["old"], "cs_specialist")
    data = json.loads(saved.read_text(encoding="utf-8"))
    data["fingerprint"] = "0123456789"  # as if hashed by an earlier kpi-workbook
    saved.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    _change_maxima(old_book["root"])
    cards = read_workbook(old_book["old"], old_book["book"]).cards
    book = XmlBook(old_book["book"])
    for card in cards:
        book.set(card.sheet, card.names["KPI_TEMPLATE"], "0123456789")
    stamped = tmp_path / "stamped.xlsx"
    book.save(stamped)
    new = load_catalog(old_book["root"])
    assert sorted(d.code for d in validate_books(new, [stamped])) == ["template-older"] * 2
    assert list(build_report(new, [stamped]).summary["总分"]) == [OLD_TOTAL, 90.0]
