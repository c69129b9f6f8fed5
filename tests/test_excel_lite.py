"""The xlwings Lite entry point (macros/lite/main.py) and its requirements.

Lite's own ``func``/``arg``/``script`` only exist inside Lite; here xlwings' stubs stand in,
so what Lite would check is checked statically: every ``@arg`` names a parameter, every
function has the desktop UDF's signature and gives its results. The scripts run against a
stand-in of the Lite book with exactly the methods they use.
"""

from __future__ import annotations

import ast
import configparser
import importlib.util
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kpi_workbook.excel import macros_dir

from .windows_standins import need_xlwings

need_xlwings()
from kpi_workbook.excel import udfs  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MAIN = macros_dir() / "lite" / "main.py"
REQUIREMENTS = macros_dir() / "lite" / "requirements.txt"
UDFS = sorted(n for n in dir(udfs) if n.startswith("KPI_"))


@pytest.fixture(scope="module")
def lite():
    spec = importlib.util.spec_from_file_location("kpi_lite_main", MAIN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def decorated(path: Path) -> dict[str, list[ast.Call]]:
    """{function: its decorator calls} of a module, read from the source."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {f.name: f.decorator_list for f in tree.body if isinstance(f, ast.FunctionDef)}


def test_lite_functions_are_the_desktop_udfs(lite):
    funcs = [n for n, decs in decorated(MAIN).items()
             if any(getattr(d, "id", None) == "func" for d in decs)]
    assert sorted(funcs) == UDFS
    for name in UDFS:
        # less the desktop's ``caller`` (xlwings' reserved argument: Lite gives a function its
        # arguments only)
        desktop = inspect.signature(getattr(udfs, name))
        desktop = desktop.replace(parameters=[p for p in desktop.parameters.values()
                                              if p.name != "caller"])
        assert inspect.signature(getattr(lite, name)) == desktop


def test_every_lite_arg_names_a_parameter():
    for name, decs in decorated(MAIN).items():
        params = set(inspect.signature(getattr(udfs, name)).parameters) if name in UDFS else set()
        for d in decs:
            if isinstance(d, ast.Call) and getattr(d.func, "id", None) == "arg":
                assert d.args[0].value in params, (name, d.args[0].value)
                keywords = {k.arg: k.value for k in d.keywords}
                assert "doc" in keywords


def test_lite_and_desktop_give_the_same_results(lite):
    keys = [["problem_resolution.points", "customer_satisfaction", "response_time",
             "complaint_handling", "quality_monitoring", "基本工资"]]
    rows = [[90, 95, 80, 85, 100, 5000], [60, 70, None, 80, 90, 4000]]
    calls = {
        "KPI_ROUND": ([[2.675, "x"]], 2), "KPI_BAND": ([[0.96]], [[0.95, 0.9]], [[20, 10]]),
        "KPI_ITEM": ("qc_iqc", "miss_detection", [[0], [3]]),
        "KPI_SCORE": ("cs_specialist", keys, rows), "KPI_GRADE": ("grade_5_level", [[96, 10]]),
        "KPI_PAY": ("cs_specialist", [[85]], [[5000]]),
        "KPI_EXPLAIN": ("cs_specialist", keys, rows)}
    assert sorted(calls) == UDFS
    for name, args in calls.items():
        assert getattr(lite, name)(*args) == getattr(udfs, name)(*args), name


class LiteRange:
    def __init__(self, sheet, address):
        self.sheet, self.address = sheet, address

    @property
    def value(self):
        return self.sheet.cells.get(self.address)

    @value.setter
    def value(self, v):
        self.sheet.cells[self.address] = v

    def expand(self):
        return self

    def clear_contents(self):
        self.sheet.cells.pop(self.address, None)


class LiteSheet:
    def __init__(self, name, cells=None):
        self.name, self.cells, self.active = name, dict(cells or {}), False

    def __getitem__(self, address):
        return LiteRange(self, address)

    def activate(self):
        self.active = True


class LiteSheets(list):
    def __getitem__(self, key):
        return next(s for s in self if s.name == key) if isinstance(key, str) else \
            list.__getitem__(self, key)

    def add(self, name):
        self.append(LiteSheet(name))
        return self[name]


class LiteBook:
    def __init__(self, *sheets):
        self.sheets = LiteSheets(sheets)


def test_score_table_script(lite):
    table = [["工号", "姓名", "部门", "岗位", "基本工资", "problem_resolution.points",
              "customer_satisfaction", "response_time", "complaint_handling", "quality_monitoring",
              "miss_detection.misses", "拼错的列"],
             ["E1", "张三", "客服部", "客服专员绩效考核表", 5000, 90, 95, 80, 85, 100, None, None],
             ["E2", "李四", "品质部", "qc_inspector", 4000, None, None, None, None, None, 1, None]]
    book = LiteBook(LiteSheet("数据", {"A1": table}))
    lite.kpi_score_table(book)
    result = book.sheets["结果"]
    rows = result.cells["A1"]
    assert rows[0][:8] == ["工号", "姓名", "部门", "岗位", "总分", "等级", "绩效工资", "状态"]
    expected = udfs.KPI_SCORE("cs_specialist", [table[0][4:10]], [table[1][4:10]])[0]
    assert rows[1][4:8] == expected and rows[1][7] == "完成"
    assert rows[2][7] == "完成" and result.active
    assert "拼错的列" in result.cells["A5"]  # below the table, one row apart
    lite.kpi_score_table(book)  # again: the sheet is reused, not added twice
    assert [s.name for s in book.sheets] == ["数据", "结果"]


def test_list_inputs_script(lite):
    book = LiteBook(LiteSheet("数据"))
    lite.kpi_list_inputs(book)
    rows = book.sheets["岗位输入项"].cells["A1"]
    assert {r[2] for r in rows[1:]} >= {"miss_detection.misses", "work_results.points.self", "基本工资"}


def test_lite_main_imports_no_desktop_only_code():
    code = (f"import runpy, sys; runpy.run_path({str(MAIN)!r}); "
            "bad = [m for m in sys.modules if m in ('kpi_workbook.excel.udfs', "
            "'kpi_workbook.excel.buttons', 'kpi_workbook.excel.setup', "
            "'kpi_workbook.workbook.libreoffice', 'kpi_workbook.workbook.files')]; "
            "assert not bad, bad")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;@]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_lite_requirements_cover_the_package_dependencies():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    # (a requirement marked not for Emscripten, Pyodide's platform, is not installed in Lite)
    needed = {_name(r) for r in config["options"]["install_requires"].split("\n")
              if r.strip() and 'platform_system != "Emscripten"' not in r}
    lines = [ln.strip() for ln in REQUIREMENTS.read_text(encoding="utf-8").splitlines()
             if ln.strip() and not ln.startswith("#")]
    listed = {_name(ln) for ln in lines if not ln.startswith("http")}
    assert needed <= listed, needed - listed
    assert "xlwings" in listed
    wheel = [ln for ln in lines if ln.startswith("https://")]
    assert len(wheel) == 1 and wheel[0].endswith("-py3-none-any.whl")
    for pyodide_built in ("numpy", "pandas", "pydantic", "pyyaml"):  # versions come with Pyodide
        assert next(ln for ln in lines if _name(ln) == pyodide_built).lower() == pyodide_built
