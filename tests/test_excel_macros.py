"""The VBA and ribbon files: every macro resolves to something that exists, for real.

* Every ``RunPython "..."`` string in ``macros/*.bas`` is parsed as Python; its imports are
  imported and each call must bind to the callable's signature.
* Every ribbon ``onAction`` is a Sub of ``KPIButtons.bas`` taking ``(control As IRibbonControl)``.
* The VBA our modules call (RunPython, KillPy, ImportPythonUDFs, XLPy) exists in the xlwings
  VBA module shipped with the installed xlwings; the master's buttons name existing Subs.
* The ribbon can be put into a workbook file and the file stays a valid workbook.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import pytest

from kpi_workbook.excel import macros_dir
from kpi_workbook.workbook.month.master import BUTTONS, write_master
from kpi_workbook.excel.ribbon import add_ribbon
from kpi_workbook.workbook.xlsx.ribbon import PART, REL_TYPE
from kpi_workbook.workbook.libreoffice import recalculate

from .lo_fixtures import soffice  # noqa: F401
from .windows_standins import need_xlwings

xw = need_xlwings()
MACROS = macros_dir()
BAS = sorted(MACROS.glob("*.bas"))
RIBBON = MACROS / "KPIRibbon.xml"
CUSTOMUI = "{http://schemas.microsoft.com/office/2009/07/customui}"
SUB = re.compile(r"^(?:Public\s+|Private\s+)?(Sub|Function)\s+(\w+)\s*\(([^)]*)\)", re.M | re.I)


def vba(path: Path) -> str:
    return path.read_bytes().decode("ascii")


def procedures(text: str) -> dict[str, str]:
    """{name: parameter list} of the Subs and Functions of a VBA module."""
    return {m.group(2): m.group(3).strip() for m in SUB.finditer(text)}


def run_python_strings() -> list[tuple[Path, str]]:
    found = []
    for path in BAS:
        for m in re.finditer(r'RunPython\s*\(?\s*"((?:[^"]|"")*)"', vba(path)):
            found.append((path, m.group(1).replace('""', '"')))
    return found


def test_there_is_one_run_python_per_button():
    strings = run_python_strings()
    assert len(strings) == len(BUTTONS) == 10  # the monthly job, the entry grid and the rest of the month
    button_subs = procedures(vba(MACROS / "KPIButtons.bas"))
    assert {b[0] for b in BUTTONS} <= set(button_subs)  # the master's buttons name real Subs


@pytest.mark.parametrize("path,code", run_python_strings(), ids=lambda v: str(v)[-45:])
def test_run_python_strings_resolve_to_callables(path, code):
    tree = ast.parse(code)
    namespace: dict = {}
    calls = 0
    for stmt in tree.body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            exec(compile(ast.Module([stmt], []), "<RunPython>", "exec"), namespace)  # real import
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            call = stmt.value
            target = eval(compile(ast.Expression(call.func), "<RunPython>", "eval"), namespace)
            assert callable(target), code
            args = [ast.literal_eval(a) for a in call.args]
            kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
            inspect.signature(target).bind(*args, **kwargs)  # TypeError if it does not fit
            assert target.__module__ == "kpi_workbook.excel.buttons"
            calls += 1
        else:
            pytest.fail(f"unexpected statement in RunPython string: {code}")
    assert calls == 1


def test_ribbon_actions_are_subs_taking_the_ribbon_control():
    tree = ET.parse(RIBBON)
    assert tree.getroot().tag == f"{CUSTOMUI}customUI"
    tabs = list(tree.getroot().iter(f"{CUSTOMUI}tab"))
    assert [t.get("label") for t in tabs] == ["KPI"]
    actions = [e.get("onAction") for e in tree.getroot().iter() if e.get("onAction")]
    assert len(actions) == len(BUTTONS) + 1
    subs = procedures(vba(MACROS / "KPIButtons.bas"))
    for action in actions:
        assert action in subs, action
        assert re.fullmatch(r"control\s+As\s+IRibbonControl", subs[action], re.I), subs[action]
    ids = [e.get("id") for e in tree.getroot().iter() if e.get("id")]
    assert len(ids) == len(set(ids))


def test_ribbon_callbacks_reach_the_button_subs():
    text = vba(MACROS / "KPIButtons.bas")
    for macro, *_ in BUTTONS:
        name = macro.replace("KPI_", "KPIRibbon_")
        body = re.search(rf"Sub {name}\(.*?\)\r\n(.*?)End Sub", text, re.S).group(1)
        assert body.strip() == macro


def test_vba_our_modules_call_exists_in_xlwings():
    shipped = Path(xw.__file__).parent / "xlwings.bas"
    xlwings_procs = procedures(shipped.read_text(encoding="utf-8", errors="replace"))
    ours = {name for path in BAS for name in procedures(vba(path))}
    called = set()
    for path in BAS:
        body = re.sub(r"'.*", "", vba(path))  # without comments
        called |= set(re.findall(r"\b(RunPython|KillPy|ImportPythonUDFs|XLPy)\b", body))
    assert called == {"RunPython", "KillPy", "ImportPythonUDFs", "XLPy"}
    assert called <= set(xlwings_procs)
    assert not ours & set(xlwings_procs)  # no clash with xlwings' own names


def test_vba_files_are_ascii_with_crlf_and_named():
    for path in BAS:
        data = path.read_bytes()
        data.decode("ascii")  # VBA modules are ANSI: no Chinese inside
        assert b"\n" not in data.replace(b"\r\n", b""), path
        assert re.match(rb'Attribute VB_Name = "\w+"\r\n', data), path
    assert procedures(vba(MACROS / "KPIButtons.bas"))
    assert (MACROS / ".gitattributes").read_text().count("-text") >= 1


def test_ribbon_goes_into_a_workbook_and_it_still_opens(tmp_path, catalog, soffice):  # noqa: F811
    book = write_master(catalog, tmp_path / "master.xlsx", "2026-10")
    add_ribbon(book)
    add_ribbon(book)  # twice: replaced, not duplicated
    with zipfile.ZipFile(book) as z:
        assert z.read(PART) == RIBBON.read_bytes()
        rels = ET.fromstring(z.read("_rels/.rels"))
        ui = [r for r in rels if r.get("Type") == REL_TYPE]
        assert len(ui) == 1 and ui[0].get("Target") == PART
        assert z.namelist()[0] == "[Content_Types].xml"
    assert openpyxl.load_workbook(book).sheetnames == ["首页", "名单", "设置", "xlwings.conf"]
    (converted,) = recalculate([book], tmp_path / "lo")  # a real spreadsheet engine loads it
    assert openpyxl.load_workbook(converted).sheetnames[:3] == ["首页", "名单", "设置"]


def test_buttons_module_exports_exactly_the_buttons():
    buttons = importlib.import_module("kpi_workbook.excel.buttons")
    called = {re.search(r"b\.(\w+)\(", code).group(1) for _, code in run_python_strings()}
    assert called == set(buttons.__all__)
    for name in called:
        params = inspect.signature(getattr(buttons, name)).parameters
        assert list(params) == ["book"] and params["book"].default is None
