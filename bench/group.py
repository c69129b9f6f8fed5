"""The month of a group, command by command: `python -m bench.run --scale group [--people N]`.

N people (default 100,000) in 100 department books, and the smaller sizes of 1,000 and
10,000 below N for the growth. For each size, in its own folder: the roster and each
month's inputs are made first (not timed: bench/steps.py group_setup), then for each month
of a quarter (2026-10, -11, -12) `new --split-by 部门`, `fill` of the 100 books,
`report --history` and `approve`; then `payroll` of the last month and `rollup --quarter`
over the three; beside them python-calamine and fastexcel reading the first month's books
(the floor for reading them). Every command is the installed `kpi-workbook` in a process of
its own, timed from outside: wall, the CPU of it and every worker under it, the peak of the
summed memory of its process tree (RSS, and PSS: shared pages counted once). A command
that exits non-zero fails the bench.

The section it writes in RESULTS.md shows each step at each size (report and approve at
the quarter's last month, the longest history; new and fill at their median month), its growth exponent log(t₂/t₁)/log(n₂/n₁) from the smallest and
from 10,000 to the largest size, and the targets of issue 24 with whether each is met —
judged only at 100,000 people; at a smaller N the measures are extrapolated to 100,000 from
the two largest sizes (:func:`extrapolate`), and say so.
"""

from __future__ import annotations

import math
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from .org import group_departments
from .steps import GROUP_MONTHS, StepFailed, _kpi_workbook, run_process, run_step

FULL = 100_000
HEADING = "## A group in 100 department books"

# the steps of the table, in order: (name, what it runs)
STEPS = ("new", "fill", "report --history", "approve", "payroll", "rollup --quarter")
# issue 24: each step ≤ 60 s wall and ≤ 2 GB at 100,000 people; payroll and approve ≤ 5 s
WALL_TARGET = {step: 60.0 for step in STEPS} | {"approve": 5.0, "payroll": 5.0}
MEMORY_TARGET_MB = 2048
CORES = os.cpu_count() or 1  # a CPU-bound step takes at least its CPU ÷ the cores


def sizes(people: int, tiny: bool = False) -> list[int]:
    """The sizes to run: 1,000 and 10,000 below ``people``, then ``people`` itself."""
    if tiny:
        return [30, 60]
    return sorted({n for n in (1_000, 10_000) if n < people} | {people})


def run_size(work: Path, people: int, log) -> dict[str, list[dict]]:
    """Every step at one size; step → its runs (one a month for the monthly ones)."""
    work.mkdir(parents=True, exist_ok=True)
    run_step("group_setup", work, people)  # roster.csv, inputs-*.csv: not timed
    found: dict[str, list[dict]] = {}

    def timed(step: str, argv: list[str], month: str = "") -> None:
        result = run_process([*_kpi_workbook(), *argv], f"{step} {month} at {people:,} people".strip(),
                             cwd=work, env=os.environ.copy())
        result.pop("stdout", None)
        result["month"] = month
        found.setdefault(step, []).append(result)
        log(f"  {people:>7,} {step:<17} {month:<8} {result['wall']:7.2f} s wall "
            f"{result['cpu']:7.2f} s CPU {result['rss_mb']:6.0f} MB RSS {result['pss_mb']:6.0f} MB PSS")

    for k, month in enumerate(GROUP_MONTHS):
        folder = work / f"books-{month}"
        timed("new", ["new", "--roster", str(work / "roster.csv"), "--month", month, "--split-by", "部门",
                      "--out-dir", str(folder), "--force"], month)
        made = sorted(folder.glob("*.xlsx"))
        books = group_departments(people)
        if len(made) != books:
            raise StepFailed(f"new {month} at {people:,} people", 0,
                             f"{len(made)} books made, {books} expected")
        timed("fill", ["fill", *map(str, made), "--inputs", str(work / f"inputs-{month}.csv")], month)
        if k == 0:  # the floor for reading these books, beside the report of them
            for step in ("calamine_books", "fastexcel_books"):
                result = run_step(step, work, people)
                found.setdefault(step, []).append(result)
        report = work / f"report-{month}.xlsx"
        timed("report --history", ["report", str(folder), "--out", str(report), "--history",
                                   str(work / "history.xlsx"), "--force"], month)
        timed("approve", ["approve", str(report), "--history", str(work / "history.xlsx"),
                          "--by", "bench"], month)
    last = work / f"report-{GROUP_MONTHS[-1]}.xlsx"
    timed("payroll", ["payroll", str(last), "--out", str(work / "payroll.csv"), "--history",
                      str(work / "history.xlsx"), "--force"])
    timed("rollup --quarter", ["rollup", "--history", str(work / "history.xlsx"), "--quarter", "2026Q4",
                               "--out", str(work / "rollup.xlsx"), "--force"])
    return found


def run(work: Path, people: int, tiny: bool = False, log=print) -> dict[int, dict[str, list[dict]]]:
    results = {}
    for n in sizes(people, tiny):
        log(f"{n:,} people in {group_departments(n)} department books:")
        start = time.perf_counter()
        results[n] = run_size(work / f"n{n}", n, log)
        log(f"  ({time.perf_counter() - start:.0f} s with the setup)")
    return results


GROWING = ("report --history", "approve")  # their work grows with the history: the last month


def pick(step: str, runs: list[dict]) -> dict:
    """The run of a step shown: of report and approve the quarter's last month (the longest
    history), of new and fill (the same work each month) the median month by wall time."""
    if step in GROWING or len(runs) == 1:
        return runs[-1]
    return sorted(runs, key=lambda r: r["wall"])[len(runs) // 2]


def exponent(t1: float, t2: float, n1: int, n2: int) -> float:
    if t1 <= 0 or t2 <= 0 or n1 == n2:
        return float("nan")
    return math.log(t2 / t1) / math.log(n2 / n1)


def extrapolate(ta: float, tb: float, a: int, b: int, power: bool = True) -> float:
    """A measure at 100,000 people from those at ``a`` < ``b``: linearly from the growth
    between them (the start-up of a command does not grow with the people), or along their
    growth exponent where it is above 1 (and ``power``); never below the measure at ``b``."""
    linear = tb + max(0.0, (tb - ta) / (b - a)) * (FULL - b)
    e = exponent(ta, tb, a, b)
    along = tb * (FULL / b) ** e if power and not math.isnan(e) and e > 1 else 0.0
    return max(linear, along, tb)


def section(results: dict[int, dict[str, list[dict]]], command: str, machine: str) -> str:
    ns = sorted(results)
    top = ns[-1]
    full = top >= FULL
    lines = [HEADING, "",
             f"Command: `{command}` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC). Machine: {machine}.",
             "",
             f"{', '.join(f'{n:,}' for n in ns)} people, each in {group_departments(top)} department books "
             f"(`new --split-by 部门`); each step a `kpi-workbook` command in its own process. "
             "CPU counts the worker processes; the peak memory is the highest sum over the "
             "command's process tree (RSS; PSS counts the pages a worker shares with its parent "
             "once). Of a step run each month of the quarter, report and approve are shown at "
             "the last month (the longest history), new and fill at their median month.", ""]
    header = "| step | " + " | ".join(f"{n:,}: wall s / CPU s / PSS MB" for n in ns)
    header += f" | exponent {ns[0]:,}→{top:,}: wall / CPU"
    if len(ns) > 2:
        header += f" | exponent {ns[-2]:,}→{top:,}: wall / CPU"
    if not full:
        header += " | extrapolated to 100,000: wall s / CPU s / PSS MB"
    header += " | cores used |"
    lines += [header, "|" + "---|" * (header.count("|") - 1)]
    verdicts = []
    for step in (*STEPS, "calamine_books", "fastexcel_books"):
        if not all(step in results[n] for n in ns):
            continue
        at = {n: pick(step, results[n][step]) for n in ns}
        if any(r.get("skipped") for r in at.values()):
            lines.append(f"| {step} | " + " | ".join("not installed" for _ in ns) + " |")
            continue
        row = f"| {step} | " + " | ".join(f"{at[n]['wall']:.2f} / {at[n]['cpu']:.2f} / "
                                           f"{at[n].get('pss_mb', at[n]['rss_mb']):.0f}" for n in ns)
        for a in ([ns[0], ns[-2]] if len(ns) > 2 else [ns[0]]):
            row += (f" | {exponent(at[a]['wall'], at[top]['wall'], a, top):.2f} / "
                    f"{exponent(at[a]['cpu'], at[top]['cpu'], a, top):.2f}")
        wall, memory = at[top]["wall"], at[top].get("pss_mb", at[top]["rss_mb"])
        cpu = at[top]["cpu"]
        if not full:  # from the two largest sizes (see extrapolate)
            a, b = ns[-2], top
            wall = extrapolate(at[a]["wall"], at[b]["wall"], a, b)
            cpu = extrapolate(at[a]["cpu"], at[b]["cpu"], a, b)
            memory = extrapolate(at[a].get("pss_mb", at[a]["rss_mb"]), at[b].get("pss_mb", at[b]["rss_mb"]),
                                 a, b, power=False)
            row += f" | {wall:.0f} / {cpu:.0f} / {memory:.0f}"
        row += f" | {at[top]['cpu'] / at[top]['wall']:.2f} |"
        lines.append(row)
        if step in WALL_TARGET:
            ok = wall <= WALL_TARGET[step] and memory <= MEMORY_TARGET_MB
            how = "measured" if full else "extrapolated"
            verdicts.append(f"- `{step}` ≤ {WALL_TARGET[step]:g} s and ≤ 2 GB at 100,000 people: "
                            f"{'met' if ok else 'NOT met'} ({how}: {wall:.1f} s, {memory:.0f} MB; "
                            f"{cpu:.0f} CPU-s, so at least {cpu / CORES:.0f} s on {CORES} cores)")
    floor = {n: results[n].get("calamine_books") for n in ns}
    if all(floor.values()) and all("report --history" in results[n] for n in ns):
        ratios = [f"{n:,}: {results[n]['report --history'][0]['cpu'] / floor[n][0]['cpu']:.1f}×"
                  for n in ns if floor[n][0].get("cpu")]
        lines += ["", "report --history of the first month ÷ python-calamine reading the same books, "
                  "CPU: " + ", ".join(ratios)]
    lines += ["", "Targets of issue 24 (each step of a group's month):" if full else
              f"Targets of issue 24, judged at 100,000 people — this run went to {top:,}, so the "
              "times and memory are extrapolated from the two largest sizes: linearly from the "
              "growth between them (a command's start-up does not grow), or along their growth "
              "exponent where it is above 1; estimates, not measurements:", *verdicts]
    return "\n".join(lines) + "\n"


def main_command(people: int, tiny: bool) -> str:
    argv = ["python -m bench.run --scale group"]
    if people != FULL:
        argv.append(f"--people {people}")
    if tiny:
        argv.append("--tiny")
    return " ".join(argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run it as: python -m bench.run --scale group")
