"""prepare_payroll's rows and write_payroll's CSV made column by column (issue 24: 100,000
rows) are the rows and the bytes the row-by-row forms made. Those forms are kept here as
the reference; hypothesis draws the awkward cells: NaN, ±inf, -0.0, half cents, huge
amounts, bools, text, 待定, a missing column, 不参与, a role without a pay rule, every
approval state, and texts a spreadsheet would run as formulas or that CSV must quote."""

from __future__ import annotations

import csv
import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi_workbook.diagnostics import warning
from kpi_workbook.numbers import clean_round
from kpi_workbook.rules.loader import builtin_catalog
from kpi_workbook.rules.payroll_layout import load_payroll_layout
from kpi_workbook.workbook.month import payroll
from kpi_workbook.workbook.month.approval import APPROVED
from kpi_workbook.workbook.month.payroll import _blank, _row_problems, _text, neutralise, write_payroll
from kpi_workbook.workbook.month.report import NO_PAY_RULE
from kpi_workbook.words import PENDING

LAYOUT = load_payroll_layout()
CATALOG = builtin_catalog()


def _no_pay_rule(catalog, r: dict) -> bool:
    """prepare_payroll's test of a row whose role has no pay rule, as it was written."""
    role = catalog.roles.get(_text(r.get("岗位ID")))
    return (role is not None and _text(r.get("状态")) == "已完成" and NO_PAY_RULE in _text(r.get("说明"))
            and not catalog.role_pay_rules(role))


def _payable(r: dict, sources: list[str]) -> bool:
    """prepare_payroll's quick test of a clean row, as it was written: complete, no 问题,
    every money cell a finite number (bool is not) or blank, 应发绩效合计 not blank."""
    status = r.get("状态")
    if not isinstance(status, str) or status.strip() != "已完成" or not _blank(r.get("问题")):
        return False
    for column in sources:
        value = r.get(column)
        if type(value) is float:
            if value in (math.inf, -math.inf):  # NaN: a blank cell
                return False
        elif type(value) is not int and not _blank(value):
            return False
    return not _blank(r.get("应发绩效合计"))


def _once(work):
    done: dict = {}

    def once(v):
        if v == 0:
            return work(v)
        key = (type(v), v)
        out = done.get(key)
        if out is None:
            out = done[key] = work(v)
        return out
    return once


def reference_pay_rows(summary, states, layout, catalog, checked, unapproved, source):
    """prepare_payroll's loop as it was written row by row (before issue 24's column form)."""
    rows, excluded, apart, notes = [], [], [], []
    sources = [c.source for c in layout.money]
    columns = [(c.type, c.source, c.header) for c in layout.columns]
    rounded = _once(lambda v: clean_round(float(v), 2))
    for r, state in zip(summary.to_dict("records"), states):
        if _text(r.get("状态")).strip() == "不参与" and not _text(r.get("问题")).strip():
            apart.append((str(r["工号"]), _text(r.get("姓名")), _text(r.get("说明"))))
            continue
        unpaid = _no_pay_rule(catalog, r)
        reasons = [] if _payable(r, sources) else _row_problems(r, layout, unpaid)
        waiting = not reasons and checked and not state.startswith(APPROVED)
        if waiting and not unapproved:
            reasons.append((f"审批状态为“{state}”（按未审批金额发放须加 --unapproved）",
                            f"approval state is {state} (to pay it unapproved, add --unapproved)"))
        elif waiting:
            notes.append(warning("payroll-unapproved",
                                 f"工号 {r['工号']}（{_text(r.get('姓名'))}）未按审批发放（--unapproved）：{state}",
                                 f"employee {r['工号']} paid without a matching approval (--unapproved): {state}",
                                 source=source, sheet="月度汇总"))
        if reasons:
            excluded.append((str(r["工号"]), _text(r.get("姓名")), "；".join(zh for zh, _ in reasons),
                             "; ".join(en for _, en in reasons)))
            continue
        row: dict = {}
        for kind, src, header in columns:
            if kind == "money":
                value = r.get(src)
                if unpaid:
                    row[header] = None
                elif _blank(value):
                    row[header] = 0.0
                else:
                    row[header] = rounded(value)
            elif kind == "approval":
                row[header] = state
            else:
                row[header] = _text(r.get(src))
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[c.header for c in layout.columns])
    return frame, excluded, apart, notes


def reference_csv(frame: pd.DataFrame, out, money: list[str]) -> None:
    """write_payroll's CSV as it was written (Series.map, DataFrame.to_csv)."""
    text = [c for c in frame.columns if c not in money]
    safe = frame.copy()
    for c in text:
        safe[c] = safe[c].map(neutralise)
    amount = _once(lambda v: f"{clean_round(float(v), 2):.2f}")
    for c in money:
        safe[c] = ["" if _blank(v) else amount(v) for v in safe[c].tolist()]
    safe.columns = [neutralise(c) for c in safe.columns]
    safe.to_csv(out, index=False, encoding="utf-8-sig", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")


AMOUNTS = st.one_of(st.sampled_from([0.0, -0.0, math.nan, math.inf, -math.inf, 0.005, 0.015, -0.005, 2.675, 1e300,
                                     123456789.125, 1e-9, 400.0, 0.1 + 0.2, 1.005]),
                    st.floats(allow_nan=True, allow_infinity=True, width=64),
                    st.integers(-10**6, 10**6).map(lambda k: k / 100))
CELLS = st.one_of(AMOUNTS, st.none(), st.booleans(), st.integers(-10**6, 10**6),
                  st.sampled_from([PENDING, "", " ", "12.5", "#NUM!"]))
TEXTS = st.one_of(st.sampled_from(["张三", "=SUM(A1)", "+1", "-2", "@x", "\tx", "\rx", 'a"b', "a,b", "a\nb", "\r\n",
                                   "", " ", "已完成", "不参与", " 已完成 ", "未完成", NO_PAY_RULE,
                                   f"说明；{NO_PAY_RULE}", "部门奖金池待定"]),
                  st.text(max_size=5), st.none(), st.just(math.nan))
ROLES = st.sampled_from(["cs_specialist", "cs_manager", "tech_support_lead", "不存在", "", None])
STATES = st.sampled_from([APPROVED, f"{APPROVED} 2026-11-05 王经理", "未审批", "已重开", "与审批不符", "未核对"])


@st.composite
def months(draw):
    n = draw(st.integers(0, 10))
    money = [c.source for c in LAYOUT.money]

    def pooled(strategy):
        pool = draw(st.lists(strategy, min_size=1, max_size=4))
        return [draw(st.sampled_from(pool)) for _ in range(n)]
    columns: dict = {"工号": pd.Series([f"E{k}" for k in range(n)], dtype=object)}
    for c in ["姓名", "部门", "月份", "状态", "问题", "说明"]:
        if c == "状态":
            values = [draw(st.sampled_from(["已完成", "已完成", " 已完成 ", "不参与", "未完成", "", None, 1]))
                      for _ in range(n)]
        elif c == "问题":
            values = [draw(st.sampled_from([None, "", " ", "缺少数据", math.nan])) for _ in range(n)]
        else:
            values = pooled(TEXTS)
        columns[c] = pd.Series(values, dtype=object)
    columns["岗位ID"] = pd.Series(pooled(ROLES), dtype=object)
    for c in money:
        kind = draw(st.sampled_from(["float", "float", "mixed", "missing"]))
        if kind == "float":
            columns[c] = pd.Series(pooled(AMOUNTS), dtype=np.float64)
        elif kind == "mixed":
            columns[c] = pd.Series(pooled(CELLS), dtype=object)
    states = [draw(STATES) for _ in range(n)]
    return pd.DataFrame(columns), states, draw(st.booleans()), draw(st.booleans())


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(months())
def test_the_rows_to_pay_made_column_wise_are_those_made_row_by_row(drawn) -> None:
    summary, states, checked, unapproved = drawn
    args = (summary, states, LAYOUT, CATALOG, checked, unapproved, "r.xlsx")
    try:
        expected = reference_pay_rows(*args)
    except (ValueError, TypeError) as e:  # a cell no check stops, e.g. an int too large to round
        raised = type(e)
        try:
            payroll._pay_rows(*args)
        except raised:
            return
        raise AssertionError("the reference refused a row the column form took") from e
    frame, excluded, apart, notes = payroll._pay_rows(*args)
    assert excluded == expected[1] and apart == expected[2]
    assert notes == expected[3]
    pd.testing.assert_frame_equal(frame, expected[0])
    assert [repr(v) for v in frame.to_numpy().ravel()] == [repr(v) for v in expected[0].to_numpy().ravel()]


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.integers(0, 8).flatmap(lambda n: st.tuples(st.lists(TEXTS, min_size=n, max_size=n),
                                                     st.lists(CELLS.filter(lambda v: not isinstance(v, (bool, str))
                                                                           or _blank(v)),
                                                              min_size=n, max_size=n),
                                                     st.sampled_from(["工号", "=工号", "a\nb"]))))
def test_the_csv_written_column_wise_is_the_csv_pandas_wrote(tmp_path_factory, drawn) -> None:
    names, amounts, first = drawn
    frame = pd.DataFrame({first: [_text(v) for v in names], "说明": pd.Series(names, dtype=object),
                          "应发绩效合计": pd.Series(amounts, dtype=object),
                          "绩效工资": pd.Series([v if isinstance(v, float) else 0.0 for v in amounts],
                                                dtype=np.float64)})
    where = tmp_path_factory.mktemp("csv")
    money = ["应发绩效合计", "绩效工资"]
    try:
        reference_csv(frame, where / "a.csv", money)
    except (ValueError, TypeError, OverflowError):
        return
    write_payroll(frame, where / "b.csv", money=money)
    assert (where / "b.csv").read_bytes() == (where / "a.csv").read_bytes()


def test_a_role_without_a_pay_rule_is_unpaid_only_when_exactly_complete() -> None:
    """The rows the draw above meets rarely, by hand: a role with no pay rule (cs_manager)
    whose 说明 says so is paid nothing (empty money) when its 状态 is exactly 已完成; with
    " 已完成 " (complete for the check, not for the rule) its amounts are paid; a role with
    a pay rule, or a 说明 without the words, is paid its amounts; a blank total is then
    refused unless unpaid."""
    rows = [(" 已完成 ", "cs_manager", NO_PAY_RULE, 10.0), ("已完成", "cs_manager", NO_PAY_RULE, math.nan),
            ("已完成", "cs_manager", NO_PAY_RULE, 12.5), ("已完成", "cs_specialist", NO_PAY_RULE, 12.5),
            ("已完成", "cs_manager", "", 12.5), ("已完成", "cs_manager", "", math.nan),
            (" 已完成 ", "cs_manager", NO_PAY_RULE, math.nan)]
    summary = pd.DataFrame({"工号": [f"E{k}" for k in range(len(rows))], "姓名": "甲", "部门": "客服", "月份": "2026-12",
                            "状态": [r[0] for r in rows], "问题": None, "岗位ID": [r[1] for r in rows],
                            "说明": [r[2] for r in rows], "应发绩效合计": [r[3] for r in rows],
                            "绩效工资": [r[3] for r in rows]})
    states = [APPROVED] * len(rows)
    args = (summary, states, LAYOUT, CATALOG, True, False, "r.xlsx")
    frame, excluded, apart, notes = payroll._pay_rows(*args)
    expected = reference_pay_rows(*args)
    pd.testing.assert_frame_equal(frame, expected[0])
    assert (excluded, apart, notes) == expected[1:]
    paid = dict(zip(frame["工号"], frame["应发绩效合计"]))
    assert paid["E0"] == 10.0 and math.isnan(paid["E1"]) and math.isnan(paid["E2"]) and paid["E3"] == 12.5
    assert [e[0] for e in excluded] == ["E5", "E6"]
