"""Run the benchmarks and write bench/RESULTS.md: `python -m bench.run [--runs 3] [--tiny]`.

Times the start-up (`kpi-workbook roles` beside `python -c "import pandas"`, run in turn,
and the template catalog's first load in a fresh process), then new, fill, report and
payroll for 1,000 employees in one workbook and 10,000 split into department workbooks,
and the engine alone on 1,000,000 item rows; with the baselines measured on the same files
in the same run: openpyxl loading the scorecards, python-calamine and fastexcel reading every
cell (the floor for reading; fastexcel is the optional extra `.[bench]`) and LibreOffice
recalculating the workbook.
Every step runs in its own process (see steps.py); the table shows medians. The CPU counts
the worker processes, the peak memory is that of the step's whole process tree.
`--scale group [--people N]` runs the month of a group instead (bench/group.py): N people
(default 100,000, and 1,000 and 10,000 for the growth) in 100 department books — new, fill,
report --history and approve for each month of a quarter, then payroll and rollup --quarter,
each a command of its own — and writes its section of RESULTS.md.
`--limits [--scale F]` measures time and memory at each limit of the table instead
(bench/limits.py) and writes its own section of RESULTS.md.
A step that exits non-zero fails the bench: it says which, and exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from .steps import StepFailed, run_step

TARGETS = {  # step → (target wall seconds, target peak PSS MB or None, what the issue asks)
    "catalog_load": (0.030, None, "template catalog loads in ≤ 30 ms"),
    "report": (1.0, None, "report on 1,000 scorecards ≤ 1.0 s"),
    "new": (2.0, None, "new 1,000 scorecards ≤ 2.0 s"),
    "report_split": (10.0, 1024, "10,000 across department workbooks ≤ 10 s, ≤ 1 GB"),
    "engine_rows": (1.0, None, "engine on 1,000,000 item rows ≤ 1.0 s"),
}


def plan(tiny: bool) -> list[tuple[str, str, int, int]]:
    """(group, step, size, runs cap) in the order they must run."""
    one, many, rows = (20, 60, 10_000) if tiny else (1_000, 10_000, 1_000_000)
    # start-up first: `kpi-workbook roles` and `import pandas` in turn (see run), then the
    # catalog load in a fresh process
    steps = [("start", s, 0, 99) for s in ("import_pandas", "roles_cli", "catalog_load")]
    steps += [("one", s, one, 99) for s in ("new", "fill", "report", "payroll",
                                           "openpyxl_load", "calamine_read", "fastexcel_read")]
    if not tiny:
        steps.append(("one", "libreoffice_recalc", one, 1))
    steps += [("split", s, many, 1 if not tiny else 99) for s in ("new_split", "fill_split",
                                                                   "report_split", "calamine_split",
                                                                   "fastexcel_split")]
    steps.append(("engine", "engine_rows", rows, 99))
    return steps


START_RUNS = 7  # start-up steps are short: at least this many runs, after one warm-up
# (A, B, target of A ÷ B in CPU, or None: recorded): run in turn, A B A B, where the first of
# them comes in the plan, and compared pair by pair, so that a ratio holds when the shared
# machine's speed drifts. Steps in more than one pair run in turn all together (A B C A B C).
PAIRS = (("roles_cli", "import_pandas", 1.5),
         ("report", "calamine_read", 2.0), ("report", "fastexcel_read", None),
         ("report_split", "calamine_split", 3.0), ("report_split", "fastexcel_split", None))
# the start-up target holds in wall time and CPU both (either can be inflated on a shared
# machine); the read floor is a CPU target (issue 24: the report's workers count)
BOTH_CLOCKS = {"roles_cli"}


def run(runs: int, tiny: bool, work: Path) -> dict[str, list[dict]]:
    results: dict[str, list[dict]] = {}
    for group, step, size, cap in plan(tiny):
        if step in results:
            continue  # measured with its pair
        pair = _in_turn(step)
        count = max(runs, START_RUNS) if group == "start" and not tiny else min(runs, cap)
        if group == "start" and not tiny:  # a tiny run (the smoke test) times nothing
            for name in pair:  # warm-up: the disk cache and the bytecode
                run_step(name, work / group, size)
        for _ in range(count):
            for name in pair:
                results.setdefault(name, []).append(run_step(name, work / group, size))
    return results


def _in_turn(step: str) -> tuple[str, ...]:
    """``step`` and the steps it is compared with, in the order of PAIRS."""
    names = [step]
    for a, b, _ in PAIRS:
        if step in (a, b):
            names += [n for n in (a, b) if n not in names]
    if names[0] not in {a for a, _, _ in PAIRS} and len(names) > 1:  # the measured one first
        names.sort(key=lambda n: n not in {a for a, _, _ in PAIRS})
    return tuple(names)


def paired_ratio(a: list[dict], b: list[dict], key: str = "wall") -> float:
    """The median of the ratios of runs made in turn (robust when the machine drifts)."""
    ratios = [x[key] / y[key] for x, y in zip(a, b) if not x.get("skipped") and not y.get("skipped")
              and y[key] > 0]  # a CPU clock can read 0
    return statistics.median(ratios) if ratios else float("nan")


def median(samples: list[dict], key: str) -> float:
    return statistics.median(s[key] for s in samples)


def table(results: dict[str, list[dict]]) -> str:
    lines = ["| step | runs | wall s (median) | CPU s (with workers) | peak RSS MB (process tree) | "
             "peak PSS MB | target |", "|---|---|---|---|---|---|---|"]
    for step, samples in results.items():
        if samples[0].get("skipped"):
            lines.append(f"| {step} | – | {samples[0]['skipped']} | | | | |")
            continue
        target = TARGETS.get(step)
        met = ""
        pss = median(samples, "pss_mb") if all("pss_mb" in x for x in samples) else float("nan")
        if target:
            ok = median(samples, "wall") <= target[0] and (target[1] is None or not pss > target[1])
            met = f"{target[2]}: {'met' if ok else 'NOT met'}"
        digits = 3 if median(samples, "wall") < 0.1 else 2
        lines.append(f"| {step} | {len(samples)} | {median(samples, 'wall'):.{digits}f} | "
                     f"{median(samples, 'cpu'):.2f} | {median(samples, 'rss_mb'):.0f} | {pss:.0f} | {met} |")
    lines.append("")
    labels = {("roles_cli", "import_pandas"): "`kpi-workbook roles` ÷ `python -c \"import pandas\"`",
              ("report", "calamine_read"): "report of the one book ÷ python-calamine reading it",
              ("report", "fastexcel_read"): "report of the one book ÷ fastexcel reading it",
              ("report_split", "calamine_split"): "report of the department books ÷ "
                                                  "python-calamine reading them",
              ("report_split", "fastexcel_split"): "report of the department books ÷ "
                                                   "fastexcel reading them"}
    for a, b, target in PAIRS:
        if {a, b} <= results.keys():
            if any(x.get("skipped") for x in results[a] + results[b]):
                lines.append(f"{labels[(a, b)]}: fastexcel not installed (pip install .[bench])")
                continue
            wall = paired_ratio(results[a], results[b])
            cpu = paired_ratio(results[a], results[b], "cpu")
            judged = max(wall, cpu) if a in BOTH_CLOCKS else cpu
            verdict = "recorded" if target is None else (
                f"target ≤ {target:g}×{'' if a in BOTH_CLOCKS else ' CPU'}: "
                f"{'met' if judged <= target else 'NOT met'}")
            lines.append(f"{labels[(a, b)]}: {wall:.2f}× wall, {cpu:.2f}× CPU, medians of runs in "
                         f"turn ({verdict})")
    if {"report", "libreoffice_recalc"} <= results.keys():
        ratio = median(results["libreoffice_recalc"], "wall") / median(results["report"], "wall")
        lines.append(f"LibreOffice recalculation ÷ report: {ratio:.1f}× (target ≥ 20×)")
    return "\n".join(lines)


def machine() -> str:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    soffice = subprocess.run(["soffice", "--version"], capture_output=True, text=True,
                             check=False).stdout.strip() if os.path.exists("/usr/bin/soffice") else "n/a"
    return (f"{platform.platform()}, {os.cpu_count()} cores, {cpu}; Python {platform.python_version()}; "
            f"{soffice}")


def put_section(out: Path, heading: str, text: str) -> None:
    """``text`` (a section starting with ``heading``) in place of that section of RESULTS.md,
    or before its first written section; the rest of the file stays."""
    old = out.read_text(encoding="utf-8") if out.is_file() else "# Benchmark results\n"
    start = old.find("\n" + heading)
    if start >= 0:
        end = old.find("\n## ", start + 1)
        old = old[:start] + (old[end:] if end >= 0 else "\n")
    at = old.find("\n## ")
    new = old[:at] + "\n" + text + old[at:] if at >= 0 else old.rstrip("\n") + "\n\n" + text
    out.write_text(new, encoding="utf-8")


def write_limits(out: Path, work: Path, scale: float, only: list[str] | None) -> None:
    """The section "## At the limits" of RESULTS.md."""
    from .limits import run as run_limits
    from .limits import section

    text = section(run_limits(work, scale, only), scale)
    print(text)
    put_section(out, "## At the limits", text)


def write_group(out: Path | None, work: Path, people: int, tiny: bool) -> None:
    """The section of a group's month (bench/group.py); a tiny run prints it only."""
    from . import group

    results = group.run(work, people, tiny)
    (work / "group-results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    text = group.section(results, group.main_command(people, tiny), machine())
    print(text)
    if out is not None and not tiny:
        put_section(out, group.HEADING, text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tiny", action="store_true", help="a smoke run at tiny sizes")
    parser.add_argument("--out", default=str(Path(__file__).with_name("RESULTS.md")))
    parser.add_argument("--work", help="folder for the generated files (default: a temp dir)")
    parser.add_argument("--limits", action="store_true",
                        help="time and memory at each limit of the table instead (bench/limits.py)")
    parser.add_argument("--scale", default="1",
                        help="group: the month of a group in 100 department books (bench/group.py); "
                             "with --limits: build the sheet and cell limits' books at this fraction")
    parser.add_argument("--people", type=int, default=100_000,
                        help="with --scale group: the largest size (default 100,000)")
    parser.add_argument("--step", action="append", help="with --limits: only these steps")
    args = parser.parse_args()
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="kpi-bench-"))
    try:
        if args.scale == "group":
            write_group(Path(args.out), work, args.people, args.tiny)
            return
        if args.limits:
            write_limits(Path(args.out), work, float(args.scale), args.step)
            return
        results = run(args.runs, args.tiny, work)
    except StepFailed as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        sys.exit(1)
    text = table(results)
    print(text)
    if not args.tiny:
        out = Path(args.out)
        old = out.read_text(encoding="utf-8") if out.is_file() else ""
        notes = old[old.index("\n## "):] if "\n## " in old else ""  # the written sections stay
        out.write_text(f"# Benchmark results\n\nMachine: {machine()}\n\n"
                       f"Command: `python -m bench.run --runs {args.runs}`\n\n{text}\n{notes}",
                       encoding="utf-8")


if __name__ == "__main__":
    main()
