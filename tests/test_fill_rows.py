"""The rows of a long data file are read a column at a time (rows._long_rows): each row must be
what reading the table row by row gives — the same values of the same types, lines, trimmed
工号 and 输入, a blank 评分人 None — whatever the frame's index, dtypes and columns."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kpi_workbook.numbers import is_blank
from kpi_workbook.workbook.scorecard.rows import InputRow, input_rows


def row_by_row(df: pd.DataFrame, first_line: int = 2, sheet: str = "") -> list[InputRow]:
    """Each row on its own, as the frame gives it (the reading before the columns)."""
    def get(r, c):
        return r[list(df.columns).index(c)] if c in df.columns else None

    rows = []
    for index, r in zip(df.index, df.values):
        line = int(index) + first_line if isinstance(index, (int, np.integer)) else None
        rater = get(r, "评分人")
        rater = None if "评分人" not in df.columns or is_blank(rater) else str(rater)
        key = str(get(r, "输入")).strip()
        rows.append(InputRow(str(get(r, "工号")).strip(), key, rater, get(r, "值"), line, key,
                             get(r, "姓名"), get(r, "月份"), sheet))
    return rows


def same(a: list[InputRow], b: list[InputRow]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert type(x) is InputRow and len(x) == len(y)
        for u, v in zip(x, y):
            assert type(u) is type(v), (x, y)
            assert u == v or (isinstance(u, float) and math.isnan(u) and math.isnan(v)), (x, y)


TEXT = {"工号": [" E1", "E2 ", "E3", "E4", "E5"], "输入": ["a.points ", " b", "c", "d", "e"],
        "评分人": ["", "  ", "主管", "自评", "主管"], "值": ["1", "2.5", "", " 3", "x"]}
MIXED = {"工号": ["E1", "E2", "E3", "E4", "E5"], "输入": ["a", "b", "c", "d", "e"],
         "评分人": [None, float("nan"), "主管", 1.0, "　"], "值": [1.0, float("nan"), 2, "3", None],
         "姓名": ["张三", None, "李四", "", "王五"], "月份": ["2026-10", "2026-10", None, "2026-11", ""]}


@pytest.mark.parametrize("columns", [TEXT, MIXED, {k: v for k, v in MIXED.items() if k != "评分人"}])
@pytest.mark.parametrize("index", [None, [4, 7, 9, 10, 30], ["a", "b", "c", "d", "e"], range(3, 13, 2)])
def test_a_long_table_reads_a_column_at_a_time_as_row_by_row(columns, index):
    df = pd.DataFrame(columns, index=index)
    for first_line, sheet in ((2, ""), (5, "录入表")):
        same(input_rows(df, "in.csv", first_line, sheet), row_by_row(df, first_line, sheet))


def test_an_all_number_table_and_an_empty_one_read_as_row_by_row():
    numbers = pd.DataFrame({"工号": [1.0, 2.0], "输入": [3.0, 4.0], "评分人": [float("nan"), 5.0], "值": [0.5, 6.0]})
    same(input_rows(numbers, "in.csv"), row_by_row(numbers))
    assert isinstance(input_rows(numbers, "in.csv")[0].value, np.floating)  # as the frame's array holds it
    empty = pd.DataFrame({"工号": [], "输入": [], "值": []}, dtype=str)
    assert input_rows(empty, "in.csv") == []
