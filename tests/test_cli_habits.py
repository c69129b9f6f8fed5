"""The command line as people use it: bilingual help everywhere, summaries on stdout, --json
equal to the API's result, 'did you mean', a quiet broken pipe, a progress bar on a terminal."""

from __future__ import annotations

import argparse
import io
import json
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from kpi_workbook.cli import build_parser, main
from kpi_workbook.sample import sample_inputs
from kpi_workbook.workbook.scorecard.build import build_workbook
from kpi_workbook.workbook.scorecard.fill import fill_workbooks, read_inputs
from kpi_workbook.workbook.month.monthly import run_report

from .helpers import emp, run

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{3,}")


def parsers(parser, name="kpi-workbook"):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from parsers(sub, sub_name)


def test_every_command_and_option_has_chinese_and_english_help():
    top = build_parser()
    seen = 0
    for name, parser in parsers(top):
        if name != "kpi-workbook":
            assert CJK.search(parser.description or "") and LATIN.search(parser.description or ""), name
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    assert CJK.search(choice.help) and LATIN.search(choice.help), choice.dest
                continue
            assert action.help and CJK.search(action.help) and LATIN.search(action.help), (name, action.dest)
            seen += 1
    assert seen > 40


ROSTER = pd.DataFrame([emp(f"Q{i}", f"检{i}", "品质部", "qc_inspector") for i in range(1, 4)]
                      + [emp("T1", "唐一", "电商部", "taobao_cs_staff")])


@pytest.fixture
def books(tmp_path, catalog):
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    build_workbook(catalog, ROSTER, "2026-10", a)
    shutil.copy(a, b)
    inputs = tmp_path / "in.csv"
    frame = sample_inputs(catalog, ROSTER, "2026-10", incomplete={"Q3"})
    frame = pd.concat([frame, pd.DataFrame([{c: frame.iloc[0][c] for c in frame.columns}])])
    frame.iloc[-1, 1] = "miss_detection.mises"  # a misspelt key
    frame.to_csv(inputs, index=False, encoding="utf-8-sig")
    return a, b, inputs


def test_fill_and_report_json_equal_the_api_result(capsys, books, catalog, tmp_path):
    a, b, inputs = books
    api = fill_workbooks(catalog, [a], read_inputs(inputs), source=str(inputs)).to_dict()
    code, out, _ = run(capsys, "fill", b, "--inputs", inputs, "--json")
    assert code == 1 and json.loads(out) == api  # the misspelt key is a finding
    assert any("did you mean: miss_detection.misses（错漏检/" in d["message_en"] for d in api["diagnostics"])
    api = run_report(catalog, [a], tmp_path / "ra.xlsx").to_dict()
    code, out, _ = run(capsys, "report", a, "--out", tmp_path / "rb.xlsx", "--json")
    got = json.loads(out)
    assert got.pop("out").endswith("rb.xlsx") and api.pop("out").endswith("ra.xlsx")
    assert got == api and len(got["summary"]) == 4
    assert {r["工号"]: r["状态"] for r in got["summary"]}["Q3"] == "未完成"


def test_validate_prints_its_summary_on_stdout(capsys, books):
    code, out, err = run(capsys, "validate", books[0])
    assert code == 1 and "findings" in out.splitlines()[-1] and "findings" not in err.splitlines()[-1]


def test_did_you_mean_an_unknown_role(capsys):
    code, _, err = run(capsys, "roles", "show", "qc_inspecter")
    assert code == 2 and "是不是：qc_inspector（品质部员工绩效考核表）" in err and "did you mean" in err


def test_a_broken_pipe_ends_quietly(monkeypatch, capsys):
    class Gone(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", Gone())
    assert main(["roles"]) == 0
    assert capsys.readouterr().err == ""


def test_a_broken_pipe_in_a_real_pipe():
    proc = subprocess.Popen([sys.executable, "-m", "kpi_workbook.cli", "roles", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the command writes anything
    err = proc.stderr.read().decode("utf-8", "replace")
    assert proc.wait(timeout=120) == 0 and err == ""


def test_progress_bar_only_on_a_terminal(monkeypatch, tmp_path):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    assert main(["new", "--month", "2026-10", "--out", str(tmp_path / "a.xlsx")]) == 0
    assert "生成考核表 / new" in tty.getvalue() and "/47 " in tty.getvalue()  # the sample roster: 47
    plain = io.StringIO()
    monkeypatch.setattr(sys, "stderr", plain)
    assert main(["new", "--month", "2026-10", "--out", str(tmp_path / "b.xlsx")]) == 0
    assert plain.getvalue() == ""


def test_fill_and_report_show_their_steps_on_a_terminal(monkeypatch, books, tmp_path):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    a, _, inputs = books
    tty = Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    main(["fill", str(a), "--inputs", str(inputs)])
    assert "导入数据 / fill" in tty.getvalue()
    main(["report", str(a), "--out", str(tmp_path / "r.xlsx")])
    assert "月度报表 / report" in tty.getvalue()


def test_terminal_tables_line_up_by_display_width():
    from kpi_workbook.demo import table_lines
    from kpi_workbook.progress import display_width

    lines = table_lines([["工号", "姓名", "应发"], ["E1", "陈桂英", "1,092.00"], ["E22", "于晨", "0.00"]],
                        right={2})
    # every column starts at the same terminal column: a Chinese character is two columns wide
    starts = [[display_width(line[:line.index(v)]) for v in vs]
              for line, vs in zip(lines, (["姓名"], ["陈桂英"], ["于晨"]))]
    assert starts[0] == starts[1] == starts[2]
    assert len({display_width(line) for line in lines}) == 1  # right-aligned money ends together
    assert display_width("陈桂英") == 6 and display_width("E1") == 2


def test_a_report_steps_once_per_book(monkeypatch, books, tmp_path):
    """A report over a few long books shows a bar (after two seconds on a terminal, never
    counting on the number of steps) that moves as each book is read."""
    from kpi_workbook import api, progress

    assert progress.delay(4) == progress.DELAY == 2.0 and progress.delay(None) == 0.0 == progress.delay(600)
    assert progress.wanted(4, stream=type("T", (), {"isatty": lambda self: True})())
    a, b, _ = books
    seen = []
    api.report([a, b], tmp_path / "r.xlsx", progress=lambda n=1, note="": seen.append((n, note)))
    assert [note for n, note in seen if n == 1][:2] == [a.name, b.name]
