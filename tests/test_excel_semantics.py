"""Every type and rounding rule the generated formulas rely on, run on three engines.

One line of docs/excel-semantics.md is one RULE here (same id). A tiny workbook holds
the typed values below and one formula per rule (a logical is shown through
IF(…,"yes","no"), so no engine's way of saving logicals matters); LibreOffice (forced
recalculation), Gnumeric and the `formulas` package recalculate it, and each result must be
the one Excel documents. The formulas are written with a deliberately wrong cached value,
so a result only passes if the engine really computed it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import xlsxwriter

from kpi_workbook.kinds.base import is_yes, not_yes_no
from kpi_workbook.workbook import recalc

from . import background
from .engines import ENGINES, require_engines

# Column A of sheet "data": what a supervisor may leave in an input cell.
DATA = {
    "A1": None,            # empty
    "A2": "38%",           # a percent pasted as text
    "A3": "=\"\"",         # a formula whose result is "" (an item not scored yet)
    "A4": -1,              # a negative count
    "A5": 3,               # a count
    "A6": "１６．５％",      # full-width text
    "A7": 1.5,             # not a whole number
    "A8": "优秀",          # a level
    "A9": "=NA()",         # an error value
    "A10": 0,              # zero
    "A11": "y",            # yes, in lower case
    "A12": "√",            # yes, ticked
    "A13": "x",            # a look-alike of ×: no answer
    "A14": "1",            # yes, as the text a yes/no cell (formatted as text) keeps
    "A15": True,           # a logical pasted into a yes/no cell
}
YES, NO = "yes", "no"


def yn(cond: str) -> str:
    return f'IF({cond},"{YES}","{NO}")'


# (id, formula, Excel's result). Ids match the lines of docs/excel-semantics.md.
RULES = [
    # conditions made numbers before they are added or compared (the status formula)
    ("cond-times-one", '(data!A1="")*1+(data!A5="")*1', 1.0),
    ("cond-times-one-compared", yn('(data!A1="")*1=1'), YES),
    ("and-times-one", 'AND(data!A1="",data!A10="")*1', 0.0),
    # empty cells and "" results
    ("empty-equals-empty-text", yn('data!A1=""'), YES),
    ("zero-is-not-empty", yn('data!A10=""'), NO),
    ("empty-text-result-equals-empty-text", yn('data!A3=""'), YES),
    ("empty-is-zero-in-arithmetic", "data!A1*2+1", 1.0),
    ("empty-compares-as-zero", yn("data!A1<1"), YES),
    ("sum-skips-text-and-empty-results", "SUM(data!A1,data!A3,data!A5,data!A4)", 2.0),
    ("sum-of-range-skips-text", "SUM(data!A1:A8)", 3.5),  # -1 + 3 + 1.5 (A10 is outside)
    # types tested before values are used (bad inputs)
    ("istext-of-percent-text", yn("ISTEXT(data!A2)"), YES),
    ("istext-of-fullwidth-text", yn("ISTEXT(data!A6)"), YES),
    ("istext-of-number-empty-error", yn("OR(ISTEXT(data!A5),ISTEXT(data!A1),ISTEXT(data!A9))"), NO),
    ("isnumber-of-text-empty", yn("OR(ISNUMBER(data!A2),ISNUMBER(data!A1),ISNUMBER(data!A3))"), NO),
    ("isnumber-of-number", yn("AND(ISNUMBER(data!A5),ISNUMBER(data!A4),ISNUMBER(data!A10))"), YES),
    ("guarded-range-check-negative", yn("IF(ISNUMBER(data!A4),data!A4<0,ISTEXT(data!A4))"), YES),
    ("guarded-range-check-text", yn("IF(ISNUMBER(data!A2),data!A2<0,ISTEXT(data!A2))"), YES),
    ("guarded-range-check-empty", yn("IF(ISNUMBER(data!A1),data!A1<1,ISTEXT(data!A1))"), NO),
    ("guarded-whole-check", yn("IF(ISNUMBER(data!A7),data!A7<>INT(data!A7),FALSE)"), YES),
    ("text-sorts-above-numbers", yn("data!A2>=0.35"), YES),
    ("text-equals-text", yn('data!A8="优秀"'), YES),
    ("yes-no-check", yn(f'OR({not_yes_no("data!A5")},{not_yes_no("data!A13")},{not_yes_no("data!A15")})'),
     YES),  # 3, "x", TRUE: not an answer
    ("yes-no-check-empty", yn(not_yes_no("data!A1")), NO),
    ("yes-no-check-answers", yn(f'OR({not_yes_no("data!A11")},{not_yes_no("data!A12")},{not_yes_no("data!A14")})'),
     NO),
    ("text-compare-ignores-case", yn('data!A11="Y"'), YES),
    ("yes-no-answer", yn(f"AND({is_yes('data!A11')},{is_yes('data!A12')},{is_yes('data!A14')})"), YES),
    ("yes-no-logical-is-no-answer", yn(is_yes("data!A15")), NO),
    ("number-never-equals-text", yn('data!A5="3"'), NO),
    ("iserror-catches-na", yn("ISERROR(data!A9)"), YES),
    ("iserror-catches-div0", yn("ISERROR(1/data!A10)"), YES),
    ("error-propagates", yn("ISERROR(data!A9*0+1)"), YES),
    # names and rounding
    ("name-on-settings-sheet", "THRESHOLD*2", 160.0),
    ("round-half-away-from-zero", "ROUND(2.5,0)+ROUND(-2.5,0)*10", 3.0 - 30.0),
    ("round-at-15-digits", "ROUND(2.675,2)", 2.68),
    ("round-of-round-cleans-noise", "ROUND(ROUND(0.285*100,9),0)", 29.0),
    ("round-money", "ROUND(ROUND(4137*0.1*83/100,9),2)", 343.37),  # 413.7 × 83 / 100 = 343.371
    ("round-half-cent", "ROUND(ROUND(60.18*0.25/3,9),2)", 5.02),  # 5.015 is 5.01499… in binary
    ("min-max-floor-cap", "MIN(MAX(-3,0),20)+MIN(MAX(25,0),20)", 20.0),
]

STALE = "stale"  # the cached value every formula is written with


@background.job("semantics")
def _semantics(root: Path):
    """The rules' book, recalculated by every engine (in the session's background process)."""
    path = root / "semantics.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    data = wb.add_worksheet("data")
    for ref, value in DATA.items():
        if isinstance(value, str) and value.startswith("="):
            data.write_formula(ref, value, None, STALE)
        elif isinstance(value, str):
            data.write_string(ref, value)
        elif isinstance(value, bool):
            data.write_boolean(ref, value)
        elif value is not None:
            data.write_number(ref, value)
    settings = wb.add_worksheet("设置")
    settings.write_number("B2", 80)
    wb.define_name("THRESHOLD", "='设置'!$B$2")
    rules = wb.add_worksheet("rules")
    for row, (rule_id, formula, _) in enumerate(RULES):
        rules.write_string(row, 0, rule_id)
        rules.write_formula(row, 1, "=" + formula, None, STALE)
    wb.close()
    return recalc.recalculate_all(path, root / "out")


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    require_engines()
    return background.result("semantics", tmp_path_factory)


def test_every_rule_is_in_the_doc():
    doc = (Path(__file__).parent.parent / "docs" / "excel-semantics.md").read_text(encoding="utf-8")
    missing = [r for r, _, _ in RULES if f"`{r}`" not in doc]
    assert not missing, missing


@pytest.mark.parametrize("engine", ENGINES)
def test_every_rule_holds(results, engine):
    wrong = []
    for row, (rule_id, formula, want) in enumerate(RULES, start=1):
        got = recalc.lookup(results[engine], "rules", f"B{row}")
        if not recalc.same(got, want):
            wrong.append((rule_id, formula, got, want))
    assert not wrong, "\n".join(map(str, wrong))


# Departures: where at least one engine differs from Excel. The formulas never rely on
# these; the test documents why (and fails, to be looked at, if every engine converges).
DEPARTURES = [
    ("lone-logical-equals-zero", yn('(data!A1="")=1'), NO),  # Excel: TRUE=1 is FALSE; LO: TRUE
    ("text-times-one", "IF(ISERROR(data!A2*1),-1,data!A2*1)", 0.38),  # formulas: #VALUE!
    ("fullwidth-equals-halfwidth", yn('data!A3="Y"'), NO),  # Gnumeric: "Ｙ"="Y" is TRUE
    ("isnumber-of-logical", yn("ISNUMBER(data!A4)"), NO),  # LibreOffice: a logical is a number
]


@background.job("departures")
def _departures(root: Path):
    path = root / "departures.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    data = wb.add_worksheet("data")
    data.write_string("A2", DATA["A2"])
    data.write_string("A3", "Ｙ")  # full-width
    data.write_boolean("A4", True)
    rules = wb.add_worksheet("rules")
    for row, (rule_id, formula, _) in enumerate(DEPARTURES):
        rules.write_string(row, 0, rule_id)
        rules.write_formula(row, 1, "=" + formula, None, STALE)
    wb.close()
    return recalc.recalculate_all(path, root / "out")


@pytest.fixture(scope="module")
def departures(tmp_path_factory):
    require_engines()
    return background.result("departures", tmp_path_factory)


def test_each_departure_is_real_on_some_engine(departures):
    for row, (rule_id, _, excel) in enumerate(DEPARTURES, start=1):
        got = {e: recalc.lookup(departures[e], "rules", f"B{row}") for e in ENGINES}
        assert all(v != STALE for v in got.values()), got  # each engine computed it
        assert any(not recalc.same(v, excel) for v in got.values()), (rule_id, got)


ALLOWED = {"IF", "AND", "OR", "MIN", "MAX", "SUM", "ROUND", "INT", "ISERROR", "ISNUMBER",
           "ISTEXT", "NA"}


def test_generated_formulas_use_only_the_listed_functions():
    """Every formula of every role's scorecard calls only the functions the doc lists, and
    never `--x` or `N(x)` (they stay logicals in `formulas`)."""
    import re

    from kpi_workbook.rules.loader import builtin_catalog
    from kpi_workbook.workbook.scorecard.formulas import sheet_formulas
    from kpi_workbook.workbook.scorecard.layout import sheet_layout

    doc = (Path(__file__).parent.parent / "docs" / "excel-semantics.md").read_text(encoding="utf-8")
    listed = doc.split("Functions used:", 1)[1].split("—", 1)[0]
    assert set(re.findall(r"[A-Z]+", listed)) == ALLOWED
    catalog = builtin_catalog()
    used: set[str] = set()
    for role in catalog.roles.values():
        for ref, formula in sheet_formulas(catalog, sheet_layout(catalog, role)).items():
            code = re.sub(r'"(?:[^"]|"")*"', '""', formula)  # string literals out
            used |= set(re.findall(r"\b([A-Z][A-Z0-9.]*)\(", code))
            assert "--" not in code and not re.search(r"\bN\(", code), (role.id, ref, formula)
    assert used <= ALLOWED, used - ALLOWED
    assert {"ISTEXT", "ISNUMBER", "INT"} <= used  # the type checks are really there
