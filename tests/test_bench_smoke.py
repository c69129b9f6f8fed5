"""The benchmark runs end to end at a tiny size, so it never rots (no timing asserted)."""

import subprocess
import sys
from pathlib import Path

import pytest

from . import background
from .lo_fixtures import soffice  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]


@background.job("bench-tiny")
def _bench_tiny(work: Path) -> tuple[subprocess.CompletedProcess, Path]:
    """The bench's own process, run in the session's background process (tests/background.py)."""
    done = subprocess.run([sys.executable, "-m", "bench.run", "--tiny", "--runs", "1",
                           "--work", str(work), "--out", str(work / "RESULTS.md")],
                          cwd=ROOT, capture_output=True, text=True, check=False, timeout=600)
    return done, work


@pytest.fixture(scope="module")
def bench(tmp_path_factory, soffice):  # noqa: F811
    return background.result("bench-tiny", tmp_path_factory)


def test_bench_runs_at_tiny_size(bench):
    done, tmp_path = bench
    assert done.returncode == 0, done.stderr[-2000:]
    for step in ("import_pandas", "roles_cli", "catalog_load",
                 "new", "fill", "report", "payroll", "openpyxl_load", "calamine_read",
                 "fastexcel_read", "new_split", "fill_split", "report_split", "calamine_split",
                 "fastexcel_split", "engine_rows"):
        assert f"| {step} |" in done.stdout, step
    assert "`kpi-workbook roles` ÷ `python -c \"import pandas\"`" in done.stdout
    assert "report of the one book ÷ python-calamine reading it" in done.stdout
    assert "report of the department books ÷ python-calamine reading them" in done.stdout
    assert (tmp_path / "one" / "report.xlsx").is_file()
    assert not (tmp_path / "RESULTS.md").exists()  # a tiny run never overwrites the results
