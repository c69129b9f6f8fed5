"""One benchmark step per process: `python -m bench.steps STEP WORKDIR SIZE`.

Each step runs in a fresh interpreter so that its peak memory is its own; it prints one
JSON line with wall time and CPU time of the work it measures. The CPU counts the worker
processes too: the step's own CPU plus that of the children it has waited for (every pool
of workers is shut down, so waited for, before the step ends: ``RUSAGE_CHILDREN``). Its peak
memory is sampled from outside (:class:`TreePeak`): the resident memory of the step's
process and of every process under it, summed, every 50 ms, the highest sum kept — the
workers of a pool hold their own memory, which the step's own ``ru_maxrss`` never shows.
Beside the sum of RSS the sum of PSS is kept (pages shared between a parent and the workers
it forked counted once): the memory the machine really gave.
Inputs a step needs are made by the steps before it in the same WORKDIR.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path


def _cpu_with_children() -> float:
    """CPU seconds of this process and of the children it has waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _measure(fn):
    wall, cpu = time.perf_counter(), _cpu_with_children()
    extra = fn() or {}
    return {"wall": time.perf_counter() - wall, "cpu": _cpu_with_children() - cpu,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **extra}


class StepFailed(RuntimeError):
    """A step exited non-zero: the bench fails, naming it."""

    def __init__(self, step: str, code: int, stderr: str):
        super().__init__(f"bench step {step} failed (exit {code}):\n{stderr[-3000:]}")
        self.step, self.code = step, code


class TreePeak:
    """The peak of the summed memory of a process and everything under it, sampled every
    ``every`` seconds in a thread of the bench's own process (Linux /proc; elsewhere only
    the step's own peak is known)."""

    def __init__(self, pid: int, every: float = 0.05):
        self.pid, self.every = pid, every
        self.rss = self.pss = 0  # bytes
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
        self._children_files = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists()

    def __enter__(self) -> TreePeak:
        if Path("/proc").is_dir():
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _tree(self) -> list[int]:
        pids, k = [self.pid], 0
        if not self._children_files:  # no /proc/PID/task/TID/children: the parent of each
            parents: dict[int, list[int]] = {}
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                    except (OSError, IndexError, ValueError):
                        continue
                    parents.setdefault(ppid, []).append(int(entry.name))
        while k < len(pids):
            pid = pids[k]
            k += 1
            if self._children_files:
                try:
                    for task in Path(f"/proc/{pid}/task").iterdir():
                        pids += [int(c) for c in (task / "children").read_text().split()]
                except OSError:
                    continue
            else:
                pids += parents.get(pid, [])
        return pids

    def sample(self) -> None:
        rss = pss = 0
        for pid in self._tree():
            try:
                rss += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * self._page
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1]) * 1024
                        break
            except (OSError, IndexError, ValueError):
                continue  # ended meanwhile
        self.rss, self.pss = max(self.rss, rss), max(self.pss, pss)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every)


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
    if step in READ_FLOOR:  # a read floor: every cell of the same book(s), by a compiled reader
        reader, where = READ_FLOOR[step]
        books = [book] if where == "one" else sorted((work / where if where != "split" else depts).glob("*.xlsx"))
        return _read_floor(reader, books)
    if step == "group_setup":
        return _group_setup(catalog, work, size)
    if step == "libreoffice_recalc":
        from kpi_workbook.workbook.libreoffice import recalculate

        return _measure(lambda: recalculate([book], work / "lo") and None)
    raise SystemExit(f"unknown step {step}")


# step → (reader, which books: "one" the one book, "split" the department books of the
# split group, else a folder of the step's WORKDIR)
READ_FLOOR = {"calamine_read": ("calamine", "one"), "fastexcel_read": ("fastexcel", "one"),
              "calamine_split": ("calamine", "split"), "fastexcel_split": ("fastexcel", "split"),
              "calamine_books": ("calamine", "books-2026-10"),
              "fastexcel_books": ("fastexcel", "books-2026-10")}


def _read_floor(reader: str, books: list[Path]) -> dict:
    """Every cell of every sheet of ``books``: python-calamine into Python values, or
    fastexcel (calamine through Arrow: each sheet loaded, its cells parsed and typed in
    Rust). fastexcel is an optional extra (``pip install .[bench]``): without it the step
    says "not installed"."""
    if reader == "fastexcel":
        try:
            import fastexcel
        except ImportError:
            return {"skipped": "not installed (pip install .[bench])"}

        def run():
            cells = 0
            for path in books:
                wb = fastexcel.read_excel(str(path))
                for name in wb.sheet_names:
                    sheet = wb.load_sheet(name, header_row=None)
                    cells += sheet.height * sheet.width
            return {"cells": cells}
        return _measure(run)
    from python_calamine import CalamineWorkbook

    def run():
        cells = 0
        for path in books:
            wb = CalamineWorkbook.from_path(str(path))
            for name in wb.sheet_names:
                cells += sum(len(r) for r in wb.get_sheet_by_name(name).to_python())
        return {"cells": cells}
    return _measure(run)


GROUP_MONTHS = ("2026-10", "2026-11", "2026-12")  # a quarter: 2026Q4


def _group_setup(catalog, work: Path, size: int) -> dict:
    """The group's roster (``size`` people in the departments of bench/org.py's
    group_organisation) and each month's inputs, as the files HR would have: roster.csv,
    inputs-YYYY-MM.csv (a long table)."""
    from kpi_workbook.sample import sample_inputs

    from .org import group_organisation

    roster = group_organisation(catalog, size)
    shown = roster.rename(columns={"employee_id": "工号", "name": "姓名", "department": "部门",
                                   "role": "岗位", "base_salary": "基本工资", "q_amount": "绩效基数Q",
                                   "full_attendance": "全勤", "supervisor": "直接上级"})
    shown["全勤"] = shown["全勤"].map({True: "是", False: "否"})
    shown.to_csv(work / "roster.csv", index=False, encoding="utf-8")
    for month in GROUP_MONTHS:
        sample_inputs(catalog, roster, month).to_csv(work / f"inputs-{month}.csv", index=False,
                                                     encoding="utf-8")
    return {"wall": 0.0, "cpu": 0.0, "rss_mb": 0.0, "departments": int(roster["department"].nunique())}


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


def run_process(argv: list[str], name: str = "", cwd: Path | None = None, env=None) -> dict:
    """A whole command in its own process, timed from outside: wall, the CPU of it and of
    every process under it (``wait4`` counts the descendants it waited for), the peak of
    their summed memory (:class:`TreePeak`) and the command's own peak. A non-zero exit
    raises StepFailed."""
    wall = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             cwd=cwd or Path(__file__).resolve().parents[1], env=env)
    out: list[bytes] = []
    err: list[bytes] = []
    readers = [threading.Thread(target=lambda f=f, into=into: into.append(f.read()), daemon=True)
               for f, into in ((child.stdout, out), (child.stderr, err))]
    for r in readers:
        r.start()
    with TreePeak(child.pid) as peak:
        _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - wall
    for r in readers:
        r.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise StepFailed(name or " ".join(argv), child.returncode,
                         b"".join(err).decode("utf-8", "replace"))
    own = usage.ru_maxrss / 1024
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
            "rss_mb": max(own, peak.rss / 2**20), "pss_mb": peak.pss / 2**20 or own, "own_rss_mb": own,
            "stdout": b"".join(out).decode("utf-8", "replace")}


def run_step(step: str, work: Path, size: int) -> dict:
    """A step of this module in its own process: the wall and CPU it measured of its work
    (with its workers), the peak memory of its process tree sampled from here."""
    if step in PROCESS_STEPS:
        result = run_process(PROCESS_STEPS[step](), step)
        result.pop("stdout")
        return result
    outside = run_process([sys.executable, "-m", "bench.steps", step, str(work), str(size)], step)
    inside = json.loads(outside["stdout"].strip().splitlines()[-1])
    if inside.get("skipped"):
        return inside
    return {**inside, "rss_mb": max(inside["rss_mb"], outside["rss_mb"]), "pss_mb": outside["pss_mb"]}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]))))
