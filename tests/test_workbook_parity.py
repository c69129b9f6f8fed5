"""The workbook's native formulas give the engine's numbers, recalculated by LibreOffice.

For every role: workbooks are built (`new`), filled through `fill` with edge cases and
generated inputs, recalculated by a real LibreOffice with forced recalculation, and
KPI_TOTAL, KPI_GRADE, KPI_PAY and KPI_STATUS are compared with the engine's result.
"""

from __future__ import annotations

import math

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi_workbook.rules.loader import builtin_catalog
from kpi_workbook.workbook.build import build_workbook
from kpi_workbook.workbook.fill import fill_workbooks
from kpi_workbook.workbook.libreoffice import read_defined_values, recalculate

from .lo_fixtures import soffice  # noqa: F401  (fails in CI when LibreOffice is missing)
from .strategies import role_inputs
from .workbook_cases import edge_cases, employee_for, engine_results, fill_rows

CATALOG = builtin_catalog()
ROLES = sorted(CATALOG.roles)
STATUS = {"完成": "complete", "未完成": "incomplete"}


def _blank(value) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def check_parity(tmp_path, cards_by_role: dict[str, list[dict]]) -> int:
    """Build, fill, recalculate and compare; returns how many scorecards were compared."""
    employees, expected = [], {}
    k = 0
    for role_id, cards in cards_by_role.items():
        role = CATALOG.roles[role_id]
        people = []
        for _ in cards:
            k += 1
            people.append(employee_for(role, k))
        frame = engine_results(CATALOG, role, people, cards)
        for person, (_, row) in zip(people, frame.iterrows()):
            expected[person["employee_id"]] = row
        employees += [(p, c) for p, c in zip(people, cards)]
    roster = pd.DataFrame([p for p, _ in employees])
    book = tmp_path / "book.xlsx"
    build_workbook(CATALOG, roster, "2026-10", book)
    result = fill_workbooks(CATALOG, [book], fill_rows([p for p, _ in employees],
                                                       [c for _, c in employees]))
    assert result.diagnostics == []
    (recalculated,) = recalculate([book], tmp_path / "lo")
    sheets = read_defined_values(recalculated)
    compared = 0
    mismatches = []
    for sheet, names in sheets.items():
        if "KPI_EMPLOYEE_ID" not in names:
            continue
        row = expected[names["KPI_EMPLOYEE_ID"]]
        got = {"total": names["KPI_TOTAL"], "grade": names["KPI_GRADE"],
               "pay": names["KPI_PAY"], "status": STATUS.get(names["KPI_STATUS"], names["KPI_STATUS"])}
        want = {"total": float(row["total"]), "grade": None if _blank(row["grade"]) else row["grade"],
                "pay": None if math.isnan(row["pay.total"]) else float(row["pay.total"]),
                "status": row["status"]}
        same = (got["total"] == want["total"] and got["status"] == want["status"]
                and (_blank(got["grade"]) and want["grade"] is None or got["grade"] == want["grade"])
                and (_blank(got["pay"]) and want["pay"] is None or got["pay"] == want["pay"]))
        if not same:
            mismatches.append((sheet, row["role"], got, want))
        compared += 1
    assert not mismatches, "\n".join(map(str, mismatches[:10]))
    return compared


def test_edge_cases_of_every_role(tmp_path, soffice):  # noqa: F811
    cards = {role_id: edge_cases(CATALOG, CATALOG.roles[role_id]) for role_id in ROLES}
    compared = check_parity(tmp_path, cards)
    assert compared == sum(len(c) for c in cards.values()) and compared > len(ROLES) * 5


@st.composite
def month_of_cards(draw):
    return {role_id: draw(st.lists(role_inputs(CATALOG.roles[role_id],
                                               CATALOG.role_pay_rules(CATALOG.roles[role_id])),
                                   min_size=3, max_size=3))
            for role_id in ROLES}


@settings(max_examples=3, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(cards=month_of_cards())
def test_generated_cards_of_every_role(tmp_path_factory, soffice, cards):  # noqa: F811
    assert check_parity(tmp_path_factory.mktemp("parity"), cards) == 3 * len(ROLES)
