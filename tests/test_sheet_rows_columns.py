"""A table written column by column (SheetRows.write_table_rows, what tables.write_table
uses) makes the very cells, row heights and kept values that writing it a row at a time
(write_table_row) makes: on random tables of every kind of value a report holds, from
column A or further right, keeping every column or some, into rows already written or not."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_workbook.workbook.month import tables
from kpi_workbook.workbook.month.tables import table_formats, write_table
from kpi_workbook.workbook.xlsx.sheet_rows import SheetRows

VALUES = st.one_of(
    st.none(), st.text(max_size=6), st.sampled_from(["", " x", "a\nb", "<&>", "很长的问题说明，" * 8, "E1"]),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, -0.0, 1.0, 2.5, 0.1 + 0.2]),
    st.integers(-10**17, 10**17), st.booleans(), st.sampled_from([np.float64(2.5), np.int64(3), np.bool_(True)]))


def _sheet(keep):
    book = xlsxwriter.Workbook(io.BytesIO(), {"in_memory": True})
    return book, SheetRows(book.add_worksheet("表"), keep=keep)


def _state(rows: SheetRows) -> tuple:
    return rows.rows, rows.heights, rows.kept, rows.sheet_data()


def _same(a, b) -> bool:
    """Equal, NaN equal to NaN (a kept value is never NaN; a row's height never)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


@settings(max_examples=150, deadline=None)
@given(data=st.data(), width=st.integers(0, 5), height=st.integers(0, 8), start_col=st.sampled_from([0, 0, 2]),
       keep=st.sampled_from([False, True, frozenset({0, 2}), frozenset({7})]), before=st.booleans())
def test_a_table_by_columns_is_the_table_by_rows(data, width, height, start_col, keep, before):
    columns = [data.draw(st.lists(VALUES, min_size=height, max_size=height)) for _ in range(width)]
    book, by_rows = _sheet(keep)
    _, by_columns = _sheet(keep)
    styles = [f' s="{k}"' for k in range(width)]
    styled = [(start_col + j, styles[j]) for j in range(width)]
    for rows in (by_rows, by_columns):
        if before:  # a row written already (e.g. furniture beside the table)
            rows.write(3, 9, "旁注")
            rows.write(4, 0, 1.5)
    for i, row in enumerate(zip(*columns), start=3):
        by_rows.write_table_row(i, styled, row)
    by_columns.write_table_rows(3, styled, columns)
    assert by_columns.rows == by_rows.rows
    assert by_columns.sheet_data() == by_rows.sheet_data()
    if keep:
        assert by_columns.kept.keys() == by_rows.kept.keys()
        for r in by_rows.kept:
            mine, theirs = by_columns.kept[r], by_rows.kept[r]
            assert len(mine) == len(theirs) and all(map(_same, mine, theirs)), r
        assert by_columns.values_read() == by_rows.values_read()
    book.close()


def test_write_table_makes_its_cells_by_columns_and_each_row_height_as_before(monkeypatch):
    frame = pd.DataFrame({"工号": ["E1", "E2", "E3"], "问题": ["很长的问题说明，" * 8, None, "很长的问题说明，" * 8],
                          "总分": [1.0, np.nan, 3.5]})
    book = xlsxwriter.Workbook(io.BytesIO(), {"in_memory": True})
    f = table_formats(book)
    rows = SheetRows(book.add_worksheet("表"), keep=True)
    calls: list[int] = []
    by_columns = SheetRows.write_table_rows

    def counted(self, row, styled, columns):
        calls.append(len(columns[0]))
        return by_columns(self, row, styled, columns)

    monkeypatch.setattr(SheetRows, "write_table_rows", counted)
    monkeypatch.setattr(SheetRows, "write_table_row", lambda *a: (_ for _ in ()).throw(AssertionError("by rows")))
    heights: list[list] = []
    row_height = tables.row_height
    monkeypatch.setattr(tables, "row_height", lambda values, *a: heights.append(values) or row_height(values, *a))
    write_table(rows, frame, {"问题": f["warn"]}, f, start_row=2, widths=[6, 8, 5])
    assert calls == [3]  # the three rows in one call
    assert len(heights) == 1 + 2  # the header's, then one per distinct wrapped text (not three)
    assert rows.heights[2] == rows.heights[4] > rows.heights[3]  # the two long texts' rows higher
    assert rows.values_read()[2:] == [["E1", "很长的问题说明，" * 8, 1], ["E2", None, None], ["E3", "很长的问题说明，" * 8, 3.5]]
    book.close()


def test_the_stats_total_row_is_worked_out_from_the_columns_it_reads_only(monkeypatch):
    """部门统计's 合计 row: department_stats over every card as one department, from a copy
    of the six columns it reads (not of the whole summary), with the same figures."""
    from kpi_workbook.rules.loader import builtin_catalog
    from kpi_workbook.workbook.month import report_writer
    from kpi_workbook.workbook.month.report import ReportData

    catalog = builtin_catalog()
    role = next(iter(catalog.roles.values()))
    scheme = role.grade_scheme
    grades = catalog.grade_schemes[scheme].grades()
    summary = pd.DataFrame({"工号": ["E1", "E2", "E3"], "姓名": ["甲", "乙", "丙"], "部门": ["一部", "二部", "一部"],
                            "岗位ID": [role.id] * 3, "状态": ["已完成", "已完成", "未完成"], "总分": [90.0, 70.5, 10.0],
                            "等级": [grades[0], grades[-1], None], "应发绩效合计": [100.0, 50.25, None],
                            "说明": ["", "", ""], "问题": [None, None, "x"]})
    data = ReportData("2026-10", summary, [])
    seen: list[list[str]] = []
    stats = report_writer.department_stats
    monkeypatch.setattr(report_writer, "department_stats",
                        lambda c, d, s=None: seen.append(list(d.summary.columns)) or stats(c, d, s))
    book = xlsxwriter.Workbook(io.BytesIO(), {"in_memory": True})
    ws = book.add_worksheet("表")
    columns = ["部门", "人数", "已完成", "平均分", "最高分", "最低分", "应发合计", *grades]
    report_writer._stats_total(ws, catalog, data, scheme, columns, grades, 5, table_formats(book))
    assert seen == [list(report_writer.STATS_COLUMNS)]
    total, _ = stats(catalog, ReportData("2026-10", summary.assign(部门="合计"), []), scheme)
    mine, _ = stats(catalog, ReportData("2026-10", summary[list(report_writer.STATS_COLUMNS)].assign(部门="合计"), []),
                    scheme)
    assert mine.equals(total) and total.iloc[0]["已完成"] == 2 and total.iloc[0]["应发合计"] == 150.25
    book.close()
