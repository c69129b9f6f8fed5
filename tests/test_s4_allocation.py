"""S4's allocation: the four areas of 业绩完成情况 must add up to 60. A split of 20/20/15/10
(= 65) is an error on that card — named by cell, status 错误, no grade, no pay — in the
engine, in `validate`, in the report and in the sheet's own formulas (LibreOffice)."""

from __future__ import annotations

import openpyxl
import pandas as pd

from kpi_workbook.cli import main
from kpi_workbook.workbook.scorecard.build import build_workbook
from kpi_workbook.workbook.scorecard.fill import fill_workbooks
from kpi_workbook.workbook.libreoffice import read_defined_values, recalculate
from kpi_workbook.workbook.scorecard.validate import validate_books

from .helpers import emp
from .lo_fixtures import soffice  # noqa: F401

ROLE = "presales_engineer_senior"
AREAS = ("presales_research", "proposal_quality", "bid_quality", "knowledge_sharing")


def card(eid: str, split) -> list[tuple]:
    rows = [(eid, "presales_research.points", "supervisor", 80),
            (eid, "knowledge_sharing.points", "supervisor", 60),
            (eid, "work_attitude.points", "supervisor", 17),
            (eid, "attendance_rules.points", "supervisor", 18)]
    return rows + [(eid, f"{a}.alloc", None, v) for a, v in zip(AREAS, split)]


def make(catalog, tmp_path):
    roster = pd.DataFrame([emp("S1", "甲", "售前部", ROLE), emp("S2", "乙", "售前部", ROLE)])
    book = tmp_path / "book.xlsx"
    build_workbook(catalog, roster, "2026-10", book)
    # S1: 20 + 20 + 15 + 10 = 65 ≠ 60; S2: 24 + 12 + 12 + 12 = 60
    result = fill_workbooks(catalog, [book], card("S1", (20, 20, 15, 10)) + card("S2", (24, 12, 12, 12)))
    assert [d for d in result.diagnostics if d.severity == "error"] == []
    return book


def test_validate_names_the_allocation_cells(catalog, tmp_path):
    book = make(catalog, tmp_path)
    found = [d for d in validate_books(catalog, [book]) if d.code == "allocation-total"]
    assert len(found) == 1  # S1 only
    (d,) = found
    assert d.severity == "error" and d.sheet == "S1 甲"
    assert d.cell == "E6" and "E6、E7、E10、E12" in d.message_zh  # the four 配分 cells
    assert "65" in d.message_zh and "60" in d.message_zh and "错误" in d.message_zh
    assert "+5" in d.message_en


def test_report_lists_the_card_as_error_and_pays_nothing(catalog, tmp_path):
    book = make(catalog, tmp_path)
    out = tmp_path / "report.xlsx"
    assert main(["report", str(book), "--out", str(out)]) == 1  # findings
    sheet = list(openpyxl.load_workbook(out)["月度汇总"].iter_rows(values_only=True))
    rows = {r[0]: dict(zip(sheet[0], r)) for r in sheet[1:] if r[0] is not None}
    assert rows["S1"]["状态"] == "错误"
    assert rows["S1"]["等级"] is None and rows["S1"]["应发绩效合计"] is None
    assert rows["S1"]["部门排名"] is None
    # S2 by hand: 调研 80% × 24 = 19.2; 方案 12; 标书 12; 资料 60% × 12 = 7.2 → 50.4
    # total 50.4 + 17 + 18 = 85.4 → B
    assert rows["S2"]["状态"] == "已完成" and rows["S2"]["总分"] == 85.4 and rows["S2"]["等级"] == "B"
    problems = list(openpyxl.load_workbook(out)["问题"].iter_rows(values_only=True))
    assert any(r[5] == "allocation-total" and r[3] for r in problems[1:])  # 代码 (hidden), 单元格


def test_the_sheet_itself_shows_error(catalog, tmp_path, soffice):  # noqa: F811
    book = make(catalog, tmp_path)
    (recalculated,) = recalculate([book], tmp_path / "lo")
    names = {v["KPI_EMPLOYEE_ID"]: v for v in read_defined_values(recalculated).values()
             if "KPI_EMPLOYEE_ID" in v}
    assert names["S1"]["KPI_STATUS"] == "错误"
    assert names["S1"]["KPI_GRADE"] in (None, "") and names["S1"]["KPI_PAY"] in (None, "")
    assert names["S2"]["KPI_STATUS"] == "完成" and names["S2"]["KPI_TOTAL"] == 85.4
