"""The month after the report, at scale (issue 24): `python -m bench.month WORKDIR SIZE [--months N]`.

Makes SIZE people in department books (as bench.steps new_split and fill_split do), then
times, each as a whole command in its own process (wall, CPU of it and its children, peak
RSS): ``report --history`` of month 1, ``approve``, ``payroll --history``, then months 2…N
(report --history, approve and payroll --history of each; the books' month is rewritten in
place), and ``rollup --quarter`` over the first three. Prints one JSON line per step and the
ratios that matter, of wall and of CPU: month N / month 1 for report --history, approve and
payroll — the history grows by a month each time (issue 24: month 12 ≤ 1.2× month 1), and
the size of the history file at each month. Not in CI (minutes)."""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def _books(work: Path, size: int) -> list[Path]:
    from kpi_workbook.rules.loader import builtin_catalog
    from kpi_workbook.sample import sample_inputs
    from kpi_workbook.workbook.scorecard.build import build_workbook
    from kpi_workbook.workbook.scorecard.fill import fill_workbooks
    from kpi_workbook.workbook.scorecard.roster import split_roster

    from .org import organisation

    catalog = builtin_catalog()
    roster = organisation(catalog, size)
    depts = work / "departments"
    for key, part in split_roster(roster, "部门"):
        build_workbook(catalog, part, "2026-01", depts / f"{key}.xlsx", force=True)
    books = sorted(depts.glob("*.xlsx"))
    table = sample_inputs(catalog, roster, "2026-01")
    fill_workbooks(catalog, books, [(r[0], r[1], r[2] or None, r[3]) for r in table.itertuples(index=False)])
    return books


def _set_month(books: list[Path], old: str, month: str) -> None:
    """The books moved from month ``old`` to ``month`` (the same cards, another month): every
    occurrence of the month's text in every part replaced (both are seven characters)."""
    import zipfile

    for book in books:
        tmp = book.with_suffix(".tmp")
        with zipfile.ZipFile(book) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                dst.writestr(info, src.read(info).replace(old.encode(), month.encode()))
        tmp.replace(book)


def _run(argv: list[str]) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "kpi_workbook.cli", *map(str, argv)], capture_output=True,
                          text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = {"wall": round(time.perf_counter() - wall, 2),
           "cpu": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2),
           "rss_mb": round(after.ru_maxrss / 1024), "exit": done.returncode}
    if done.returncode not in (0, 1):
        out["stderr"] = done.stderr[-2000:]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("work", type=Path)
    parser.add_argument("size", type=int)
    parser.add_argument("--months", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="keep the books of an earlier run")
    parser.add_argument("--keep", action="store_true",
                        help="keep a copy of the history as each month's report --history found it "
                             "(history-before-N.xlsx), to profile one step again")
    args = parser.parse_args()
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    history = work / "history.xlsx"
    if history.exists():
        history.unlink()
    import shutil

    pristine = work / "departments-month-1"
    if args.reuse and pristine.is_dir():  # the books of an earlier run, back at month 1
        shutil.rmtree(work / "departments", ignore_errors=True)
        shutil.copytree(pristine, work / "departments")
    books = sorted((work / "departments").glob("*.xlsx")) if args.reuse else []
    if not books:
        wall = time.perf_counter()
        books = _books(work, args.size)
        shutil.rmtree(pristine, ignore_errors=True)
        shutil.copytree(work / "departments", pristine)
        print(json.dumps({"step": "books", "wall": round(time.perf_counter() - wall, 1), "books": len(books)}))
    results = {}

    def step(name: str, argv: list[str]) -> None:
        results[name] = _run(argv)
        print(json.dumps({"step": name, **results[name]}, ensure_ascii=False), flush=True)

    for k in range(1, args.months + 1):
        month = f"2026-{k:02d}"
        if k > 1:
            _set_month(books, f"2026-{k - 1:02d}", month)
        report = work / f"report-{month}.xlsx"
        if args.keep and history.exists():
            shutil.copy2(history, work / f"history-before-{k}.xlsx")
        step(f"report_history_{k}", ["report", work / "departments", "--out", report, "--history", history,
                                     "--force"])
        if k == 1:
            step("payroll_unapproved", ["payroll", report, "--out", work / "p0.csv", "--force", "--history",
                                        history, "--unapproved", "--allow-incomplete"])
        step(f"approve_{k}", ["approve", report, "--history", history, "--by", "bench"])
        step(f"payroll_{k}", ["payroll", report, "--out", work / "p.csv", "--force", "--history", history,
                              "--allow-incomplete"])
        print(json.dumps({"step": f"history_{k}", "bytes": history.stat().st_size}), flush=True)
        if k == 1:
            step("payroll_plain", ["payroll", report, "--out", work / "p1.csv", "--force", "--allow-incomplete"])
    if args.months >= 3:
        step("rollup_quarter", ["rollup", "--history", history, "--quarter", "2026Q1", "--out",
                                work / "rollup.xlsx", "--force"])
    last = args.months
    ratios = {f"{name} {how} {last}/1": results[f"{name}_{last}"][how] / max(results[f"{name}_1"][how], 0.01)
              for name in ("report_history", "approve", "payroll") for how in ("wall", "cpu")}
    print(json.dumps({"size": args.size, "ratios": {k: round(v, 2) for k, v in ratios.items()}}, ensure_ascii=False))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
