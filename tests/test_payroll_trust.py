"""Issue 9, payroll you can trust: one month per report, no pay for a card in error, payroll
refusing an unclean month, a stable payroll file, approval with an audit trail, and no lost
updates when two processes write one file.

Real workbooks in tmp_path; the CLI in-process, and as real processes where two must run at
once. Expected amounts are worked out by hand in the comments.
"""

from __future__ import annotations

import re

import csv
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from kpi_workbook.rules.payroll_layout import load_payroll_layout
from kpi_workbook.rules.loader import builtin_catalog
from kpi_workbook.workbook.locks import lock_path, locked
from kpi_workbook.workbook.scorecard.reader import read_book
from kpi_workbook.workbook.month.report import collect_books

from .helpers import emp, run
from .test_report import make_book, qc, sheet_rows

MONTH = "2026-10"
QC_ROSTER = pd.DataFrame([emp("Q1", "秦一", "品质部", "qc_inspector"),
                          emp("Q2", "秦二", "品质部", "qc_inspector")])
CS_ROSTER = pd.DataFrame([emp("S1", "孙一", "客服部", "cs_specialist", 5000),
                          emp("S2", "孙二", "客服部", "cs_specialist", 6000)])
CS_POINTS = (("problem_resolution", 90), ("customer_satisfaction", 85), ("response_time", 88),
             ("complaint_handling", 92), ("quality_monitoring", 80))


def cs(eid: str) -> list:
    """cs_specialist: five items of 20% each, (90+85+88+92+80)/5 = 87.0."""
    return [(eid, f"{k}.points", None, v) for k, v in CS_POINTS]


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def set_cell(book: Path, eid: str, name: str, value) -> str:
    """Type ``value`` into the cell of defined name ``name`` on ``eid``'s sheet; its ref."""
    wb = openpyxl.load_workbook(book)
    for ws in wb.worksheets:
        names = {n: list(d.destinations)[0][1].replace("$", "") for n, d in ws.defined_names.items()}
        if "KPI_EMPLOYEE_ID" in names and ws[names["KPI_EMPLOYEE_ID"]].value == eid:
            ws[names[name]] = value
            wb.save(book)
            return names[name]
    raise KeyError(eid)


def read_csv(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


@pytest.fixture
def qc_book(tmp_path, catalog):
    # Q1: no misses → 22 + 80 = 102 → A → ¥400; Q2: weak → E → ¥0
    return make_book(catalog, tmp_path / "qc.xlsx", QC_ROSTER, qc("Q1", False) + qc("Q2", True))


# --- 1. one month per report ----------------------------------------------------------------

def test_a_month_no_book_is_of_is_an_error_and_history_is_not_touched(tmp_path, qc_book, capsys):
    hist = tmp_path / "h.xlsx"
    out = tmp_path / "r.xlsx"
    code, _, err = run(capsys, "report", qc_book, "--month", "2026-11", "--out", out, "--history", hist)
    assert code == 2 and "month-not-found" in err and "2026-11" in err and MONTH in err
    assert not out.exists() and not hist.exists()


def test_a_folder_of_two_months_stops_then_reports_one(tmp_path, catalog, capsys):
    folder = tmp_path / "books"
    folder.mkdir()
    make_book(catalog, folder / "09.xlsx", QC_ROSTER, qc("Q1", False) + qc("Q2", False), month="2026-09")
    make_book(catalog, folder / "10.xlsx", QC_ROSTER, qc("Q1", False) + qc("Q2", True))
    hist, out = tmp_path / "h.xlsx", tmp_path / "r.xlsx"
    code, _, err = run(capsys, "report", folder, "--out", out, "--history", hist)
    assert code == 1 and "mixed-months" in err and "2026-09" in err and MONTH in err
    assert not out.exists() and not hist.exists()
    code, _, err = run(capsys, "report", folder, "--month", MONTH, "--out", out, "--history", hist)
    assert code == 1  # September's book is left out: one finding for the book
    mismatch = [r for r in sheet_rows(out, "问题") if r["代码"] == "month-mismatch"]
    assert [r["文件"] for r in mismatch] == ["09.xlsx"]
    assert "2026-09" in mismatch[0]["说明"] and MONTH in mismatch[0]["说明"]
    summary = sheet_rows(out, "月度汇总")
    assert {r["月份"] for r in summary} == {MONTH} and len(summary) == 2  # not four, not two months
    assert {r["月份"] for r in sheet_rows(hist, "历史")} == {MONTH}
    assert "history" in err and f"2 rows of {MONTH} written" in err  # what happened to the history


def test_a_history_left_alone_says_why(tmp_path, capsys):
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    hist = tmp_path / "h.xlsx"
    code, _, err = run(capsys, "report", junk, "--out", tmp_path / "r.xlsx", "--history", hist)
    assert code == 1 and "junk.xlsx" in err
    assert "not updated" in err and "历史" in err and not hist.exists()


# --- 2. a card in error gets no pay -------------------------------------------------------

@pytest.mark.parametrize("value", [-1, "十二", "#NUM!"])
def test_an_error_on_a_card_means_no_pay(tmp_path, qc_book, capsys, value):
    ref = set_cell(qc_book, "Q1", "KPI_IN_miss_detection__misses", value)
    out = tmp_path / "r.xlsx"
    code, _, err = run(capsys, "report", qc_book, "--out", out)
    assert code == 1 and ref in err
    rows = {r["工号"]: r for r in sheet_rows(out, "月度汇总")}
    q1 = rows["Q1"]
    assert q1["状态"] == "错误" and q1["等级"] is None and q1["应发绩效合计"] is None
    assert q1["等级奖金"] is None and ref in q1["问题"]
    assert rows["Q2"]["状态"] == "已完成" and rows["Q2"]["问题"] is None  # the others go on
    code, stdout, err = run(capsys, "payroll", out, "--out", tmp_path / "p.csv")
    assert code == 1 and "Q1" in err and not (tmp_path / "p.csv").exists()


def test_score_refuses_a_negative_count_too(tmp_path, capsys):
    data = tmp_path / "card.json"
    data.write_text('{"inputs": {"miss_detection.misses": -1}}', encoding="utf-8")
    code, stdout, err = run(capsys, "score", "qc_inspector", "--input", data)
    assert code == 2 and "-1" in err and stdout == ""


def test_a_pay_too_large_to_be_a_number_is_an_error_never_zero(tmp_path, catalog, capsys):
    book = make_book(catalog, tmp_path / "cs.xlsx", CS_ROSTER, cs("S1") + cs("S2"))
    set_cell(book, "S1", "KPI_BASE_SALARY", 1e308)  # × 10% × 0.87 would overflow in the formula chain
    out = tmp_path / "r.xlsx"
    code, _, err = run(capsys, "report", book, "--out", out)
    assert code == 1 and "bad-field" in err and "1e+308" in err  # refused as no amount of money
    rows = {r["工号"]: r for r in sheet_rows(out, "月度汇总")}
    assert rows["S1"]["状态"] == "错误" and rows["S1"]["应发绩效合计"] is None
    assert rows["S2"]["应发绩效合计"] == 522.0  # 6000 × 10% × 87 / 100
    code, stdout, err = run(capsys, "payroll", out, "--out", tmp_path / "p.csv", "--allow-incomplete")
    assert code == 0 and "S1" in err
    _, body = read_csv(tmp_path / "p.csv")
    assert [r["工号"] for r in body] == ["S2"] and body[0]["应发绩效合计"] == "522.00"


def test_an_error_value_typed_into_a_report_is_refused_never_paid_as_zero(tmp_path, qc_book, capsys):
    out = tmp_path / "r.xlsx"
    assert run(capsys, "report", qc_book, "--out", out)[0] == 0
    wb = openpyxl.load_workbook(out)
    ws = wb["月度汇总"]
    header = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "Q1")
    row[header.index("应发绩效合计")].value = "#NUM!"  # what a report of another version may hold
    ref = row[header.index("应发绩效合计")].coordinate
    wb.save(out)
    for options in ((), ("--allow-incomplete",)):  # no option pays from an edited report
        code, stdout, err = run(capsys, "payroll", out, "--out", tmp_path / "p.csv", *options)
        assert code == 1 and "Q1" in err and "#NUM!" in err and ref in err and "report-changed" in err
        assert not (tmp_path / "p.csv").exists() and "paid" not in stdout


# --- 3. payroll refuses an unclean month; 4. a stable payroll file ---------------------------

def test_payroll_summary_line_and_two_decimal_money(tmp_path, qc_book, capsys):
    out = tmp_path / "r.xlsx"
    assert run(capsys, "report", qc_book, "--out", out)[0] == 0
    code, stdout, err = run(capsys, "payroll", out, "--out", tmp_path / "p.csv")
    assert code == 0, err
    assert "发放 2 人，排除 0 人，合计 ¥400.00" in stdout and "2 paid, 0 excluded, total ¥400.00" in stdout
    header, body = read_csv(tmp_path / "p.csv")
    assert header == [c.header for c in load_payroll_layout().columns]
    q1 = next(r for r in body if r["工号"] == "Q1")
    assert q1["等级奖金"] == "400.00" and q1["应发绩效合计"] == "400.00" and q1["绩效工资"] == "0.00"
    assert q1["审批"].startswith("未核对")


def test_two_months_with_different_pay_rules_give_the_same_columns(tmp_path, catalog, capsys):
    sep = make_book(catalog, tmp_path / "09.xlsx", QC_ROSTER, qc("Q1", False) + qc("Q2", False),
                    month="2026-09")  # 等级奖金 only
    octo = make_book(catalog, tmp_path / "10.xlsx", CS_ROSTER, cs("S1") + cs("S2"))  # 绩效工资 only
    headers = []
    for book, name in ((sep, "09"), (octo, "10")):
        report = tmp_path / f"r{name}.xlsx"
        assert run(capsys, "report", book, "--out", report)[0] == 0
        assert run(capsys, "payroll", report, "--out", tmp_path / f"p{name}.csv")[0] == 0
        assert run(capsys, "payroll", report, "--out", tmp_path / f"p{name}.xlsx")[0] == 0
        header, body = read_csv(tmp_path / f"p{name}.csv")
        headers.append(header)
        ws = openpyxl.load_workbook(tmp_path / f"p{name}.xlsx").active
        headers.append([c.value for c in ws[1]])
    assert all(h == headers[0] for h in headers)
    _, body = read_csv(tmp_path / "p10.csv")
    s1 = next(r for r in body if r["工号"] == "S1")
    assert s1["绩效工资"] == "435.00" and s1["等级奖金"] == "0.00"  # 5000 × 10% × 87 / 100


def test_xlsx_has_yuan_format_and_a_frozen_styled_header(tmp_path, qc_book, capsys):
    out = tmp_path / "r.xlsx"
    assert run(capsys, "report", qc_book, "--out", out)[0] == 0
    assert run(capsys, "payroll", out, "--out", tmp_path / "p.xlsx")[0] == 0
    ws = openpyxl.load_workbook(tmp_path / "p.xlsx").active
    header = [c.value for c in ws[1]]
    assert ws.freeze_panes == "A2" and ws["A1"].font.b and ws["A1"].fill.fgColor.rgb.endswith("D9E1F2")
    total = ws.cell(2, header.index("应发绩效合计") + 1)
    assert total.data_type == "n" and "¥" in total.number_format and "0.00" in total.number_format
    assert ws.cell(2, header.index("工号") + 1).data_type == "s"


def test_a_report_of_another_layout_is_read_by_column_names(tmp_path, qc_book, capsys):
    out = tmp_path / "r.xlsx"
    assert run(capsys, "report", qc_book, "--out", out)[0] == 0
    assert run(capsys, "payroll", out, "--out", tmp_path / "before.csv")[0] == 0
    original = openpyxl.load_workbook(out)
    rows = [list(r) for r in original["月度汇总"].iter_rows(values_only=True)]
    wb = openpyxl.Workbook()  # the same report, columns reversed, one unknown column added
    ws = wb.active
    ws.title = "月度汇总"
    for r, row in enumerate(rows):
        ws.append(["备注" if r == 0 else None] + row[::-1])
    sources = wb.create_sheet("来源")  # the record of the books it was made from
    for row in original["来源"].iter_rows(values_only=True):
        sources.append(list(row))
    moved = tmp_path / "moved.xlsx"
    wb.save(moved)
    assert run(capsys, "payroll", moved, "--out", tmp_path / "after.csv")[0] == 0
    assert (tmp_path / "after.csv").read_bytes() == (tmp_path / "before.csv").read_bytes()
    del wb["来源"]  # without the record nothing says what it was made from: refused
    wb.save(moved)
    code, _, err = run(capsys, "payroll", moved, "--out", tmp_path / "again.csv")
    assert code == 2 and "report-no-sources" in err and not (tmp_path / "again.csv").exists()


def test_a_money_column_added_to_the_report_is_refused(tmp_path, qc_book, capsys):
    out = tmp_path / "r.xlsx"
    assert run(capsys, "report", qc_book, "--out", out)[0] == 0
    wb = openpyxl.load_workbook(out)
    ws = wb["月度汇总"]
    col = ws.max_column + 1
    ws.cell(1, col, "新奖金")
    ws.cell(2, col, 50)
    ref = ws.cell(2, col).coordinate
    wb.save(out)
    code, _, err = run(capsys, "payroll", out, "--out", tmp_path / "p.csv")
    assert code == 1 and "新奖金" in err and ref in err and not (tmp_path / "p.csv").exists()


def test_a_pay_rule_the_payroll_layout_does_not_name_is_refused(tmp_path, qc_book, capsys):
    import shutil

    from kpi_workbook.rules.loader import builtin_templates_dir

    templates = tmp_path / "templates"
    shutil.copytree(builtin_templates_dir(), templates)
    path = templates / "payroll.yaml"  # 等级奖金 (qc_inspector's pay rule) left out
    path.write_text(path.read_text(encoding="utf-8").replace("  - {header: 等级奖金, type: money}\n", ""),
                    encoding="utf-8")
    out = tmp_path / "r.xlsx"
    assert run(capsys, "report", qc_book, "--out", out)[0] == 0
    code, _, err = run(capsys, "--templates", templates, "payroll", out, "--out", tmp_path / "p.csv")
    assert code == 2 and "等级奖金" in err and "payroll.yaml" in err and not (tmp_path / "p.csv").exists()


def test_every_pay_rule_label_is_a_payroll_money_column():
    money = {c.source for c in load_payroll_layout().money}
    labels = {r.label for r in builtin_catalog().pay_rules.values()}
    assert labels <= money, labels - money


def test_a_custom_templates_dir_may_carry_its_own_payroll_layout(tmp_path, qc_book, capsys):
    import shutil

    from kpi_workbook.rules.loader import builtin_templates_dir

    templates = tmp_path / "templates"
    shutil.copytree(builtin_templates_dir(), templates)
    (templates / "payroll.yaml").write_text(
        "sheet: 发放\ncolumns:\n  - {header: 员工编号, from: 工号}\n"
        "  - {header: 金额, from: 应发绩效合计, type: money}\n", encoding="utf-8")
    out = tmp_path / "r.xlsx"
    assert run(capsys, "report", qc_book, "--out", out)[0] == 0
    code, stdout, err = run(capsys, "--templates", templates, "payroll", out, "--out", tmp_path / "p.csv")
    assert code == 0, err
    header, body = read_csv(tmp_path / "p.csv")
    assert header == ["员工编号", "金额"] and {r["员工编号"]: r["金额"] for r in body} == {
        "Q1": "400.00", "Q2": "0.00"}
    assert "total ¥400.00" in stdout
    (templates / "payroll.yaml").write_text("columns:\n  - {header: 姓名}\n", encoding="utf-8")
    code, _, err = run(capsys, "--templates", templates, "payroll", out, "--out", tmp_path / "q.csv")
    assert code == 2 and "payroll.yaml" in err and "工号" in err


# --- 5. approval and lock ------------------------------------------------------------------

def test_approve_refuse_reopen_audit(tmp_path, catalog, qc_book, capsys):
    hist, out = tmp_path / "h.xlsx", tmp_path / "r.xlsx"
    assert run(capsys, "report", qc_book, "--out", out, "--history", hist)[0] == 0
    code, _, err = run(capsys, "payroll", out, "--out", tmp_path / "p.csv", "--history", hist,
                       "--require-approved")
    assert code == 1 and "month-not-approved" in err
    code, stdout, err = run(capsys, "approve", out, "--history", hist, "--by", "张三")
    assert code == 0, err
    approvals = sheet_rows(hist, "审批")
    assert [(a["月份"], a["版本"], a["状态"], a["审批人"], a["行数"]) for a in approvals] == [
        (MONTH, 1, "已审批", "张三", 2)]
    versions = sheet_rows(hist, "审批版本")
    assert sorted(v["工号"] for v in versions) == ["Q1", "Q2"]
    assert all(len(v["行哈希"]) == 64 for v in versions) and versions[0]["行哈希"] != versions[1]["行哈希"]
    once = digest(hist)  # once is enough: approving the same rows again is a no-op
    code, stdout, _ = run(capsys, "approve", out, "--history", hist, "--by", "张三")
    assert code == 0 and "无改动" in stdout and digest(hist) == once

    code, _, err = run(capsys, "payroll", out, "--out", tmp_path / "p.csv", "--history", hist,
                       "--require-approved")
    assert code == 0, err
    _, body = read_csv(tmp_path / "p.csv")
    assert all(re.fullmatch(r"已审批 \d{4}-\d\d-\d\d 张三", r["审批"]) for r in body)

    # the month is approved: a re-run is refused and changes nothing
    before_hist, before_out = digest(hist), digest(out)
    set_cell(qc_book, "Q1", "KPI_IN_miss_detection__misses", 4)  # 102 → 80: A → B
    code, _, err = run(capsys, "report", qc_book, "--out", out, "--history", hist, "--force")
    assert code == 1 and "month-approved" in err and "张三" in err
    assert digest(hist) == before_hist and digest(out) == before_out
    code, _, err = run(capsys, "report", qc_book, "--out", out, "--history", hist, "--force", "--reopen")
    assert code == 2 and "--reason" in err and digest(hist) == before_hist

    code, _, err = run(capsys, "report", qc_book, "--out", out, "--history", hist, "--force",
                       "--reopen", "--reason", "补录错漏检", "--by", "李四")
    assert code == 0, err
    audit = {(a["工号"], a["字段"]): a for a in sheet_rows(hist, "审计")}
    # Q1: misses 4 → 错漏检 0 instead of 22: total 102 − 22 = 80 → B (≥ 80) → ¥300
    assert (audit[("Q1", "总分")]["之前"], audit[("Q1", "总分")]["之后"]) == ("102.0", "80.0")
    assert (audit[("Q1", "等级")]["之前"], audit[("Q1", "等级")]["之后"]) == ("A", "B")
    assert (audit[("Q1", "等级奖金")]["之前"], audit[("Q1", "等级奖金")]["之后"]) == ("400.00", "300.00")
    a = audit[("Q1", "总分")]
    assert (a["月份"], a["操作人"], a["原因"]) == (MONTH, "李四", "补录错漏检") and a["时间"]
    assert not any(e == "Q2" for e, _ in audit)  # Q2 did not change
    assert sheet_rows(hist, "审批")[0]["状态"] == "已重开"
    assert len(sheet_rows(hist, "审批版本")) == 2  # version 1 kept
    code, _, err = run(capsys, "payroll", out, "--out", tmp_path / "p2.csv", "--history", hist,
                       "--require-approved")
    assert code == 1  # reopened: approve again first
    assert run(capsys, "approve", out, "--history", hist, "--by", "张三")[0] == 0
    assert [a["版本"] for a in sheet_rows(hist, "审批")] == [1, 2]
    versions = sheet_rows(hist, "审批版本")
    assert len(versions) == 4 and {v["版本"] for v in versions if v["工号"] == "Q1"} == {1, 2}
    assert run(capsys, "payroll", out, "--out", tmp_path / "p3.csv", "--history", hist,
               "--require-approved")[0] == 0
    _, body = read_csv(tmp_path / "p3.csv")
    assert next(r for r in body if r["工号"] == "Q1")["等级奖金"] == "300.00"


def test_approve_refuses_a_report_that_is_not_the_history(tmp_path, qc_book, capsys):
    hist, out, stale = tmp_path / "h.xlsx", tmp_path / "r.xlsx", tmp_path / "stale.xlsx"
    kept = tmp_path / "kept.xlsx"
    assert run(capsys, "report", qc_book, "--out", stale, "--history", hist)[0] == 0
    kept.write_bytes(qc_book.read_bytes())
    set_cell(qc_book, "Q2", "KPI_IN_miss_detection__misses", 0)
    code, _, err = run(capsys, "approve", stale, "--history", hist, "--by", "张三")
    assert code == 1 and "report-book-changed" in err and "qc.xlsx" in err  # the book changed since
    assert run(capsys, "report", qc_book, "--out", out, "--history", hist)[0] == 0
    qc_book.write_bytes(kept.read_bytes())  # the book as it was: the stale report checks again,
    code, _, err = run(capsys, "approve", stale, "--history", hist, "--by", "张三")  # but the
    assert code == 1 and "Q2" in err and "report-not-history" in err  # history holds the later run
    assert "审批" not in openpyxl.load_workbook(hist).sheetnames


def test_an_approved_report_edited_by_hand_is_refused_naming_the_cell(tmp_path, qc_book, capsys):
    """Issue 20: raising a row's pay in 月度汇总 after (or before) approval pays nothing."""
    hist, out = tmp_path / "h.xlsx", tmp_path / "r.xlsx"
    assert run(capsys, "report", qc_book, "--out", out, "--history", hist)[0] == 0
    assert run(capsys, "approve", out, "--history", hist, "--by", "张三")[0] == 0
    wb = openpyxl.load_workbook(out)  # someone edits the approved report's pay by hand
    ws = wb["月度汇总"]
    header = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "Q2")
    row[header.index("应发绩效合计")].value = 999
    ref = row[header.index("应发绩效合计")].coordinate
    wb.save(out)
    for options in (("--history", hist), ("--history", hist, "--require-approved"), ("--allow-incomplete",)):
        code, _, err = run(capsys, "payroll", out, "--out", tmp_path / "p.csv", *options)
        assert code == 1 and "Q2" in err and ref in err and "999" in err, options
        assert not (tmp_path / "p.csv").exists()


# --- 6. no lost updates ---------------------------------------------------------------------

def _cli(*argv) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "kpi_workbook.cli", *map(str, argv)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "KPI_WORKBOOK_LOCK_TIMEOUT": "300"})


def test_two_processes_filling_one_book_lose_nothing(tmp_path, catalog):
    from kpi_workbook.sample import sample_inputs
    from kpi_workbook.workbook.scorecard.build import build_workbook
    from kpi_workbook.workbook.scorecard.roster import read_roster

    roster = read_roster(catalog)
    book = tmp_path / "book.xlsx"
    build_workbook(catalog, roster, MONTH, book)
    data = sample_inputs(catalog, roster, MONTH)
    ids = sorted(data.iloc[:, 0].astype(str).unique())
    parts = [data[data.iloc[:, 0].astype(str).isin(ids[k::3])] for k in range(3)]
    files = []
    for k, part in enumerate(parts):
        files.append(tmp_path / f"in{k}.csv")
        part.to_csv(files[-1], index=False, encoding="utf-8-sig")
    procs = [_cli("fill", book, "--inputs", f) for f in files]
    results = [p.communicate(timeout=600) + (p.returncode,) for p in procs]
    assert all(code in (0, 1) and "Traceback" not in err for _, err, code in results), results
    cards, _ = read_book(catalog, book, with_cached=False)
    filled = {c.employee_id for c in cards if any(v == v for v in c.values.values())}
    assert filled == set(ids)  # all three parts are there: no run overwrote another
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [".kpi-workbook-locks"]
    assert lock_path(book) == tmp_path / ".kpi-workbook-locks" / "book.xlsx.lock"


def test_reports_writing_one_history_at_once_lose_no_month(tmp_path, catalog):
    from kpi_workbook.sample import sample_inputs
    from kpi_workbook.workbook.scorecard.roster import read_roster

    roster = read_roster(catalog)  # 41 cards a month: each report takes a while
    months = ("2026-08", "2026-09", "2026-10")
    books = [make_book(catalog, tmp_path / f"{m}.xlsx", roster,
                       sample_inputs(catalog, roster, m).itertuples(index=False, name=None), month=m)
             for m in months]
    hist = tmp_path / "历史.xlsx"
    procs = [_cli("report", b, "--out", tmp_path / f"r-{b.stem}.xlsx", "--history", hist) for b in books]
    results = [p.communicate(timeout=600) + (p.returncode,) for p in procs]
    assert all(code in (0, 1) and "Traceback" not in err for _, err, code in results), results
    rows = sheet_rows(hist, "历史")
    assert sorted({(r["月份"], r["工号"]) for r in rows}) == sorted(
        (m, e) for m in months for e in roster["employee_id"])
    assert lock_path(hist) == tmp_path / ".kpi-workbook-locks" / "历史.xlsx.lock"
    assert lock_path(hist).exists()
    assert collect_books([tmp_path], [hist]) == sorted(books + [tmp_path / f"r-{b.stem}.xlsx" for b in books])


def test_a_busy_file_is_one_clear_sentence_after_the_timeout(tmp_path, qc_book):
    data = tmp_path / "in.csv"
    pd.DataFrame([{"工号": "Q2", "miss_detection.misses": 0}]).to_csv(data, index=False, encoding="utf-8-sig")
    before = digest(qc_book)
    with locked(qc_book):  # another run holds the book
        proc = _cli("fill", qc_book, "--inputs", data, "--lock-timeout", "0.2")
        _, err = proc.communicate(timeout=600)
    assert proc.returncode == 2 and "Traceback" not in err
    assert "qc.xlsx" in err and "正被另一个程序写入" in err and "try again later" in err
    assert len([line for line in err.splitlines() if line.strip()]) == 1
    assert digest(qc_book) == before


def test_a_lock_file_is_never_taken_for_a_workbook(tmp_path, qc_book, capsys):
    with locked(qc_book):
        pass
    assert lock_path(qc_book).exists()
    assert collect_books([tmp_path], []) == [qc_book]
    code, stdout, err = run(capsys, "report", tmp_path, "--out", tmp_path / "out" / "r.xlsx")
    assert code == 0 and "2 employees" in stdout


# --- 7. the demo approves its first two months -----------------------------------------------

def test_the_demo_approves_its_first_two_months(demo_run):
    code, stdout, err, out = demo_run  # the session's demo run (conftest.py)
    assert code == 0, err
    approvals = sheet_rows(out / "history.xlsx", "审批")
    assert [(a["月份"], a["状态"]) for a in approvals] == [("2026-08", "已审批"), ("2026-09", "已审批")]
    header, body = read_csv(out / "2026-10" / "payroll.csv")
    assert header == [c.header for c in load_payroll_layout().columns]
    assert body and all(r["状态"] == "已完成" and r["审批"] == "未审批" for r in body)
    assert "paid" in stdout and "excluded" in stdout
    with zipfile.ZipFile(out / "history.xlsx") as z:
        assert not any("<f>" in z.read(n).decode("utf-8") for n in z.namelist()
                       if n.startswith("xl/worksheets/"))


def test_lint_names_a_pay_rule_the_payroll_layout_lacks(tmp_path):
    import shutil

    from kpi_workbook.rules.lint import lint
    from kpi_workbook.rules.loader import builtin_templates_dir

    templates = tmp_path / "templates"
    shutil.copytree(builtin_templates_dir(), templates)
    assert [d for d in lint(templates) if d.code.startswith("payroll")] == []
    path = templates / "payroll.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("  - {header: 全勤奖, type: money}\n", ""),
                    encoding="utf-8")
    hits = [d for d in lint(templates) if d.code == "payroll-layout-missing"]
    assert len(hits) == 1 and "award_full_attendance" in hits[0].message and "全勤奖" in hits[0].message
    path.write_text("columns: []\n", encoding="utf-8")
    assert any(d.code.startswith("schema-") and d.source == str(path) for d in lint(templates))
