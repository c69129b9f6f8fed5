"""The workbook's native formulas give the engine's numbers, on three spreadsheet engines.

For every role: its edge cases and cards drawn by hypothesis are built (`new`), filled
(`fill`) and recalculated by LibreOffice (forced recalculation), Gnumeric and the `formulas`
package, once per session (tests/engines.py). KPI_TOTAL, KPI_GRADE, KPI_PAY, KPI_STATUS and
every item's points must equal the engine's on every engine: any engine that disagrees
fails, whichever one is "right" (each departs from Excel somewhere else; a formula all three
agree on is in the part of the language they share with Excel).
"""

from __future__ import annotations

import pytest

from .engines import (CATALOG, ENGINES, GENERATED_PER_ROLE, ROLES, blank, month_book,
                      sheet_mismatches)


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    return month_book(tmp_path_factory)


@pytest.mark.parametrize("engine", ENGINES)
def test_every_card_of_every_role(month, engine):
    compared, mismatches = sheet_mismatches(month, engine)
    assert not mismatches, f"{len(mismatches)} card(s) differ:\n" + "\n".join(
        map(str, mismatches[:10]))
    assert compared == len(month.people)


def test_the_book_holds_edge_cases_and_generated_cards_of_every_role(month):
    roles = {(p["role"], month.kinds[p["employee_id"]]) for p in month.people}
    assert roles == {(r, kind) for r in ROLES for kind in ("edge", "generated")}
    generated = [p["role"] for p in month.people if month.kinds[p["employee_id"]] == "generated"]
    assert sorted(generated) == sorted(ROLES * GENERATED_PER_ROLE)
    edge = sum(1 for k in month.kinds.values() if k == "edge")
    assert edge > 5 * len(ROLES)
    statuses = {row["status"] for row in month.expected.values()}
    assert {"complete", "incomplete"} <= statuses  # both sides of the status formula


@pytest.mark.parametrize("role_id", ["qc_inspector", "qc_iqc", "qc_event_ledger"])
def test_single_required_input_card_is_complete_with_grade_and_pay(month, role_id):
    """A card with one required input: its status formula has one empty test. In Excel a
    lone logical compared with 0 is never equal, so `((G6=""))=0` kept such cards 未完成
    forever (LibreOffice converts and hid it). Complete means 完成, a grade and a pay on
    every engine."""
    from kpi_workbook.kinds.inputs import input_specs

    role = CATALOG.roles[role_id]
    required = [s for s in input_specs(role, CATALOG.role_pay_rules(role))
                if s.input.required or s.rater]
    assert len(required) == 1, [s.key for s in required]  # the case this test is about
    complete = {e for e, row in month.expected.items() if row["role"] == role_id and row["complete"]}
    assert complete
    for engine in ENGINES:
        seen = 0
        for names in month.named(engine).values():
            if names["KPI_EMPLOYEE_ID"] not in complete:
                continue
            seen += 1
            assert names["KPI_STATUS"] == "完成", (engine, names["KPI_EMPLOYEE_ID"])
            assert not blank(names["KPI_GRADE"]) and isinstance(names["KPI_PAY"], float), \
                (engine, names["KPI_EMPLOYEE_ID"], names["KPI_GRADE"], names["KPI_PAY"])
        assert seen == len(complete), engine
