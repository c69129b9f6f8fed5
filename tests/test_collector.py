"""The garbage collector is paced for a batch while a report runs (workbook/collector.py),
and put back as it was after it, also when the report fails."""

from __future__ import annotations

import gc

import pytest

from kpi_workbook.diagnostics import KpiError
from kpi_workbook.workbook import collector
from kpi_workbook.workbook.month.monthly import run_report


@pytest.fixture
def default_thresholds():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # CPython's defaults
    yield
    gc.set_threshold(*before)


def test_a_report_runs_with_fewer_collections_and_puts_them_back(default_thresholds, catalog, demo_run,
                                                                 tmp_path):
    _, _, _, out = demo_run
    seen = []
    result = run_report(catalog, [out / "2026-10" / "scorecards.xlsx"], tmp_path / "report.xlsx",
                        step=lambda n, text: seen.append(gc.get_threshold()))
    assert len(result.data.summary) > 40 and seen  # the demo's 47 cards, read while paced
    assert {t[0] for t in seen} == {collector.BATCH_THRESHOLD} and {t[1:] for t in seen} == {(10, 10)}
    assert gc.get_threshold() == (700, 10, 10)


def test_the_thresholds_come_back_when_the_report_fails(default_thresholds, catalog, tmp_path):
    with pytest.raises(KpiError):
        run_report(catalog, [tmp_path], tmp_path / "report.xlsx")  # a folder with no books
    assert gc.get_threshold() == (700, 10, 10)


def test_a_batch_inside_a_batch_restores_the_outer_one(default_thresholds):
    with collector.batch():
        gc.set_threshold(200_000, 5, 5)  # a caller's own pacing, kept
        with collector.batch():
            assert gc.get_threshold() == (200_000, 5, 5)
        assert gc.get_threshold() == (200_000, 5, 5)
    assert gc.get_threshold() == (700, 10, 10)
