"""Shared fixtures: the shipped template catalog and a one-call scorer."""

from __future__ import annotations

import pytest

from kpi_workbook.engine.api import score_card
from kpi_workbook.rules.loader import builtin_catalog


@pytest.fixture(scope="session")
def catalog():
    return builtin_catalog()


@pytest.fixture(scope="session")
def score(catalog):
    """score(role_id, inputs, employee=None) -> the JSON result of `kpi-workbook score`."""

    def _score(role_id: str, inputs: dict, employee: dict | None = None) -> dict:
        return score_card(catalog, role_id, {"month": "2026-10", "employee": employee or {},
                                             "inputs": inputs})

    return _score
