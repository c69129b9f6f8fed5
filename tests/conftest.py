"""Shared fixtures: the shipped template catalog and a one-call scorer."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from hypothesis import settings

from kpi_workbook.engine.api import score_card
from kpi_workbook.rules.loader import builtin_catalog

# No timings in tests: hypothesis's default 200 ms deadline per example is one, and on a
# loaded machine (two xdist workers beside the background jobs' LibreOffice) an example of
# test_numbers took 615 ms once and failed the suite as "flaky". Every test without a
# deadline of its own runs under this profile (the modules' @settings inherit it).
settings.register_profile("kpi-workbook", deadline=None)
settings.load_profile("kpi-workbook")


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
    none of them writes into DIR. Under pytest-xdist the first worker runs it for all
    (tests/background.py ``once``)."""
    from .background import once

    def run(folder: Path):
        from kpi_workbook.cli import main

        out = folder / "demo"
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main(["demo", "--out", str(out)])
        assert "Traceback" not in stderr.getvalue(), stderr.getvalue()
        return code, stdout.getvalue(), stderr.getvalue(), out

    return once("demo", tmp_path_factory, run)


# ---------------------------------------------------------------------------------------
# Fixture work done in child processes from the session's start (tests/background.py): the
# month book (tests/engines.py), the smaller recalculated books, the tiny bench run; the
# modules that use them run last, so that they rarely wait. Each is still done once.


def pytest_collection_modifyitems(session, config, items):
    from . import background

    # the modules with jobs last, the month book's at the very end; whole modules move
    # (a stable sort), so module-scoped fixtures are still set up once
    items.sort(key=background.order)
    folder = getattr(config, "workerinput", {}).get("fixture_jobs")
    if folder:  # a pytest-xdist worker: the controller starts the jobs its list names
        from kpi_workbook.workbook import recalc

        background.share(Path(folder))
        background.write_needed(Path(folder), config.workerinput["workerid"],
                                [] if recalc.missing_engines() else background.needed(items))


# Under pytest-xdist (`-n 2`, .ci/test) the controller starts the jobs, once for all workers
# (tests/background.py): it hands each worker a folder, and starts the jobs the first worker
# to finish collecting lists, before any test is handed out.


def _jobs_folder(config) -> Path:
    if not hasattr(config, "_fixture_jobs_folder"):
        config._fixture_jobs_folder = config._tmp_path_factory.mktemp("fixture-jobs")
    return config._fixture_jobs_folder


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    node.workerinput["fixture_jobs"] = str(_jobs_folder(node.config))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids):
    from . import background

    if not getattr(node.config, "_fixture_jobs_started", False):
        node.config._fixture_jobs_started = True
        background.start_shared(_jobs_folder(node.config), node.workerinput["workerid"])


def pytest_unconfigure(config):
    if getattr(config, "_fixture_jobs_started", False):
        from .background import stop

        stop()


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
    if jobs and not background._SHARED and not recalc.missing_engines():  # else the fixtures run inline, fail as before
        background.start(jobs, tmp_path_factory)
    yield
    background.stop()
