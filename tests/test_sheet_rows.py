"""The report's big tables are written as sheet XML directly (workbook/xlsx/sheet_rows.py).

The oracle is XlsxWriter itself: the same table written through its own calls
(``tables.xlsx_row``) and through :class:`SheetRows` must read back the same —
every value, format and row height — with openpyxl and with the package reader, but for
the two documented departures (a control character dropped, not escaped; infinity). And a
cell written to such a sheet behind SheetRows' back is refused, never silently dropped."""

from __future__ import annotations

import io
import math
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from kpi_workbook.workbook.xlsx import sheet_rows
from kpi_workbook.workbook.scorecard.reader import sheet_values
from kpi_workbook.workbook.month.tables import table_formats, write_table
from kpi_workbook.workbook.xlsx.sheet_rows import SheetRows

from .lo_fixtures import soffice  # noqa: F401  (the fixture; fails without LibreOffice)

# every kind of value a report table holds, and the awkward ones
TABLE = pd.DataFrame({
    "工号": ["E1", " lead space", "trail space ", "", "<&>\"'", "tab\tinside", "plain"],
    "姓名": ["张三", None, "under_score", "李四\n第二行", "x" * 300, "ok", "末"],
    "总分": [87.5, np.nan, 0.1 + 0.2, -3.0, 1e-7, 123456789.125, np.float64(2.5)],
    "排名": [1, np.int64(2), None, 4, 5, 6, 7],
    "标记": [True, False, np.bool_(True), "是", "否", 0, 1],
    "问题": ["很长的问题说明，" * 8, None, "", "a", "b", "c", "d"],
})


def _write(path: Path, fast: bool) -> None:
    written = io.BytesIO()
    book = xlsxwriter.Workbook(written if fast else str(path), {"in_memory": True, "nan_inf_to_errors": True,
                                                              "strings_to_formulas": False,
                                                              "strings_to_urls": False,
                                                              "strings_to_numbers": False})
    f = table_formats(book)
    ws = book.add_worksheet("表")
    target = SheetRows(ws) if fast else ws
    formats = {"总分": f["num"], "排名": f["int"], "问题": f["warn"], "姓名": f["wrap"]}
    write_table(target, TABLE, formats, f, start_row=3, widths=[6, 8, 5, 4, 4, 12], start_col=1)
    target.write(0, 0, "标题 / title", f["title"])
    ws.set_column(0, 6, 10)
    book.close()
    if fast:
        sheet_rows.save(written, [target], path)


def _cells(path: Path) -> list[tuple]:
    ws = openpyxl.load_workbook(path)["表"]
    out = []
    for row in ws.iter_rows():
        for c in row:
            if c.value is None and not c.has_style:
                continue
            out.append((c.coordinate, c.value, c.number_format, c.font.b, c.font.name, c.font.color and c.font.color.rgb,
                        c.fill.fgColor.rgb, c.alignment.wrap_text, c.alignment.horizontal, c.border.left.style))
    heights = {r: d.height for r, d in ws.row_dimensions.items() if d.height is not None}
    return out + [("heights", heights), ("dimension", ws.calculate_dimension())]


def test_sheet_rows_read_back_as_xlsxwriter_writes_them(tmp_path):
    own, fast = tmp_path / "xlsxwriter.xlsx", tmp_path / "rows.xlsx"
    _write(own, fast=False)
    _write(fast, fast=True)
    expected, got = _cells(own), _cells(fast)
    assert got == expected
    assert sheet_values(fast, "表") == sheet_values(own, "表")
    # and the values are the table's (a few by hand; the header is row 3, from column B):
    # 0.1 + 0.2 as Excel shows it, a blank for NaN, the leading space kept
    ws = openpyxl.load_workbook(fast)["表"]
    assert [c.value for c in ws[3][1:]] == list(TABLE.columns)
    assert ws["D4"].value == 87.5 and ws["D5"].value is None and ws["D6"].value == pytest.approx(0.3)
    assert ws["B5"].value == " lead space" and ws["B8"].value == "<&>\"'" and ws["F4"].value == "True"
    assert ws["E6"].value is None and ws["E5"].value == 2 and ws["C5"].value is None


def test_a_big_part_is_written_fast_and_reads_the_same(tmp_path, monkeypatch, soffice):  # noqa: F811
    """A sheet's rows are made and deflated a piece at a time (月度汇总 of a group: 100 MB),
    every part at the fastest level: the same XML whether the rows come in one piece or in
    many, a deflated part, and a file LibreOffice opens (converted back to .xlsx, its cells
    are the table's)."""
    from kpi_workbook.workbook.libreoffice import recalculate

    big = pd.concat([TABLE] * 400, ignore_index=True)  # 2,800 rows

    def write(path: Path) -> None:
        written = io.BytesIO()
        book = xlsxwriter.Workbook(written, {"in_memory": True, "nan_inf_to_errors": True,
                                             "strings_to_formulas": False, "strings_to_urls": False,
                                             "strings_to_numbers": False})
        f = table_formats(book)
        rows = SheetRows(book.add_worksheet("表"))
        write_table(rows, big, {"总分": f["num"], "问题": f["warn"]}, f, widths=[6, 8, 5, 4, 4, 12])
        book.close()
        sheet_rows.save(written, [rows], path)

    monkeypatch.setattr(sheet_rows, "ROWS_A_PIECE", 10_000)
    write(tmp_path / "default.xlsx")  # one piece
    monkeypatch.setattr(sheet_rows, "ROWS_A_PIECE", 97)
    write(tmp_path / "fast.xlsx")  # 29 pieces
    part = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(tmp_path / "default.xlsx") as a, zipfile.ZipFile(tmp_path / "fast.xlsx") as b:
        assert a.read(part) == b.read(part)  # the same XML, byte for byte
        info = b.getinfo(part)
        assert info.compress_type == zipfile.ZIP_DEFLATED and info.compress_size < info.file_size / 5
        assert a.testzip() is None and b.testzip() is None
        assert [i.filename for i in a.infolist()] == [i.filename for i in b.infolist()]
    assert _cells(tmp_path / "fast.xlsx") == _cells(tmp_path / "default.xlsx")
    out = recalculate([tmp_path / "fast.xlsx"], tmp_path / "lo")[0]
    values = sheet_values(out, "表")
    assert values is not None and len(values) == len(big) + 1
    assert values[-1][0] == big["工号"].iloc[-1] and values[2][0] == big["工号"].iloc[1]


def test_a_control_character_is_dropped_and_an_escape_lookalike_kept():
    """XML cannot hold U+000B: it is dropped (as the scorecards do), not written as Excel's
    _x000B_ escape, which openpyxl would not read back from an inline string."""
    assert sheet_rows.cell("B2", "", "ctl\x0bchar\x00") == '<c r="B2" t="inlineStr"><is><t>ctlchar</t></is></c>'
    assert sheet_rows.cell("B2", "", "_x000B_") == '<c r="B2" t="inlineStr"><is><t>_x000B_</t></is></c>'
    assert sheet_rows.cell("B2", "", "a&b<c") == '<c r="B2" t="inlineStr"><is><t>a&amp;b&lt;c</t></is></c>'


def test_infinity_is_an_error_value_not_a_number():
    assert sheet_rows.cell("A1", "", math.inf) == '<c r="A1" t="e"><v>#NUM!</v></c>'
    assert sheet_rows.cell("A1", ' s="3"', np.float64("-inf")) == '<c r="A1" s="3" t="e"><v>#NUM!</v></c>'


def test_a_cell_written_behind_sheet_rows_is_refused(tmp_path):
    written = io.BytesIO()
    book = xlsxwriter.Workbook(written, {"in_memory": True})
    ws = book.add_worksheet("表")
    rows = SheetRows(ws)
    rows.write(0, 0, "kept")
    ws.write(5, 5, "lost if not refused")  # straight into XlsxWriter's own table
    book.close()
    with pytest.raises(AssertionError, match="past SheetRows"):
        sheet_rows.save(written, [rows], tmp_path / "out.xlsx")


def test_every_calibration_row_has_its_schemes_dropdown(demo_run, catalog):
    """One list validation per grade scheme over the runs of its rows: every entry row's
    校准等级 cell is covered by exactly one, listing the grades of that card's scheme."""
    _, _, _, out = demo_run
    ws = openpyxl.load_workbook(out / "2026-10" / "report.xlsx")["校准"]
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if "工号" in r and "校准等级" in r)
    header = list(rows[start])
    col = openpyxl.utils.get_column_letter(header.index("校准等级") + 1)
    entries = [(start + 2 + k, r[header.index("等级方案")]) for k, r in enumerate(rows[start + 1:]) if r[0]]
    assert len({scheme for _, scheme in entries}) >= 2  # the demo has two grade scales
    for number, scheme in entries:
        covering = [dv for dv in ws.data_validations.dataValidation if f"{col}{number}" in dv.sqref]
        assert len(covering) == 1, (number, scheme)
        by_label = {g.label: g for g in catalog.grade_schemes.values()}  # printed by its label
        grades = by_label[scheme].grades()
        assert covering[0].type == "list" and covering[0].formula1 == '"' + ",".join(grades) + '"'


def _truncated_unit_by_unit(text: str) -> str:
    """The cut counted one character at a time (an astral character is two UTF-16 units)."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > sheet_rows.CELL_TEXT_LIMIT:
            return text[:i]
    return text


@pytest.mark.parametrize("parts", [["x"], ["é", "品"], ["\uffff"], ["\ud800", "a"], ["\udc00", "\ud83d"],
                                   ["\U0001F600"], ["\U0001F600", "a"], ["\U0010FFFF", "\x00", "品"]])
def test_a_long_text_is_cut_where_its_utf16_units_pass_the_limit(parts):
    """sheet_rows._truncated (counted in C) cuts every text where counting unit by unit does:
    at the limit, one over, and an astral character straddling it (dropped whole)."""
    limit = sheet_rows.CELL_TEXT_LIMIT
    for n in (0, 1, limit // 2, limit // 2 + 1, limit - 1, limit, limit + 1, limit + 2, 40_000):
        for k in range(len(parts)):
            text = "".join(parts[(i + k) % len(parts)] for i in range(n))
            assert sheet_rows._truncated(text) == _truncated_unit_by_unit(text), (parts, n, k)
