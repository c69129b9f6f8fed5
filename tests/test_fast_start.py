"""A fast start: templates parsed once with libyaml, light commands import no workbook layer.

No timing is asserted here (benchmarks are not tests: `python -m bench.run` measures the
start-up); what is tested is what the speed rests on and must not regress in a merge.
"""

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from kpi_workbook.rules import loader
from kpi_workbook.rules.lint import lint
from kpi_workbook.rules.loader import builtin_templates_dir, read_catalog

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def templates(tmp_path):
    root = tmp_path / "templates"
    shutil.copytree(builtin_templates_dir(), root, ignore=shutil.ignore_patterns("__*"))
    return root


def test_pyyaml_has_libyaml_here():
    # the fast path is the one measured; without libyaml the loader still works (next test)
    assert loader._SAFE_LOADER is yaml.CSafeLoader


def test_libyaml_and_pure_python_parsers_give_the_same_catalog(monkeypatch):
    fast, fast_diags = read_catalog()
    monkeypatch.setattr(loader, "_SAFE_LOADER", yaml.SafeLoader)
    slow, slow_diags = read_catalog()
    assert fast_diags == slow_diags == []
    assert len(fast.roles) == 16
    assert fast == slow  # every role, scheme and pay rule validated to equal models


def test_syntax_error_names_file_and_line(templates):
    path = templates / "roles" / "qc_inspector.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[4] = "  : - ]["  # line 5 is now broken
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = [d for d in lint(templates) if d.code == "yaml-syntax"]
    assert len(found) == 1
    assert found[0].source == str(path)
    assert found[0].line is not None and 4 <= found[0].line <= 6


@pytest.mark.parametrize("parser", ["CSafeLoader", "SafeLoader"])
def test_schema_error_line_is_the_line_in_the_file(templates, monkeypatch, parser):
    monkeypatch.setattr(loader, "_SAFE_LOADER", getattr(yaml, parser))
    path = templates / "grades.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    # grade A's threshold becomes a word: the error must point at that very line
    target = next(i for i, line in enumerate(lines) if "min: 96}" in line)
    lines[target] = lines[target].replace("min: 96}", "min: lots}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = [d for d in lint(templates) if d.code.startswith("schema-")]
    assert found and found[0].source == str(path)
    assert found[0].line == target + 1  # 1-based
    assert found[0].path[-1] == "min"


LIGHT = ["pandas", "xlsxwriter", "openpyxl", "xlwings", "kpi_workbook.workbook"]


@pytest.mark.parametrize("argv", [["roles"], ["roles", "show", "qc_inspector"], ["lint"],
                                  ["roles", "--json"]])
def test_light_commands_import_no_workbook_layer(argv):
    """`roles` and `lint` stay within 1.5x of `import pandas` only while they import none of it."""
    code = textwrap.dedent(f"""
        import contextlib, io, json, sys
        from kpi_workbook.cli import main
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            status = main({argv!r})
        print(json.dumps([status, [m for m in {LIGHT!r} if m in sys.modules]]))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    status, imported = json.loads(done.stdout.strip().splitlines()[-1])
    assert status == 0
    assert imported == []
