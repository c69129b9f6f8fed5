"""One benchmark step per process: `python -m bench.steps STEP WORKDIR SIZE`.

Each step runs in a fresh interpreter so that its peak memory (max RSS) is its own; it
prints one JSON line with wall time, CPU time and peak RSS. Inputs a step needs are made
by the steps before it in the same WORKDIR.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def _measure(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    extra = fn() or {}
    return {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **extra}


def main(step: str, work: Path, size: int) -> dict:
    if step == "catalog_load":  # the first load in a fresh process, its modules imported
        from kpi_workbook.rules.loader import load_catalog

        return _measure(lambda: {"roles": len(load_catalog().roles)})

    from kpi_workbook.rules.loader import builtin_catalog

    from .org import organisation

    catalog = builtin_catalog()
    work.mkdir(parents=True, exist_ok=True)
    book = work / "one.xlsx"
    depts = work / "departments"

    if step == "new":
        roster = organisation(catalog, size)
        from kpi_workbook.workbook.scorecard.build import build_workbook

        return _measure(lambda: build_workbook(catalog, roster, "2026-10", book, force=True) and None)
    if step == "new_split":
        roster = organisation(catalog, size)
        from kpi_workbook.workbook.scorecard.build import build_workbook
        from kpi_workbook.workbook.scorecard.roster import split_roster

        def run():
            for key, part in split_roster(roster, "部门"):
                build_workbook(catalog, part, "2026-10", depts / f"{key}.xlsx", force=True)
        return _measure(run)
    if step in ("fill", "fill_split"):
        from kpi_workbook.sample import sample_inputs
        from kpi_workbook.workbook.scorecard.fill import fill_workbooks

        roster = organisation(catalog, size)
        table = sample_inputs(catalog, roster, "2026-10")
        rows = [(r[0], r[1], r[2] or None, r[3]) for r in table.itertuples(index=False)]
        books = [book] if step == "fill" else sorted(depts.glob("*.xlsx"))
        return _measure(lambda: {"cells": fill_workbooks(catalog, books, rows).written})
    if step in ("report", "report_split"):
        from kpi_workbook.workbook.month.monthly import run_report

        books = [book] if step == "report" else [depts]
        return _measure(lambda: run_report(catalog, books, work / f"{step}.xlsx", force=True) and None)
    if step == "payroll":
        from kpi_workbook.workbook.month.payroll import read_payroll, write_payroll

        return _measure(lambda: write_payroll(read_payroll(work / "report.xlsx"),
                                              work / "payroll.csv", force=True))
    if step == "engine_rows":
        return _engine_rows(catalog, size)
    if step == "openpyxl_load":
        import openpyxl

        return _measure(lambda: openpyxl.load_workbook(book) and None)
    if step == "calamine_read":
        from python_calamine import CalamineWorkbook

        def run():
            wb = CalamineWorkbook.from_path(str(book))
            cells = 0
            for name in wb.sheet_names:
                cells += sum(len(r) for r in wb.get_sheet_by_name(name).to_python())
            return {"cells": cells}
        return _measure(run)
    if step == "libreoffice_recalc":
        from kpi_workbook.workbook.libreoffice import recalculate

        return _measure(lambda: recalculate([book], work / "lo") and None)
    raise SystemExit(f"unknown step {step}")


def _engine_rows(catalog, rows: int) -> dict:
    """Score ``rows`` item rows with the engine alone (no files): qc_inspector cards."""
    import numpy as np
    import pandas as pd

    from kpi_workbook.kinds.inputs import input_specs
    from kpi_workbook.engine.month import score_month

    role = catalog.roles["qc_inspector"]
    items = sum(1 for _ in role.items())
    n = rows // items
    rng = np.random.default_rng(7)
    values = {}
    for s in input_specs(role, catalog.role_pay_rules(role)):
        if s.input.type == "count":
            values[s.key] = rng.poisson(0.4, n).astype(float)
        elif s.input.type == "flag":
            values[s.key] = (rng.random(n) < 0.05).astype(float)
        else:
            values[s.key] = np.zeros(n)
    employees = pd.DataFrame({"employee_id": np.arange(n).astype(str), "role": role.id,
                              "department": (np.arange(n) % 50).astype(str),
                              "base_salary": 5000.0})
    result = _measure(lambda: score_month(catalog, employees, {role.id: values}) and None)
    result["item_rows"] = n * items
    return result


def _kpi_workbook() -> list[str]:
    """The installed ``kpi-workbook`` command beside this interpreter, else ``-m``."""
    script = Path(sys.executable).with_name("kpi-workbook")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "kpi_workbook.cli"]


# Start-up steps: a whole command, timed from outside as one process (wall, its CPU, its
# peak RSS), so that interpreter start and every import count.
PROCESS_STEPS = {
    "import_pandas": lambda: [sys.executable, "-c", "import pandas"],
    "roles_cli": lambda: [*_kpi_workbook(), "roles"],
}


def run_process(argv: list[str]) -> dict:
    wall = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             cwd=Path(__file__).resolve().parents[1])
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - wall
    child.returncode = os.waitstatus_to_exitcode(status)
    err = child.stderr.read().decode("utf-8", "replace") if child.stderr else ""
    if child.returncode:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{err[-2000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}


def run_step(step: str, work: Path, size: int) -> dict:
    if step in PROCESS_STEPS:
        return run_process(PROCESS_STEPS[step]())
    done = subprocess.run([sys.executable, "-m", "bench.steps", step, str(work), str(size)],
                          capture_output=True, text=True, check=False,
                          cwd=Path(__file__).resolve().parents[1])
    if done.returncode:
        raise RuntimeError(f"bench step {step} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]))))
