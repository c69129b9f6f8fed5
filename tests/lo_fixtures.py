"""The ``soffice`` fixture for tests that recalculate workbooks with LibreOffice.

Use it with ``from .lo_fixtures import soffice  # noqa: F401`` and a ``soffice`` argument.
Without LibreOffice the test is skipped locally but FAILS in CI (``CI`` env var set to
anything but "", "0", "false" or "no"): a parity test that silently skips proves nothing.
"""

from __future__ import annotations

import os

import pytest

from kpi_workbook.workbook.libreoffice import find_soffice


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def soffice() -> str:
    """Path of the soffice executable; skip (locally) or fail (in CI) when absent."""
    path = find_soffice()
    if path is None:
        message = "LibreOffice (soffice) is not installed; it is required to recalculate workbooks"
        if in_ci():
            pytest.fail(message + " (CI is set, so this is an error, not a skip)", pytrace=False)
        pytest.skip(message)
    return path
