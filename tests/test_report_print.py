"""The report as HR prints it, and the 校准 (calibration) sheet: print setup in the sheet XML,
the distribution against grades.yaml's max_share, and read_calibration's checks."""

from __future__ import annotations

import re
import zipfile

import openpyxl
import pandas as pd
import pytest

from kpi_workbook.cli import main
from kpi_workbook.workbook.scorecard.build import build_workbook
from kpi_workbook.workbook.month.calibration import read_calibration
from kpi_workbook.workbook.scorecard.fill import fill_workbooks
from kpi_workbook.workbook.xlsx.printing import lines_needed

from .helpers import emp

MONTH = "2026-10"


def qc(eid: str, weak: bool) -> list:
    """qc_inspector: 45 (E) when weak, else 102 (A) (as in test_report)."""
    if not weak:
        return [(eid, "miss_detection.misses", None, 0)]
    return [(eid, "miss_detection.misses", None, 4), (eid, "efficiency.task_late", None, 2),
            (eid, "teamwork.no_cooperation", None, 2), (eid, "communication.not_reported", None, 3)]


@pytest.fixture(scope="module")
def report(tmp_path_factory, catalog):
    folder = tmp_path_factory.mktemp("calib")
    roster = pd.DataFrame([emp(f"Q{i}", f"检{i}", "品质部", "qc_inspector") for i in range(1, 6)])
    book = folder / "b.xlsx"
    build_workbook(catalog, roster, MONTH, book, force=True)
    rows = qc("Q1", False) + qc("Q2", False) + qc("Q3", False) + qc("Q4", True) + qc("Q5", True)
    fill_workbooks(catalog, [book], rows)
    out = folder / "r.xlsx"
    assert main(["report", str(book), "--out", str(out), "--company", "琦星电子 & Co"]) == 0
    return out


def table(ws, first_header: str, must: str) -> tuple[int, list[dict]]:
    """(header row number, rows as dicts) of the table whose header has both names."""
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if first_header in r and must in r)
    header = list(rows[start])
    out = []
    for r in rows[start + 1:]:
        if not any(v is not None for v in r):
            break
        out.append(dict(zip(header, r)))
    return start + 1, out


def test_distribution_against_the_quota(report):
    ws = openpyxl.load_workbook(report)["校准"]
    _, dist = table(ws, "等级方案", "配额人数")
    by_grade = {r["等级"]: r for r in dist}
    # five complete cards: 3 × A (102), 2 × E (45); A at most 20 % → floor(0.2 × 5) = 1 allowed
    assert by_grade["A"]["人数"] == 3 and by_grade["A"]["占比"] == pytest.approx(3 / 5)
    assert by_grade["A"]["上限"] == pytest.approx(0.2) and by_grade["A"]["配额人数"] == 1
    assert by_grade["A"]["是否超出"] == "超出"
    assert by_grade["E"]["人数"] == 2 and by_grade["E"]["上限"] is None and not by_grade["E"]["是否超出"]
    _, cards = table(ws, "工号", "校准等级")
    # the A's sorted by total (all 102), then id: Q1 keeps the quota, Q2 and Q3 are beyond it
    assert {r["工号"] for r in cards if r["超出配额"] == "超出"} == {"Q2", "Q3"}
    assert {r["工号"] for r in cards} == {"Q1", "Q2", "Q3", "Q4", "Q5"}


def test_calibrated_grades_have_a_dropdown(report):
    with zipfile.ZipFile(report) as z:
        names = {n: z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/worksheets/sheet")}
    sheet = next(x for x in names.values() if "校准等级" in x or "dataValidation" in x)
    assert '"A,B,C,D,E"' in sheet


def test_read_calibration_checks_every_entry(report, tmp_path, catalog):
    wb = openpyxl.load_workbook(report)
    ws = wb["校准"]
    header_row, cards = table(ws, "工号", "校准等级")
    header = [c.value for c in ws[header_row]]
    col = {name: header.index(name) + 1 for name in ("工号", "校准等级", "校准理由")}
    row_of = {r["工号"]: header_row + 1 + i for i, r in enumerate(cards)}
    plan = {"Q2": ("B", "本月两次客诉，校准为 B"), "Q3": ("Z", "不是等级"), "Q1": ("B", None),
            "Q4": ("E", None), "Q5": (None, "只有理由")}
    for eid, (grade, reason) in plan.items():
        ws.cell(row_of[eid], col["校准等级"], grade)
        ws.cell(row_of[eid], col["校准理由"], reason)
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    entries, diags = read_calibration(edited, catalog)
    assert [(e.employee_id, e.month, e.grade, e.calibrated_grade, e.reason) for e in entries] == [
        ("Q2", MONTH, "A", "B", "本月两次客诉，校准为 B")]
    letter = openpyxl.utils.get_column_letter
    got = {(d.code, d.severity, d.cell) for d in diags}
    assert got == {("calibration-grade", "error", f"{letter(col['校准等级'])}{row_of['Q3']}"),
                   ("calibration-reason", "error", f"{letter(col['校准理由'])}{row_of['Q1']}"),
                   ("calibration-no-grade", "warning", f"{letter(col['校准等级'])}{row_of['Q5']}")}
    for d in diags:
        assert d.sheet == "校准" and d.message_zh and d.message_en


def test_every_sheet_prints_landscape_one_page_wide_with_title_and_page_numbers(report):
    with zipfile.ZipFile(report) as z:
        workbook = z.read("xl/workbook.xml").decode("utf-8")
        sheets = [z.read(f"xl/worksheets/sheet{i}.xml").decode("utf-8")
                  for i in range(1, workbook.count("<sheet ") + 1)]
    assert len(sheets) == 6 and 'name="来源" sheetId="6" state="veryHidden"' in workbook  # the books read
    for xml in sheets[:5]:
        setup = re.search(r"<pageSetup [^>]*>", xml).group(0)
        assert 'orientation="landscape"' in setup and 'paperSize="9"' in setup
        assert 'fitToHeight="0"' in setup and "<pageSetUpPr fitToPage=\"1\"/>" in xml
        header = re.search(r"<oddHeader>(.*?)</oddHeader>", xml).group(1)
        assert "2026-10 月度绩效汇总" in header and "琦星电子 &amp;&amp; Co" in header
        assert "打印日期" in header and "printed" not in header  # Chinese furniture only
        footer = re.search(r"<oddFooter>(.*?)</oddFooter>", xml).group(1)
        assert "第 &amp;P 页，共 &amp;N 页" in footer and "page" not in footer
        assert "&amp;P" in re.search(r"<oddFooter>(.*?)</oddFooter>", xml).group(1)
    assert "_xlnm.Print_Titles" in workbook  # repeated header rows


def test_wrapped_text_gets_a_taller_row():
    assert lines_needed("", 10) == 1
    assert lines_needed("连续2个月E：调岗/辞退评估", 30) == 1
    # 15 CJK characters × 1.8 units + 2 ASCII × 1.0 = 29 units in 10 − 0.8 = 9.2 → 3.15 → 4 lines
    assert lines_needed("连续2个月E调岗辞退评估本年三个月", 10) == 4
