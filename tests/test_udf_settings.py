"""The worksheet functions follow the book's 设置, as the card's formulas and the report do.

A book of cs_specialist cards is built and its 设置 edited as HR would (B from 80 to 85, pay
12 % from a total of 70); its 设置 sheet's values, read by openpyxl from A1 (what xlwings
passes for ``设置!A1:D200``), are given to the functions. cs_specialist is plain arithmetic:
five items scored 0–100, 20 % each, so a card scored 82 on all five totals 82.0, and its pay
is 基本工资 × pct × total ÷ 100 when total ≥ min_total. Every expected grade and amount is
worked out by hand below, and checked against the engine scoring with the book's catalog
(read_settings, through the reader) and against the report on the same book.
"""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from kpi_workbook.engine.api import score_card
from kpi_workbook.excel import functions as F
from kpi_workbook.kinds.inputs import input_specs
from kpi_workbook.rules.loader import builtin_catalog
from kpi_workbook.workbook.scorecard import settings as S
from kpi_workbook.workbook.scorecard.build import build_workbook
from kpi_workbook.workbook.scorecard.fill import fill_workbooks
from kpi_workbook.workbook.scorecard.reader import read_workbook
from kpi_workbook.workbook.month.report import build_report
from kpi_workbook.workbook.scorecard.validate import validate_books

from .helpers import edited_settings, emp, settings_cells
from .windows_standins import (StandinBook, StandinCaller, StandinRange, StandinSheet,
                               need_xlwings)

need_xlwings()
from kpi_workbook.excel import udfs  # noqa: E402  (xlwings is an optional extra)

from .test_excel_lite import LiteBook, LiteSheet  # noqa: E402  (the Lite book's stand-ins)

CATALOG = builtin_catalog()
MONTH = "2026-10"
ROLE = "cs_specialist"
ITEMS = ("problem_resolution", "customer_satisfaction", "response_time", "complaint_handling",
         "quality_monitoring")
SCORES = {"S1": 82, "S2": 90, "S3": 75}  # every item's score = the total (5 × score × 20 / 100)
SALARY = 5000.0
KEYS = [[f"{item}.points" for item in ITEMS] + ["基本工资"]]
ROWS = [[score] * 5 + [SALARY] for score in SCORES.values()]

EDITS = {"GRADE_grade_a_e_MIN_2": 85, "PAY_pay_base_pct_PCT": 0.12, "PAY_pay_base_pct_MIN_TOTAL": 70}
# B ≥ 85 (A ≥ 96, C ≥ 70 as in the template), pay 12 % from a total of 70:
#   S1 82 → C, 5000 × 0.12 × 82 / 100 = 492.00
#   S2 90 → B, 5000 × 0.12 × 90 / 100 = 540.00
#   S3 75 → C, 5000 × 0.12 × 75 / 100 = 450.00
EDITED = {"S1": ("C", 492.0), "S2": ("B", 540.0), "S3": ("C", 450.0)}
# the template's 设置 (B ≥ 80, 10 % from 80): S1 B 5000 × 0.10 × 82 / 100 = 410.00,
# S2 B 450.00, S3 75 < 80 → C, 0.00
TEMPLATE = {"S1": ("B", 410.0), "S2": ("B", 450.0), "S3": ("C", 0.0)}


def _book(path, roster=None):
    roster = roster if roster is not None else pd.DataFrame(
        [emp(e, f"员工{e}", "客服部", ROLE, SALARY) for e in SCORES])
    build_workbook(CATALOG, roster, MONTH, path, force=True)
    rows = [(e, f"{item}.points", None, score) for e, score in SCORES.items() for item in ITEMS
            if e in set(roster["employee_id"])]
    assert [d for d in fill_workbooks(CATALOG, [path], rows).diagnostics if d.severity == "error"] == []
    return path


def _grid(path) -> list[list]:
    """The 设置 sheet's values from A1, a list of rows, as xlwings passes a range."""
    wb = openpyxl.load_workbook(path, read_only=True)  # one sheet's values are all it reads
    try:
        return [list(r) for r in wb["设置"].iter_rows(min_row=1, min_col=1, values_only=True)]
    finally:
        wb.close()


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    root = tmp_path_factory.mktemp("udf_settings")
    plain = _book(root / "plain.xlsx")
    edited = edited_settings(plain, root / "edited.xlsx", EDITS)
    return {"root": root, "plain": plain, "edited": edited}


def _by_functions(settings=None, caller=None) -> dict[str, tuple]:
    """employee → (total, grade, pay) by KPI_SCORE, and KPI_GRADE and KPI_PAY agreeing."""
    scored = udfs.KPI_SCORE(ROLE, KEYS, ROWS, settings, caller)
    totals = [[row[0]] for row in scored]
    grades = udfs.KPI_GRADE(ROLE, totals, settings, caller)
    assert grades == udfs.KPI_GRADE("grade_a_e", totals, settings, caller)
    pay = udfs.KPI_PAY(ROLE, totals, [[SALARY]] * len(totals), None, None, settings, caller)
    out = {}
    for e, row, grade, money in zip(SCORES, scored, grades, pay):
        assert row[3] == "完成" and [row[1]] == grade and [row[2]] == pytest.approx(money), row
        out[e] = (row[0], row[1], row[2])
    return out


def _by_engine(path) -> dict[str, tuple]:
    """employee → (total, grade, pay) by the engine with the catalog the reader gives the
    book's cards (read_settings)."""
    out = {}
    for card in read_workbook(CATALOG, path).cards:
        got = score_card(card.catalog, ROLE, {
            "inputs": {f"{item}.points": SCORES[card.employee_id] for item in ITEMS},
            "employee": {"base_salary": SALARY}})
        out[card.employee_id] = (got["total"], got["grade"], got["pay"]["total"])
    return out


def _by_report(path) -> dict[str, tuple]:
    summary = build_report(CATALOG, [path]).summary.set_index("工号")
    return {e: (summary.loc[e, "总分"], summary.loc[e, "等级"], summary.loc[e, "应发绩效合计"])
            for e in SCORES}


def _expected(table) -> dict[str, tuple]:
    return {e: (float(SCORES[e]), grade, pay) for e, (grade, pay) in table.items()}


# --- an edited 设置: the functions, the engine with the book's catalog and the report agree ----


def test_edited_settings_given_as_a_range(books):
    grid = _grid(books["edited"])
    assert _by_functions(grid) == _expected(EDITED)
    assert _by_engine(books["edited"]) == _expected(EDITED)
    assert _by_report(books["edited"]) == _expected(EDITED)
    assert _by_functions() == _expected(TEMPLATE)  # no 设置 given: the templates' values


def test_unedited_settings_give_the_builtin_results(books):
    assert _by_functions(_grid(books["plain"])) == _expected(TEMPLATE)
    assert _by_engine(books["plain"]) == _by_report(books["plain"]) == _expected(TEMPLATE)


def test_explain_and_item_follow_the_settings(books):
    grid = _grid(books["edited"])
    text = udfs.KPI_EXPLAIN(ROLE, KEYS, ROWS[:1], None, grid)[0][0]
    assert text.startswith("总分 82，等级 C，完成，绩效工资 492.00"), text  # C under B ≥ 85
    assert udfs.KPI_ITEM(ROLE, "problem_resolution", [[82]], None, grid) == [[16.4]]  # 82 × 20 %


def test_grade_amounts_edited(tmp_path):
    """qc_inspector pays by grade (A 400, B 300, …): B's amount 300 → 350 and B ≥ 80 → 85."""
    roster = pd.DataFrame([emp("Q1", "品质1", "品质部", "qc_inspector")])
    path = tmp_path / "qc.xlsx"
    build_workbook(CATALOG, roster, MONTH, path)
    edited = edited_settings(path, tmp_path / "edited.xlsx",
                     {"PAY_pay_grade_amount_AMOUNT_2": 350, "GRADE_grade_a_e_MIN_2": 85})
    grid = _grid(edited)
    # 84 < 85 → C ¥200; 85 → B ¥350; 96 → A ¥400 (unchanged)
    assert udfs.KPI_PAY("qc_inspector", [[84], [85], [96]], None, None, None, grid) == \
        [[200.0], [350.0], [400.0]]
    assert udfs.KPI_PAY("qc_inspector", [[84], [85]]) == [[300.0], [300.0]]  # template: B ≥ 80


# --- a broken 设置: the #KPI! text names the cell, as the report's finding does -------------


@pytest.mark.parametrize("value, zh", [
    ("八十五", "是文本“八十五”，请输入数字"),
    ("#N/A", "是错误值 #N/A"),  # xlwings passes an error value as text (err_to_str)
    (None, "为空"),
])
def test_broken_value_names_the_cell(books, tmp_path, value, zh):
    cell = settings_cells(books["plain"])["GRADE_grade_a_e_MIN_2"]
    grid = _grid(books["plain"])
    row, col = int(cell[1:]) - 1, ord(cell[0]) - ord("A")
    grid[row][col] = value
    got = udfs.KPI_GRADE("grade_a_e", [[90]], grid)
    assert isinstance(got, str) and got.startswith("#KPI! 设置 " + cell), got
    assert f"设置 {cell}（B 档下限）{zh}" in got and " / 设置 " + cell in got
    for result in (udfs.KPI_SCORE(ROLE, KEYS, ROWS, grid), udfs.KPI_PAY(ROLE, [[90]], [[SALARY]], None, None, grid),
                   udfs.KPI_EXPLAIN(ROLE, KEYS, ROWS, None, grid), udfs.KPI_ITEM(ROLE, ITEMS[0], [[1]], None, grid)):
        assert result == got  # the one sentence, for the whole call: nothing is paid
    if value is not None:  # the report's finding on the same book says the same
        path = edited_settings(books["plain"], tmp_path / "broken.xlsx", {"GRADE_grade_a_e_MIN_2": value})
        found = [d for d in validate_books(CATALOG, [path]) if d.severity == "error"]
        assert [d.cell for d in found] == [cell] and got == f"#KPI! {found[0].message}"


def test_thresholds_out_of_order(books):
    cells = settings_cells(books["plain"])
    grid = _grid(books["plain"])
    cell = cells["GRADE_grade_a_e_MIN_2"]
    grid[int(cell[1:]) - 1][ord(cell[0]) - ord("A")] = 97  # B ≥ 97 above A ≥ 96
    got = udfs.KPI_GRADE("grade_a_e", [[90]], grid)
    assert got.startswith(f"#KPI! 设置 {cell}：B 档下限 97 不低于 A 档下限 96"), got


def test_a_range_that_is_not_a_settings_sheet():
    got = udfs.KPI_GRADE("grade_a_e", [[90]], [["月份", "2026-10"], ["工作文件夹", ""]])
    assert got.startswith("#KPI! settings 应为考核工作簿的“设置”表") and "/ settings should be" in got


def test_a_settings_sheet_without_the_role(books):
    """A cs_specialist book's 设置 has no rows for qc_inspector's grade amounts."""
    got = udfs.KPI_PAY("qc_inspector", [[90]], None, None, None, _grid(books["plain"]))
    assert got.startswith("#KPI! 设置中没有薪酬参数") and "D 列应为 pay_grade_amount" in got, got


# --- where the cells are: found by the sheet's headings, the same as the defined names -------


def test_headings_find_every_defined_name_of_every_role(tmp_path):
    roster = pd.DataFrame([emp(f"E{k}", f"员工{k}", "部门", role) for k, role in enumerate(CATALOG.roles)])
    path = tmp_path / "all.xlsx"
    build_workbook(CATALOG, roster, MONTH, path)
    defined = settings_cells(path)
    contents = S.contents_of(_grid(path))
    assert S.holds_settings(contents)
    for role in CATALOG.roles.values():
        wanted = S.expected(CATALOG, [role])
        cells, diags = S.locate(contents, wanted, {})
        assert diags == [] and cells == {s.name: defined[s.name] for s in wanted}, role.id
    assert any("__" in s.key for r in CATALOG.roles.values() for s in S.expected(CATALOG, [r]))  # overrides


def test_contents_of_a_range_not_at_a1():
    assert S.contents_of([[1, None], ["x", 2.5]], origin=(3, 2)) == {"B3": 1, "B4": "x", "C4": 2.5}


# --- the caller's book (desktop xlwings) and the Lite script -----------------------------


def _caller(*sheets) -> StandinCaller:
    return StandinCaller(StandinBook(*sheets))


def test_caller_book_settings(books):
    edited = _caller(StandinSheet("考核表", [[None]]), StandinSheet("设置", _grid(books["edited"])))
    assert _by_functions(caller=edited) == _expected(EDITED)
    # a range given wins over the caller's book
    assert _by_functions(_grid(books["plain"]), caller=edited) == _expected(TEMPLATE)


def test_caller_book_without_scorecard_settings():
    """A book with no 设置, or the HR master's 设置 (no grade scheme): the templates' values."""
    assert _by_functions(caller=_caller(StandinSheet("名单", [[None]]))) == _expected(TEMPLATE)
    master = _caller(StandinSheet("设置", [["月份", "2026-10"], ["工作文件夹", None]]))
    assert _by_functions(caller=master) == _expected(TEMPLATE)


def test_caller_book_that_cannot_be_read():
    """Excel busy or the book gone: the cell says so; nothing raises."""
    class Gone:
        @property
        def sheet(self):
            raise OSError("the workbook is closed")

    got = udfs.KPI_GRADE("grade_a_e", [[90]], caller=Gone())
    assert got.startswith("#KPI! 内部错误 OSError：the workbook is closed"), got


def test_caller_settings_not_from_a1(books):
    """The used range starts below A1 (the title cleared): the cells keep their names."""
    grid = _grid(books["edited"])
    sheet = StandinSheet("设置", grid[2:], row=3)
    assert _by_functions(caller=_caller(sheet)) == _expected(EDITED)
    cell = settings_cells(books["plain"])["PAY_pay_base_pct_PCT"]
    broken = [list(r) for r in grid[2:]]
    broken[int(cell[1:]) - 3][ord(cell[0]) - ord("A")] = "12%"
    sheet = StandinSheet("设置", broken, row=3)
    got = udfs.KPI_PAY(ROLE, [[90]], [[SALARY]], caller=_caller(sheet))
    assert got.startswith(f"#KPI! 设置 {cell}（绩效工资：比例）是文本“12%”"), got


def test_lite_script_scores_by_the_books_settings(books):
    import importlib.util

    from kpi_workbook.excel import macros_dir

    spec = importlib.util.spec_from_file_location("kpi_lite_main_settings", macros_dir() / "lite" / "main.py")
    lite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lite)

    class LiteSettingsSheet(LiteSheet):
        """LiteSheet with the used range the script reads 设置 by."""

        @property
        def used_range(self):
            return StandinRange(self.cells["A1"])

    table = [["工号", "岗位", *KEYS[0]], *[[e, ROLE, *row] for e, row in zip(SCORES, ROWS)]]
    book = LiteBook(LiteSheet("数据", {"A1": table}), LiteSettingsSheet("设置", {"A1": _grid(books["edited"])}))
    lite.kpi_score_table(book)
    rows = book.sheets["结果"].cells["A1"]
    assert {r[0]: (r[4], r[5], r[6]) for r in rows[1:]} == _expected(EDITED)
    # the Lite function given the range agrees
    assert lite.KPI_SCORE(ROLE, KEYS, ROWS, _grid(books["edited"])) == \
        [[*_expected(EDITED)[e], "完成"] for e in SCORES]


# --- parsed once per distinct 设置 -------------------------------------------------------


def test_settings_parsed_once_per_content(books, monkeypatch):
    calls = []
    real = F.api.with_settings
    monkeypatch.setattr(F.api, "with_settings", lambda *a, **k: calls.append(1) or real(*a, **k))
    monkeypatch.setattr(F, "_PARSED", {})
    grid = _grid(books["edited"])
    for _ in range(1000):
        assert udfs.KPI_GRADE("grade_a_e", [[84]], [list(r) for r in grid]) == [["C"]]
    assert len(calls) == 1
    assert udfs.KPI_GRADE("grade_a_e", [[84]], _grid(books["plain"])) == [["B"]]  # new content
    assert len(calls) == 2


# --- fill: nothing it computes depends on 设置 -------------------------------------------


def test_fill_inputs_do_not_depend_on_settings():
    """fill writes inputs, checks their ranges and ranks the rank items: 设置 holds only grade
    thresholds and pay parameters, so with every one of them changed each role's inputs
    (keys, types, ranges, levels) and rank rules are the template's."""
    def shape(catalog, role_id):
        role = catalog.roles[role_id]
        return ([(s.key, s.owner, s.input, s.rater, s.levels) for s in input_specs(role, catalog.role_pay_rules(role))],
                [(it.id, it.rule) for _, it in role.items()], role.exclude_if)

    for role in CATALOG.roles.values():
        wanted = S.expected(CATALOG, [role])
        edits = {s.target: float(s.template) * 2 + 1 for s in wanted if s.target[0] != "name"}
        changed = S.apply(CATALOG, edits)
        assert changed is not CATALOG and shape(changed, role.id) == shape(CATALOG, role.id), role.id
