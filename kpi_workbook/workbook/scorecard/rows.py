"""The rows of a data file for ``fill``: long (工号, 输入, 评分人, 值) or wide (工号 and one
column per input, headed as on the card), each value with where it came from — the file's row,
its column, and the 姓名 and 月份 that row gives — so that fill can check and name it."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from ...diagnostics import KpiError, error
from ...numbers import is_blank, normalise_text

LONG_COLUMNS = {"employee_id": ("工号", "employee_id"), "input": ("输入", "输入项", "input"),
                "rater": ("评分人", "rater"), "value": ("值", "value")}
ID_HEADERS = ("工号", "employee_id", "id")
NAME_HEADERS = ("姓名", "name")
MONTH_HEADERS = ("月份", "month")
IGNORED_WIDE = ("姓名", "name", "部门", "department", "岗位", "role", "月份", "month")
RATER_WORDS = ("自评", "主管", "经理", "self", "supervisor", "manager")


class InputRow(NamedTuple):
    """One value to write: whose, which input (any spelling), by which rater, and where it
    came from — the row of the file (as a spreadsheet numbers it), the column it was under,
    and the 姓名 and 月份 that row gives (checked against the card)."""

    employee_id: str
    key: str
    rater: str | None
    value: object
    line: int | None = None
    column: str = ""
    name: object = None
    month: object = None
    sheet: str = ""  # a sheet of the data file (the entry grid has one per role)

    def where(self) -> str:
        """'录入表[来料检验员] 第 5 行' or '第 5 行' (or '' without a row)."""
        if self.line is None:
            return ""
        return (f"[{self.sheet}] " if self.sheet else "") + f"第 {self.line} 行"

    def where_en(self) -> str:
        if self.line is None:
            return ""
        return (f"[{self.sheet}] " if self.sheet else "") + f"row {self.line}"


def input_rows(df: pd.DataFrame, path: Path | str = "", first_line: int = 2,
               sheet: str = "") -> list[InputRow]:
    """The rows of a long or wide table already read (``path`` names it in messages); the
    frame's index is its row in the file less ``first_line``."""
    headers = {normalise_text(str(c)).lower(): c for c in df.columns}

    def column(options):
        return next((headers[o.lower()] for o in options if o.lower() in headers), None)

    id_col = column(ID_HEADERS)
    if id_col is None:
        raise KpiError([error("inputs-columns", f"{path} 缺少 工号 列", f"{path} has no 工号 "
                              "(employee_id) column", source=str(path))])
    name_col, month_col = column(NAME_HEADERS), column(MONTH_HEADERS)
    input_col, value_col = column(LONG_COLUMNS["input"]), column(LONG_COLUMNS["value"])
    long = input_col is not None and value_col is not None
    if long and not df.columns.has_duplicates:
        return _long_rows(df, (id_col, input_col, value_col, column(LONG_COLUMNS["rater"]), name_col, month_col),
                          first_line, sheet)
    rows: list[InputRow] = []
    if df.columns.has_duplicates:  # a column label twice: each row as pandas gives it
        cells = [r for _, r in df.iterrows()]
        at = {c: c for c in df.columns}
    else:  # the values as iterrows gives them (its rows are these arrays), without a Series each
        cells = list(df.values)
        at = {c: k for k, c in enumerate(df.columns)}
    rater_col = column(LONG_COLUMNS["rater"]) if long else None
    wide = [(c, *split_rater(str(c).strip()), str(c).strip()) for c in df.columns
            if not (c == id_col or normalise_text(str(c)).lower() in IGNORED_WIDE)]
    for index, r in zip(df.index, cells):
        line = int(index) + first_line if isinstance(index, (int, np.integer)) else None
        person = str(r[at[id_col]]).strip()
        name = None if name_col is None else r[at[name_col]]
        month = None if month_col is None else r[at[month_col]]
        if long:
            rater = None if rater_col is None or is_blank(r[at[rater_col]]) else str(r[at[rater_col]])
            key = str(r[at[input_col]]).strip()
            rows.append(InputRow(person, key, rater, r[at[value_col]], line, key, name, month, sheet))
            continue
        for c, key, rater, shown in wide:
            value = r[at[c]]
            if not is_blank(value):
                rows.append(InputRow(person, key, rater, value, line, shown, name, month, sheet))
    return rows


def _long_rows(df: pd.DataFrame, columns: tuple, first_line: int, sheet: str) -> list[InputRow]:
    """:func:`input_rows` of a long table without a column label twice, a column at a time
    (a group's data file has a million rows): each row as the row by row reading makes it —
    the values as iterrows gives them (a column of the frame's array), the row's line, the
    工号 and 输入 trimmed, a blank 评分人 None."""
    id_col, input_col, value_col, rater_col, name_col, month_col = columns
    cells = df.values
    at = {c: k for k, c in enumerate(df.columns)}
    n = len(df)

    def column(c) -> list:
        return list(cells[:, at[c]]) if c is not None else [None] * n

    index = df.index
    if isinstance(index, pd.RangeIndex):
        lines: list[int | None] = list(range(index.start + first_line, index.stop + first_line, index.step))
    else:
        lines = [int(i) + first_line if isinstance(i, (int, np.integer)) else None for i in index]
    people = [str(v).strip() for v in column(id_col)]
    keys = [str(v).strip() for v in column(input_col)]
    raters: list[str | None] = [None] * n
    if rater_col is not None:
        blank: dict[str, bool] = {}  # a rater column holds a few words (most often "")
        for k, v in enumerate(column(rater_col)):
            if type(v) is str:
                is_empty = blank.get(v)
                if is_empty is None:
                    is_empty = blank[v] = is_blank(v)
                raters[k] = None if is_empty else v
            else:
                raters[k] = None if is_blank(v) else str(v)
    return list(map(InputRow, people, keys, raters, column(value_col), lines, keys, column(name_col),
                    column(month_col), [sheet] * n))


def split_rater(header: str) -> tuple[str, str | None]:
    """'工作业绩/主管' → ('工作业绩', '主管'); a header without a rater suffix as it is."""
    for sep in ("/", "."):
        head, _, tail = header.rpartition(sep)
        if head and normalise_text(tail) in RATER_WORDS:
            return head, normalise_text(tail)
    return header, None
