"""`kpi-workbook payroll REPORT.xlsx --out X.csv|X.xlsx`: real report files in tmp_path.

One row per employee with 工号, 姓名, 部门, 月份 and every money column of the report; the
CSV starts with the UTF-8 BOM; text a spreadsheet would run as a formula comes out inert.
"""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl
import pandas as pd
import pytest

from kpi_workbook.cli import main
from kpi_workbook.rules.payroll_layout import load_payroll_layout
from kpi_workbook.workbook.scorecard.build import build_workbook
from kpi_workbook.workbook.scorecard.fill import fill_workbooks
from kpi_workbook.workbook.month.payroll import neutralise, write_payroll

from .helpers import emp, run

MONTH = "2026-10"
EVIL = '=HYPERLINK("http://evil","x")'
NAMES = {"P1": EVIL, "P2": "+1+2", "P3": "-3-4", "P4": "@SUM(A1)", "P5": "王芳", "P6": "李强"}




def tb_rows(eid: str, level_ok: bool) -> list:
    levels = (("无违纪", "独立处事", "通报表扬", "激情感染") if level_ok
              else ("通报批评", "很差", "拒绝帮助", "缺乏激情"))
    rows = [(eid, "sales_completion.rate", None, 1.0 if level_ok else 0.5)]
    for key, value in zip(("assigned_tasks.points", "discipline.level", "problem_handling.level",
                           "coordination.level", "passion.level"),
                          (20 if level_ok else 5, *levels)):
        rows += [(eid, key, "self", value), (eid, key, "supervisor", value)]
    return rows


@pytest.fixture(scope="module")
def report(tmp_path_factory, catalog):
    folder = tmp_path_factory.mktemp("payroll")
    roster = pd.DataFrame([
        emp("P1", NAMES["P1"], "电商部", "taobao_cs_staff"),
        emp("P2", NAMES["P2"], "电商部", "taobao_cs_staff", attendance=False),
        emp("P3", NAMES["P3"], "品质部", "qc_inspector"),
        emp("P4", NAMES["P4"], "客服部", "cs_specialist", 4800),
        emp("P5", NAMES["P5"], "=部门", "qc_inspector"),  # a department name too
        emp("P6", NAMES["P6"], "客服部", "cs_specialist", 5200),  # left incomplete
    ])
    book = folder / "book.xlsx"
    build_workbook(catalog, roster, MONTH, book)
    rows = tb_rows("P1", True) + tb_rows("P2", False)
    rows += [("P3", "miss_detection.misses", None, 1), ("P5", "miss_detection.misses", None, 3)]
    rows += [("P4", f"{k}.points", None, v) for k, v in (
        ("problem_resolution", 90), ("customer_satisfaction", 85), ("response_time", 88),
        ("complaint_handling", 92), ("quality_monitoring", 80))]
    rows += [("P6", "problem_resolution.points", None, 90)]
    assert [d for d in fill_workbooks(catalog, [book], rows).diagnostics if d.severity == "error"] == []
    out = folder / "report.xlsx"
    assert main(["report", str(book), "--out", str(out), "--history", str(folder / "history.xlsx")]) == 0
    wb = openpyxl.load_workbook(out)
    sheet = list(wb["月度汇总"].iter_rows(values_only=True))
    return {"folder": folder, "report": out, "header": list(sheet[0]),
            "rows": {r[0]: dict(zip(sheet[0], r)) for r in sheet[1:] if r[0] is not None}}


def money_columns(header: list) -> list[str]:
    head = ["工号", "姓名", "部门", "岗位", "月份", "总分", "等级", "部门排名", "全员排名"]
    return [c for c in header if c not in head and c not in ("应发绩效合计", "状态", "预警", "问题", "说明")]


def test_the_report_and_history_keep_the_names_as_text(report):
    """Neither the report nor the history ever turns a name into a formula."""
    for path in (report["report"], report["folder"] / "history.xlsx"):
        with zipfile.ZipFile(path) as z:
            assert not any("<f>" in z.read(n).decode("utf-8") for n in z.namelist()
                           if n.startswith("xl/worksheets/")), path
    assert report["rows"]["P1"]["姓名"] == EVIL
    wb = openpyxl.load_workbook(report["folder"] / "history.xlsx")
    history = wb[next(name for name in wb.sheetnames if name.startswith("历史 "))]  # 历史 of the month
    assert EVIL in [c.value for c in history["B"]]


def test_csv_has_bom_every_employee_and_every_money_column(report, capsys):
    out = report["folder"] / "payroll.csv"
    code, stdout, err = run(capsys, "payroll", report["report"], "--out", out, "--allow-incomplete")
    assert code == 0, err
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header, body = table[0], table[1:]
    money = money_columns(report["header"])
    assert header[:4] == ["工号", "姓名", "部门", "月份"]
    assert set(money) <= set(header) and "应发绩效合计" in header
    assert sorted(r[0] for r in body) == sorted(set(NAMES) - {"P6"})  # one row per complete card
    for r in body:
        row = dict(zip(header, r))
        want = report["rows"][row["工号"]]
        assert row["月份"] == MONTH
        for column in money + ["应发绩效合计"]:
            expected = want[column] if want[column] is not None else 0.0
            assert float(row[column]) == pytest.approx(expected), (row["工号"], column)
    assert float(dict(zip(header, next(r for r in body if r[0] == "P1")))["应发绩效合计"]) == 250
    assert float(dict(zip(header, next(r for r in body if r[0] == "P2")))["不及格罚款"]) == -200


def test_csv_neutralises_formula_text(report, capsys):
    out = report["folder"] / "injection.csv"
    assert run(capsys, "payroll", report["report"], "--out", out, "--allow-incomplete")[0] == 0
    with open(out, encoding="utf-8-sig", newline="") as f:
        rows = {r["工号"]: r for r in csv.DictReader(f)}
    for eid in ("P1", "P2", "P3", "P4"):
        assert rows[eid]["姓名"] == "'" + NAMES[eid]
    assert rows["P5"]["姓名"] == "王芳" and rows["P5"]["部门"] == "'=部门"
    assert float(rows["P2"]["不及格罚款"]) == -200  # numbers stay numbers


def test_xlsx_cells_are_strings_not_formulas(report, capsys):
    out = report["folder"] / "payroll.xlsx"
    assert run(capsys, "payroll", report["report"], "--out", out, "--allow-incomplete")[0] == 0
    with zipfile.ZipFile(out) as z:
        assert not any("<f>" in z.read(n).decode("utf-8") for n in z.namelist()
                       if n.startswith("xl/worksheets/"))
    ws = openpyxl.load_workbook(out).active
    header = [c.value for c in ws[1]]
    cells = {row[0].value: dict(zip(header, row)) for row in ws.iter_rows(min_row=2)
             if row[0].value is not None}  # under the rows: 合计 (no 工号) and the signature line
    assert set(cells) == set(NAMES) - {"P6"}
    for eid in ("P1", "P2", "P3", "P4"):
        name = cells[eid]["姓名"]
        assert name.data_type == "s" and name.value == "'" + NAMES[eid]
    assert cells["P5"]["部门"].value == "'=部门"
    assert cells["P1"]["应发绩效合计"].data_type == "n" and cells["P1"]["应发绩效合计"].value == 250
    money = money_columns(report["header"])
    assert header[:4] == ["工号", "姓名", "部门", "月份"] and set(money) <= set(header)


def test_incomplete_card_gets_no_pay(report, capsys):
    out = report["folder"] / "incomplete.csv"
    code, stdout, err = run(capsys, "payroll", report["report"], "--out", out)
    assert code == 1 and not out.exists()  # an unclean month is refused, naming the card
    assert "P6" in err and "未完成" in err and "5 payable, 1 excluded" in stdout
    code, stdout, err = run(capsys, "payroll", report["report"], "--out", out, "--allow-incomplete")
    assert code == 0 and "P6" in err and "5 paid, 1 excluded" in stdout
    with open(out, encoding="utf-8-sig", newline="") as f:
        assert "P6" not in {r["工号"] for r in csv.DictReader(f)}


@pytest.mark.parametrize("text", [EVIL, "+1", "-1", "@A1", "\t=1+1", "\r=1+1"])
def test_neutralise_every_formula_start(tmp_path, text):
    assert neutralise(text) == "'" + text
    frame = pd.DataFrame([{"工号": "E1", "姓名": text, "部门": "部", "月份": MONTH, "应发绩效合计": -5.0}])
    write_payroll(frame, tmp_path / "p.csv")
    with open(tmp_path / "p.csv", encoding="utf-8-sig", newline="") as f:
        row = next(csv.DictReader(f))
    assert row["姓名"] == "'" + text and float(row["应发绩效合计"]) == -5
    write_payroll(frame, tmp_path / "p.xlsx")
    cell = openpyxl.load_workbook(tmp_path / "p.xlsx").active["B2"]
    # openpyxl leaves the OOXML escape of a CR (_x000D_) as it is; Excel shows a CR
    assert cell.data_type == "s" and cell.value.replace("_x000D_", "\r") == "'" + text


def test_plain_text_is_left_alone():
    for text in ("王芳", "A=B", "1+1", " =x"):
        assert neutralise(text) == text
    assert neutralise(-200.0) == -200.0


def test_existing_output_needs_force(report, capsys):
    out = report["folder"] / "exists.csv"
    out.write_text("keep", encoding="utf-8")
    code, _, err = run(capsys, "payroll", report["report"], "--out", out)
    assert code == 2 and "--force" in err and out.read_text(encoding="utf-8") == "keep"
    code, _, err = run(capsys, "payroll", report["report"], "--out", out, "--force", "--allow-incomplete")
    assert code == 0 and out.read_bytes().startswith(b"\xef\xbb\xbf")


def test_bad_output_format_and_not_a_report(report, capsys, tmp_path):
    code, _, err = run(capsys, "payroll", report["report"], "--out", tmp_path / "p.txt")
    assert code == 2 and "bad-format" in err and not (tmp_path / "p.txt").exists()
    code, _, err = run(capsys, "payroll", report["folder"] / "book.xlsx", "--out", tmp_path / "p.csv")
    assert code == 2 and "not-a-report" in err and not (tmp_path / "p.csv").exists()
    junk = tmp_path / "junk.xlsx"
    junk.write_text("not a workbook", encoding="utf-8")
    code, _, err = run(capsys, "payroll", junk, "--out", tmp_path / "p.csv")
    assert code == 2 and "junk.xlsx" in err


def test_report_of_nothing_readable_still_exports(tmp_path, capsys):
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    report = tmp_path / "empty-report.xlsx"
    code, _, err = run(capsys, "report", junk, "--out", report)
    assert code == 1 and "junk.xlsx" in err and report.exists()
    code, _, err = run(capsys, "payroll", report, "--out", tmp_path / "p.csv")
    assert code == 1 and "junk.xlsx" in err and not (tmp_path / "p.csv").exists()  # the finding
    code, _, err = run(capsys, "payroll", report, "--out", tmp_path / "p.csv", "--allow-incomplete")
    assert code == 0, err
    layout = load_payroll_layout()
    with open(tmp_path / "p.csv", encoding="utf-8-sig", newline="") as f:
        assert list(csv.reader(f)) == [[c.header for c in layout.columns]]  # the layout, no rows


def test_a_row_told_payable_quickly_is_one_the_full_check_finds_nothing_wrong_with():
    """prepare_payroll skips _row_problems for a row told clean quickly (_payable, the
    reference tests/test_payroll_rows.py holds the column form to): over every mix of
    state, 问题 and money cell (blank, NaN, ±inf, 0, -0.0, an int, a bool, text, 待定), the
    quick answer is never "payable" where the full check finds a reason, and it is "payable"
    for the common clean row (else the quick path would never be taken)."""
    import itertools
    import math

    from kpi_workbook.words import PENDING
    from kpi_workbook.workbook.month.payroll import _row_problems

    from .test_payroll_rows import _payable  # the reference the column form is held to

    layout = load_payroll_layout()
    sources = [c.source for c in layout.money]
    states = ["已完成", " 已完成 ", "未完成", "", None, 1]
    problems = [None, "", " ", "缺少数据", float("nan")]
    cells = [None, "", float("nan"), math.inf, -math.inf, 0, -0.0, 12.5, 3, True, "12.5", PENDING]
    quick = 0
    for state, problem, cell, total in itertools.product(states, problems, cells, [None, 100.0, float("nan")]):
        r = {"状态": state, "问题": problem, "说明": "", **{c: 1.0 for c in sources}}
        r[sources[0]] = cell
        r["应发绩效合计"] = total
        if _payable(r, sources):
            quick += 1
            assert _row_problems(r, layout) == [] and _row_problems(r, layout, unpaid=True) == [], r
    assert quick and _payable({"状态": "已完成", "问题": None, **{c: 2.0 for c in sources}}, sources)


def test_the_csv_shows_each_amount_as_it_is_rounded_whatever_came_before(tmp_path):
    """write_payroll works out each distinct amount's text once: 0.0 and -0.0 (equal keys),
    an int and its float, a half cent, each still shown as clean_round gives it alone."""
    from kpi_workbook.numbers import clean_round

    values = [0.0, -0.0, 1.005, 1, 1.0, -2.675, -0.0, 0.0, None, 2.5e-10, -2.5e-10]
    frame = pd.DataFrame({"工号": [f"E{k}" for k in range(len(values))], "应发绩效合计": values})
    out = tmp_path / "p.csv"
    write_payroll(frame, out, money=["应发绩效合计"])
    shown = [row[1] for row in csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig")))][1:]
    assert shown == ["" if v is None else f"{clean_round(float(v), 2):.2f}" for v in values]
    assert "-0.00" in shown and "0.00" in shown
