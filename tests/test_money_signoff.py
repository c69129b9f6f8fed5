"""Issue 20, money you can sign off: every attack of the issue's "Why" list, as a test.

The report is a view: approve and payroll score the books it was made from again and refuse
a report cell that differs, a changed book, a row whose money does not add up. Real
workbooks in tmp_path, the CLI in-process; expected amounts worked out by hand in comments.
"""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from .helpers import emp, run
from .test_payroll_trust import CS_ROSTER, cs, read_csv, set_cell
from .test_report import make_book, sheet_rows

MONTH = "2026-10"


def edit_report(report, eid: str, values: dict) -> dict[str, str]:
    """Type ``values`` (header → value) into ``eid``'s row of 月度汇总; header → cell."""
    wb = openpyxl.load_workbook(report)
    ws = wb["月度汇总"]
    header = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == eid)
    cells = {}
    for name, value in values.items():
        row[header.index(name)].value = value
        cells[name] = row[header.index(name)].coordinate
    wb.save(report)
    return cells


@pytest.fixture
def cs_month(tmp_path, catalog, capsys):
    """S1 5000 × 10% × 87 / 100 = ¥435.00, S2 6000 × 10% × 87 / 100 = ¥522.00 (绩效工资 only)."""
    book = make_book(catalog, tmp_path / "cs.xlsx", CS_ROSTER, cs("S1") + cs("S2"))
    report, hist = tmp_path / "r.xlsx", tmp_path / "h.xlsx"
    assert run(capsys, "report", book, "--out", report, "--history", hist)[0] == 0
    return book, report, hist


# --- the report is never a source of money ---------------------------------------------------

def test_pay_raised_in_the_report_is_refused_by_approve_and_payroll(tmp_path, cs_month, capsys):
    """Why: raising 绩效工资 and 应发绩效合计 from 435 to 9435 was approved and paid."""
    _, report, hist = cs_month
    cells = edit_report(report, "S1", {"绩效工资": 9435, "应发绩效合计": 9435})
    code, _, err = run(capsys, "approve", report, "--history", hist, "--by", "王经理")
    assert code == 1 and cells["绩效工资"] in err and cells["应发绩效合计"] in err and "435" in err
    assert "审批" not in openpyxl.load_workbook(hist).sheetnames  # nothing approved
    for options in ((), ("--allow-incomplete",), ("--history", hist, "--unapproved")):
        code, stdout, err = run(capsys, "payroll", report, "--out", tmp_path / "p.csv", *options)
        assert code == 1 and cells["应发绩效合计"] in err and not (tmp_path / "p.csv").exists(), options


def test_the_printed_totals_row_is_checked_against_the_scorecards(tmp_path, cs_month, capsys):
    """The 合计 row under 月度汇总 is a view too: it must be the sum of the recomputed rows,
    and one typed over is refused like any other money cell; as written it passes."""
    _, report, hist = cs_month
    wb = openpyxl.load_workbook(report)
    ws = wb["月度汇总"]
    header = [c.value for c in ws[1]]
    dept, total = header.index("部门") + 1, header.index("应发绩效合计") + 1
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, dept).value == "合计"
               and ws.cell(r, 1).value is None)
    paid = sum(ws.cell(r, total).value or 0 for r in range(2, row) if ws.cell(r, 1).value)
    assert ws.cell(row, total).value == pytest.approx(paid)  # the writer's sum, by hand
    code, _, err = run(capsys, "payroll", report, "--out", tmp_path / "ok.csv")
    assert code == 0, err
    ws.cell(row, total).value = paid + 1000
    wb.save(report)
    cell = f"{openpyxl.utils.get_column_letter(total)}{row}"
    code, _, err = run(capsys, "approve", report, "--history", hist, "--by", "王经理")
    assert code == 1 and cell in err and "合计" in err
    code, _, err = run(capsys, "payroll", report, "--out", tmp_path / "p.csv")
    assert code == 1 and cell in err and not (tmp_path / "p.csv").exists()


def test_money_columns_that_do_not_add_up_are_refused(tmp_path, cs_month, capsys):
    """Why: 等级奖金 edited to 4000 beside 应发 400 was exported as approved."""
    _, report, hist = cs_month
    cells = edit_report(report, "S2", {"绩效工资": 4000})
    code, _, err = run(capsys, "approve", report, "--history", hist, "--by", "王经理")
    assert code == 1 and cells["绩效工资"] in err
    # the sum names the total's cell: 4,000.00 is not the pay total 522.00
    assert "4,000.00" in err and "522.00" in err
    code, _, err = run(capsys, "payroll", report, "--out", tmp_path / "p.csv")
    assert code == 1 and "4,000.00" in err and not (tmp_path / "p.csv").exists()


def test_a_grade_a_name_or_a_row_edited_in_the_report_is_refused(tmp_path, cs_month, capsys):
    _, report, _ = cs_month
    pristine = report.read_bytes()
    cells = edit_report(report, "S1", {"等级": "A", "姓名": "冒名"})
    code, _, err = run(capsys, "payroll", report, "--out", tmp_path / "p.csv")
    assert code == 1 and cells["等级"] in err and cells["姓名"] in err
    report.write_bytes(pristine)
    wb = openpyxl.load_workbook(report)  # a row added for someone with no scorecard
    ws = wb["月度汇总"]
    ws.append(["S9", "幽灵", "客服部", "客服专员", MONTH, 90, None, None, None, 500, 500, "已完成"])
    wb.save(report)
    code, _, err = run(capsys, "payroll", report, "--out", tmp_path / "p.csv")
    assert code == 1 and "S9" in err and "report-changed" in err
    report.write_bytes(pristine)
    wb = openpyxl.load_workbook(report)  # a row deleted
    wb["月度汇总"].delete_rows(3)
    wb.save(report)
    code, _, err = run(capsys, "payroll", report, "--out", tmp_path / "p.csv")
    assert code == 1 and "report-changed" in err and not (tmp_path / "p.csv").exists()
    report.write_bytes(pristine)  # untouched, it pays: 435 + 522
    code, stdout, err = run(capsys, "payroll", report, "--out", tmp_path / "p.csv")
    assert code == 0 and "¥957.00" in stdout


def test_a_book_changed_after_the_report_is_refused_not_read_again(tmp_path, cs_month, capsys):
    book, report, hist = cs_month
    set_cell(book, "S1", "KPI_IN_problem_resolution__points", 100)
    code, _, err = run(capsys, "approve", report, "--history", hist, "--by", "王经理")
    assert code == 1 and "report-book-changed" in err and "cs.xlsx" in err
    code, _, err = run(capsys, "payroll", report, "--out", tmp_path / "p.csv")
    assert code == 1 and "report-book-changed" in err and not (tmp_path / "p.csv").exists()
    book.unlink()
    code, _, err = run(capsys, "payroll", report, "--out", tmp_path / "p.csv")
    assert code == 2 and "report-book-missing" in err and "cs.xlsx" in err


def test_the_report_records_its_books_and_travels_with_them(tmp_path, cs_month, capsys):
    import hashlib
    import shutil

    book, report, _ = cs_month
    record = {r[0]: r for r in openpyxl.load_workbook(report)["来源"].iter_rows(values_only=True)}
    assert record["考核表"][1] == "cs.xlsx"  # relative to the report's folder
    assert record["考核表"][2] == hashlib.sha256(book.read_bytes()).hexdigest()
    assert openpyxl.load_workbook(report)["来源"].sheet_state == "veryHidden"
    moved = tmp_path / "moved"  # the folder moved as a whole: found beside the report
    moved.mkdir()
    shutil.copy(book, moved / book.name)
    shutil.copy(report, moved / report.name)
    book.unlink()
    code, stdout, err = run(capsys, "payroll", moved / report.name, "--out", tmp_path / "p.csv")
    assert code == 0, err
    assert {r["工号"]: r["应发绩效合计"] for r in read_csv(tmp_path / "p.csv")[1]} == {
        "S1": "435.00", "S2": "522.00"}


# --- payroll pays what was approved ------------------------------------------------------------

def test_payroll_with_a_history_refuses_unapproved_rows_unless_told(tmp_path, cs_month, capsys):
    """Why: payroll --history without --require-approved paid unapproved rows, exit 0, silent."""
    _, report, hist = cs_month
    out = tmp_path / "p.csv"
    code, stdout, err = run(capsys, "payroll", report, "--out", out, "--history", hist)
    assert code == 1 and not out.exists()
    assert "S1" in err and "S2" in err and "未审批" in err and "--unapproved" in err
    code, stdout, err = run(capsys, "payroll", report, "--out", out, "--history", hist, "--allow-incomplete")
    assert code == 0 and read_csv(out)[1] == []  # the settled, approved rows: none yet
    code, stdout, err = run(capsys, "payroll", report, "--out", out, "--history", hist, "--unapproved",
                            "--force")
    assert code == 0 and "2 paid" in stdout
    listed = [line for line in err.splitlines() if "payroll-unapproved" in line]
    assert len(listed) == 2 and "S1" in listed[0] + listed[1] and "S2" in listed[0] + listed[1]
    code, _, err = run(capsys, "payroll", report, "--out", tmp_path / "q.csv", "--unapproved")
    assert code == 2 and "--history" in err  # --unapproved says nothing without a history


def test_payroll_without_a_history_says_nothing_was_checked(tmp_path, cs_month, capsys):
    _, report, _ = cs_month
    code, _, err = run(capsys, "payroll", report, "--out", tmp_path / "p.csv")
    assert code == 0
    lines = [line for line in err.splitlines() if "payroll-unchecked" in line]
    assert len(lines) == 1 and "nothing was checked against an approval" in lines[0]


def test_a_calibration_changed_after_approval_is_not_paid(tmp_path, catalog, capsys):
    """Why: payroll --history paid a row changed after approval (与审批不符), exit 0."""
    from .test_calibrate import calibrate

    roster = pd.DataFrame([emp(f"Q{i}", f"检{i}", "品质部", "qc_inspector") for i in (1, 2)])
    from .test_report import qc

    book = make_book(catalog, tmp_path / "qc.xlsx", roster, qc("Q1", False) + qc("Q2", False))
    report, hist = tmp_path / "r.xlsx", tmp_path / "h.xlsx"
    assert run(capsys, "report", book, "--out", report, "--history", hist)[0] == 0
    first = tmp_path / "c1.xlsx"
    calibrate(report, first, {"Q2": ("B", "客诉")})  # A ¥400 → B ¥300
    assert run(capsys, "approve", first, "--history", hist, "--by", "王经理")[0] == 0
    second = tmp_path / "c2.xlsx"
    calibrate(report, second, {"Q2": ("C", "客诉")})  # changed after approval: C ¥200
    out = tmp_path / "p.csv"
    code, _, err = run(capsys, "payroll", second, "--out", out, "--history", hist)
    assert code == 1 and "Q2" in err and "与审批不符" in err and not out.exists()
    code, stdout, err = run(capsys, "payroll", first, "--out", out, "--history", hist)
    assert code == 0 and "¥700.00" in stdout  # what was approved: 400 + 300


# --- team pay from the whole department only ---------------------------------------------------

def taobao_month(tmp_path, catalog, capsys, break_top: bool):
    from .test_absence_rule import RATED
    from .test_calibrate import TAOBAO

    roster = pd.DataFrame([emp(e, f"员工{e}", "电商部", "taobao_cs_staff") for e in TAOBAO])
    rows = []
    for eid, (rate, tasks, *levels) in TAOBAO.items():
        rows.append((eid, "sales_completion.rate", None, rate))
        for rater in ("self", "supervisor"):
            rows.append((eid, "assigned_tasks.points", rater, tasks))
            rows += [(eid, f"{item}.level", rater, level) for item, level in zip(RATED[1:], levels)]
    book = make_book(catalog, tmp_path / "tb.xlsx", roster, rows)
    if break_top:  # the department's best card (T3, 100 卓越) gets a value no rule accepts
        set_cell(book, "T3", "KPI_IN_sales_completion__rate", -1)
    report = tmp_path / "r.xlsx"
    run(capsys, "report", book, "--out", report)
    return report, {r["工号"]: r for r in sheet_rows(report, "月度汇总")}


def test_a_card_in_error_holds_its_departments_award(tmp_path, catalog, capsys):
    """Why: with the best card in error the second best (T1, 良好) took the ¥200 award, and
    payroll --allow-incomplete exported it."""
    report, rows = taobao_month(tmp_path, catalog, capsys, break_top=True)
    assert rows["T3"]["状态"] == "错误" and rows["T3"]["应发绩效合计"] is None
    for eid in ("T1", "T2"):  # 全勤奖 ¥50 is theirs; the award and the total wait
        assert (rows[eid]["部门第一奖励"], rows[eid]["全勤奖"], rows[eid]["应发绩效合计"]) == ("待定", 50, "待定")
        assert "员工T3（T3，错误）" in rows[eid]["说明"]
    said = []
    for options in ((), ("--allow-incomplete",)):
        out = tmp_path / f"p{len(options)}.csv"
        code, stdout, err = run(capsys, "payroll", report, "--out", out, *options)
        paid = {r["工号"] for r in read_csv(out)[1]} if out.exists() else set()
        assert paid == set() and "T1" in err and "T2" in err and "待定" in err, options
        assert "部门第一奖励" in err
        said.append(err)
    # no message suggests an option that would pay the waiting amount: the only option named
    # pays settled rows only, and says so
    assert "--unapproved" not in said[0] and "only the settled, clean rows" in said[0]


def test_the_award_is_paid_once_the_department_is_whole(tmp_path, catalog, capsys):
    report, rows = taobao_month(tmp_path, catalog, capsys, break_top=False)
    # T3 100 卓越 is the top: ¥200 + 全勤 ¥50; T1 良好 ¥50; T2 不及格 50 − 200 = −150
    assert [rows[e]["应发绩效合计"] for e in ("T3", "T1", "T2")] == [250, 50, -150]
    code, stdout, _ = run(capsys, "payroll", report, "--out", tmp_path / "p.csv")
    assert code == 0 and "¥150.00" in stdout


def test_ranks_wait_for_the_whole_team(tmp_path, catalog, capsys):
    """Rank items (G9) rank a team by its metric: with one card of the team unfinished, the
    others' ranks — and so their totals, grades and pay — wait for it."""
    from .test_report import ecommerce

    roster = pd.DataFrame([emp(e, f"戊{e}", "电商二部", "ecommerce_presales_cs") for e in ("E1", "E2", "E3")])
    rows = ecommerce("E1", 0.9, 0.6) + ecommerce("E2", 0.5, 0.4) + ecommerce("E3", 0.7, 0.5)[:2]
    book = make_book(catalog, tmp_path / "ec.xlsx", roster, rows)
    report = tmp_path / "r.xlsx"
    assert run(capsys, "report", book, "--out", report)[0] == 0
    got = {r["工号"]: r for r in sheet_rows(report, "月度汇总")}
    assert {e: got[e]["状态"] for e in got} == {"E1": "未完成", "E2": "未完成", "E3": "未完成"}
    assert got["E1"]["应发绩效合计"] is None and got["E1"]["等级"] is None
    waiting = {r["工号"]: r["缺少或有误"] for r in sheet_rows(report, "未完成")}
    assert "名次待定" in waiting["E1"] and "戊E3（E3，未完成）" in waiting["E1"]
    code, _, err = run(capsys, "payroll", report, "--out", tmp_path / "p.csv", "--allow-incomplete")
    assert code == 0 and read_csv(tmp_path / "p.csv")[1] == []


# --- one truth on paper ---------------------------------------------------------------------------

def test_after_approve_the_report_shows_what_was_approved(tmp_path, catalog, capsys):
    """Why: after calibration and approve, 月度汇总 still showed the uncalibrated grades and
    money while payroll paid the calibrated ones."""
    from .test_calibrate import calibrate
    from .test_report import qc

    roster = pd.DataFrame([emp(f"Q{i}", f"检{i}", "品质部", "qc_inspector") for i in (1, 2)])
    book = make_book(catalog, tmp_path / "qc.xlsx", roster, qc("Q1", False) + qc("Q2", False))
    report, hist = tmp_path / "r.xlsx", tmp_path / "h.xlsx"
    assert run(capsys, "report", book, "--out", report, "--history", hist)[0] == 0
    calibrate(report, report, {"Q2": ("B", "两次客诉")})  # A ¥400 → B ¥300
    assert run(capsys, "approve", report, "--history", hist, "--by", "王经理")[0] == 0
    summary = {r["工号"]: r for r in sheet_rows(report, "月度汇总")}
    assert (summary["Q2"]["等级"], summary["Q2"]["等级奖金"], summary["Q2"]["应发绩效合计"]) == ("B", 300, 300)
    assert (summary["Q1"]["等级"], summary["Q1"]["应发绩效合计"]) == ("A", 400)
    wb = openpyxl.load_workbook(report)
    approval = sheet_rows(hist, "审批")[0]
    for name in ("月度汇总", "部门统计", "校准"):  # the stamp prints on every page
        ws = wb[name]
        assert "已审批" in str(ws.HeaderFooter.oddHeader), name
        footer = str(ws.HeaderFooter.oddFooter)
        assert "审批：王经理" in footer and approval["哈希"][:12] in footer, name
    record = {r[0]: r[1] for r in wb["来源"].iter_rows(values_only=True)}
    assert record["审批人"] == "王经理" and record["月度哈希"] == approval["哈希"]
    entries = {r[0]: r for r in wb["校准"].iter_rows(values_only=True) if r and r[0] in ("Q1", "Q2")}
    header = next(r for r in wb["校准"].iter_rows(values_only=True) if r and "校准等级" in r)
    q2 = dict(zip(header, entries["Q2"]))
    assert (q2["等级"], q2["校准等级"], q2["校准理由"]) == ("A", "B", "两次客诉")  # the engine's grade, HR's entry
    code, stdout, err = run(capsys, "payroll", report, "--out", tmp_path / "p.csv", "--history", hist,
                            "--require-approved")
    assert code == 0 and "¥700.00" in stdout, err  # what the paper shows: 400 + 300
    once = report.read_bytes()
    assert run(capsys, "approve", report, "--history", hist, "--by", "王经理")[0] == 0
    assert report.read_bytes() == once  # approving again changes nothing, the paper neither



def test_the_stamp_and_the_page_number_print_apart(tmp_path, catalog, capsys):
    """Why: the approval stamp at the left of the footer ran into the page number in its
    centre (seen on the rendered report). Stamped in place (no calibration) or written again
    (calibrated), the page number moves to the right."""
    from .test_calibrate import calibrate
    from .test_report import qc

    roster = pd.DataFrame([emp(f"Q{i}", f"检{i}", "品质部", "qc_inspector") for i in (1, 2)])
    book = make_book(catalog, tmp_path / "qc.xlsx", roster, qc("Q1", False) + qc("Q2", False))
    for calibrated in (False, True):
        report, hist = tmp_path / f"r{calibrated}.xlsx", tmp_path / f"h{calibrated}.xlsx"
        assert run(capsys, "report", book, "--out", report, "--history", hist)[0] == 0
        unstamped = openpyxl.load_workbook(report)["月度汇总"].oddFooter
        assert "第 &P 页" in (unstamped.center.text or "") and not unstamped.left.text
        if calibrated:
            calibrate(report, report, {"Q2": ("B", "两次客诉")})
        assert run(capsys, "approve", report, "--history", hist, "--by", "王经理")[0] == 0
        for ws in openpyxl.load_workbook(report).worksheets[:3]:
            footer = ws.oddFooter
            assert "审批：王经理" in (footer.left.text or ""), (calibrated, ws.title)
            assert "第 &P 页，共 &N 页" in (footer.right.text or "") and not footer.center.text, ws.title

def test_team_pay_cells_on_a_scorecard_point_to_the_report(tmp_path, catalog):
    """Why: the cards showed ¥0 where ¥200 (部门第一奖励) and a pool share are paid."""
    from kpi_workbook.workbook.scorecard.build import build_workbook

    roster = pd.DataFrame([emp("T1", "唐一", "电商部", "taobao_cs_staff"),
                           emp("Q1", "秦一", "品质部", "qc_iqc_oqc")])
    book = tmp_path / "b.xlsx"
    build_workbook(catalog, roster, MONTH, book)
    wb = openpyxl.load_workbook(book)
    for ws in wb.worksheets:
        names = {n: list(d.destinations)[0][1].replace("$", "") for n, d in ws.defined_names.items()}
        if "KPI_PAY" not in names:
            continue
        rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value}
        team = "部门第一奖励" if "部门第一奖励" in rows else "部门扣分池"
        pay_col = openpyxl.utils.cell.coordinate_from_string(names["KPI_PAY"])[0]
        formula = ws[f"{pay_col}{rows[team]}"].value
        assert "见月度报表" in formula and "ROUND" not in formula  # never a ¥0
        total_label = next(k for k in rows if str(k).startswith("绩效工资/奖金合计"))
        assert total_label == "绩效工资/奖金合计（不含部门奖励）"
        assert f"{pay_col}{rows[team]}" not in ws[names["KPI_PAY"]].value  # not summed as 0


# --- reopen keeps what still holds ---------------------------------------------------------------

def test_reopen_keeps_the_calibrations_whose_card_did_not_change(tmp_path, catalog, capsys):
    """Why: report --reopen dropped every calibration of the month, wrote the reversals to 审计
    under the reopening's reason, and rows saying 说明 was cleared."""
    from .test_calibrate import calibrate
    from .test_report import qc

    roster = pd.DataFrame([emp(f"Q{i}", f"检{i}", "品质部", "qc_inspector") for i in (1, 2, 3)])
    book = make_book(catalog, tmp_path / "qc.xlsx", roster, qc("Q1", False) + qc("Q2", False) + qc("Q3", False))
    report, hist = tmp_path / "r.xlsx", tmp_path / "h.xlsx"
    assert run(capsys, "report", book, "--out", report, "--history", hist)[0] == 0
    calibrate(report, report, {"Q2": ("B", "两次客诉"), "Q3": ("B", "配额")})  # A ¥400 → B ¥300
    assert run(capsys, "approve", report, "--history", hist, "--by", "王经理")[0] == 0
    audited = len(sheet_rows(hist, "审计"))
    # Q3's card changes (4 misses: 102 − 22 = 80 → B by itself); Q2's does not
    set_cell(book, "Q3", "KPI_IN_miss_detection__misses", 4)
    code, _, err = run(capsys, "report", book, "--out", report, "--history", hist, "--force", "--reopen",
                       "--reason", "补录错漏检", "--by", "李四")
    assert code == 0, err
    kept = [line for line in err.splitlines() if line.startswith("保留校准")]
    gone = [line for line in err.splitlines() if line.startswith("撤销校准")]
    assert len(kept) == 1 and "Q2" in kept[0] and "两次客诉" in kept[0]
    assert len(gone) == 1 and "Q3" in gone[0] and "配额" in gone[0]
    entries = {r["工号"]: r for r in _entries(report)}
    assert (entries["Q2"]["校准等级"], entries["Q2"]["校准理由"]) == ("B", "两次客诉")  # re-applied
    assert entries["Q3"]["校准等级"] is None
    audit = sheet_rows(hist, "审计")[audited:]  # what the reopening wrote
    assert {a["工号"] for a in audit} == {"Q3"}  # Q2 did not change: nothing audited for it
    assert not any(a["字段"] == "说明" for a in audit)
    q3 = {a["字段"]: a for a in audit}
    # approved: 102 A ¥400 calibrated to B ¥300; now 80 B ¥300: only the total changed
    assert set(q3) == {"总分"} and (q3["总分"]["之前"], q3["总分"]["之后"]) == ("102.0", "80.0")
    assert q3["总分"]["原因"] == "补录错漏检（考核表改动，原校准“配额”撤销）"
    assert run(capsys, "approve", report, "--history", hist, "--by", "王经理")[0] == 0
    summary = {r["工号"]: r for r in sheet_rows(report, "月度汇总")}
    assert (summary["Q2"]["等级"], summary["Q2"]["应发绩效合计"]) == ("B", 300)  # the kept calibration


def test_rollup_says_a_month_is_reopened_and_not_approved_again(tmp_path, cs_month, capsys):
    """Why: rollup counted a reopened, never re-approved month without a word."""
    book, report, hist = cs_month
    assert run(capsys, "approve", report, "--history", hist, "--by", "王经理")[0] == 0
    q4 = ("--history", hist, "--quarter", "2026Q4")
    assert run(capsys, "rollup", *q4, "--out", tmp_path / "a.xlsx", "--require-approved")[0] == 0
    assert run(capsys, "report", book, "--out", report, "--history", hist, "--force", "--reopen",
               "--reason", "复核")[0] == 0
    code, _, err = run(capsys, "rollup", *q4, "--out", tmp_path / "b.xlsx")
    assert code == 1 and "2026-10 已重开（复核），未重新审批" in err and (tmp_path / "b.xlsx").exists()
    code, _, err = run(capsys, "rollup", *q4, "--out", tmp_path / "c.xlsx", "--require-approved")
    assert code == 1 and "reopened" in err and not (tmp_path / "c.xlsx").exists()


def _entries(report) -> list[dict]:
    rows = list(openpyxl.load_workbook(report)["校准"].iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r and "工号" in r and "校准等级" in r)
    return [dict(zip(rows[start], r)) for r in rows[start + 1:] if r and r[0]]


# --- plausible 设置 --------------------------------------------------------------------------------

@pytest.mark.parametrize("name, value, zh, en", [
    ("PAY_pay_base_pct_PCT", 10, "比例）10 超出 0–1：是否应为 10% / 0.1？", "did you mean 10% (= 0.1)?"),
    ("PAY_pay_base_pct_PCT", -0.1, "比例）为负数 -0.1", "is negative"),
    ("PAY_pay_base_pct_MIN_TOTAL", 5000, "最低总分）5000 超出 0–1000", "outside 0–1000"),
])
def test_an_implausible_pay_parameter_is_an_error_naming_its_cell(tmp_path, cs_month, capsys, name, value, zh, en):
    """Why: 绩效工资 比例 typed as 10 (meaning 10 %) paid everyone 100 times, with an info."""
    from .helpers import edited_settings, settings_cells

    book, _, _ = cs_month
    cell = settings_cells(book)[name]
    edited = edited_settings(book, tmp_path / "edited.xlsx", {name: value})
    code, _, err = run(capsys, "validate", edited)
    assert code == 1 and f"设置 {cell}（绩效工资：{zh}" in err and en in err
    report = tmp_path / "r2.xlsx"
    code, _, err = run(capsys, "report", edited, "--out", report)
    assert code == 1
    assert {r["状态"] for r in sheet_rows(report, "月度汇总")} == {"错误"}  # nobody of the book is paid
    code, stdout, err = run(capsys, "payroll", report, "--out", tmp_path / "p.csv", "--allow-incomplete")
    assert code == 0 and "0 paid, 2 excluded" in stdout


def test_an_amount_of_1e308_is_refused_and_nothing_is_infinite(tmp_path, catalog, capsys):
    """Why: an A-grade amount of 1e308 printed ¥inf, the CSV carried 309-digit amounts and
    payroll --json exited 3."""
    import json

    from .helpers import edited_settings, settings_cells
    from .test_report import qc

    roster = pd.DataFrame([emp("Q1", "秦一", "品质部", "qc_inspector")])
    book = make_book(catalog, tmp_path / "qc.xlsx", roster, qc("Q1", False))  # 102 → A
    cell = settings_cells(book)["PAY_pay_grade_amount_AMOUNT_1"]
    edited = edited_settings(book, tmp_path / "edited.xlsx", {"PAY_pay_grade_amount_AMOUNT_1": 1e308})
    report = tmp_path / "r.xlsx"
    code, stdout, err = run(capsys, "report", edited, "--out", report)
    assert code == 1 and f"设置 {cell}" in err and "1,000,000" in err and "inf" not in stdout + err
    assert sheet_rows(report, "月度汇总")[0]["状态"] == "错误"
    code, stdout, _ = run(capsys, "payroll", report, "--out", tmp_path / "p.csv", "--json")
    data = json.loads(stdout)
    assert code == 1 and data["exported"] is False and data["total"] == 0 and "inf" not in stdout


def test_the_templates_hold_their_parameters_to_the_ranges_too(tmp_path):
    import shutil

    from kpi_workbook.rules.lint import lint
    from kpi_workbook.rules.loader import builtin_templates_dir

    templates = tmp_path / "templates"
    shutil.copytree(builtin_templates_dir(), templates)
    path = templates / "pay.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("pct: 0.10 ", "pct: 10 "), encoding="utf-8")
    found = [d for d in lint(templates) if d.severity == "error"]
    assert found and "pct = 10" in found[0].message and "0.1" in found[0].message


def test_a_role_with_no_pay_rule_is_not_paid_as_zero(tmp_path, catalog, capsys):
    """Why: a role with no pay rule exported ¥0.00, as if the card had earned nothing."""
    from kpi_workbook.sample import sample_inputs

    from .test_report import qc

    assert catalog.role_pay_rules(catalog.roles["cs_department"]) == []
    roster = pd.DataFrame([emp("D1", "邓一", "客服部", "cs_department"), emp("Q2", "秦二", "品质部", "qc_inspector")])
    rows = [r for r in sample_inputs(catalog, roster, MONTH).itertuples(index=False, name=None) if r[0] == "D1"]
    book = make_book(catalog, tmp_path / "b.xlsx", roster, rows + qc("Q2", True))  # Q2: 45 → E → ¥0
    report = tmp_path / "r.xlsx"
    assert run(capsys, "report", book, "--out", report)[0] == 0
    got = {r["工号"]: r for r in sheet_rows(report, "月度汇总")}
    assert got["D1"]["状态"] == "已完成" and got["D1"]["应发绩效合计"] is None
    assert "本岗位无绩效薪酬规则" in got["D1"]["说明"]
    assert got["Q2"]["应发绩效合计"] == 0  # earned nothing
    code, stdout, err = run(capsys, "payroll", report, "--out", tmp_path / "p.csv")
    assert code == 0, err
    paid = {r["工号"]: r for r in read_csv(tmp_path / "p.csv")[1]}
    assert paid["D1"]["应发绩效合计"] == "" and paid["D1"]["等级奖金"] == ""
    assert paid["D1"]["说明"] == "本岗位无绩效薪酬规则"
    assert paid["Q2"]["应发绩效合计"] == "0.00" and paid["Q2"]["等级奖金"] == "0.00"
