"""The UDF module under xlwings' REAL decorators, the committed VBA wrappers, and hygiene.

On Linux ``xw.func``/``xw.arg``/``xw.ret`` are no-op stubs, so a decorator mistake would pass
silently; here ``xlwings.udfs`` is imported with stand-ins for pywin32 (tests/windows_standins.py)
and its ``xlfunc``/``xlarg``/``xlret`` decorate a fresh copy of ``kpi_workbook.excel.udfs``.
"""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kpi_workbook.excel import macros_dir
from kpi_workbook.excel.generate_vba import MODULE_NAME, UDFS_SOURCE, VBA_FILE, main, vba_text

from .windows_standins import (NAMES, have_pywin32, is_standin, load_udfs, need_xlwings,
                               real_decorators)

xw = need_xlwings()
ROOT = Path(__file__).resolve().parents[1]
UDF_NAMES = ["KPI_BAND", "KPI_EXPLAIN", "KPI_GRADE", "KPI_ITEM", "KPI_PAY", "KPI_ROUND", "KPI_SCORE"]


@pytest.fixture()
def real():
    with real_decorators() as module:
        yield module


def test_standins_are_in_place_during_use(real):
    assert real.__name__ == "xlwings.udfs"
    assert xw.func is real.xlfunc
    if not have_pywin32():
        assert all(is_standin(sys.modules[n]) for n in NAMES)


def test_standins_leave_nothing_behind():
    with real_decorators():
        pass
    assert xw.func is not getattr(sys.modules.get("xlwings.udfs"), "xlfunc", None)
    if not have_pywin32():
        assert not any(n in sys.modules for n in NAMES)
        assert "xlwings.udfs" not in sys.modules


def test_real_decorators_register_every_udf(real):
    module = load_udfs()
    found = sorted(n for n in dir(module) if hasattr(getattr(module, n), "__xlfunc__"))
    assert found == UDF_NAMES
    for name in found:
        info = getattr(module, name).__xlfunc__
        assert info["name"] == name and info["category"] == "KPI" and not info["sub"]
        assert info["ret"]["doc"] and len(info["ret"]["doc"]) <= 255
        signature = inspect.signature(getattr(module, name))
        assert [a["name"] for a in info["args"]] == list(signature.parameters)
        for a in info["args"]:
            # every argument documented by @xw.arg (not xlwings' "Positional argument N")
            assert not a["doc"].startswith("Positional argument"), (name, a["name"])
            assert len(a["doc"]) <= 255
            default = signature.parameters[a["name"]].default
            assert ("optional" in a) == (default is not inspect.Parameter.empty)
        ranges = [a["name"] for a in info["args"] if a["options"].get("ndim") == 2]
        assert ranges, name  # at least one argument takes a whole range
        assert all(a["options"].get("err_to_str") for a in info["args"] if a["name"] in ranges)


def test_really_decorated_udfs_still_compute(real):
    module = load_udfs()
    assert module.KPI_ROUND([[2.675]], 2) == [[2.68]]
    assert module.KPI_GRADE("grade_a_e", [[96], [59]]) == [["A"], ["E"]]


def test_a_misspelt_argument_name_fails(real):
    source = UDFS_SOURCE.read_text(encoding="utf-8")
    assert source.count('@xw.arg("values"') >= 3
    broken = source.replace('@xw.arg("values"', '@xw.arg("valeus"', 1)
    with pytest.raises(Exception, match="Invalid argument name 'valeus'"):
        load_udfs(broken, name="kpi_workbook.excel.udfs_misspelt")


def test_the_stubs_alone_would_not_notice(monkeypatch):
    """Why the real decorators matter: with xlwings' Linux stubs, the same typo passes."""
    if sys.platform.startswith("win"):
        pytest.skip("on Windows xw.arg is the real decorator")
    broken = UDFS_SOURCE.read_text(encoding="utf-8").replace('@xw.arg("values"', '@xw.arg("valeus"', 1)
    load_udfs(broken, name="kpi_workbook.excel.udfs_misspelt")


def test_generated_vba_equals_the_committed_module():
    committed = (macros_dir() / VBA_FILE).read_bytes()
    assert vba_text().encode("ascii") == committed
    assert b"\r\n" in committed and b"\n" not in committed.replace(b"\r\n", b"")
    assert main(["--check", "--out", str(macros_dir() / VBA_FILE)]) == 0


def test_generate_vba_writes_and_checks(tmp_path):
    out = tmp_path / "KPIUdfs.bas"
    assert main(["--check", "--out", str(out)]) == 1
    assert main(["--out", str(out)]) == 0
    assert out.read_bytes() == (macros_dir() / VBA_FILE).read_bytes()
    out.write_bytes(out.read_bytes().replace(b"KPI_GRADE", b"KPI_GRAD"))
    assert main(["--check", "--out", str(out)]) == 1


def test_vba_wrappers_match_the_python_signatures():
    text = (macros_dir() / VBA_FILE).read_bytes().decode("ascii")
    assert text.startswith('Attribute VB_Name = "xlwings_udfs"\r\n')
    module = load_udfs()
    for name in UDF_NAMES:
        params = inspect.signature(getattr(module, name)).parameters.values()
        # xlwings' reserved argument ``caller`` is not in Excel's signature: Nothing stands in
        # for it and xlwings passes the calling range there
        expected = ", ".join(("Optional " if p.default is not p.empty else "") + p.name
                             for p in params if p.name != "caller")
        assert f"Function {name}({expected})\r\n" in text
        assert f'XLPy.CallUDF("{MODULE_NAME}", "{name}", Array(' in text
        passed = ", ".join("Nothing" if p.name == "caller" else p.name for p in params)
        assert f'"{name}", Array({passed}), ThisWorkbook, Application.Caller)' in text


def test_generator_runs_as_a_command():
    done = subprocess.run([sys.executable, "-m", "kpi_workbook.excel.generate_vba", "--check"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# ---------------------------------------------------------------------------------------
# Hygiene: no xlwings PRO, and the core package does not need the Excel package.

PRO = re.compile(r"xlwings\.pro|xlwings\.server|xlwings\.reports|from\s+xlwings\s+import\s+[^\n]*"
                 r"\b(pro|server|reports|Caller)\b|import\s+xlwings\.(pro|server|reports)|"
                 r"LICENSE_KEY|__pro__")


def _python_files():
    files = list((ROOT / "kpi_workbook").rglob("*.py")) + list((ROOT / "macros").rglob("*.py"))
    return [p for p in files if "__pycache__" not in p.parts]


def test_nothing_imports_xlwings_pro():
    offenders = []
    for path in _python_files():
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in PRO.finditer(text)]
        for node in ast.walk(ast.parse(text)):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            offenders += [f"{path.relative_to(ROOT)}: import {n}" for n in names
                          if n.startswith(("xlwings.pro", "xlwings.server", "xlwings.reports"))]
    for path in (ROOT / "macros").glob("*.bas"):
        if re.search(r"LICENSE|xlwings\.pro|RunRemotePython", path.read_text(encoding="ascii")):
            offenders.append(str(path))
    assert not offenders, offenders


def test_core_package_does_not_import_the_excel_package():
    core = [p for p in (ROOT / "kpi_workbook").rglob("*.py")
            if "excel" not in p.relative_to(ROOT / "kpi_workbook").parts[:1]]
    offenders = []
    for path in core:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            mods = []
            if isinstance(node, ast.ImportFrom):
                mods = [("." * node.level) + (node.module or "")]
            elif isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            for m in mods:
                if "xlwings" in m:
                    offenders.append(f"{path.name}: {m}")
                # cli.py may register the Excel subcommands (cli_commands imports no xlwings)
                if "excel" in m and not (path.name == "cli.py" and m.endswith("excel.cli_commands")):
                    offenders.append(f"{path.name}: {m}")
    assert not offenders, offenders


def test_core_and_cli_run_without_importing_xlwings(tmp_path):
    code = (
        "import sys\n"
        "import kpi_workbook.cli as cli, kpi_workbook.workbook.scorecard.build, kpi_workbook.workbook.month.monthly\n"
        "import kpi_workbook.excel, kpi_workbook.excel.cli_commands, kpi_workbook.workbook.month.master\n"
        "import kpi_workbook.excel.functions, kpi_workbook.excel.buttons, kpi_workbook.excel.ribbon\n"
        "import kpi_workbook.excel.setup\n"
        "parser = cli.build_parser()  # registers the excel commands too\n"
        f"args = parser.parse_args(['master', '--out', {str(tmp_path / 'm.xlsx')!r}])\n"
        "assert args.run(args) == 0\n"
        "assert 'xlwings' not in sys.modules, 'xlwings imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert (tmp_path / "m.xlsx").is_file()
    assert done.returncode == 0, done.stderr
