"""The month's tables, shared by the report, its calibration sheet and the roll-up: the
report's sheet names and columns (read back by approval and payroll), its cell formats, and
writing a table through :class:`~..xlsx.sheet_rows.SheetRows` or XlsxWriter alike."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd

from ...rules.loader import Catalog
from ..xlsx.printing import FONT, FONT_SIZE, NUMBER_FONT, row_height
from ..xlsx.sheet_rows import SheetRows

SUMMARY, STATS, INCOMPLETE, FINDINGS = "月度汇总", "部门统计", "未完成", "问题"
SUMMARY_HEAD = ["工号", "姓名", "部门", "岗位", "月份", "总分", "等级", "部门排名", "全员排名"]
SUMMARY_TAIL = ["应发绩效合计", "状态", "预警", "问题", "说明"]  # 说明: how team pay came about


def report_title(month: str) -> str:
    return f"{month} 月度绩效汇总"


def schemes_by_role(catalog: Catalog, role_ids) -> dict[str, str]:
    """Role id → its grade scheme's id, for the roles of ``role_ids``."""
    return {r: catalog.roles[r].grade_scheme for r in dict.fromkeys(role_ids)}


def table_formats(book) -> dict:
    """The cell formats of the month's tables (report, roll-up), by role in the table."""
    base = {"font_name": FONT, "font_size": FONT_SIZE, "border": 1, "valign": "vcenter"}
    digits = {**base, "font_name": NUMBER_FONT}  # numbers in Arial: narrow, the same everywhere
    return {
        "title": book.add_format({"font_name": FONT, "bold": True, "font_size": 12}),
        "head": book.add_format({**base, "bold": True, "bg_color": "#D9E1F2", "align": "center",
                                 "text_wrap": True}),
        "text": book.add_format(base),
        "wrap": book.add_format({**base, "text_wrap": True}),
        "num": book.add_format({**digits, "num_format": "0.0", "align": "center"}),
        "int": book.add_format({**digits, "num_format": "0", "align": "center"}),
        "money": book.add_format({**digits, "num_format": "#,##0.00"}),
        "pct": book.add_format({**digits, "num_format": "0%", "align": "center"}),
        "warn": book.add_format({**base, "font_color": "#9C0006", "text_wrap": True}),
        "flag": book.add_format({**base, "font_color": "#9C0006"}),  # one line, runs on to the right
        "input": book.add_format({**base, "bg_color": "#FFF2CC", "locked": False}),
        "over": book.add_format({**base, "bg_color": "#FFC7CE", "font_color": "#9C0006"}),
        # the furniture under a table: its 合计 row, the signature line; a value not shown
        "total_label": book.add_format({**base, "bold": True, "bg_color": "#F2F2F2", "align": "center"}),
        "total_money": book.add_format({**digits, "bold": True, "bg_color": "#F2F2F2",
                                        "num_format": "#,##0.00"}),
        "total_int": book.add_format({**digits, "bold": True, "bg_color": "#F2F2F2", "num_format": "0",
                                      "align": "center"}),
        "total_pct": book.add_format({**digits, "bold": True, "bg_color": "#F2F2F2", "num_format": "0%",
                                      "align": "center"}),
        "total_num": book.add_format({**digits, "bold": True, "bg_color": "#F2F2F2", "num_format": "0.0",
                                      "align": "center"}),
        "signature": book.add_format({"font_name": FONT, "font_size": 11, "valign": "bottom"}),
        "none": book.add_format({**digits, "num_format": '"—";"—";"—"', "align": "center"}),
    }


def write_table(ws, frame: pd.DataFrame, formats: dict[str, object], f, start_row: int = 1,
                 widths: list[float] | None = None, start_col: int = 0) -> None:
    """The header at ``start_row - 1``, the rows below; with ``widths``, each row as high as
    its wrapped text needs. ``ws`` is a :class:`sheet_rows.SheetRows` or an XlsxWriter sheet."""
    ws.write_row(start_row - 1, start_col, list(frame.columns), f["head"])
    wrapped = {j for j, c in enumerate(frame.columns) if formats.get(c) in (f["warn"], f["wrap"])}
    if widths is not None:
        ws.set_row(start_row - 1, row_height(list(frame.columns), widths, set(range(len(widths)))))
    column_formats = [formats.get(c, f["text"]) for c in frame.columns]
    places = range(start_col, start_col + len(column_formats))
    styled: list[tuple[int, Any]]
    if isinstance(ws, SheetRows):  # the style attribute of each column, worked out once
        styled, put = list(zip(places, ws.styles(column_formats))), ws.write_table_row
    else:
        styled, put = list(zip(places, column_formats)), functools.partial(xlsx_row, ws)
    columns = [column_values(frame.iloc[:, j]) for j in range(frame.shape[1])]
    if isinstance(ws, SheetRows):  # its cells made column by column
        ws.write_table_rows(start_row, styled, columns)
    else:
        for i, row in enumerate(zip(*columns), start=start_row):  # far faster than itertuples
            put(i, styled, row)
    if widths is None or not wrapped:
        return
    # each row as high as its wrapped columns' texts need (explicit, also when one line):
    # worked out once per distinct texts (most rows repeat a few, or have none)
    order = sorted(wrapped)
    texts = [[_shown(v) for v in columns[j]] for j in order]
    heights: dict[tuple[str, ...], float] = {}
    for i, key in enumerate(zip(*texts), start=start_row):
        height = heights.get(key)
        if height is None:
            values = [""] * len(columns)  # the wrapped columns' texts: only they set the height
            for j, text in zip(order, key):
                values[j] = text
            height = heights[key] = row_height(values, widths, wrapped)
        ws.set_row(i, height)


def _shown(value) -> str:
    """A wrapped cell's text as its row's height is worked out from it."""
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def column_values(column: pd.Series) -> list:
    """A column's values as Python objects; a text column's at once from its array (its
    ``tolist`` goes through pandas once per value)."""
    if isinstance(column.dtype, pd.StringDtype):
        return column.to_numpy(dtype=object).tolist()
    return column.tolist()


def xlsx_row(ws, i: int, styled, row) -> None:
    """One table row through XlsxWriter's calls: the same cells as ``sheet_rows.cell``."""
    for (col, fmt), value in zip(styled, row):
        kind = type(value)
        if value is None or (kind is float and value != value):  # NaN: an empty cell
            ws.write_blank(i, col, None, fmt)
        elif kind is float or kind is int or (isinstance(value, (int, float, np.integer, np.floating))
                                             and kind is not bool and not isinstance(value, np.bool_)):
            if kind is not float and kind is not int and pd.isna(value):
                ws.write_blank(i, col, None, fmt)
            else:
                ws.write_number(i, col, float(value), fmt)
        else:
            ws.write_string(i, col, str(value), fmt)
