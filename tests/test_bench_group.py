"""The group's month of the bench (`bench.run --scale group`) runs end to end at a tiny size,
so it never rots (no timing asserted), and the bench measures what it says: the CPU of the
worker processes, the memory of the whole process tree, a failing step failing the bench."""

import subprocess
import sys
from pathlib import Path

import pytest

from bench.group import exponent, extrapolate, section
from bench.steps import StepFailed, TreePeak, run_process

from . import background

ROOT = Path(__file__).resolve().parents[1]


@background.job("bench-group-tiny")
def _bench_group_tiny(work: Path) -> tuple[subprocess.CompletedProcess, Path]:
    done = subprocess.run([sys.executable, "-m", "bench.run", "--scale", "group", "--tiny",
                           "--work", str(work), "--out", str(work / "RESULTS.md")],
                          cwd=ROOT, capture_output=True, text=True, check=False, timeout=900)
    return done, work


@pytest.fixture(scope="module")
def group(tmp_path_factory):
    return background.result("bench-group-tiny", tmp_path_factory)


def test_the_group_month_runs_every_step_at_a_tiny_size(group):
    done, work = group
    assert done.returncode == 0, done.stderr[-3000:]
    for step in ("new", "fill", "report --history", "approve", "payroll", "rollup --quarter"):
        assert f"| {step} |" in done.stdout, step
    assert "exponent 30→60" in done.stdout and "Command: `python -m bench.run --scale group --tiny`" in done.stdout
    for n in (30, 60):  # the quarter's three months went into one history, rolled up
        assert (work / f"n{n}" / "rollup.xlsx").is_file() and (work / f"n{n}" / "payroll.csv").is_file()
        assert len(list((work / f"n{n}" / "books-2026-12").glob("*.xlsx"))) == 4
    assert not (work / "RESULTS.md").exists()  # a tiny run never writes the results


BURN = """
import os, sys, time
from concurrent.futures import ProcessPoolExecutor

def burn(_):
    block = bytearray(60 * 2**20)  # held by each worker while the others run too
    for i in range(0, len(block), 4096):
        block[i] = 1
    end = time.process_time() + 0.4
    while time.process_time() < end:
        pass
    time.sleep(0.5)
    return time.process_time()

if __name__ == "__main__":
    with ProcessPoolExecutor(2) as pool:
        print(sum(pool.map(burn, range(2))))
"""


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="samples the process tree from /proc")
def test_a_step_counts_its_workers_cpu_and_memory(tmp_path):
    script = tmp_path / "burn.py"
    script.write_text(BURN, encoding="utf-8")
    result = run_process([sys.executable, str(script)])
    workers_cpu = float(result["stdout"])  # what the two workers say they used
    assert workers_cpu >= 0.8
    assert result["cpu"] >= workers_cpu  # the parent's own clock would show almost nothing
    assert result["rss_mb"] >= 2 * 60  # two workers holding 60 MB each at once
    assert result["pss_mb"] >= 2 * 60


def test_a_step_that_exits_non_zero_fails_the_bench():
    with pytest.raises(StepFailed) as failed:
        run_process([sys.executable, "-c", "import sys; sys.exit('broken')"], "new 2026-10 at 30 people")
    assert failed.value.step == "new 2026-10 at 30 people" and failed.value.code == 1
    assert "broken" in str(failed.value)


def test_tree_peak_without_proc_children_files_finds_the_children(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "import subprocess, sys; "
                              "subprocess.run([sys.executable, '-c', 'import time; time.sleep(1.5)'])"])
    try:
        peak = TreePeak(child.pid)
        peak._children_files = False  # the fallback: the parent of every process
        import time
        end = time.monotonic() + 10
        while len(peak._tree()) < 2 and time.monotonic() < end:
            time.sleep(0.05)
        assert len(peak._tree()) == 2
    finally:
        child.wait()


def test_the_section_judges_the_targets_at_100000_and_extrapolates_below():
    def runs(wall, pss):
        return [{"wall": wall, "cpu": wall * 1.8, "rss_mb": pss, "pss_mb": pss, "month": ""}]

    steps = ("new", "fill", "report --history", "approve", "payroll", "rollup --quarter")
    small = {1_000: {s: runs(1.0, 200) for s in steps}, 10_000: {s: runs(10.0, 400) for s in steps}}
    text = section(small, "python -m bench.run --scale group --people 10000", "a machine")
    assert "extrapolated to 100,000" in text
    # 10 s at 10,000, linear: 100 s at 100,000 (over 60 s); memory 400 + 200/9,000 × 90,000
    assert "`new` ≤ 60 s and ≤ 2 GB at 100,000 people: NOT met (extrapolated: 100.0 s, 2400 MB; 180 CPU-s" in text
    full = {**small, 100_000: {s: runs(30.0, 900) for s in steps}}
    text = section(full, "python -m bench.run --scale group", "a machine")
    assert "`fill` ≤ 60 s and ≤ 2 GB at 100,000 people: met (measured: 30.0 s, 900 MB; 54 CPU-s" in text
    assert "`payroll` ≤ 5 s and ≤ 2 GB at 100,000 people: NOT met (measured: 30.0 s, 900 MB" in text
    e1, e2 = exponent(1.0, 30.0, 1_000, 100_000), exponent(10.0, 30.0, 10_000, 100_000)
    assert f"| {e1:.2f} / {e1:.2f} | {e2:.2f} / {e2:.2f} |" in text
    assert abs(exponent(1.0, 100.0, 1_000, 100_000) - 1.0) < 1e-12
    # a command's start-up does not grow: 2 s at 1,000 and 3 s at 10,000 is 1 s for 9,000 more
    assert extrapolate(2.0, 3.0, 1_000, 10_000) == 3.0 + 10.0
    # growing faster than the people: along the exponent (2 here: ten times the people, 100×)
    assert extrapolate(1.0, 100.0, 1_000, 10_000) == 100.0 * 100
    assert extrapolate(5.0, 4.0, 1_000, 10_000) == 4.0  # noise: never below the measure


def _burn(_):
    import time

    end = time.process_time() + 0.4
    while time.process_time() < end:
        pass
    return time.process_time()


def test_a_step_measured_inside_counts_its_workers_cpu():
    from concurrent.futures import ProcessPoolExecutor

    from bench.steps import _measure

    said = []

    def run():
        with ProcessPoolExecutor(2) as pool:
            said.extend(pool.map(_burn, range(2)))

    result = _measure(run)
    assert sum(said) >= 0.8 and result["cpu"] >= sum(said)  # time.process_time() saw ~0
