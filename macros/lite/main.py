"""kpi-workbook in xlwings Lite: paste this into the main.py tab, requirements.txt next to it.

xlwings Lite runs Python inside Excel (Pyodide, in the browser engine of the add-in): no
local Python, but also no access to the files next to the workbook. So Lite offers the
worksheet functions and scripts that work on the open workbook; the file-based buttons of
the desktop master workbook (scorecard files, importing CSVs, the monthly report across
files, the payroll export) stay with the desktop route (``kpi-workbook`` or RunPython).

The functions are the same as the desktop UDFs (``kpi_workbook.excel.udfs``): each calls
``kpi_workbook.excel.functions``; ranges arrive as lists of rows, arrays spill, a problem is
a ``#KPI! 中文 / English`` text in the cell. Those that grade or pay follow the 设置 range
given as ``settings`` (``设置!A1:D200``); a Lite function is given its arguments only, not
the workbook, so without that range they use the templates' values. The scripts do read the
book's own 设置 sheet.
"""

import xlwings as xw
from xlwings import arg, func, script

from kpi_workbook.excel import functions as F

ROLE = "岗位 id 或名称 / role id or name"
KEYS = "输入项（一行或一列） / input keys (a row or a column)"
VALUES = "各人的值，每人一行（或一列） / values, one row (or column) per employee"
SETTINGS = "可选：考核工作簿的“设置”表，从 A1 起，如 设置!A1:D200 / optional: the 设置 sheet from A1"
DATA_SHEET, RESULT_SHEET, ROLES_SHEET = "数据", "结果", "岗位输入项"


@func
@arg("values", ndim=2, doc="数值或区域 / number(s)")
@arg("digits", doc="小数位数 / decimals")
@arg("clean", doc="TRUE：先舍入到 9 位 / round to 9 decimals first")
def KPI_ROUND(values, digits=0, clean=False):
    """按 Excel 规则四舍五入 / Excel's ROUND over a range"""
    return F.kpi_round(values, digits, clean)


@func
@arg("values", ndim=2, doc="指标值 / metric value(s)")
@arg("thresholds", ndim=2, doc="分数线，第一个满足的档生效 / thresholds, first match wins")
@arg("points", ndim=2, doc="各档分值 / points of each band")
@arg("direction", doc='">="（默认）或 "<=" 等 / ">=" (default), "<=", …')
def KPI_BAND(values, thresholds, points, direction=">="):
    """按档位取分 / band lookup"""
    return F.kpi_band(values, thresholds, points, direction)


@func
@arg("role", doc=ROLE)
@arg("item", doc="考核项目 id 或名称 / item id or label")
@arg("values", ndim=2, doc="该项目的输入值 / the item's input value(s)")
@arg("keys", ndim=2, doc="可选：输入 id / optional input ids")
@arg("settings", ndim=2, doc=SETTINGS)
def KPI_ITEM(role, item, values, keys=None, settings=None):
    """单个考核项目的得分 / one item's points"""
    return F.kpi_item(role, item, values, keys, settings)


@func
@arg("role", doc=ROLE)
@arg("keys", ndim=2, doc=KEYS)
@arg("values", ndim=2, doc=VALUES)
@arg("settings", ndim=2, doc=SETTINGS)
def KPI_SCORE(role, keys, values, settings=None):
    """每人：总分、等级、绩效工资、状态 / total, grade, pay, status per employee"""
    return F.kpi_score(role, keys, values, settings)


@func
@arg("scheme", doc="等级方案 id 或岗位 / grade scheme id, or a role")
@arg("scores", ndim=2, doc="分数 / score(s)")
@arg("settings", ndim=2, doc=SETTINGS)
def KPI_GRADE(scheme, scores, settings=None):
    """由分数得等级（按“设置”的分数线） / the grade of each score (by 设置's thresholds)"""
    return F.kpi_grade(scheme, scores, settings)


@func
@arg("role", doc=ROLE)
@arg("scores", ndim=2, doc="总分 / total score(s)")
@arg("base_salary", ndim=2, doc="基本工资 / base salary")
@arg("q_amount", ndim=2, doc="可选：绩效基数Q / optional Q amount")
@arg("full_attendance", ndim=2, doc="可选：全勤 是/否 / optional full attendance")
@arg("settings", ndim=2, doc=SETTINGS)
def KPI_PAY(role, scores, base_salary=None, q_amount=None, full_attendance=None, settings=None):
    """由总分和基本工资算绩效工资 / performance pay from the score and the base"""
    return F.kpi_pay(role, scores, base_salary, q_amount, full_attendance, settings)


@func
@arg("role", doc=ROLE)
@arg("keys", ndim=2, doc=KEYS)
@arg("values", ndim=2, doc=VALUES)
@arg("item", doc="可选：只说明这一项 / optional: this item only")
@arg("settings", ndim=2, doc=SETTINGS)
def KPI_EXPLAIN(role, keys, values, item=None, settings=None):
    """得分说明 / how the score came about"""
    return F.kpi_explain(role, keys, values, item, settings)


# ---------------------------------------------------------------------------------------
# Scripts ("buttons"): they work on the book Lite passes in.


@script
def kpi_score_table(book: xw.Book):
    """Score the 数据 sheet (header row: 工号, 姓名, 部门, 岗位, 基本工资, … and input keys of
    any roles; one employee per row) into the 结果 sheet, by the book's own 设置 (if it has
    a scorecard book's 设置 sheet)."""
    table = book.sheets[DATA_SHEET]["A1"].expand().value
    rows, unknown = F.score_table(table, F.CallerBook(book))
    sheet = _fresh_sheet(book, RESULT_SHEET)
    sheet["A1"].value = rows
    note = f"未识别的列（已忽略）：{'、'.join(unknown)} / unknown columns (ignored)" if unknown else \
        f"{len(rows) - 1} 人已计算 / {len(rows) - 1} employees scored"
    sheet[f"A{len(rows) + 2}"].value = note
    sheet.activate()


@script
def kpi_list_inputs(book: xw.Book):
    """List every role's input keys on the 岗位输入项 sheet: the headers 数据 can use."""
    rows = F.input_table()
    sheet = _fresh_sheet(book, ROLES_SHEET)
    sheet["A1"].value = rows
    sheet.activate()


def _fresh_sheet(book, name):
    if name in [s.name for s in book.sheets]:
        sheet = book.sheets[name]
        sheet["A1"].expand().clear_contents()
        return sheet
    return book.sheets.add(name)
