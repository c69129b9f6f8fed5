"""Formulas proven by a real engine: LibreOffice recalculates, openpyxl reads back."""

from __future__ import annotations

import threading

import pytest
import xlsxwriter
from openpyxl import load_workbook

from kpi_workbook.workbook.libreoffice import read_defined_values, recalculate

from .lo_fixtures import soffice  # noqa: F401  (the fixture; fails in CI without LibreOffice)

CN_SHEET = "销售 汇总"
WRONG = 12345
FORMULA = "=A1*2+ROUND(ROUND(0.285*100,9),0)"  # 0.285*100 is 28.4999…; inner ROUND fixes it


def make_workbook(path, a1: float = 5) -> None:
    wb = xlsxwriter.Workbook(str(path))
    for title in ("Sheet 1", CN_SHEET):
        ws = wb.add_worksheet(title)
        ws.write_number("A1", a1)
        ws.write_formula("B1", FORMULA, None, WRONG)  # deliberately wrong cached value
        ws.write_formula("C1", "=NA()", None, 0)
        ws.write_formula("D1", '="n="&A1', None, 0)
        ws.write_formula("E1", "=A1>1", None, 0)
        ws.write_formula("F1", "=B1*10", None, 0)
    wb.define_name("'Sheet 1'!KPI_TOTAL", "='Sheet 1'!$B$1")
    wb.define_name(f"'{CN_SHEET}'!KPI_TOTAL", f"='{CN_SHEET}'!$F$1")
    wb.define_name(f"'{CN_SHEET}'!KPI_NA", f"='{CN_SHEET}'!$C$1")
    wb.define_name("GRAND_TOTAL", f"='{CN_SHEET}'!$B$1")
    wb.define_name("WHOLE_ROW", "='Sheet 1'!$A$1:$F$1")  # multi-cell: ignored
    wb.close()


def expected_b1(a1: float) -> float:
    return a1 * 2 + 29


@pytest.fixture(scope="module")
def recalculated(soffice, tmp_path_factory):  # noqa: F811
    src = tmp_path_factory.mktemp("src")
    make_workbook(src / "kpi.xlsx")
    out = tmp_path_factory.mktemp("out")
    [result] = recalculate([src / "kpi.xlsx"], out)
    return result


def test_cached_value_is_really_stale_before_recalculation(tmp_path):
    make_workbook(tmp_path / "kpi.xlsx")
    ws = load_workbook(tmp_path / "kpi.xlsx", data_only=True)["Sheet 1"]
    assert ws["B1"].value == WRONG  # so a passing parity check below means LibreOffice recalculated


def test_formula_is_recalculated(recalculated):
    assert recalculated.name == "kpi.xlsx"
    wb = load_workbook(recalculated, data_only=True)
    for title in ("Sheet 1", CN_SHEET):
        ws = wb[title]
        assert ws["B1"].value == expected_b1(5) == 39
        assert ws["C1"].value == "#N/A" and ws["C1"].data_type == "e"
        assert ws["D1"].value == "n=5"
        assert ws["E1"].value is True
        assert ws["F1"].value == 390
    # the formulas themselves survive the round trip
    assert load_workbook(recalculated)["Sheet 1"]["B1"].value == FORMULA


def test_names_resolve_per_sheet(recalculated):
    values = read_defined_values(recalculated)
    assert values == {
        "": {"GRAND_TOTAL": 39},
        "Sheet 1": {"KPI_TOTAL": 39},
        CN_SHEET: {"KPI_TOTAL": 390, "KPI_NA": "#N/A"},
    }


def test_many_files_in_one_call(soffice, tmp_path):  # noqa: F811
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    inputs = []
    for i in range(4):
        inputs.append(src / f"员工 {i}.xlsx")
        make_workbook(inputs[-1], a1=i)
    results = recalculate(inputs, out)
    assert [p.name for p in results] == [p.name for p in inputs]
    for i, p in enumerate(results):
        assert read_defined_values(p)["Sheet 1"]["KPI_TOTAL"] == expected_b1(i)


def test_concurrent_calls_do_not_collide(soffice, tmp_path):  # noqa: F811
    results, errors = {}, []

    def run(i):
        try:
            src = tmp_path / f"src{i}"
            src.mkdir()
            make_workbook(src / "same name.xlsx", a1=i)
            [p] = recalculate([src / "same name.xlsx"], tmp_path / f"out{i}")
            results[i] = read_defined_values(p)["Sheet 1"]["KPI_TOTAL"]
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert results == {1: expected_b1(1), 2: expected_b1(2)}


def test_missing_input_raises_clear_error(tmp_path):  # checked before soffice starts
    missing = tmp_path / "nope.xlsx"
    with pytest.raises(FileNotFoundError, match="nope.xlsx"):
        recalculate([missing], tmp_path / "out")


def test_unloadable_input_raises_with_soffice_stderr(soffice, tmp_path):  # noqa: F811
    src = tmp_path / "src"
    src.mkdir()
    (src / "broken.xlsx").write_bytes(b"PK\x03\x04 this is not a zip")
    make_workbook(src / "good.xlsx")
    with pytest.raises(RuntimeError, match=r"(?s)broken\.xlsx.*could not be loaded"):
        recalculate([src / "good.xlsx", src / "broken.xlsx"], tmp_path / "out")


def test_output_dir_must_differ_from_input_dir(tmp_path):
    make_workbook(tmp_path / "kpi.xlsx")
    with pytest.raises(ValueError, match="must differ"):
        recalculate([tmp_path / "kpi.xlsx"], tmp_path)
