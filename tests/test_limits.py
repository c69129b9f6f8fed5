"""Limits that agree with each other, and the last hostile inputs (issue 23).

One table of limits (kpi_workbook/limits.py) is the README's; the commands that write refuse
up front what the readers would refuse; environment variables are parsed like their options;
YAML, JSON, names and paths are bounded; library warnings and Ctrl-C end in our sentences;
lock files live in one hidden folder per directory. Every file is made here in tmp_path;
limits are lowered through the environment so that the cases stay small.
"""

from __future__ import annotations

import csv
import os
import resource
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from kpi_workbook import limits
from kpi_workbook.workbook.locks import LOCK_FOLDER, hide, lock_path, locked
from kpi_workbook.workbook.scorecard.roster import sample_roster_path
from kpi_workbook.workbook.xlsx.limits import Limits

from .helpers import child_pids, run
from .readers import either_reader  # noqa: F401  (a fixture)

ROOT = Path(__file__).resolve().parents[1]
MONTH = "2026-10"


def _cli(*argv, env=None, memory_mb: int | None = None, **kwargs) -> subprocess.Popen:
    def limited():
        if memory_mb:  # a run that would eat the machine fails instead
            resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
    return subprocess.Popen([sys.executable, "-m", "kpi_workbook.cli", *map(str, argv)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})}, preexec_fn=limited, **kwargs)


def _finished(proc, timeout=120) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def _lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def sample_book(tmp_path_factory) -> Path:
    """The built-in sample roster (47 people) in one book."""
    out = tmp_path_factory.mktemp("limits") / "book.xlsx"
    from kpi_workbook.cli import main

    assert main(["new", "--month", MONTH, "--out", str(out)]) == 0
    return out


# --- 1. one table of limits ----------------------------------------------------------------

def test_the_readme_table_is_the_table_the_code_uses():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert limits.markdown_table() in readme
    book = Limits()  # the book limits the package reader applies come from the same table
    assert (book.sheets, book.cells, book.rows, book.ratio) == tuple(
        limits.BY_NAME[n].value for n in ("sheets", "cells", "rows", "ratio"))
    assert book.part_bytes == limits.BY_NAME["part_mb"].value * limits.MB
    assert book.book_bytes == limits.BY_NAME["book_mb"].value * limits.MB
    from kpi_workbook.numbers import MAX_MONEY

    assert MAX_MONEY == limits.BY_NAME["money"].value
    # every environment variable the package reads is in the table
    import re

    used = set()
    for path in (ROOT / "kpi_workbook").rglob("*.py"):
        used |= set(re.findall(r"KPI_WORKBOOK_MAX_[A-Z_]*[A-Z]|KPI_WORKBOOK_LOCK_TIMEOUT|KPI_WORKBOOK_WORKERS",
                               path.read_text(encoding="utf-8")))
    assert used <= {limit.env for limit in limits.LIMITS}


@pytest.mark.usefixtures("either_reader")  # read with the compiled scanner and without
def test_new_refuses_a_book_the_readers_would_refuse_before_any_work(tmp_path, capsys, monkeypatch):
    """The issue: `new` on a 100,000-row roster wrote a 349 MB book of 100,003 sheets (5 min 51 s,
    3.1 GB) that `validate` then refused. Here the sheet limit is 40 and the sample roster has
    47 people: one sentence naming the limit and --split-by 部门, nothing written; split by
    department, every book is within the limit and reads back."""
    monkeypatch.setenv("KPI_WORKBOOK_MAX_SHEETS", "40")
    code, _, err = run(capsys, "new", "--month", MONTH, "--out", tmp_path / "all.xlsx")
    assert code == 2
    assert len(_lines(err)) == 1
    assert "40" in err and "--split-by 部门" in err and "KPI_WORKBOOK_MAX_SHEETS" in err
    assert list(tmp_path.iterdir()) == []
    code, _, err = run(capsys, "new", "--month", MONTH, "--split-by", "部门", "--out-dir", tmp_path / "d")
    assert code == 0, err
    code, _, err = run(capsys, "validate", *sorted((tmp_path / "d").glob("*.xlsx")))
    assert "too-large" not in err


@pytest.mark.usefixtures("either_reader")  # read with the compiled scanner and without
def test_new_refuses_a_book_of_too_many_cells(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KPI_WORKBOOK_MAX_CELLS", "5000")
    code, _, err = run(capsys, "new", "--month", MONTH, "--out", tmp_path / "all.xlsx")
    assert code == 2 and len(_lines(err)) == 1
    assert "5,000" in err and "--split-by 部门" in err and "KPI_WORKBOOK_MAX_CELLS" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("either_reader")  # read with the compiled scanner and without
def test_new_refuses_a_book_too_big_when_inflated(tmp_path, capsys, monkeypatch):
    """At the full limits the inflated size binds before the cells for the biggest roles
    (about 42,000 qc_event_ledger cards are 2 GB of XML): `new` counts it too. The sample
    book is about 1.4 MB inflated: with the book limited to 1 MB it is refused up front; two
    cards (60 KB) are written."""
    monkeypatch.setenv("KPI_WORKBOOK_MAX_BOOK_MB", "1")
    code, _, err = run(capsys, "new", "--month", MONTH, "--out", tmp_path / "all.xlsx")
    assert code == 2 and len(_lines(err)) == 1
    assert "MB" in err and "KPI_WORKBOOK_MAX_BOOK_MB" in err and "--split-by 部门" in err
    assert list(tmp_path.iterdir()) == []
    two = _roster_csv(tmp_path / "two.csv", 2)
    code, _, err = run(capsys, "new", "--month", MONTH, "--roster", two, "--out", tmp_path / "two.xlsx")
    assert code == 0, err
    code, _, err = run(capsys, "validate", tmp_path / "two.xlsx")
    assert "too-large" not in err and "zip-bomb" not in err


@pytest.mark.usefixtures("either_reader")  # read with the compiled scanner and without
def test_the_size_new_counts_is_never_below_what_the_reader_counts(tmp_path, catalog):
    """The up-front estimate may only err on the safe side: for every role, at least the
    cells the package reader counts in the sheet as written."""
    import pandas as pd

    from kpi_workbook.workbook.scorecard.build import build_workbook
    from kpi_workbook.workbook.scorecard.form import _measured_size, book_size, sheet_cells, sheet_cost
    from kpi_workbook.workbook.xlsx.package import Book

    from .helpers import emp

    roster = pd.DataFrame([emp(f"E{i}", f"员工{i}", "部门", role) for i, role in enumerate(catalog.roles)])
    path = tmp_path / "all.xlsx"
    build_workbook(catalog, roster, MONTH, path)
    with Book.open(path) as package:
        for title in package.sheet_names[3:]:
            role = package.sheet(title).contents[package.names[title]["KPI_ROLE"]]
            part = package.read(package.parts[title])
            written = part.count(b"<c ")
            assert sheet_cells(catalog, catalog.roles[role]) >= written, role
            measured = sheet_cost(catalog, catalog.roles[role])
            assert measured.cells == written and measured.bytes >= len(part), role
    with Book.open(path) as package:  # every sheet read once: the cells the book's limit counts
        package.sheets(package.sheet_names)
        counted = package._cells
    sheets, cells = book_size(catalog, roster["role"])
    assert sheets == len(roster) + 3 and cells >= counted
    cells, size = _measured_size(catalog, roster["role"].value_counts().to_dict())
    with zipfile.ZipFile(path) as z:
        inflated = sum(i.file_size for i in z.infolist())  # what the book limit counts
    assert cells >= counted and size >= inflated


@pytest.mark.usefixtures("either_reader")  # read with the compiled scanner and without
def test_report_refuses_a_report_its_readers_would_refuse(tmp_path, capsys, monkeypatch):
    """120 cards: their book's 名单 has 121 rows, the report's 月度汇总 at least 122 (a header
    and a row per card). With rows limited to 121 the scorecard book still reads, but payroll
    and approve could not read the report: refused before it is written."""
    book = tmp_path / "book.xlsx"
    code, _, err = run(capsys, "new", "--month", MONTH, "--roster", _roster_csv(tmp_path / "名单.csv", 120),
                       "--out", book)
    assert code == 0, err
    monkeypatch.setenv("KPI_WORKBOOK_MAX_ROWS", "121")
    code, _, err = run(capsys, "validate", book)
    assert "too-large" not in err
    code, _, err = run(capsys, "report", book, "--out", tmp_path / "r.xlsx")
    assert code == 2 and "报表" in err and "121" in err and "KPI_WORKBOOK_MAX_ROWS" in err
    assert len(_lines(err)) == 1
    assert not (tmp_path / "r.xlsx").exists()


@pytest.mark.usefixtures("either_reader")  # read with the compiled scanner and without
def test_a_history_keeps_each_month_in_a_sheet_its_readers_take(tmp_path, capsys, monkeypatch, sample_book):
    """Two months of 47 people are 94 rows of 历史: with rows limited to 80 the second
    month's report is still written, for the history keeps each month in a sheet of its own
    (48 rows, issue 24: twelve months of 100,000 people put no sheet near Excel's limit) —
    and the history, read under the same limit, verifies. (The month's sheet is never
    longer than the report's 月度汇总, which the report refuses first when it is too long.)"""
    import shutil

    import openpyxl

    history = tmp_path / "历史.xlsx"
    code, _, err = run(capsys, "report", sample_book, "--out", tmp_path / "r10.xlsx", "--history", history)
    assert code in (0, 1), err
    other = tmp_path / "book-11.xlsx"
    code, _, err = run(capsys, "new", "--month", "2026-11", "--out", other)
    monkeypatch.setenv("KPI_WORKBOOK_MAX_ROWS", "80")
    code, _, err = run(capsys, "report", other, "--out", tmp_path / "r11.xlsx", "--history", history)
    assert code in (0, 1), err
    wb = openpyxl.load_workbook(history, read_only=True)
    months = [name for name in wb.sheetnames if name.startswith("历史 ")]
    assert months == ["历史 2026-10", "历史 2026-11"] and all(wb[m].max_row == 48 for m in months)
    code, out, err = run(capsys, "history", history)
    assert code == 0 and "94 行" in out, err
    shutil.rmtree(tmp_path / LOCK_FOLDER, ignore_errors=True)


def test_master_refuses_a_roster_its_readers_would_refuse(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KPI_WORKBOOK_MAX_ROWS", "30")
    code, _, err = run(capsys, "master", "--out", tmp_path / "m.xlsx", "--roster", sample_roster_path(),
                       "--month", MONTH)
    assert code == 2 and "名单" in err and "30" in err and len(_lines(err)) == 1
    assert not (tmp_path / "m.xlsx").exists()


# --- 2. every input bounded ----------------------------------------------------------------

@pytest.mark.parametrize("value", ["-5", "nan", "inf", "-inf", "1e400", "soon"])
def test_a_bad_lock_timeout_variable_is_one_sentence(value, tmp_path, capsys, monkeypatch, sample_book):
    """KPI_WORKBOOK_LOCK_TIMEOUT=-5 waited forever on a locked file (the option refuses -1),
    =nan exited 3: now both are refused like the option, before any work."""
    monkeypatch.setenv("KPI_WORKBOOK_LOCK_TIMEOUT", value)
    data = tmp_path / "in.csv"
    data.write_text("工号,输入,值\n", encoding="utf-8")
    code, _, err = run(capsys, "fill", sample_book, "--inputs", data)
    assert code == 2 and "KPI_WORKBOOK_LOCK_TIMEOUT" in err and len(_lines(err)) == 1


def test_a_negative_lock_timeout_never_waits_on_a_locked_file(tmp_path, sample_book):
    data = tmp_path / "in.csv"
    data.write_text("工号,输入,值\n", encoding="utf-8")
    with locked(sample_book, 0):  # another run holds the book
        proc = _cli("fill", sample_book, "--inputs", data, env={"KPI_WORKBOOK_LOCK_TIMEOUT": "-5"})
        code, _, err = _finished(proc, timeout=60)  # it waited forever before
    assert code == 2 and "KPI_WORKBOOK_LOCK_TIMEOUT" in err


@pytest.mark.parametrize("name,value", [("KPI_WORKBOOK_MAX_SHEETS", "lots"), ("KPI_WORKBOOK_MAX_CELLS", "-1"),
                                        ("KPI_WORKBOOK_MAX_ROWS", "0"), ("KPI_WORKBOOK_MAX_PART_MB", "1.5"),
                                        ("KPI_WORKBOOK_MAX_BOOK_MB", "nan"), ("KPI_WORKBOOK_MAX_RATIO", "∞"),
                                        ("KPI_WORKBOOK_WORKERS", "-2")])
def test_bad_limit_variables_are_refused_not_ignored(name, value, capsys, monkeypatch, sample_book):
    """They fell back to their defaults silently: a typo in a lowered limit went unnoticed."""
    monkeypatch.setenv(name, value)
    code, _, err = run(capsys, "validate", sample_book)
    assert code == 2 and name in err and len(_lines(err)) == 1


def test_an_infinite_lock_timeout_option_is_refused(tmp_path, capsys, sample_book):
    code, _, err = run(capsys, "fill", sample_book, "--inputs", tmp_path / "x.csv", "--lock-timeout", "inf")
    assert code == 2 and "--lock-timeout" in err


def _templates(tmp_path) -> Path:
    import shutil

    from kpi_workbook.rules.loader import builtin_templates_dir

    root = tmp_path / "templates"
    shutil.copytree(builtin_templates_dir(), root, ignore=shutil.ignore_patterns("__pycache__", "history"))
    return root


@pytest.mark.parametrize("bomb", ["aliases", "nesting", "self"])
def test_a_yaml_bomb_in_the_templates_is_one_sentence(bomb, tmp_path):
    """An alias bomb in grades.yaml made `roles` run past 45 s at 1.6 GB and climbing; 100,000
    nested brackets crash libyaml's composer (a segmentation fault). Now: one sentence, exit 2,
    at once (the run is capped at 1 GB and 60 s, so the old behaviour fails here)."""
    root = _templates(tmp_path)
    if bomb == "aliases":
        lines = ['b0: &b0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
        lines += [f"b{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * 9) + "]" for i in range(1, 10)]
        text = "\n".join(lines) + "\n"
    elif bomb == "nesting":
        text = "deep: " + "[" * 100_000 + "]" * 100_000 + "\n"
    else:
        text = "loop: &loop [*loop]\n"
    grades = root / "grades.yaml"
    grades.write_text(text + grades.read_text(encoding="utf-8"), encoding="utf-8")
    proc = _cli("--templates", root, "roles", env={"KPI_WORKBOOK_CACHE": "off"}, memory_mb=1024)
    code, _, err = _finished(proc, timeout=60)
    assert code == 2, err
    assert "grades.yaml" in err and "yaml-limit" in err and len(_lines(err)) == 1


def test_yaml_within_the_budget_still_loads_with_aliases(tmp_path):
    """Aliases themselves are fine: a template may share a list of bands."""
    from kpi_workbook.rules.bounded_yaml import load_yaml

    assert load_yaml("a: &a [1, 2]\nb: *a\n") == {"a": [1, 2], "b": [1, 2]}


def test_a_deep_json_input_is_one_sentence(tmp_path):
    """`score --input` on a 200,000-deep JSON array exited 3 (RecursionError)."""
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    proc = _cli("score", "qc_inspector", "--input", deep)
    code, out, err = _finished(proc)
    assert code == 2 and out == "" and "deep.json" in err and "64" in err and len(_lines(err)) == 1


def test_a_json_input_within_the_depth_still_scores(tmp_path, capsys):
    card = tmp_path / "card.json"
    card.write_text('{"month": "2026-10", "inputs": {"miss_detection.misses": 1}}', encoding="utf-8")
    code, out, _ = run(capsys, "score", "qc_inspector", "--input", card)
    assert code == 0 and '"total": 100.0' in out


def test_an_over_long_output_name_is_one_sentence(tmp_path, capsys, sample_book):
    """An output file name of 305 bytes exited 3 ('File name too long' in the existing-output
    check); a path longer than the system's limit as well."""
    name = tmp_path / ("x" * 300 + ".xlsx")
    code, _, err = run(capsys, "report", sample_book, "--out", name)
    assert code == 2 and "305" in err and "255" in err and len(_lines(err)) == 1
    deep = tmp_path.joinpath(*["d" * 200] * 25) / "r.xlsx"
    code, _, err = run(capsys, "report", sample_book, "--out", deep)
    assert code == 2 and "path-too-long" in err and len(_lines(err)) == 1
    code, _, err = run(capsys, "validate", name)
    assert code == 2 and "name-too-long" in err
    code, _, err = run(capsys, "new", "--month", MONTH, "--roster", tmp_path / ("r" * 300 + ".csv"),
                       "--out", tmp_path / "n.xlsx")
    assert code == 2 and "name-too-long" in err and len(_lines(err)) == 1


def test_a_long_name_the_system_holds_is_written(tmp_path, capsys, sample_book):
    """80 Chinese characters are 240 bytes: the name fits, and its temporary file (which adds
    a mark, the process id and a random part) must fit too."""
    out = tmp_path / ("报" * 80 + ".xlsx")
    code, _, err = run(capsys, "report", sample_book, "--out", out)
    assert code in (0, 1), err
    assert out.is_file()
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


# --- 4. our sentences first ----------------------------------------------------------------

def _roster_with_an_extension(tmp_path) -> Path:
    """A roster as Excel may save it, with a worksheet extension openpyxl does not support
    (it warns 'Conditional Formatting extension is not supported and will be removed')."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["工号", "姓名", "部门", "岗位", "基本工资"])
    ws.append(["S1", "甲", "客服部", "cs_specialist", 5000])
    plain = tmp_path / "plain.xlsx"
    wb.save(plain)
    out = tmp_path / "名单.xlsx"
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</worksheet>", b'<extLst><ext uri="{78C0D931-6437-407d-A8EE-F0AAD7539E65}" '
                                    b'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
                                    b"<x14:conditionalFormattings/></ext></extLst></worksheet>")
            zout.writestr(info, data)
    return out


def test_a_library_warning_is_not_what_the_user_reads(tmp_path):
    roster = _roster_with_an_extension(tmp_path)
    proc = _cli("new", "--roster", roster, "--month", MONTH, "--out", tmp_path / "b.xlsx")
    code, _, err = _finished(proc)
    assert code == 0 and err == "", err
    proc = _cli("--debug", "new", "--roster", roster, "--month", MONTH, "--out", tmp_path / "c.xlsx")
    code, _, err = _finished(proc)
    assert code == 0 and err.startswith("debug: UserWarning: Conditional Formatting extension"), err


def test_a_numpy_overflow_is_a_finding_not_a_runtime_warning(tmp_path, catalog):
    """A 设置 parameter of 1e308 overflowed the pay and numpy's RuntimeWarning was the first
    thing on the terminal: now the card is in error with a finding naming the cell (设置's
    range, or the overflow), and no library warning is printed."""
    import pandas as pd

    from kpi_workbook.workbook.scorecard.build import build_workbook

    from .helpers import edited_settings, emp

    book = tmp_path / "book.xlsx"
    build_workbook(catalog, pd.DataFrame([emp("S1", "甲", "客服部", "cs_specialist")]), MONTH, book)
    bad = edited_settings(book, tmp_path / "bad.xlsx", {"PAY_pay_base_pct_PCT": 1e308})
    data = tmp_path / "in.csv"
    data.write_text("工号,problem_resolution,customer_satisfaction,response_time,complaint_handling,"
                    "quality_monitoring\nS1,90,90,90,90,90\n", encoding="utf-8")
    assert _finished(_cli("fill", bad, "--inputs", data))[0] == 0
    proc = _cli("report", bad, "--out", tmp_path / "r.xlsx")
    code, _, err = _finished(proc)
    assert code == 1
    assert "RuntimeWarning" not in err and "site-packages" not in err and "np." not in err
    assert "settings-broken" in err or "non-finite" in err  # a range on 设置, or the overflow itself
    assert all(": error: " in line or ": warning: " in line or ": info: " in line for line in _lines(err))


def test_a_long_company_name_is_refused_before_the_library_warns(tmp_path, sample_book):
    """XlsxWriter warned 'Header string cannot be longer than Excel's limit of 255 characters'
    (and dropped the header) for a long --company."""
    proc = _cli("report", sample_book, "--out", tmp_path / "r.xlsx", "--company", "某" * 300)
    code, _, err = _finished(proc)
    assert code == 2 and "--company" in err and "60" in err and len(_lines(err)) == 1
    assert "Header string" not in err and not (tmp_path / "r.xlsx").exists()
    proc = _cli("report", sample_book, "--out", tmp_path / "r.xlsx", "--company", "某" * 60)
    code, _, err = _finished(proc)
    assert code in (0, 1) and "Header" not in err and "Warning" not in err
    # every command that prints the company in a page header refuses it the same way
    for argv in (["payroll", tmp_path / "r.xlsx", "--out", tmp_path / "p.xlsx"],
                 ["notices", tmp_path / "r.xlsx", "--out", tmp_path / "n.xlsx"],
                 ["rollup", "--history", tmp_path / "h.xlsx", "--year", "2026", "--out", tmp_path / "y.xlsx"]):
        code, _, err = _finished(_cli(*argv, "--company", "某" * 300))
        assert code == 2 and "--company" in err and len(_lines(err)) == 1, (argv, err)


def _roster_csv(path: Path, people: int) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["工号", "姓名", "部门", "岗位", "基本工资"])
        for i in range(people):
            out.writerow([f"E{i:05d}", f"员工{i}", f"部门{i % 8}", "qc_inspector", 5000])
    return path


def _interrupt_when(proc, ready, timeout=120, finished_is_ready=False) -> None:
    """Ctrl-C as a terminal sends it (to the whole process group) once ``ready()``; a command
    that ends first fails the test, unless ``finished_is_ready``."""
    end = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < end, "never got ready"
        time.sleep(0.01)
    if finished_is_ready and proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGINT)
    except ProcessLookupError:  # ended between the poll and the signal
        assert finished_is_ready, "the command ended before it was interrupted"


def test_ctrl_c_while_writing_is_one_line_and_leaves_nothing(tmp_path):
    """Ctrl-C printed a KeyboardInterrupt traceback (2 of 6 runs). Now: '已中断 / interrupted',
    exit 130, and the temporary file of the output being written is gone."""
    roster = _roster_csv(tmp_path / "名单.csv", 3000)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    proc = _cli("new", "--roster", roster, "--month", MONTH, "--out", out_dir / "b.xlsx", start_new_session=True)
    _interrupt_when(proc, lambda: any(".kpi-tmp-" in p.name for p in out_dir.iterdir()))
    code, _, err = _finished(proc)
    assert code == 130, err
    assert _lines(err) == ["已中断 / interrupted"]
    assert list(out_dir.iterdir()) == []


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_ctrl_c_while_reading_on_every_core_is_one_line(tmp_path, catalog):
    """A report over a folder of books reads them in worker processes: the workers end
    silently, the command says so once."""
    import pandas as pd

    from kpi_workbook.workbook.scorecard.build import build_workbook

    from .helpers import emp

    folder = tmp_path / "books"
    for k in range(6):
        roster = pd.DataFrame([emp(f"D{k}E{i}", f"员工{i}", f"部门{k}", "qc_inspector") for i in range(300)])
        build_workbook(catalog, roster, MONTH, folder / f"{k}.xlsx")
    proc = _cli("report", folder, "--out", tmp_path / "r.xlsx", env={"KPI_WORKBOOK_WORKERS": "2"},
                start_new_session=True)
    # the workers seen, or (a loaded machine polls late, a fast one finishes early) the
    # command done before they were: then there is nothing to interrupt
    _interrupt_when(proc, lambda: proc.poll() is not None or bool(child_pids(proc.pid)), finished_is_ready=True)
    code, _, err = _finished(proc)
    assert code in (130, 0, 1), err
    if code == 130:
        assert _lines(err) == ["已中断 / interrupted"]
    assert not any(".kpi-tmp-" in p.name for p in tmp_path.iterdir())


WORKER_START = """
import os, sys
from kpi_workbook.workbook.xlsx.package import end_with_parent
end_with_parent(int(sys.argv[1]))
print("waiting for work", flush=True)
"""


@pytest.mark.parametrize("parent_gone", [False, True])
def test_a_worker_whose_parent_is_gone_ends_as_it_starts(parent_gone):
    """A worker forked just as Ctrl-C ended its parent starts with another parent: it ends
    there (exit 130, silently) instead of waiting for work for ever with the command's output
    pipes open; a worker whose parent is there goes on."""
    parent = os.getpid() + (10**6 if parent_gone else 0)  # the pid that started it, or one gone
    done = subprocess.run([sys.executable, "-c", WORKER_START, str(parent)], capture_output=True,
                          text=True, timeout=60, env=os.environ | {"PYTHONPATH": str(ROOT)})
    assert (done.returncode, done.stdout, done.stderr) == ((130, "", "") if parent_gone else
                                                           (0, "waiting for work\n", ""))


# --- 5. lock files that do not clutter -----------------------------------------------------

HOLD = """
import sys, time
from pathlib import Path
from kpi_workbook.workbook.locks import locked
with locked(Path(sys.argv[1]), 0):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_two_processes_on_one_folder_lock_each_other_out(tmp_path, sample_book):
    """A second process (as a second PC on a shared folder would) holds the book's lock: fill
    waits, then says so; once it lets go, fill runs. The folder holds the book and one hidden
    folder of locks, whatever number of books was locked."""
    import shutil

    book = Path(shutil.copy(sample_book, tmp_path / "book.xlsx"))
    other = Path(shutil.copy(sample_book, tmp_path / "other.xlsx"))
    data = tmp_path / "in.csv"
    data.write_text("工号,miss_detection.misses\nE028,1\n", encoding="utf-8")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(book)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        code, _, err = _finished(_cli("fill", book, "--inputs", data, "--lock-timeout", "0.3"))
        assert code == 2 and "正被另一个程序写入" in err and "book.xlsx" in err
        code, _, err = _finished(_cli("fill", other, "--inputs", data, "--lock-timeout", "0.3"))
        assert code in (0, 1) and "正被另一个程序写入" not in err  # another book: not locked
    finally:
        holder.communicate("\n", timeout=60)
    code, _, err = _finished(_cli("fill", book, "--inputs", data, "--lock-timeout", "5"))
    assert code in (0, 1) and "正被另一个程序写入" not in err
    assert lock_path(book) == tmp_path / LOCK_FOLDER / "book.xlsx.lock"
    assert sorted(p.name for p in tmp_path.iterdir()) == [LOCK_FOLDER, "book.xlsx", "in.csv", "other.xlsx"]
    assert sorted(p.name for p in (tmp_path / LOCK_FOLDER).iterdir()) == ["book.xlsx.lock", "other.xlsx.lock"]


class _Kernel32:
    """A stand-in for Windows' kernel32 (GetFileAttributesW / SetFileAttributesW) on other
    systems: the attributes of each path, as Windows keeps them."""

    def __init__(self):
        self.attributes: dict[str, int] = {}

    def GetFileAttributesW(self, path):  # noqa: N802 (the Windows API's name)
        return self.attributes.get(path, 0x10)  # FILE_ATTRIBUTE_DIRECTORY

    def SetFileAttributesW(self, path, value):  # noqa: N802
        self.attributes[path] = value
        return 1


def test_the_lock_folder_is_hidden_on_windows(tmp_path):
    """A leading dot hides nothing on Windows: the folder gets the hidden attribute."""
    kernel32 = _Kernel32()
    folder = tmp_path / LOCK_FOLDER
    hide(folder, kernel32)
    assert kernel32.attributes[str(folder)] == 0x10 | 0x2
    hide(folder, kernel32)  # hidden already: left as it is
    assert kernel32.attributes[str(folder)] == 0x12
