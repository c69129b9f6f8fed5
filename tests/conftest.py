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
# Fixture work done in child processes from the session's start (tests/background.py): the
# month book (tests/engines.py), the smaller recalculated books, the tiny bench run; the
# modules that use them run last, so that they rarely wait. Each is still done once.


def pytest_collection_modifyitems(session, config, items):
    from .background import order

    # the modules with jobs last, the month book's at the very end; whole modules move
    # (a stable sort), so module-scoped fixtures are still set up once
    items.sort(key=order)


def pytest_terminal_summary(terminalreporter):
    from .background import timings

    lines = timings()
    if lines:
        terminalreporter.section("fixture jobs in the background (tests/background.py)")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session", autouse=True)
def _fixture_jobs_in_background(request, tmp_path_factory):
    from kpi_workbook.workbook import recalc

    from . import background

    jobs = background.needed(request.session.items)
    if jobs and not recalc.missing_engines():  # else the fixtures run inline, fail as before
        background.start(jobs, tmp_path_factory)
    yield
    background.stop()
