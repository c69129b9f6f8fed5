"""The engine runner (kpi_workbook.workbook.recalc): each engine really recalculates, and a
failure is an exception, never a silent result."""

from __future__ import annotations

import pytest
import xlsxwriter

from kpi_workbook.workbook import recalc

from .engines import ENGINES, require_engines


def _book(path, a1: float) -> None:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("数据 data")
    ws.write_number("A1", a1)
    ws.write_formula("B1", "=ROUND(ROUND(A1*0.285*100,9),0)", None, 12345)  # a wrong cached value
    ws.write_formula("C1", '=IF(A1>1,"大","小")', None, "stale")
    ws.write_formula("D1", "=NA()", None, 0)
    ws.write_formula("E1", '=IF(A1>1,"",1)', None, 0)
    wb.define_name("'数据 data'!KPI_TOTAL", "='数据 data'!$B$1")
    wb.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_each_engine_recalculates_and_reads_back_alike(tmp_path, engine):
    require_engines([engine])
    _book(tmp_path / "b.xlsx", 2)
    values = recalc.recalculate(engine, tmp_path / "b.xlsx", tmp_path / "out")
    got = [recalc.lookup(values, "数据 data", ref) for ref in ("A1", "B1", "C1", "D1", "E1")]
    assert got == [2.0, 57.0, "大", "#N/A", None]  # 2 × 0.285 × 100 = 57
    names = recalc.defined_cells(tmp_path / "b.xlsx")
    assert recalc.by_name(values, names)["数据 data"] == {"KPI_TOTAL": 57.0}


def test_all_engines_at_once(tmp_path):
    require_engines()
    _book(tmp_path / "b.xlsx", 1)
    results = recalc.recalculate_all(tmp_path / "b.xlsx", tmp_path / "out")
    assert list(results) == list(ENGINES)
    for engine, values in results.items():  # 1 × 28.5 rounds half away from zero: 29
        assert recalc.lookup(values, "数据 data", "$B$1") == 29.0, engine


@pytest.mark.parametrize("engine", ENGINES)
def test_a_file_that_is_no_workbook_is_an_error(tmp_path, engine):
    require_engines([engine])
    junk = tmp_path / "junk.xlsx"
    junk.write_text("not a workbook", encoding="utf-8")  # ssconvert exits 0 on this
    with pytest.raises(RuntimeError, match="junk.xlsx"):
        recalc.recalculate(engine, junk, tmp_path / "out")


def test_unknown_engine(tmp_path):
    with pytest.raises(ValueError, match="excel"):
        recalc.recalculate("excel", tmp_path / "b.xlsx", tmp_path / "out")
    with pytest.raises(ValueError):
        recalc.find_engine("excel")
