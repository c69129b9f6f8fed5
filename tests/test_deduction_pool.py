"""pool_deductions (S7/S19 备注 2): the month's 扣分 of a department's QC cards × ¥2 form a
pool; 50 % (templates/pay.yaml) goes to the 优秀品质员, the rest in equal parts over the
department's complete cards, in whole cents that add up to the pool exactly.

Expected amounts are worked out by hand in the comments; the report is checked end to end
(build → fill → report → payroll) against them.
"""

from __future__ import annotations

import csv

import openpyxl
import pandas as pd
import pytest

from kpi_workbook.cli import main
from kpi_workbook.engine.month import split_cents
from kpi_workbook.workbook.scorecard.build import build_workbook
from kpi_workbook.workbook.scorecard.fill import fill_workbooks

from .helpers import emp

MONTH = "2026-10"
POOL = "部门扣分池"
POINTS = "奖分/扣分金额"

# Three IQC/OQC inspectors (S19) of 品质部:
# Q1: 错漏检 2 次 → 15 (扣 5); 虚假记录 1 → 扣 5; 迟到早退 1 → 扣 5
#     total 15 + 15 + 10 + 10 + 10 + 15 + 10 = 85; 扣分 15 → 奖分/扣分金额 −15 × 2 = −30
# Q2: 错漏检 1 次 → 20; 其它部门投诉 2 → 扣 4
#     total 20 + 20 + 15 + 10 + 10 + 11 + 10 = 96; 扣分 4 → −8
# Q3: 错漏检 3 次 → 10 (扣 10); 报表涂改 1 → 扣 3; 未及时完成任务 1 → 扣 5
#     total 10 + 20 + 15 + 5 + 10 + 15 + 7 = 82; 扣分 18 → −36
# pool = (15 + 4 + 18) × ¥2 = ¥74; 优秀品质员 Q2 (96): 50 % = ¥37
# the rest ¥37 in three parts: 3700 ¢ = 1233 × 3 + 1 → Q1 (first on the roster) 12.34,
# Q2 12.33, Q3 12.33; 37 + 12.34 + 12.33 + 12.33 = 74.00 exactly
THREE = {
    "Q1": {"miss_detection.misses": 2, "daily_inspection.false_record": 1,
           "discipline.late_early": 1},
    "Q2": {"miss_detection.misses": 1, "communication.dept_complaint": 2},
    "Q3": {"miss_detection.misses": 3, "seven_s.report_altered": 1, "efficiency.task_late": 1},
}
WANT_POOL = {"Q1": 12.34, "Q2": 49.33, "Q3": 12.33}  # Q2: 37 + 12.33
WANT_TOTAL_PAY = {"Q1": -17.66, "Q2": 41.33, "Q3": -23.67}  # −30 + 12.34, −8 + 49.33, −36 + 12.33


def rows_of(cards: dict[str, dict]):
    return [(eid, key, None, value) for eid, card in cards.items() for key, value in card.items()]


def run_report(catalog, tmp_path, roster: pd.DataFrame, cards: dict[str, dict]) -> dict:
    book = tmp_path / "book.xlsx"
    build_workbook(catalog, roster, MONTH, book)
    result = fill_workbooks(catalog, [book], rows_of(cards))
    assert [d for d in result.diagnostics if d.severity == "error"] == []
    out = tmp_path / "report.xlsx"
    assert main(["report", str(book), "--out", str(out)]) in (0, 1)
    sheet = list(openpyxl.load_workbook(out)["月度汇总"].iter_rows(values_only=True))
    return {r[0]: dict(zip(sheet[0], r)) for r in sheet[1:] if r[0] is not None}


def three(*extra) -> pd.DataFrame:
    return pd.DataFrame([emp("Q1", "甲", "品质部", "qc_iqc_oqc"), emp("Q2", "乙", "品质部", "qc_iqc_oqc"),
                         emp("Q3", "丙", "品质部", "qc_iqc_oqc"), *extra])


def test_a_department_of_three_inspectors(catalog, tmp_path, capsys):
    rows = run_report(catalog, tmp_path, three(), THREE)
    for eid in THREE:
        assert rows[eid]["状态"] == "已完成"
        assert rows[eid][POOL] == pytest.approx(WANT_POOL[eid]), eid
        assert rows[eid]["应发绩效合计"] == pytest.approx(WANT_TOTAL_PAY[eid]), eid
    assert [rows[e]["总分"] for e in THREE] == [85.0, 96.0, 82.0]
    assert [rows[e][POINTS] for e in THREE] == [-30.0, -8.0, -36.0]
    # the parts add up to the pool to the cent
    assert round(sum(rows[e][POOL] for e in THREE) * 100) == 7400
    assert "部门扣分池 ¥74：优秀品质员 ¥37，均摊 ¥12.34" in rows["Q1"]["说明"]
    assert "deduction pool ¥74: best inspector ¥37, equal share ¥12.34" in rows["Q1"]["说明"]
    assert "均摊 ¥12.33" in rows["Q3"]["说明"]
    assert "本人为优秀品质员，得 ¥37 + ¥12.33 = ¥49.33" in rows["Q2"]["说明"]

    # payroll: the pool is a money column, with the note beside it
    out = tmp_path / "payroll.csv"
    assert main(["payroll", str(tmp_path / "report.xlsx"), "--out", str(out)]) == 0
    with open(out, encoding="utf-8-sig", newline="") as f:
        table = {r["工号"]: r for r in csv.DictReader(f)}
    assert {e: float(table[e][POOL]) for e in THREE} == WANT_POOL
    assert {e: float(table[e]["应发绩效合计"]) for e in THREE} == WANT_TOTAL_PAY
    assert "部门扣分池" in table["Q2"]["说明"]


def test_an_incomplete_card_holds_the_pool_then_ties_split_the_best_share(catalog, tmp_path):
    cards = {
        "Q1": {"miss_detection.misses": 1, "communication.dept_complaint": 2},   # 96, 扣 4
        "Q2": {"miss_detection.misses": 1, "communication.dept_complaint": 2},   # 96, 扣 4
        # 10 + 20 + 15 + 5 + 10 + 15 + 4 = 79, 扣 10 + 5 + 6 = 21
        "Q3": {"miss_detection.misses": 3, "efficiency.task_late": 1, "seven_s.report_altered": 2},
        "Q4": {"discipline.late_early": 3},  # no 错漏检次数: 未完成 — the pool waits for it
        "Q5": {"miss_detection.misses": 2},  # S5 (qc_inspector) pays by grade: not in the pool
    }
    roster = three(emp("Q4", "丁", "品质部", "qc_iqc_oqc"), emp("Q5", "戊", "品质部", "qc_inspector"))
    rows = run_report(catalog, tmp_path, roster, cards)
    # issue 20: the pool is the whole department's; with Q4 unfinished it is 待定, never split
    # over the other three (which would give Q1 ¥24.17 of a ¥58 pool)
    assert [rows[e][POOL] for e in ("Q1", "Q2", "Q3")] == ["待定"] * 3
    assert [rows[e]["应发绩效合计"] for e in ("Q1", "Q2", "Q3")] == ["待定"] * 3
    assert all("丁（Q4，未完成）" in rows[e]["说明"] for e in ("Q1", "Q2", "Q3"))
    assert rows["Q4"]["状态"] == "未完成" and rows["Q4"][POOL] is None
    assert rows["Q5"][POOL] is None and isinstance(rows["Q5"]["应发绩效合计"], (int, float))  # not in the pool
    # Q4 finished: 0 misses → 22; 迟到早退 3 → 15 − 15 = 0: 22 + 20 + 0 + 10 + 10 + 15 + 10 = 87, 扣 15
    # pool = (4 + 4 + 21 + 15) × ¥2 = ¥88; best share ¥44 split by the two 96s: ¥22 each;
    # the rest ¥44 = 4400 ¢ over four: 11.00 each → Q1 = Q2 = 33.00, Q3 = Q4 = 11.00; sum 88.00
    cards["Q4"]["miss_detection.misses"] = 0
    again = tmp_path / "again"
    again.mkdir()
    rows = run_report(catalog, again, roster, cards)
    assert [rows[e][POOL] for e in ("Q1", "Q2", "Q3", "Q4")] == [33.0, 33.0, 11.0, 11.0]
    assert rows["Q4"]["总分"] == 87 and rows["Q4"]["状态"] == "已完成"
    assert "（2 人并列）" in rows["Q1"]["说明"]


def test_s7_inspectors_share_the_pool_of_their_department(catalog, tmp_path):
    # S7 has the rule too: one S7 and one S19 card in 品质部, another S7 card elsewhere
    cards = {
        "A1": {"miss_detection.misses": 2},                              # S7: 95, 扣 5
        "A2": {"miss_detection.misses": 1, "discipline.left_post": 1},   # S19: 100 − 5 = 95, 扣 5
        "A3": {"miss_detection.misses": 4},                              # S7 in 二车间: 80, 扣 20
    }
    roster = pd.DataFrame([emp("A1", "甲", "品质部", "qc_iqc"), emp("A2", "乙", "品质部", "qc_iqc_oqc"),
                           emp("A3", "丙", "二车间", "qc_iqc")])
    rows = run_report(catalog, tmp_path, roster, cards)
    # 品质部: pool (5 + 5) × 2 = ¥20; both 95 → best ¥10 split 5 + 5; rest ¥10 → 5 + 5 → ¥10 each
    # 二车间: pool 20 × 2 = ¥40, one card: best ¥20 + the rest ¥20 → ¥40
    assert [rows[e][POOL] for e in ("A1", "A2", "A3")] == [10.0, 10.0, 40.0]


@pytest.mark.parametrize("cents, parts", [(7400, 3), (2900, 3), (1, 4), (0, 2), (999, 7)])
def test_split_cents_adds_up_exactly(cents, parts):
    got = split_cents(cents, parts)
    assert sum(got) == cents and len(got) == parts
    assert max(got) - min(got) <= 1
    assert got == sorted(got, reverse=True)  # the extra cents go to the first parts


def test_the_share_is_data(catalog):
    rule = catalog.pay_rules["pool_deductions"]
    assert rule.kind == "deduction_pool" and rule.share == 0.5 and rule.assumed
    users = sorted(r.id for r in catalog.roles.values()
                   if any(p.id == "pool_deductions" for p in r.pay_rules))
    assert users == ["qc_ipqc_patrol", "qc_iqc", "qc_iqc_oqc"]  # S20, S7, S19 — not S5


def test_a_pool_without_a_point_value_is_a_template_error(tmp_path):
    import shutil

    from kpi_workbook.rules.loader import builtin_templates_dir, read_catalog

    root = tmp_path / "templates"
    shutil.copytree(builtin_templates_dir(), root)
    path = root / "roles" / "qc_iqc_oqc.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("pay_rules: [pay_point_value, pool_deductions]",
                                 "pay_rules: [pool_deductions]"), encoding="utf-8")
    _, diags = read_catalog(root)
    found = [d for d in diags if d.code == "pool-needs-value"]
    assert len(found) == 1 and found[0].source.endswith("qc_iqc_oqc.yaml")
