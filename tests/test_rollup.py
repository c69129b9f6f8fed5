"""`kpi-workbook rollup`: a quarter and a year from a hand-made history (columns in another
order, an unknown column, two rows of one employee-month, another sheet; no approval, so
every month is reported as not approved). Every expected number is worked out by hand in the
comments."""

from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pytest

from kpi_workbook.workbook.month.rollup import build_rollup, parse_period, read_history_rows

from .helpers import run

# 工号, 月份, 总分, 等级, 状态, 应发绩效合计, 版本 (qc_inspector: grade_a_e, A ¥400 … E ¥0)
ROWS = [
    ("Q1", "2026-09", 10, "E", "已完成", 0, 1),     # outside Q4
    ("Q1", "2026-10", 96, "A", "已完成", 400, 1),
    ("Q1", "2026-11", 80, "B", "已完成", 300, 1),   # replaced by version 2 below
    ("Q1", "2026-12", 90, "B", "已完成", 300, 1),
    ("Q2", "2026-10", 40, "E", "已完成", 0, 1),
    ("Q2", "2026-11", 40, "E", "已完成", 0, 1),
    ("Q2", "2026-12", 40, "E", "已完成", 0, 1),
    ("Q3", "2026-07", 50, "E", "已完成", 0, 1),
    ("Q3", "2026-10", 100, "A", "已完成", 400, 1),
    ("Q3", "2026-11", 55, "E", "已完成", 0, 1),
    ("Q3", "2026-12", 59, "E", "已完成", 0, 1),
    ("Q4", "2026-10", 30, None, "未完成", None, 1),
    ("Q1", "2026-11", 50, "E", "已完成", 0, 2),     # the last row of Q1's November counts
]


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    path = tmp_path_factory.mktemp("rollup") / "history.xlsx"
    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title = "备注"
    notes.append(["工号", "月份", "动作"])
    notes.append(["Q1", "2026-11", "重新审批"])
    ws = wb.create_sheet("历史")
    ws.append(["版本", "月份", "工号", "姓名", "审批人", "部门", "岗位ID", "总分", "等级", "状态",
               "应发绩效合计", "部门最低"])
    for eid, month, total, grade, status, pay, version in ROWS:
        ws.append([version, month, eid, f"名{eid}", "王经理", "品质部", "qc_inspector", total, grade,
                   status, pay, False])
    ws.append([1, "2026-10", "X1", "幽灵", "", "品质部", "ghost_role", 90, "B", "已完成", 0, False])
    wb.save(path)
    return path


def test_periods():
    assert parse_period(quarter="2026Q4").months == ("2026-10", "2026-11", "2026-12")
    assert parse_period(quarter="2026q1").months == ("2026-01", "2026-02", "2026-03")
    assert len(parse_period(year="2026").months) == 12


def test_latest_version_wins(history):
    rows, _ = read_history_rows(history)
    nov = rows[(rows["工号"] == "Q1") & (rows["月份"] == "2026-11")]
    assert len(nov) == 1 and float(nov["总分"].iloc[0]) == 50


def test_quarter(catalog, history):
    data = build_rollup(catalog, history, parse_period(quarter="2026Q4"))
    emp = {r["工号"]: r for r in data.employees["grade_a_e"].to_dict("records")}
    assert set(emp) == {"Q1", "Q2", "Q3", "Q4"}  # X1's role is unknown: left out, with a warning
    assert [d.code for d in data.diagnostics] == ["rollup-unapproved"] * 3 + ["history-unknown-role"]
    q1 = emp["Q1"]  # 96, 50 (version 2), 90 → (96 + 50 + 90) / 3 = 78.67 → 78.7 → C (B needs 80)
    assert (q1["月数"], q1["平均分"], q1["最低分"]) == (3, 78.7, 50)
    assert (q1["A"], q1["B"], q1["C"], q1["D"], q1["E"]) == (1, 1, 0, 0, 1)
    assert q1["应发合计"] == 700 and q1["季度评定"] == "C"  # 400 + 0 + 300
    q3 = emp["Q3"]  # 100, 55, 59 → 71.33 → 71.3 → C; two E's are fewer than the 3 that demote
    assert (q3["平均分"], q3["季度评定"], q3["E"]) == (71.3, "C", 2)
    assert emp["Q2"]["季度评定"] == "E" and emp["Q2"]["平均分"] == 40
    assert emp["Q4"]["月数"] == 0 and pd.isna(emp["Q4"]["季度评定"])  # never complete
    assert {e: emp[e]["部门排名"] for e in ("Q1", "Q3", "Q2")} == {"Q1": 1, "Q3": 2, "Q2": 3}
    dept = data.departments["grade_a_e"].to_dict("records")[0]
    # 9 complete cards: (236 + 120 + 214) / 9 = 63.33 → 63.3; A: Q1, Q3; B: Q1; E: 1 + 3 + 2
    assert (dept["部门"], dept["人数"], dept["人月"], dept["平均分"], dept["最低分"]) == ("品质部", 4, 9, 63.3, 40)
    assert (dept["A"], dept["B"], dept["C"], dept["D"], dept["E"]) == (2, 1, 0, 0, 6)
    assert dept["应发合计"] == 1100  # 700 + 0 + 400


def test_year_demotes_three_e_months(catalog, history):
    data = build_rollup(catalog, history, parse_period(year="2026"))
    emp = {r["工号"]: r for r in data.employees["grade_a_e"].to_dict("records")}
    # Q3: 50, 100, 55, 59 → 66.0 → D, but E in 3 months of the year → E (grades.yaml demote)
    assert emp["Q3"]["平均分"] == 66 and emp["Q3"]["年度评定"] == "E"
    # Q1: 10, 96, 50, 90 → 61.5 → D; E twice: no demotion
    assert emp["Q1"]["平均分"] == 61.5 and emp["Q1"]["年度评定"] == "D"


def test_cli_writes_the_workbook(capsys, history, tmp_path):
    out = tmp_path / "q4.xlsx"
    code, stdout, err = run(capsys, "rollup", "--history", history, "--quarter", "2026Q4", "--out", out)
    assert code == 1 and str(out) in stdout and "ghost_role" in err  # no month approved: exit 1
    assert "2026-10 未审批" in err and "2026-12 is not approved" in err
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["季度汇总", "部门汇总", "说明"]
    rows = list(wb["季度汇总"].iter_rows(values_only=True))
    header = list(rows[1])
    q1 = dict(zip(header, next(r for r in rows if r[0] == "Q1")))
    assert q1["平均分"] == 78.7 and q1["季度评定"] == "C"
    code, _, err = run(capsys, "rollup", "--history", history, "--quarter", "2026Q4", "--out", out)
    assert code == 2 and "--force" in err  # never overwrites without --force
    code, _, err = run(capsys, "rollup", "--history", history, "--quarter", "2026Q5", "--out", tmp_path / "x.xlsx")
    assert code == 2 and "YYYYQn" in err


def test_report_history_keeps_pay_for_the_rollup(capsys, tmp_path, catalog):
    from kpi_workbook.workbook.scorecard.build import build_workbook
    from kpi_workbook.workbook.scorecard.fill import fill_workbooks

    from .helpers import emp

    roster = pd.DataFrame([emp("A", "甲", "品质部", "qc_inspector"), emp("B", "乙", "品质部", "qc_inspector")])
    book = tmp_path / "b.xlsx"
    build_workbook(catalog, roster, "2026-10", book)
    fill_workbooks(catalog, [book], [("A", "miss_detection.misses", None, 0),   # 102 → A → ¥400
                                     ("B", "miss_detection.misses", None, 1)])  # 100 → A → ¥400
    hist, out = tmp_path / "h.xlsx", tmp_path / "r.xlsx"
    code, _, _ = run(capsys, "report", book, "--out", out, "--history", hist)
    assert code == 0
    rows, diags = read_history_rows(hist)
    assert diags == [] and dict(zip(rows["工号"], rows["_pay"])) == {"A": 400, "B": 400}
    code, out_text, _ = run(capsys, "rollup", "--history", hist, "--quarter", "2026Q4", "--out",
                            tmp_path / "q.xlsx", "--json")
    got = {r["工号"]: r["应发合计"] for r in json.loads(out_text)["employees"]["grade_a_e"]}
    assert code == 1 and got == {"A": 400, "B": 400}  # 2026-10 is not approved: said, exit 1
    assert [d["code"] for d in json.loads(out_text)["diagnostics"]] == ["rollup-unapproved"]
    code, _, err = run(capsys, "rollup", "--history", hist, "--quarter", "2026Q4", "--out",
                       tmp_path / "q2.xlsx", "--require-approved")
    assert code == 1 and "2026-10" in err and not (tmp_path / "q2.xlsx").exists()
    assert run(capsys, "approve", out, "--history", hist, "--by", "王经理")[0] == 0
    code, _, err = run(capsys, "rollup", "--history", hist, "--quarter", "2026Q4", "--out",
                       tmp_path / "q3.xlsx", "--require-approved")
    assert code == 0, err


def test_grades_yaml_checks_the_new_rules():
    from pydantic import ValidationError

    from kpi_workbook.rules.model import GradeScheme

    tiers = [{"grade": "A", "min": 90}, {"grade": "B"}]
    GradeScheme(id="s", label="s", tiers=tiers, max_share={"A": 0.2},
                period_rating={"demote": [{"grade": "B", "months": 3, "to": "B"}]})
    for bad in ({"max_share": {"Z": 0.2}}, {"max_share": {"A": 20}},
                {"period_rating": {"demote": [{"grade": "B", "months": 3, "to": "E"}]}}):
        with pytest.raises(ValidationError):
            GradeScheme(id="s", label="s", tiers=tiers, **bad)


def test_the_signature_line_is_inside_the_print_area(capsys, history, tmp_path):
    """On paper a print area cuts off what overflows it: the signature line under the narrow
    部门汇总 table lost its 月__日. The printed columns hold the whole line (11 pt: a CJK
    character two digits wide, a digit about one width unit at 10 pt)."""
    import unicodedata

    from openpyxl.utils import column_index_from_string

    out = tmp_path / "q4.xlsx"
    run(capsys, "rollup", "--history", history, "--quarter", "2026Q4", "--out", out)
    wb = openpyxl.load_workbook(out)
    for name in ("季度汇总", "部门汇总"):
        ws = wb[name]
        line = next(c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "制表：" in c.value)
        need = sum(1.8 if unicodedata.east_asian_width(ch) in "WF" else 1.0 for ch in line.value) * 1.1
        last = column_index_from_string(ws.print_area.split(":")[-1].replace("$", "").rstrip("0123456789"))
        widths = {j: d.width for d in ws.column_dimensions.values() for j in range(d.min, d.max + 1)}
        room = sum(widths.get(j) or 8.43 for j in range(line.column, last + 1))
        assert room >= need, (name, room, need)
