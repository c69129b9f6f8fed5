"""One month of scorecards of every role, recalculated once per session by three engines.

The parity tests (test_workbook_parity.py) and the UDF comparison (test_excel_udfs.py)
share it: the edge cases of every role (workbook_cases.edge_cases) and a new card of
each role drawn by hypothesis (strategies.role_inputs, derandomized; the recalculation by
`formulas` costs about 0.2 CPU-second a card) are built into ONE workbook with `new`,
filled with `fill`, and recalculated by LibreOffice, Gnumeric and the `formulas` package
(kpi_workbook.workbook.recalc runs them, all at once). The engine's expected results are
computed per role over all of that role's cards, as the month is scored (ranks included).

A missing engine fails the test that asks for it, never skips: a parity test that does not
run proves nothing. ``bash .ci/test`` installs all three.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from kpi_workbook.rules.loader import builtin_catalog
from kpi_workbook.workbook import recalc
from kpi_workbook.workbook.scorecard.build import build_workbook
from kpi_workbook.workbook.scorecard.fill import fill_workbooks
from kpi_workbook.workbook.scorecard.layout import sheet_layout

from . import background
from .strategies import role_inputs
from .workbook_cases import edge_cases, employee_for, engine_results, fill_rows

CATALOG = builtin_catalog()
ROLES = sorted(CATALOG.roles)
ENGINES = recalc.ENGINES
# cards hypothesis adds to each role's edge cases, each a new one: one, so that every role ×
# kind (edge, generated) × engine is recalculated (test_workbook_parity proves each pair:
# test_the_book_holds_edge_cases_and_generated_cards_of_every_role the role × kind,
# test_every_card_of_every_role[engine] every card on each engine); three cost the job 36
# more cards (~17 % of its CPU, the session's long pole) and covered no pair more
GENERATED_PER_ROLE = 1
DRAWN_EXAMPLES = 8  # hypothesis examples they are taken from; each draws one card of every role


def require_engines(engines=ENGINES) -> None:
    """Fail (never skip) when a spreadsheet engine is not installed."""
    missing = recalc.missing_engines(engines)
    if missing:
        pytest.fail(f"spreadsheet engine(s) not installed: {', '.join(missing)}; run "
                    "`bash .ci/test` (installs LibreOffice, Gnumeric and the test extras)",
                    pytrace=False)


def generated_cards(edges: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """Cards drawn by hypothesis, the same every run: {role id: [inputs]}, the first
    GENERATED_PER_ROLE of each role's draws that are none of its edge cards (``edges``) and
    not drawn before (a card the book holds already would prove nothing new: hypothesis's
    first, simplest example often is the empty card)."""
    drawn: list[dict[str, dict]] = []

    @settings(max_examples=DRAWN_EXAMPLES, derandomize=True, database=None,
              phases=[Phase.generate], deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def collect(data):
        drawn.append({r: data.draw(role_inputs(CATALOG.roles[r],
                                               CATALOG.role_pay_rules(CATALOG.roles[r])), label=r)
                      for r in ROLES})

    collect()
    kept: dict[str, list[dict]] = {r: [] for r in ROLES}
    for example in drawn:
        for role_id, card in example.items():
            if len(kept[role_id]) < GENERATED_PER_ROLE and card not in edges[role_id] \
                    and card not in kept[role_id]:
                kept[role_id].append(card)
    short = [r for r, cards in kept.items() if len(cards) < GENERATED_PER_ROLE]
    assert not short, f"fewer than {GENERATED_PER_ROLE} new cards drawn for {short}"
    return kept


@dataclass
class MonthBook:
    path: Path
    people: list[dict]
    cards: list[dict]
    kinds: dict[str, str]  # employee id → "edge" or "generated"
    expected: dict[str, dict]  # employee id → the engine's result row
    names: dict[str, dict[str, str]]  # sheet → {defined name: cell}
    values: dict[str, recalc.Values] = field(default_factory=dict)  # engine → cell values

    def named(self, engine: str) -> dict[str, dict[str, object]]:
        """{sheet: {name: value}} of the scorecard sheets, as ``engine`` computed them."""
        got = recalc.by_name(self.values[engine], self.names)
        return {s: n for s, n in got.items() if "KPI_EMPLOYEE_ID" in n}


def _distinct(cards: list[dict]) -> list[dict]:
    """The cards without repeats: a role with one required input has a half-filled card
    that is the empty one, a role of levels only a variant card that is its full card."""
    out: list[dict] = []
    for card in cards:
        if card not in out:
            out.append(card)
    return out


def _build(root: Path) -> MonthBook:
    edges = {r: _distinct(edge_cases(CATALOG, CATALOG.roles[r])) for r in ROLES}
    drawn = generated_cards(edges)
    groups: dict[str, list[tuple[dict, str]]] = {
        r: [(c, "edge") for c in edges[r]] + [(c, "generated") for c in drawn[r]] for r in ROLES}
    people, cards, kinds, expected = [], [], {}, {}
    k = 0
    for role_id in ROLES:
        role = CATALOG.roles[role_id]
        group_people = []
        for card, kind in groups[role_id]:
            k += 1
            person = employee_for(role, k)
            group_people.append(person)
            kinds[person["employee_id"]] = kind
        group_cards = [c for c, _ in groups[role_id]]
        frame = engine_results(CATALOG, role, group_people, group_cards)
        for person, row in zip(group_people, frame.to_dict("records")):
            expected[person["employee_id"]] = row
        people += group_people
        cards += group_cards
    root.mkdir(parents=True, exist_ok=True)
    book = root / "month.xlsx"
    build_workbook(CATALOG, pd.DataFrame(people), "2026-10", book)
    result = fill_workbooks(CATALOG, [book], fill_rows(people, cards))
    assert result.diagnostics == [], result.diagnostics[:5]
    month = MonthBook(book, people, cards, kinds, expected, recalc.defined_cells(book))
    month.values = recalc.recalculate_all(book, root / "recalculated")
    return month


@background.job("month-book", slow=True)
def _build_month_book(root: Path) -> MonthBook:
    return _build(root)


def month_book(tmp_path_factory) -> MonthBook:
    """The session's month book: built and recalculated once, in the child process of
    tests/background.py when the session started it (it does when a collected module
    imports month_book), else here on first use."""
    require_engines()
    return background.result("month-book", tmp_path_factory)


month_book.background_jobs = ("month-book",)  # a module that imports it needs the job


# ---------------------------------------------------------------------------------------
# Comparing a sheet with the engine.

STATUS = {"完成": "complete", "未完成": "incomplete", "错误": "error"}


def blank(value) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _agree(got, want) -> bool:
    if blank(want):
        return blank(got)
    if isinstance(want, (int, float)) and not isinstance(want, bool):
        return isinstance(got, float) and math.isclose(got, float(want), rel_tol=0, abs_tol=1e-9)
    return got == want


def sheet_mismatches(month: MonthBook, engine: str) -> tuple[int, list]:
    """(cards compared, mismatches) of one engine's results against the engine's."""
    compared, mismatches = 0, []
    for sheet, names in month.named(engine).items():
        row = month.expected[names["KPI_EMPLOYEE_ID"]]
        role = CATALOG.roles[row["role"]]
        layout = sheet_layout(CATALOG, role)
        got = {"total": names["KPI_TOTAL"], "grade": names["KPI_GRADE"], "pay": names["KPI_PAY"],
               "status": STATUS.get(names["KPI_STATUS"], names["KPI_STATUS"])}
        want = {"total": row["total"], "grade": row["grade"] if row["complete"] else None,
                "pay": row["pay.total"], "status": row["status"]}
        for block in layout.blocks:
            key = f"points.{block.item.id}"
            got[key] = recalc.lookup(month.values[engine], sheet, layout.points_cell(block))
            want[key] = row[key]
        bad = {k: (got[k], want[k]) for k in want if not _agree(got[k], want[k])}
        if bad:
            mismatches.append((engine, sheet, row["role"], bad))
        compared += 1
    return compared, mismatches
