"""`kpi-workbook validate`: typed-over totals, edited rules, bad values and empty inputs."""

import openpyxl
import pandas as pd
import pytest

from kpi_workbook.cli import main
from kpi_workbook.workbook.scorecard.build import build_workbook
from kpi_workbook.workbook.scorecard.fill import fill_workbooks
from kpi_workbook.workbook.scorecard.validate import validate_books

ROSTER = pd.DataFrame([
    {"employee_id": "Q1", "name": "王芳", "department": "品质部", "role": "qc_inspector",
     "base_salary": 4800.0, "q_amount": float("nan"), "full_attendance": True, "supervisor": ""},
    {"employee_id": "S1", "name": "李强", "department": "电商部", "role": "presales_cs_weighted",
     "base_salary": 4500.0, "q_amount": float("nan"), "full_attendance": False, "supervisor": ""},
])


@pytest.fixture
def book(tmp_path, catalog):
    path = tmp_path / "book.xlsx"
    build_workbook(catalog, ROSTER, "2026-10", path)
    rows = [("Q1", "miss_detection", None, 1)]
    rows += [("S1", k, None, v) for k, v in {
        "inquiry_conversion": "36%", "payment_rate": 0.95, "refund_rate": 0.2, "response_time": 25,
        "answer_ratio": 1, "reply_rate": 0.99, "work_skills": 80}.items()]
    assert fill_workbooks(catalog, [path], rows).diagnostics == []
    return path


def _names(path, sheet_prefix):
    wb = openpyxl.load_workbook(path)
    ws = next(w for w in wb.worksheets if w.title.startswith(sheet_prefix))
    return wb, ws, {n: list(d.destinations)[0][1].replace("$", "") for n, d in ws.defined_names.items()}


def test_complete_books_are_clean(catalog, book):
    assert validate_books(catalog, [book]) == []


def test_typed_over_total_is_caught(catalog, book):
    wb, ws, names = _names(book, "Q1")
    ws[names["KPI_TOTAL"]] = 99
    wb.save(book)
    found = validate_books(catalog, [book])
    assert [(d.code, d.sheet, d.cell) for d in found] == [
        ("formula-changed", ws.title, names["KPI_TOTAL"])]


def test_edited_rule_is_caught(catalog, book):
    wb, ws, names = _names(book, "S1")
    points = ws.cell(row=openpyxl.utils.cell.coordinate_to_tuple(names["KPI_IN_inquiry_conversion__rate"])[0],
                     column=ws.max_column - 1)
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str) and c.value.startswith("=IF(") and ">=0.38" in c.value:
                c.value = c.value.replace(">=0.38", ">=0.30")
                points = c
    wb.save(book)
    found = validate_books(catalog, [book])
    assert [(d.code, d.cell) for d in found] == [("formula-changed", points.coordinate)]


def test_bad_values_and_empty_inputs_name_their_cells(catalog, book, capsys):
    wb, ws, names = _names(book, "S1")
    ws[names["KPI_IN_refund_rate__rate"]] = "很多"
    ws[names["KPI_IN_work_skills__points"]] = 120
    wb.save(book)
    found = {(d.code, d.cell) for d in validate_books(catalog, [book])}
    assert ("bad-value", names["KPI_IN_refund_rate__rate"]) in found
    assert ("bad-value", names["KPI_IN_work_skills__points"]) in found
    assert ("empty-input", names["KPI_IN_refund_rate__rate"]) in found  # unusable counts as empty
    assert main(["validate", str(book)]) == 1
    err = capsys.readouterr().err
    assert ws.title in err and names["KPI_IN_refund_rate__rate"] in err


def test_validate_non_xlsx(tmp_path, capsys):
    bad = tmp_path / "notes.xlsx"
    bad.write_text("not a workbook", encoding="utf-8")
    assert main(["validate", str(bad)]) == 2
    assert "not an xlsx workbook" in capsys.readouterr().err
