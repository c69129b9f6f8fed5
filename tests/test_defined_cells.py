"""recalc.defined_cells reads the names from the workbook part alone; openpyxl's full reader
(the independent path: it binds sheet-scoped names to its loaded sheets) must agree."""

from __future__ import annotations

import pandas as pd
import xlsxwriter
from openpyxl import load_workbook

from kpi_workbook.rules.loader import builtin_catalog
from kpi_workbook.workbook import recalc
from kpi_workbook.workbook.scorecard.build import build_workbook

from .helpers import emp


def by_full_reader(path) -> dict[str, dict[str, str]]:
    """The names as openpyxl's full reader binds them (defined_cells' former reading)."""
    wb = load_workbook(path)
    try:
        out: dict[str, dict[str, str]] = {"": {}}
        for name, dn in wb.defined_names.items():
            dests = recalc._dests(dn)
            if dests:
                out[""][name] = f"{dests[0]}!{dests[1]}"
        for ws in wb.worksheets:
            out[ws.title] = {}
            for name, dn in ws.defined_names.items():
                dests = recalc._dests(dn)
                if dests and dests[0] == ws.title:
                    out[ws.title][name] = dests[1]
        return out
    finally:
        wb.close()


def test_names_of_a_built_book_as_the_full_reader_binds_them(tmp_path):
    catalog = builtin_catalog()
    roster = pd.DataFrame([emp("E1", "甲", "质检部", "qc_iqc"), emp("E2", "乙", "客服部", "cs_specialist"),
                           emp("E3", "丙", "售前部", "presales_team_lead")])
    book = tmp_path / "three.xlsx"
    build_workbook(catalog, roster, "2026-10", book)
    names = recalc.defined_cells(book)
    assert names == by_full_reader(book)
    cards = [n for n in names.values() if "KPI_TOTAL" in n]
    assert len(cards) == 3  # every card's sheet-scoped names, under its own sheet


def test_a_chartsheet_before_and_reserved_names_are_bound_as_openpyxl_binds_them(tmp_path):
    path = tmp_path / "mixed.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    data = wb.add_worksheet("数据")
    data.write_column("A1", [1, 2, 3])
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": "='数据'!$A$1:$A$3"})
    wb.add_chartsheet("图").set_chart(chart)  # index 1: the sheet after it is index 2
    card = wb.add_worksheet("卡 1")
    card.write("B2", 5)
    card.print_area("A1")  # _xlnm.Print_Area of one cell: reserved, never a cell name
    card.repeat_rows(0)
    wb.define_name("'卡 1'!KPI_TOTAL", "='卡 1'!$B$2")
    wb.define_name("'卡 1'!KPI_OTHER", "='数据'!$A$1")  # scoped to one sheet, pointing at another
    wb.define_name("BOOK_WIDE", "='数据'!$A$2")
    wb.define_name("A_RANGE", "='数据'!$A$1:$A$3")  # not a single cell
    wb.close()
    names = recalc.defined_cells(path)
    assert names == by_full_reader(path)
    assert names == {"": {"BOOK_WIDE": "数据!A2"}, "数据": {}, "卡 1": {"KPI_TOTAL": "B2"}}
