"""The ``soffice`` fixture for tests that recalculate workbooks with LibreOffice.

Use it with ``from .lo_fixtures import soffice  # noqa: F401`` and a ``soffice`` argument.
Without LibreOffice the test FAILS, locally and in CI: a parity test that skips proves
nothing. ``bash .ci/test`` installs LibreOffice, Gnumeric and the test extras when missing.
"""

from __future__ import annotations

import os

import pytest

from kpi_workbook.workbook.libreoffice import find_soffice


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def soffice() -> str:
    """Path of the soffice executable; the test fails when it is absent (never skips)."""
    path = find_soffice()
    if path is None:
        pytest.fail("LibreOffice (soffice) is not installed; it is required to recalculate "
                    "workbooks: run `bash .ci/test`", pytrace=False)
    return path
