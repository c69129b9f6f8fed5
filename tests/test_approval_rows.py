"""approval_rows made column by column (issue 24: 100,000 rows hashed in well under a
second) gives the very rows, texts and 行哈希 the row-by-row form gave: those hashes are
sealed in every existing history. The row-by-row form is kept here as the reference, and
hypothesis draws the awkward values: NaN, ±inf, -0.0, halves at the second decimal,
huge amounts, bools, text, 待定, a column missing, a mixed (object) column."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi_workbook.workbook.month import approval
from kpi_workbook.workbook.month.history import CANONICAL, ROW_FIELDS, each_distinct, hash_text, row_hash


def reference_rows(summary: pd.DataFrame, money: list[str]) -> pd.DataFrame:
    """approval_rows as it was written row by row (before issue 24's column-wise form)."""
    used = [c for c in dict.fromkeys(["工号", "月份", *ROW_FIELDS, *money]) if c in summary.columns]
    out = []
    ordered = sorted(money)
    for r in summary[used].to_dict("records"):
        texts = [(c, hash_text(r.get(c))) for c in ordered]
        amounts = {c: t for c, t in texts if t != ""}
        row = {"工号": str(r["工号"]), "月份": str(r["月份"]),
               **{c: r.get(c) for c in ROW_FIELDS}, "金额明细": CANONICAL.encode(amounts)}
        row["行哈希"] = row_hash(row["工号"], row["月份"], row, amounts)
        out.append(row)
    return pd.DataFrame(out, columns=["工号", "月份", *ROW_FIELDS, "金额明细", "行哈希"])


AWKWARD_FLOATS = st.sampled_from([0.0, -0.0, math.nan, math.inf, -math.inf, 0.005, 0.015, -0.005, 2.675,
                                  1e300, -1e300, 123456789.125, 1e-9, 400.0, 0.1 + 0.2])
FLOATS = st.one_of(AWKWARD_FLOATS, st.floats(allow_nan=True, allow_infinity=True, width=64),
                   st.integers(-10**6, 10**6).map(lambda k: k / 100))
ANYTHING = st.one_of(FLOATS, st.none(), st.booleans(), st.integers(-10**20, 10**20),
                     st.sampled_from(["待定", "", "  ", " 12.5 ", "#NUM!", '"引号"\\', "=1+1", "\n", "\u2028"]),
                     st.text(max_size=6))
MONEY = ["等级奖金", "奖分/扣分金额", "绩效工资", "a\"b", "全勤奖"]


@st.composite
def summaries(draw) -> tuple[pd.DataFrame, list[str]]:
    n = draw(st.integers(0, 12))
    columns: dict[str, object] = {
        "工号": [draw(st.one_of(st.text(max_size=4), st.integers(0, 99))) for _ in range(n)],
        "月份": [draw(st.sampled_from(["2026-10", " 2026-11", "", None])) for _ in range(n)],
    }
    for c in ROW_FIELDS + MONEY:
        kind = draw(st.sampled_from(["float", "mixed", "missing", "text"]))
        if kind == "missing":
            continue
        strategy = {"float": FLOATS, "mixed": ANYTHING, "text": st.text(max_size=5)}[kind]
        # a pool of values drawn again and again: a column repeats its few amounts
        pool = draw(st.lists(strategy, min_size=1, max_size=4))
        values = [draw(st.sampled_from(pool)) for _ in range(n)]
        columns[c] = pd.Series(values, dtype=np.float64) if kind == "float" else pd.Series(values, dtype=object)
    frame = pd.DataFrame({k: pd.Series(v, dtype=object) if isinstance(v, list) else v for k, v in columns.items()})
    money = draw(st.lists(st.sampled_from(MONEY + ["不在表中"]), max_size=6))
    return frame, money


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(summaries())
def test_approval_rows_column_wise_are_the_rows_made_row_by_row(drawn) -> None:
    summary, money = drawn
    approval._MADE.clear()  # made afresh, never the memo of the last call
    made = approval.approval_rows(summary, money)
    expected = reference_rows(summary, money)
    assert made["行哈希"].tolist() == expected["行哈希"].tolist()
    assert made["金额明细"].tolist() == expected["金额明细"].tolist()
    pd.testing.assert_frame_equal(made, expected)


def test_the_rows_of_a_float_month_hash_as_sealed_before() -> None:
    """A hand-made month: -0.0 and 0.0 in one float column, a half-cent, NaN (blank) —
    the amounts' texts and hashes as the row-by-row form made them."""
    summary = pd.DataFrame({"工号": ["1", "2", "3", "4"], "月份": ["2026-12"] * 4, "姓名": ["甲", "乙", "丙", "丁"],
                            "部门": ["客服"] * 4, "总分": [90.05, -0.0, 0.0, math.nan], "等级": ["A", "B", "C", "D"],
                            "状态": ["已完成"] * 4, "应发绩效合计": [1000.005, 0.0, -0.0, math.nan],
                            "绩效工资": [-0.0, 0.0, 2.675, math.nan]})
    approval._MADE.clear()
    made = approval.approval_rows(summary, ["绩效工资"])
    assert made["金额明细"].tolist() == ['{"绩效工资": "-0.00"}', '{"绩效工资": "0.00"}', '{"绩效工资": "2.67"}', "{}"]
    pd.testing.assert_frame_equal(made, reference_rows(summary, ["绩效工资"]))


@pytest.mark.parametrize("values", [
    pd.Series([0.0, -0.0, math.nan, -math.nan, 1.5, 1.5, math.inf], dtype=np.float64),
    [True, 1, 1.0, 0, False, -0.0, 0.0, None, math.nan, "1", "1"],
    pd.Series(["a", "b", "a", None, " a", "", None, "b"], dtype="str"),
    pd.Series(["a", None, "a"], dtype="string"),
    pd.Series(["x", "y"], dtype="str"),
])
def test_each_distinct_tells_apart_what_the_work_tells_apart(values) -> None:
    work = repr  # tells -0.0 from 0.0, True from 1, 1 from 1.0
    listed = values.tolist() if isinstance(values, pd.Series) else values
    assert each_distinct(values, work) == [work(v) for v in listed]


def reference_stale(have: pd.DataFrame, reported: pd.DataFrame) -> list[str]:
    """approve_rows' check of 历史 against the report as it was written row by row."""
    mine = {str(r.工号): r for r in have.itertuples(index=False)}
    stale = sorted(set(reported["工号"]) ^ set(mine))
    for r in reported.itertuples(index=False):
        h = mine.get(str(r.工号))
        if h is not None and any(hash_text(getattr(h, c), 1 if c == "总分" else None)
                                 != hash_text(getattr(r, c), 1 if c == "总分" else None) for c in ROW_FIELDS):
            stale.append(str(r.工号))
    return stale


@st.composite
def two_months(draw) -> tuple[pd.DataFrame, pd.DataFrame]:
    def frame(n: int) -> pd.DataFrame:
        ids = [draw(st.sampled_from(["1", "2", "3", "4", "5"])) for _ in range(n)]
        columns: dict = {"工号": pd.Series(ids, dtype=object)}
        for c in ROW_FIELDS:
            kind = draw(st.sampled_from(["float", "mixed"]))
            pool = draw(st.lists(FLOATS if kind == "float" else ANYTHING, min_size=1, max_size=3))
            values = [draw(st.sampled_from(pool)) for _ in range(n)]
            columns[c] = pd.Series(values, dtype=np.float64 if kind == "float" else object)
        return pd.DataFrame(columns)
    return frame(draw(st.integers(0, 6))), frame(draw(st.integers(0, 6)))


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(two_months())
def test_the_rows_that_differ_from_the_history_column_wise_are_those_found_row_by_row(drawn) -> None:
    have, reported = drawn
    assert approval._stale(have, reported) == reference_stale(have, reported)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.integers(1, 5).flatmap(lambda width: st.tuples(
    st.lists(st.lists(ANYTHING, min_size=width, max_size=width), max_size=5),
    st.lists(st.one_of(st.none(), st.integers(0, width - 1)), max_size=4))))
def test_a_sheet_read_back_picks_its_columns_as_the_row_by_row_form(drawn) -> None:
    from kpi_workbook.workbook.month.history import _picked

    rows, where = drawn
    assert _picked(rows, where) == [[r[j] if j is not None else None for j in where] for r in rows]


def test_each_distinct_tells_numpy_zeros_of_a_mixed_column_apart():
    """-0.0 and 0.0 are equal keys: as numpy floats in a column of mixed values each zero is
    worked out as itself, as for Python floats (r30: they were merged, changing a row hash)."""
    for zeros in ([np.float64(0.0), np.float64(-0.0)], [np.float64(-0.0), np.float64(0.0)],
                  [np.float32(-0.0), np.float32(0.0)], [0.0, -0.0]):
        values = pd.Series([*zeros, "x", np.float64("nan")], dtype=object)
        assert each_distinct(values, lambda v: hash_text(v, 1)) == [hash_text(v, 1) for v in values.tolist()]
