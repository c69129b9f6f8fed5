"""Shared fixtures: the shipped template catalog and a one-call scorer."""

from __future__ import annotations

import contextlib
import io

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


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """`kpi-workbook demo --out DIR` run once, in-process: (exit code, stdout, stderr, DIR).
    Shared by the tests that read what the demo wrote (test_report, test_payroll_trust);
    none of them writes into DIR."""
    from kpi_workbook.cli import main

    out = tmp_path_factory.mktemp("demo") / "demo"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["demo", "--out", str(out)])
    assert "Traceback" not in stderr.getvalue(), stderr.getvalue()
    return code, stdout.getvalue(), stderr.getvalue(), out


# ---------------------------------------------------------------------------------------
# The month book (tests/engines.py) is built and recalculated by three engines in a child
# process from the start of the session, while the other tests run; the modules that use
# it run last, so that they rarely wait for it. Each test still sees the same book.


def pytest_collection_modifyitems(session, config, items):
    from .engines import uses_month_book

    # whole modules move (stable sort), so module-scoped fixtures are still set up once
    items.sort(key=uses_month_book)


@pytest.fixture(scope="session", autouse=True)
def _month_book_in_background(request, tmp_path_factory):
    from .engines import start_month_book, stop_month_book, uses_month_book

    if any(uses_month_book(item) for item in request.session.items):
        start_month_book(tmp_path_factory)
    yield
    stop_month_book()
