"""The UDFs, called as Python functions, agree with the engine and with the native formulas.

Every role's edge-case cards are built into a workbook (`new`), filled (`fill`) and
recalculated by LibreOffice, Gnumeric and the `formulas` package (once per session, shared
with the parity tests: tests/engines.py); the inputs are then read back from the sheets and
given to KPI_SCORE / KPI_ITEM / KPI_GRADE / KPI_PAY per role, all employees in one call.
Their results must equal every engine's KPI_TOTAL, KPI_GRADE, KPI_PAY, KPI_STATUS and what
`score_card` (the `kpi-workbook score` function) says for each card.
"""

from __future__ import annotations

import math
from collections import defaultdict
from decimal import Decimal

import numpy as np
import pytest

from kpi_workbook.diagnostics import KpiError
from kpi_workbook.engine.api import score_card
from kpi_workbook.numbers import excel_round
from kpi_workbook.rules.loader import builtin_catalog

from .engines import ENGINES, month_book
from .windows_standins import need_xlwings

need_xlwings()
from kpi_workbook.excel import udfs  # noqa: E402  (xlwings is an optional extra)

CATALOG = builtin_catalog()
ROLES = sorted(CATALOG.roles)
FIELDS = {"KPI_BASE_SALARY": "基本工资", "KPI_Q_AMOUNT": "绩效基数Q", "KPI_FULL_ATTENDANCE": "全勤"}
SCORE_ONLY_PAY = {"base_pct", "grade_amount", "score_base", "q_level", "attendance_award",
                  "fail_penalty", "top_scorer_award"}


def blank(v) -> bool:
    return v is None or v == "" or (isinstance(v, float) and math.isnan(v))


# ---------------------------------------------------------------------------------------
# Small, exact behaviours.


def test_round_is_excels_round_over_a_range():
    assert udfs.KPI_ROUND([[2.675, -2.5], [0.285 * 100, None]], 2) == [[2.68, -2.5], [28.5, None]]
    assert udfs.KPI_ROUND([[2.5, -2.5, 0.5]]) == [[3.0, -3.0, 1.0]]  # half away from zero
    assert udfs.KPI_ROUND(2.675, 2) == 2.68 and round(2.675, 2) == 2.67
    assert udfs.KPI_ROUND([[28.499999999999996]], 0) == [[29.0]]  # 15 significant digits
    assert udfs.KPI_ROUND([[2.4999999999]], 0) == [[2.0]]
    assert udfs.KPI_ROUND([[2.4999999999]], 0, True) == [[3.0]]  # ROUND(ROUND(x,9),0)
    values = np.random.default_rng(7).uniform(-1000, 1000, (40, 3)).round(4)
    got = udfs.KPI_ROUND(values.tolist(), 2)
    assert got == [[excel_round(v, 2) for v in row] for row in values]
    for row_got, row in zip(got, values):  # the decimal rule, independently
        for g, v in zip(row_got, row):
            assert g == float(Decimal(format(v, ".15g")).quantize(Decimal("0.01"), "ROUND_HALF_UP"))


def test_errors_are_text_in_the_cell_not_exceptions():
    cell = udfs.KPI_ROUND([[1.5, "abc"]])
    assert cell[0][0] == 2.0 and cell[0][1].startswith("#KPI! ") and " / " in cell[0][1]
    assert udfs.KPI_ROUND([["#N/A"]])[0][0].startswith("#KPI!")  # an Excel error value as text
    for result in (udfs.KPI_SCORE("no_such_role", [["x"]], [[1]]),
                   udfs.KPI_GRADE("no_such_scheme", 80),
                   udfs.KPI_SCORE("qc_inspector", [["no_such_key"]], [[1]]),
                   udfs.KPI_BAND(1, [[1, 2]], [[3]]),
                   udfs.KPI_BAND(1, [[1]], [[3]], "=>"),
                   udfs.KPI_ITEM("qc_inspector", "no_such_item", [[1]]),
                   udfs.KPI_PAY("qc_iqc", 80, 5000)):
        assert isinstance(result, str) and result.startswith("#KPI! ") and " / " in result, result
        assert "\n" not in result and "Traceback" not in result


def test_band_lookup_first_match_wins_both_directions():
    values = [[0.99], [0.95], [0.949], [0.9], ["85%"], [0.5], [None]]
    got = udfs.KPI_BAND(values, [[0.95, 0.9, 0.8]], [[20, 15, 10]])
    assert [r[0] for r in got[:5]] == [20.0, 20.0, 15.0, 15.0, 10.0]
    assert got[5][0].startswith("#KPI!") and got[6][0] is None
    lower = udfs.KPI_BAND([[0, 2, 3, 9]], [[0], [2], [5]], [[10], [6], [0]], "<=")
    assert lower[0][:3] == [10.0, 6.0, 0.0] and lower[0][3].startswith("#KPI!")


def test_band_agrees_with_a_template_bands_item(catalog):
    """KPI_BAND with a template's own thresholds gives the engine's points for that item."""
    role = catalog.roles["presales_manager"]
    item = next(it for _, it in role.items() if it.rule.kind == "bands"
                and all(b.when.op == ">=" for b in it.rule.bands[:-1]))
    bands = item.rule.bands
    limits = [b.when.value for b in bands if b.when.op == ">="]
    points = [b.points for b in bands if b.when.op == ">="]
    values = sorted({*limits, *(v + 0.001 for v in limits), *(v - 0.001 for v in limits)})
    values = [v for v in values if v >= limits[-1]]
    got = udfs.KPI_BAND([[v] for v in values], [limits], [points])
    engine = udfs.KPI_ITEM(role.id, item.id, [[v] for v in values])
    scale = item.max / item.full_scale
    assert [g[0] * scale for g in got] == pytest.approx([e[0] for e in engine])


def test_shapes_follow_the_input_and_spill():
    assert np.shape(udfs.KPI_GRADE("grade_a_e", [[90, 50, 70]])) == (1, 3)
    assert np.shape(udfs.KPI_GRADE("grade_a_e", [[90], [50]])) == (2, 1)
    assert udfs.KPI_GRADE("qc_inspector", 97) == "A"  # a role names its scheme
    keys = [["problem_resolution.points", "customer_satisfaction", "response_time",
             "complaint_handling", "quality_monitoring", "基本工资"]]
    rows = [[90, 90, 90, 90, 90, 5000], [100, 100, 100, 100, 100, 6000]]
    by_row = udfs.KPI_SCORE("cs_specialist", keys, rows)
    assert np.shape(by_row) == (2, 4)
    by_column = udfs.KPI_SCORE("cs_specialist", [[k] for k in keys[0]],
                               [list(c) for c in zip(*rows)])
    assert by_column == [list(c) for c in zip(*by_row)]  # employees as columns: results too
    single = udfs.KPI_SCORE("cs_specialist", keys[0], rows[0])
    assert single == [by_row[0]]


def test_row_errors_stay_in_their_row():
    keys = [["problem_resolution.points", "customer_satisfaction", "response_time",
             "complaint_handling", "quality_monitoring", "基本工资"]]
    rows = [[90, 90, 90, 90, 90, 5000], [90, "九十", 90, 90, 90, 5000], [90, 90, 90, 90, 101, 5000]]
    got = udfs.KPI_SCORE("cs_specialist", keys, rows)
    assert got[0][3] == "完成"
    for bad in got[1:]:
        assert bad[0].startswith("#KPI! ") and bad[1:] == [None, None, "错误"]
    assert "customer_satisfaction" in got[1][0] and "quality_monitoring" in got[2][0]


def test_explain_and_item_and_pay():
    keys = [["miss_detection.misses", "基本工资"]]
    text = udfs.KPI_EXPLAIN("qc_inspector", keys, [[2, 4000]])
    one = udfs.KPI_EXPLAIN("qc_inspector", keys, [[2, 4000]], "miss_detection")
    card = score_card(CATALOG, "qc_inspector", {"inputs": {"miss_detection.misses": 2}})
    rec = next(i for i in card["items"] if i["id"] == "miss_detection")
    assert text[0][0].startswith(f"总分 {card['total']:g}，等级 {card['grade']}，完成")
    assert rec["explain"]["text"] in text[0][0]
    assert one == [[rec["explain"]["text"]]]
    assert udfs.KPI_ITEM("qc_inspector", "miss_detection", [[2]]) == [[rec["points"]]]
    several = udfs.KPI_ITEM("presales_dept_staff", "work_results", [[1]])
    assert several.startswith("#KPI!") and "keys" in several
    rated = udfs.KPI_ITEM("presales_dept_staff", "work_results", [[8, 9]],
                          [["points.self", "points.supervisor"]])
    direct = score_card(CATALOG, "presales_dept_staff", {"inputs": {
        "work_results": {"self": 8, "supervisor": 9}}})
    assert rated == [[next(i["points"] for i in direct["items"] if i["id"] == "work_results")]]
    pay = udfs.KPI_PAY("cs_specialist", [[80], [59.9], [None]], [[5000], [5000], [5000]])
    assert pay[2] == [None] and pay[0][0] >= 0
    missing = udfs.KPI_PAY("cs_specialist", [[80]], None)
    assert missing[0][0].startswith("#KPI!") and "基本工资" in missing[0][0]


# ---------------------------------------------------------------------------------------
# Parity: engine (score_card) and the native formulas on three engines, every role.


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    """The session's month book (tests/engines.py): built, filled and recalculated once by
    LibreOffice, Gnumeric and `formulas`; shared with test_workbook_parity."""
    return month_book(tmp_path_factory)


def _edge_sheets(month, engine: str) -> dict[str, dict]:
    """{sheet: {name: value}} of the edge-case cards, as ``engine`` computed them."""
    return {s: n for s, n in month.named(engine).items()
            if month.kinds[n["KPI_EMPLOYEE_ID"]] == "edge"}


def _role_table(names_by_sheet: list[dict]):
    """Keys and one row of values per sheet, as a person would lay them out in Excel."""
    inputs = sorted({n for names in names_by_sheet for n in names if n.startswith("KPI_IN_")})
    keys = [FIELDS[f] for f in FIELDS] + [n[len("KPI_IN_"):].replace("__", ".") for n in inputs]
    rows = [[names.get(f) for f in FIELDS] + [names.get(n) for n in inputs]
            for names in names_by_sheet]
    return keys, rows


def test_udfs_agree_with_engine_and_every_spreadsheet_engine(month):
    sheets = _edge_sheets(month, "libreoffice")  # inputs are typed values: alike everywhere
    assert len(sheets) == sum(1 for k in month.kinds.values() if k == "edge")
    computed = {e: _edge_sheets(month, e) for e in ENGINES}
    by_role = defaultdict(list)
    for sheet, names in sheets.items():
        by_role[names["KPI_ROLE"]].append((sheet, names))
    compared, mismatches = 0, []
    for role_id, pairs in sorted(by_role.items()):
        role = CATALOG.roles[role_id]
        group = [names for _, names in pairs]
        keys, rows = _role_table(group)
        got = udfs.KPI_SCORE(role_id, [keys], rows)  # every employee of the role in one call
        assert len(got) == len(group)
        for (sheet, names), row, result in zip(pairs, rows, got):
            total, grade, pay, status = result
            shown = {e: (computed[e][sheet]["KPI_TOTAL"],
                         None if blank(computed[e][sheet]["KPI_GRADE"]) else computed[e][sheet]["KPI_GRADE"],
                         None if blank(computed[e][sheet]["KPI_PAY"]) else computed[e][sheet]["KPI_PAY"],
                         computed[e][sheet]["KPI_STATUS"]) for e in ENGINES}
            try:
                card = score_card(CATALOG, role_id, {
                    "month": "2026-10",
                    "employee": {"基本工资": row[0], "绩效基数Q": row[1], "全勤": row[2]},
                    "inputs": {k: v for k, v in zip(keys[3:], row[3:])}})
            except KpiError as exc:  # a card the rules cannot grade (S4's split): 错误 everywhere
                assert {d.code for d in exc.diagnostics} == {"allocation-total"}, exc
                for e, values in shown.items():
                    if not (status == values[3] == "错误" and isinstance(total, str) and "60" in total
                            and grade is None and pay is None and blank(values[1]) and blank(values[2])):
                        mismatches.append((e, role_id, names["KPI_EMPLOYEE_ID"], result, values, "错误"))
                compared += 1
                continue
            engine = (card["total"], card["grade"],
                      card["pay"]["total"] if card["status"] == "complete" else None,
                      {"complete": "完成", "incomplete": "未完成"}[card["status"]])
            for e, values in shown.items():
                if not ((total, grade, pay, status) == values == engine):
                    mismatches.append((e, role_id, names["KPI_EMPLOYEE_ID"], result, values, engine))
            compared += 1
        # item points, one item at a time, against score_card's items (each row's card
        # scored once for all its items)
        scored = []
        for row in rows:
            try:
                scored.append(score_card(CATALOG, role_id, {"inputs": {k: v for k, v in
                                                                        zip(keys[3:], row[3:])}}))
            except KpiError:  # S4's split that does not add up: checked above
                scored.append(None)
        for _, item in role.items():
            own = [j for j, k in enumerate(keys) if k.startswith(item.id + ".")]
            points = udfs.KPI_ITEM(role_id, item.id, [[r[j] for j in own] for r in rows],
                                   [[keys[j][len(item.id) + 1:] for j in own]])
            for row, p, card in zip(rows, points, scored, strict=True):
                if card is None:
                    continue
                want = next(i["points"] for i in card["items"] if i["id"] == item.id)
                assert p[0] == want, (role_id, item.id, row, p, want)
        # grade and pay from the totals, where the pay depends on the score alone
        totals = [[r[0]] for r in got]
        complete = [r[3] == "完成" for r in got]
        grades = udfs.KPI_GRADE(role_id, totals)
        assert [g[0] for g, c in zip(grades, complete) if c] == [r[1] for r, c in zip(got, complete) if c]
        rules = {r.kind for r in CATALOG.role_pay_rules(role)}
        if rules <= SCORE_ONLY_PAY:
            pay = udfs.KPI_PAY(role_id, totals, [[r[0]] for r in rows], [[r[1]] for r in rows],
                               [[r[2]] for r in rows])
            assert [p[0] for p, c in zip(pay, complete) if c] == \
                [r[2] for r, c in zip(got, complete) if c], role_id
        explained = udfs.KPI_EXPLAIN(role_id, [keys], rows)
        assert all(isinstance(e[0], str) and (e[0].startswith("总分") or
                                              r[3] == "错误" and "分配分值" in e[0])
                   for e, r in zip(explained, got))  # 错误 (S4's split): says why
    assert not mismatches, "\n".join(map(str, mismatches[:10]))
    assert compared == len(sheets) and compared > 5 * len(ROLES)
