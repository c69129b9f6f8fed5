"""`new --split-by` and `fill` over a folder of books work one book per worker process on
every core (workbook/scorecard/pool.py), and give what one process gives: the same books, byte for
byte, the same findings and counts (KPI_WORKBOOK_WORKERS=1 against =2)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from kpi_workbook.cli import main
from kpi_workbook.sample import sample_inputs
from kpi_workbook.workbook.scorecard import pool
from kpi_workbook.workbook.scorecard.roster import read_roster

from .helpers import child_pids

MONTH = "2026-10"
ROOT = Path(__file__).resolve().parents[1]


def _cli(monkeypatch, workers: int, *argv) -> tuple[int, str, str]:
    monkeypatch.setenv("KPI_WORKBOOK_WORKERS", str(workers))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def _parts(book: Path) -> dict[str, bytes]:
    """Every part of the book but its creation time (docProps/core.xml)."""
    with zipfile.ZipFile(book) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


def _books(folder: Path) -> dict[str, dict[str, bytes]]:
    return {p.name: _parts(p) for p in sorted(folder.glob("*.xlsx"))}


def test_new_split_on_every_core_writes_the_same_books(tmp_path, monkeypatch):
    runs = {}
    for workers in (1, 2):
        code, out, err = _cli(monkeypatch, workers, "new", "--month", MONTH, "--split-by", "部门",
                              "--out-dir", tmp_path / f"w{workers}", "--json")
        assert code == 0, err
        runs[workers] = out.replace(str(tmp_path / f"w{workers}"), "DIR")
    assert runs[1] == runs[2]
    serial, parallel = _books(tmp_path / "w1"), _books(tmp_path / "w2")
    assert len(serial) >= pool.MIN_BOOKS  # enough books for the workers to start
    assert serial == parallel


def _inputs(catalog, path: Path) -> Path:
    """The sample's inputs, with an unknown employee, a bad value and two rows giving one
    cell different values: every kind of finding fill makes from the rows."""
    table = sample_inputs(catalog, read_roster(catalog, None), MONTH, incomplete={"E003"})
    rows = [list(r) for r in table.itertuples(index=False)]
    first = next(r for r in rows if r[0] == "E010")
    rows += [["E999", first[1], first[2], first[3]],  # nobody
             ["E011", next(r[1] for r in rows if r[0] == "E011"), None, "很多"],  # not a number
             [first[0], first[1], first[2], "0.5"]]  # against the first row of E010 (a rate)
    lines = ["工号,输入,评分人,值"] + [",".join("" if v is None else str(v) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_fill_on_every_core_writes_the_same_books_and_findings(tmp_path, monkeypatch, catalog):
    code, _, err = _cli(monkeypatch, 1, "new", "--month", MONTH, "--split-by", "部门",
                        "--out-dir", tmp_path / "new")
    assert code == 0, err
    # a copy of one book under another name: its people are in two books (a finding per card)
    first = sorted((tmp_path / "new").glob("*.xlsx"))[0]
    shutil.copy(first, tmp_path / "new" / "zz-copy.xlsx")
    data = _inputs(catalog, tmp_path / "inputs.csv")
    runs = {}
    for workers in (1, 2):
        folder = shutil.copytree(tmp_path / "new", tmp_path / f"w{workers}")
        code, out, err = _cli(monkeypatch, workers, "fill", *sorted(Path(folder).glob("*.xlsx")),
                              "--inputs", data, "--json")
        runs[workers] = (code, out.replace(str(folder), "DIR"), _books(Path(folder)))
    assert runs[1][0] == 1  # the findings are errors
    for code_word in ("unknown-employee", "bad-value", "conflicting-values", "duplicate-employee"):
        assert code_word in runs[1][1], code_word
    assert '"written": 0' not in runs[1][1]
    assert runs[1][0] == runs[2][0] and runs[1][1] == runs[2][1]
    assert runs[1][2] == runs[2][2]
    assert runs[1][2] != _books(tmp_path / "new")  # something was written


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_ctrl_c_while_workers_write_leaves_no_temporary_file(tmp_path):
    """Ctrl-C as a terminal sends it (to the whole process group) while the workers write
    department books: one line, exit 130, no temporary file left by any process."""
    roster = tmp_path / "名单.csv"
    lines = ["工号,姓名,部门,岗位,基本工资"]
    lines += [f"E{i:05d},员工{i},部门{i % 6},qc_inspector,5000" for i in range(3000)]
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "kpi_workbook.cli", "new", "--roster", str(roster),
                             "--month", MONTH, "--split-by", "部门", "--out-dir", str(out)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "KPI_WORKBOOK_WORKERS": "2"}, start_new_session=True)
    end = time.monotonic() + 120
    while not (child_pids(proc.pid) and out.is_dir() and any(".kpi-tmp-" in p.name for p in out.iterdir())):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < end, "never got ready"
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert [line for line in err.splitlines() if line.strip()] == ["已中断 / interrupted"]
    time.sleep(0.2)  # a worker that outlived its parent (it must not) would write meanwhile
    assert not [p.name for p in out.iterdir() if ".kpi-tmp-" in p.name]


def _started(log: Path, item: int) -> int:
    """A book's work that takes a while and says when it started (one line per item)."""
    with open(log, "a") as out:
        out.write(f"{item}\n")
    time.sleep(0.3)
    return item * 10


def test_each_book_hands_the_largest_first_and_gives_results_in_order(tmp_path, monkeypatch):
    monkeypatch.setenv("KPI_WORKBOOK_WORKERS", "2")
    log = tmp_path / "started.txt"
    items = [1, 5, 2, 9, 3]
    assert pool.each_book(_started, items, shared=log, sizes=items) == [10, 50, 20, 90, 30]
    started = [int(line) for line in log.read_text().split()]
    assert sorted(started) == sorted(items)
    # two workers: the two largest first, the smallest last (in the order given: 1 first)
    assert set(started[:2]) == {9, 5} and started[-1] == 1


def test_each_book_does_the_meanwhile_work_and_raises_its_error(tmp_path, monkeypatch):
    from kpi_workbook.diagnostics import KpiError, error

    calls: list = []
    monkeypatch.setenv("KPI_WORKBOOK_WORKERS", "1")  # no workers: before the first item
    assert pool.each_book(lambda _, item: calls.append(item) or item, [1, 2, 3, 4],
                          meanwhile=lambda: calls.append("meanwhile")) == [1, 2, 3, 4]
    assert calls == ["meanwhile", 1, 2, 3, 4]

    def refused():
        raise KpiError([error("bad-data", "数据文件有误", "the data file is bad")])

    monkeypatch.setenv("KPI_WORKBOOK_WORKERS", "2")
    log = tmp_path / "started.txt"
    with pytest.raises(KpiError) as raised:
        pool.each_book(_started, [1, 2, 3, 4, 5, 6], shared=log, meanwhile=refused)
    assert raised.value.diagnostics[0].code == "bad-data"
    # the items not started when it raised were dropped
    assert len(log.read_text().split()) < 6
