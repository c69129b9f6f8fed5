"""The month's entry grid (issue 21, item 4): `entry-sheet BOOK --out 录入表.xlsx` writes one
sheet per role, one row per employee, one column per input with the card's labels in two
header rows and the card's data validation, the inputs already on the cards filled in;
`fill BOOK --inputs 录入表.xlsx` reads it back. Round trip over the 47 people of the sample
roster, every one of the 18 roles."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from kpi_workbook.kinds.inputs import input_specs
from kpi_workbook.rules.model import RATER_LABELS
from kpi_workbook.sample import sample_inputs
from kpi_workbook.workbook.scorecard.roster import read_roster

from .helpers import run

MONTH = "2026-10"


def input_cells(book: Path) -> dict[tuple[str, str], object]:
    """(employee, KPI_IN_ name) → the value of every input cell, read with openpyxl."""
    # read-only, each sheet's cells in one pass (every row, whatever its <dimension> says):
    # the values the full load gives, at a quarter of its CPU
    wb = openpyxl.load_workbook(book, read_only=True)
    out = {}
    for ws in wb.worksheets:
        names = {n: list(d.destinations)[0][1].replace("$", "") for n, d in ws.defined_names.items()}
        if "KPI_EMPLOYEE_ID" not in names:
            continue
        ws.reset_dimensions()
        cells = {c.coordinate: c.value for row in ws.iter_rows() for c in row if getattr(c, "value", None) is not None}
        who = cells.get(names["KPI_EMPLOYEE_ID"])
        out.update({(who, n): cells.get(ref) for n, ref in names.items() if n.startswith("KPI_IN_")})
    wb.close()
    return out


@pytest.fixture(scope="module")
def blank(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("grid") / "book.xlsx"
    from kpi_workbook.cli import main

    assert main(["new", "--month", MONTH, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def filled(blank, tmp_path_factory, catalog) -> Path:
    """The sample book filled from a long table: the values a grid must carry over."""
    folder = tmp_path_factory.mktemp("filled")
    book = Path(shutil.copy(blank, folder / "book.xlsx"))
    data = folder / "in.csv"
    sample_inputs(catalog, read_roster(catalog), MONTH).to_csv(data, index=False, encoding="utf-8-sig")
    from kpi_workbook.cli import main

    assert main(["fill", str(book), "--inputs", str(data)]) == 0
    return book


def test_one_sheet_per_role_two_header_rows_and_the_cards_validation(capsys, tmp_path, blank, catalog):
    grid = tmp_path / "录入表.xlsx"
    code, out, err = run(capsys, "entry-sheet", blank, "--out", grid)
    assert code == 0, err
    assert "18 个岗位，47 人" in out
    wb = openpyxl.load_workbook(grid)
    assert wb.sheetnames[0] == "说明" and len(wb.sheetnames) == 19
    assert "来料检验员" in wb.sheetnames and "IQC／OQC" in wb.sheetnames
    ws = wb["来料检验员"]
    assert [ws.cell(1, c).value for c in (1, 2, 3)] == ["工号", "姓名", "部门"]
    role = catalog.roles["qc_iqc"]
    specs = [s for s in input_specs(role, catalog.role_pay_rules(role))]
    header = {}
    for c in range(4, ws.max_column + 1):
        top = ws.cell(1, c).value or header.get(c - 1, ("", ""))[0]
        header[c] = (top, ws.cell(2, c).value)
    assert list(header.values()) == [(s.owner_label, s.input.label + (f"/{RATER_LABELS[s.rater]}" if s.rater else ""))
                                     for s in specs]
    people = [ws.cell(r, 1).value for r in range(3, ws.max_row + 1)]
    assert people == list(read_roster(catalog).query("role == 'qc_iqc'")["employee_id"])
    validations = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    misses = validations[f"D3:D{ws.max_row}"]
    assert misses.type == "whole" and misses.operator == "greaterThanOrEqual" and float(misses.formula1) == 0
    flag = next(dv for dv in ws.data_validations.dataValidation if dv.type == "list")
    assert flag.formula1 == '"是,否,有,无,Y,N,1,0,√,×,✓,✗"'  # 提案被采纳: a yes/no input, as on the card
    lead = wb["售前组长"]  # a role with raters: a column per rater, 得分/主管 under its item
    assert "得分/主管审核" not in [c.value for c in lead[2]] and "得分/主管" in [c.value for c in lead[2]]


def test_a_grid_carries_the_cards_inputs_and_reads_back_unchanged(capsys, tmp_path, filled):
    book = Path(shutil.copy(filled, tmp_path / "book.xlsx"))
    before = input_cells(book)
    grid = tmp_path / "录入表.xlsx"
    assert run(capsys, "entry-sheet", book, "--out", grid)[0] == 0
    wb = openpyxl.load_workbook(grid)
    ws = wb["来料检验员"]
    row = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, 1).value)
    assert ws.cell(row, 4).value == before[(ws.cell(row, 1).value, "KPI_IN_miss_detection__misses")]
    code, _, err = run(capsys, "fill", book, "--inputs", grid)
    assert code == 0, err
    assert input_cells(book) == before


def test_values_typed_into_the_grid_fill_every_role_as_a_long_table_does(capsys, tmp_path, blank, filled, catalog):
    """A supervisor types the month into the grid of a blank book: the cards end up as the
    long table of the same values left them, for all 18 roles."""
    book = Path(shutil.copy(blank, tmp_path / "book.xlsx"))
    grid = tmp_path / "录入表.xlsx"
    assert run(capsys, "entry-sheet", book, "--out", grid)[0] == 0
    wanted = input_cells(filled)
    before = input_cells(book)  # a cell that already holds the typed value is not written again
    wb = openpyxl.load_workbook(grid)
    roster = read_roster(catalog)
    roles = dict(zip(roster["employee_id"], roster["role"]))
    typed = 0
    for ws in wb.worksheets[1:]:
        top = ""
        columns = {}
        for c in range(4, ws.max_column + 1):
            top = ws.cell(1, c).value or top
            columns[c] = (top, ws.cell(2, c).value)
        for r in range(3, ws.max_row + 1):
            who = ws.cell(r, 1).value
            role = catalog.roles[roles[who]]
            by_label = {(s.owner_label, s.input.label + (f"/{RATER_LABELS[s.rater]}" if s.rater else "")):
                        f"KPI_IN_{s.owner}__{s.input.id}" + (f"__{s.rater}" if s.rater else "")
                        for s in input_specs(role, catalog.role_pay_rules(role))}
            for c, label in columns.items():
                value = wanted.get((who, by_label[label]))
                if value is not None:
                    ws.cell(r, c).value = value
                    typed += before.get((who, by_label[label])) != value
    wb.save(grid)
    code, out, err = run(capsys, "fill", book, "--inputs", grid)
    assert code == 0, err
    got = input_cells(book)
    ranks = {k for k in wanted if k[1].endswith(("__rank", "__team_size"))}
    assert {k: v for k, v in got.items() if k not in ranks} == {k: v for k, v in wanted.items() if k not in ranks}
    assert {k: got[k] for k in ranks} == {k: wanted[k] for k in ranks}  # fill ranked the team again
    assert f"已写入 {typed + len([k for k in ranks if wanted[k] is not None])} 个" in out


def test_a_grid_of_another_month_and_a_changed_name_are_refused(capsys, tmp_path, blank):
    book = Path(shutil.copy(blank, tmp_path / "book.xlsx"))
    grid = tmp_path / "录入表.xlsx"
    assert run(capsys, "entry-sheet", book, "--out", grid)[0] == 0
    wb = openpyxl.load_workbook(grid)
    ws = wb["来料检验员"]
    ws["D3"] = 2
    ws["B4"] = "别人"
    ws["D4"] = 1
    wb.save(grid)
    code, _, err = run(capsys, "fill", book, "--inputs", grid)
    assert code == 1 and "[来料检验员] 第 4 行" in err and "别人" in err
    wb["说明"]["B2"] = "2026-09"
    wb.save(grid)
    before = book.read_bytes()
    code, _, err = run(capsys, "fill", book, "--inputs", grid)
    assert code == 2 and "2026-09" in err and book.read_bytes() == before


def test_entry_sheet_refuses_an_existing_file_and_books_of_two_months(capsys, tmp_path, blank):
    grid = tmp_path / "录入表.xlsx"
    grid.write_bytes(b"keep")
    code, _, err = run(capsys, "entry-sheet", blank, "--out", grid)
    assert code == 2 and grid.read_bytes() == b"keep"
    other = tmp_path / "nov.xlsx"
    assert run(capsys, "new", "--month", "2026-11", "--out", other)[0] == 0
    code, _, err = run(capsys, "entry-sheet", blank, other, "--out", tmp_path / "g.xlsx")
    assert code == 2 and "2026-10" in err and "2026-11" in err


def test_the_master_workbooks_button_writes_the_grid_and_import_reads_it(tmp_path, catalog):
    from kpi_workbook.excel import buttons
    from kpi_workbook.workbook.month.master import write_master

    from .test_excel_buttons import StandInBook, run_ok

    master = write_master(catalog, tmp_path / "绩效管理.xlsx", "2026-09", read_roster(catalog))
    book = StandInBook(master)
    run_ok(buttons.create_scorecards, book)
    text = run_ok(buttons.entry_sheet, book)
    grid = tmp_path / "2026-09" / "数据" / "录入表.xlsx"
    assert grid.is_file() and "18 个岗位、47 人" in text
    wb = openpyxl.load_workbook(grid)
    ws = wb["来料检验员"]
    who = ws["A3"].value
    ws["D3"] = 3
    wb.save(grid)
    text = run_ok(buttons.import_data, book)
    assert "导入 1 个输入单元格" in text
    cards = tmp_path / "2026-09" / "考核表"
    found = {}
    for path in cards.glob("*.xlsx"):
        found.update(input_cells(path))
    assert found[(who, "KPI_IN_miss_detection__misses")] == 3
    buttons.entry_sheet(book)  # a second grid would hide one not imported yet
    assert book.last["mode"] == "critical" and "导入数据" in book.last["prompt"]
