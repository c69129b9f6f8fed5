"""绩效校准 into approval, history and payroll (issue 10 point 4, the approve side).

A department over its A quota; HR calibrates in the report's 校准 sheet; ``approve`` takes
the calibrated grade into the history (历史, 审批版本, one 审计 row per changed value with who,
when and why) and the pay its rules give; ``payroll`` pays the calibrated amount and agrees
with the approval; a second approve of the same calibrated report is a no-op. Expected money
is worked out by hand from the templates in the comments."""

from __future__ import annotations

import re

import hashlib
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from kpi_workbook.workbook.month.history import read_history

from .helpers import emp, run
from .test_absence_rule import RATED
from .test_payroll_trust import read_csv
from .test_report import make_book, sheet_rows
from .test_report_print import qc

MONTH = "2026-10"


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def calibrate(report: Path, out: Path, plan: dict[str, tuple], **columns) -> dict[str, str]:
    """Type HR's entries into the 校准 sheet: employee → (校准等级, 校准理由), and any other
    column of the entry table by name (columns=employee → {header: value}); saved as ``out``.
    Returns employee → the cell of its calibrated grade."""
    wb = openpyxl.load_workbook(report)
    ws = wb["校准"]
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if "工号" in r and "校准等级" in r)
    header = list(rows[start])
    row_of = {r[header.index("工号")]: start + 2 + k for k, r in enumerate(rows[start + 1:])
              if r[header.index("工号")]}
    cells = {}
    for eid, (grade, reason) in plan.items():
        ws.cell(row_of[eid], header.index("校准等级") + 1, grade)
        ws.cell(row_of[eid], header.index("校准理由") + 1, reason)
        cells[eid] = ws.cell(row_of[eid], header.index("校准等级") + 1).coordinate
    for eid, values in columns.get("extra", {}).items():
        for name, value in values.items():
            ws.cell(row_of[eid], header.index(name) + 1, value)
    wb.save(out)
    return cells


@pytest.fixture(scope="module")
def qc_month_once(tmp_path_factory, catalog):
    """品质部, five qc_inspector cards: Q1–Q3 102 → A, Q4–Q5 45 → E. A at most 20 % of 5
    → 1 allowed: two A's over the quota. 等级奖金 A ¥400, B ¥300, E ¥0 (qc_inspector's only
    pay rule). The report is written with the history, once for the module."""
    import contextlib
    import io

    from kpi_workbook.cli import main

    folder = tmp_path_factory.mktemp("qc-month")
    roster = pd.DataFrame([emp(f"Q{i}", f"检{i}", "品质部", "qc_inspector") for i in range(1, 6)])
    rows = qc("Q1", False) + qc("Q2", False) + qc("Q3", False) + qc("Q4", True) + qc("Q5", True)
    book = make_book(catalog, folder / "qc.xlsx", roster, rows)
    hist, report = folder / "h.xlsx", folder / "r.xlsx"
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(["report", str(book), "--out", str(report), "--history", str(hist)])
    assert code == 0, err.getvalue()
    return report, hist


@pytest.fixture
def qc_month(qc_month_once, tmp_path):
    """The module's report and history, copied into the test's folder (tests approve into
    the history)."""
    return tuple(Path(shutil.copy(p, tmp_path / p.name)) for p in qc_month_once)


def test_hr_calibrates_an_a_to_b_and_approve_takes_it_into_history_and_payroll(tmp_path, qc_month, capsys):
    report, hist = qc_month
    quota = {r["工号"]: r["超出配额"] for r in _entry_rows(report)}
    assert quota["Q2"] == "超出" and quota["Q3"] == "超出"  # the department is over its A quota
    calibrated = tmp_path / "r-calibrated.xlsx"
    cell = calibrate(report, calibrated, {"Q2": ("B", "两次客诉，校准为 B")})["Q2"]

    code, out, err = run(capsys, "approve", calibrated, "--history", hist, "--by", "王经理")
    assert code == 0, err
    assert "校准 1 人" in out

    history = {r.工号: r for r in read_history(hist).itertuples(index=False)}
    assert history["Q2"].等级 == "B" and history["Q2"].应发绩效合计 == 300  # A ¥400 → B ¥300
    assert history["Q1"].等级 == "A" and history["Q1"].应发绩效合计 == 400  # not calibrated
    versions = {v["工号"]: v for v in sheet_rows(hist, "审批版本")}
    assert versions["Q2"]["等级"] == "B" and versions["Q2"]["应发绩效合计"] == 300
    assert '"等级奖金": "300.00"' in versions["Q2"]["金额明细"]
    approval = sheet_rows(hist, "审批")[0]
    assert approval["审批人"] == "王经理" and approval["状态"] == "已审批"

    audit = {(a["工号"], a["字段"]): a for a in sheet_rows(hist, "审计")}
    grade = audit[("Q2", "等级")]
    assert (grade["月份"], grade["之前"], grade["之后"], grade["操作人"], grade["原因"]) == (
        MONTH, "A", "B", "王经理", "两次客诉，校准为 B")
    assert grade["时间"] == approval["审批时间"]
    # the pay that follows the grade: ¥400.00 → ¥300.00, in its column and in the total
    assert (audit[("Q2", "等级奖金")]["之前"], audit[("Q2", "等级奖金")]["之后"]) == ("400.00", "300.00")
    assert (audit[("Q2", "应发绩效合计")]["之前"], audit[("Q2", "应发绩效合计")]["之后"]) == ("400.00", "300.00")
    assert {e for e, _ in audit} == {"Q2"}
    assert cell  # the entry's cell was found

    code, out, err = run(capsys, "payroll", calibrated, "--out", tmp_path / "p.csv", "--history", hist,
                         "--require-approved")
    assert code == 0, err
    _, body = read_csv(tmp_path / "p.csv")
    pay = {r["工号"]: r for r in body}
    # Q2 paid as B: ¥300.00 (A would be ¥400.00); the rest as the report: 400 + 400 + 0 + 0
    assert (pay["Q2"]["等级奖金"], pay["Q2"]["应发绩效合计"]) == ("300.00", "300.00")
    assert pay["Q1"]["应发绩效合计"] == "400.00" and pay["Q3"]["应发绩效合计"] == "400.00"
    assert all(re.fullmatch(r"已审批 \d{4}-\d\d-\d\d 王经理", r["审批"]) for r in body)
    assert "¥1,100.00" in out  # 400 + 300 + 400 + 0 + 0
    assert "按校准等级发放" in err

    # the payroll without the history pays the same calibrated amount
    assert run(capsys, "payroll", calibrated, "--out", tmp_path / "q.csv")[0] == 0
    assert next(r for r in read_csv(tmp_path / "q.csv")[1] if r["工号"] == "Q2")["应发绩效合计"] == "300.00"

    # a second approve of the same calibrated report is a no-op: exit 0, history untouched
    before = digest(hist)
    code, out, err = run(capsys, "approve", calibrated, "--history", hist, "--by", "王经理")
    assert code == 0, err
    assert "无改动" in out and "nothing changed" in out
    assert digest(hist) == before


def test_a_calibration_changed_after_approval_is_refused_and_not_paid_as_approved(tmp_path, qc_month, capsys):
    report, hist = qc_month
    first, second = tmp_path / "c1.xlsx", tmp_path / "c2.xlsx"
    calibrate(report, first, {"Q2": ("B", "两次客诉")})
    assert run(capsys, "approve", first, "--history", hist, "--by", "王经理")[0] == 0
    calibrate(report, second, {"Q2": ("C", "两次客诉"), "Q3": ("B", "一次客诉")})
    before = digest(hist)
    code, _, err = run(capsys, "approve", second, "--history", hist, "--by", "王经理")
    assert code == 1 and "already-approved" in err and digest(hist) == before
    code, _, err = run(capsys, "payroll", second, "--out", tmp_path / "p.csv", "--history", hist,
                       "--require-approved")
    assert code == 1 and "Q2" in err and "Q3" in err and not (tmp_path / "p.csv").exists()


def test_the_unchanged_report_approves_without_calibration(tmp_path, qc_month, capsys):
    report, hist = qc_month
    code, out, err = run(capsys, "approve", report, "--history", hist, "--by", "王经理")
    assert code == 0, err
    assert "校准" not in out
    assert "审计" not in openpyxl.load_workbook(hist).sheetnames
    assert {r.工号: r.等级 for r in read_history(hist).itertuples(index=False)}["Q2"] == "A"


def test_a_reason_without_a_grade_is_a_warning_and_changes_nothing(tmp_path, qc_month, capsys):
    report, hist = qc_month
    noted = tmp_path / "noted.xlsx"
    cells = calibrate(report, noted, {"Q4": (None, "只写了理由")})
    code, _, err = run(capsys, "approve", noted, "--history", hist, "--by", "王经理")
    assert code == 0 and "calibration-no-grade" in err and cells["Q4"] in err
    assert "审计" not in openpyxl.load_workbook(hist).sheetnames
    assert {r.工号: r.等级 for r in read_history(hist).itertuples(index=False)}["Q4"] == "E"


def test_invalid_entries_make_approve_refuse_with_the_cells_named(tmp_path, qc_month, capsys):
    report, hist = qc_month
    edited = tmp_path / "bad.xlsx"
    cells = calibrate(report, edited, {"Q2": ("Z", "不是等级"), "Q3": ("B", None)})
    before = digest(hist)
    code, _, err = run(capsys, "approve", edited, "--history", hist, "--by", "王经理")
    assert code == 1
    assert "calibration-grade" in err and cells["Q2"] in err  # unknown grade: its cell
    reason_cell = chr(ord(cells["Q3"][0]) + 1) + cells["Q3"][1:]  # 校准理由 is right of 校准等级
    assert "calibration-reason" in err and reason_cell in err  # no reason: the reason's cell
    assert digest(hist) == before  # nothing approved
    code, _, err = run(capsys, "payroll", edited, "--out", tmp_path / "p.csv")
    assert code == 1 and "calibration-grade" in err and not (tmp_path / "p.csv").exists()


def test_a_grade_outside_the_cards_scheme_is_refused(tmp_path, qc_month, capsys):
    report, hist = qc_month
    plain = tmp_path / "plain.xlsx"  # 卓越 is a grade, but of grade_5_level, not of qc's A–E
    cells = calibrate(report, plain, {"Q2": ("卓越", "表现突出")})
    code, _, err = run(capsys, "approve", plain, "--history", hist, "--by", "王经理")
    assert code == 1 and "calibration-grade" in err and cells["Q2"] in err
    # the same, with the sheet's 等级方案 column changed to a scheme that has 卓越: the card's
    # role decides, not the column
    sly = tmp_path / "sly.xlsx"
    cells = calibrate(report, sly, {"Q2": ("卓越", "表现突出")}, extra={"Q2": {"等级方案": "grade_5_level"}})
    code, _, err = run(capsys, "approve", sly, "--history", hist, "--by", "王经理")
    assert code == 1 and "calibration-grade" in err and cells["Q2"] in err and "grade_a_e" in err
    assert "审批" not in openpyxl.load_workbook(hist).sheetnames


def test_a_sheet_edited_beyond_its_entries_is_refused(tmp_path, qc_month, capsys):
    report, hist = qc_month
    # the hidden 岗位ID changed to a role whose pay the grade would move differently: the
    # scorecard (scored again) names the card's role, and they disagree
    moved = tmp_path / "moved.xlsx"
    cells = calibrate(report, moved, {"Q2": ("B", "两次客诉")}, extra={"Q2": {"岗位ID": "taobao_cs_staff"}})
    code, _, err = run(capsys, "approve", moved, "--history", hist, "--by", "王经理")
    assert code == 1 and "calibration-role" in err and cells["Q2"] in err
    code, _, err = run(capsys, "payroll", moved, "--out", tmp_path / "p.csv")  # no history: the
    assert code == 1 and "calibration-role" in err  # scorecard is still the judge
    # the sheet's 等级 no longer that of 月度汇总 (A): the sheet is stale or edited
    stale = tmp_path / "stale.xlsx"
    cells = calibrate(report, stale, {"Q2": ("C", "两次客诉")}, extra={"Q2": {"等级": "B"}})
    code, _, err = run(capsys, "approve", stale, "--history", hist, "--by", "王经理")
    assert code == 1 and "calibration-stale" in err and cells["Q2"] in err
    assert "审批" not in openpyxl.load_workbook(hist).sheetnames


# --- a department whose pay depends on grades through its team award and a penalty -------

TAOBAO = {  # as in test_absence_rule (the same for 自评 and 主管)
    # 30 + 20 + 10 + 20 + 10 + 10 = 100 → 卓越, the department's top: 部门第一奖励 ¥200
    "T3": (1.0, 20, "无违纪", "独立处事", "通报表扬", "激情感染"),
    # 27 + 16 + 6 + 15 + 8 + 8 = 80 → 良好
    "T1": (0.9, 16, "迟到早退1-3次", "一般", "主管表扬", "良好"),
    # 9 + 10 + 0 + 5 + 4 + 5 = 33 → 不及格: 不及格罚款 −¥200
    "T2": (0.3, 10, "通报批评", "差", "必要合作", "一般"),
}


def test_a_calibrated_top_scorer_and_a_new_fail_recompute_award_and_penalty(tmp_path, catalog, capsys):
    roster = pd.DataFrame([emp(e, f"员工{e}", "电商部", "taobao_cs_staff") for e in TAOBAO])
    rows = []
    for eid, (rate, tasks, *levels) in TAOBAO.items():
        rows.append((eid, "sales_completion.rate", None, rate))
        for rater in ("self", "supervisor"):
            rows.append((eid, "assigned_tasks.points", rater, tasks))
            rows += [(eid, f"{item}.level", rater, level) for item, level in zip(RATED[1:], levels)]
    book = make_book(catalog, tmp_path / "tb.xlsx", roster, rows)
    report, hist = tmp_path / "r.xlsx", tmp_path / "h.xlsx"
    assert run(capsys, "report", book, "--out", report, "--history", hist)[0] in (0, 1)
    summary = {r["工号"]: r for r in sheet_rows(report, "月度汇总")}
    # as reported (全勤奖 ¥50 each): T3 200 + 50 = 250; T1 50; T2 50 − 200 = −150
    assert [summary[e]["应发绩效合计"] for e in ("T3", "T1", "T2")] == [250, 50, -150]
    calibrated = tmp_path / "c.xlsx"
    # T3 卓越 → 及格: still the top scorer, but 及格 earns no 部门第一奖励: 250 − 200 = 50
    # T1 良好 → 不及格: 不及格罚款 −200: 50 − 200 = −150
    calibrate(report, calibrated, {"T3": ("及格", "配额：卓越至多 20 %"), "T1": ("不及格", "重大客诉")})
    code, _, err = run(capsys, "approve", calibrated, "--history", hist, "--by", "王经理")
    assert code == 0, err
    history = {r.工号: r for r in read_history(hist).itertuples(index=False)}
    assert (history["T3"].等级, history["T3"].应发绩效合计) == ("及格", 50)
    assert (history["T1"].等级, history["T1"].应发绩效合计) == ("不及格", -150)
    assert (history["T2"].等级, history["T2"].应发绩效合计) == ("不及格", -150)  # not calibrated
    audit = {(a["工号"], a["字段"]): (a["之前"], a["之后"]) for a in sheet_rows(hist, "审计")}
    assert audit == {("T3", "等级"): ("卓越", "及格"), ("T3", "部门第一奖励"): ("200.00", "0.00"),
                     ("T3", "应发绩效合计"): ("250.00", "50.00"),
                     ("T1", "等级"): ("良好", "不及格"), ("T1", "不及格罚款"): ("0.00", "-200.00"),
                     ("T1", "应发绩效合计"): ("50.00", "-150.00")}


def _entry_rows(report: Path) -> list[dict]:
    rows = list(openpyxl.load_workbook(report)["校准"].iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if "工号" in r and "校准等级" in r)
    header = list(rows[start])
    return [dict(zip(header, r)) for r in rows[start + 1:] if r[0]]
