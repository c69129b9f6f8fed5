"""The benchmark runs end to end at a tiny size, so it never rots (no timing asserted)."""

import subprocess
import sys
from pathlib import Path

from .lo_fixtures import soffice  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]


def test_bench_runs_at_tiny_size(tmp_path, soffice):  # noqa: F811
    done = subprocess.run([sys.executable, "-m", "bench.run", "--tiny", "--runs", "1",
                           "--work", str(tmp_path), "--out", str(tmp_path / "RESULTS.md")],
                          cwd=ROOT, capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    for step in ("import_pandas", "roles_cli", "catalog_load",
                 "new", "fill", "report", "payroll", "openpyxl_load", "calamine_read",
                 "new_split", "fill_split", "report_split", "engine_rows"):
        assert f"| {step} |" in done.stdout, step
    assert "`kpi-workbook roles` ÷ `python -c \"import pandas\"`" in done.stdout
    assert (tmp_path / "one" / "report.xlsx").is_file()
    assert not (tmp_path / "RESULTS.md").exists()  # a tiny run never overwrites the results
