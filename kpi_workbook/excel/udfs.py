"""Worksheet functions (UDFs) for desktop Excel through the open-source xlwings add-in.

The workbook's ``xlwings.conf`` sheet names this module under ``UDF Modules``; clicking
*Import Functions* on the xlwings ribbon (or importing ``macros/KPIUdfs.bas``) makes the
VBA wrappers that call these functions. Each is a few lines over ``functions``, which holds
the logic shared with xlwings Lite (``macros/lite/main.py``).

Ranges arrive as lists of rows (``ndim=2``; Excel error values as text such as ``#N/A``),
results come back as arrays that spill in Excel 365, and a problem is a one-sentence
``#KPI! 中文 / English`` text in the cell, never an exception.

The functions that grade or pay follow the book's 设置: the range given as ``settings``
(``设置!A1:D200``: Excel then recalculates them when 设置 changes), else the 设置 sheet of
the book they are called from, read through ``caller`` (xlwings' reserved argument: the
calling range, not shown in Excel; Excel does not see that dependency, so press
Ctrl+Alt+F9 after editing 设置), else the templates' values.

After changing a function's name, arguments or defaults, regenerate the VBA module:
``python -m kpi_workbook.excel.generate_vba`` (a test compares it with this module).
"""

import xlwings as xw

from . import functions as F

RANGE = {"ndim": 2, "err_to_str": True}  # lists of rows; #N/A etc. as text, not error codes
ROLE = "岗位 id 或名称，如 qc_inspector / role id or name"
KEYS = "输入项：一行（每人一行）或一列（每人一列），如 miss_detection.misses、基本工资 / input keys"
VALUES = "各人的值，与 keys 对应 / one row (or column) of values per employee"

# Results are plain 2-D arrays and spill natively (Excel 365). No legacy expand="table",
# which rewrites formulas asynchronously.
SPILL = {"transpose": False}
SETTINGS = "可选：本工作簿的“设置”表，从 A1 起，如 设置!A1:D200；省略时读调用所在工作簿的“设置” / optional: the 设置 sheet"
CALLER = "xlwings 自动传入调用单元格（Excel 中不显示） / the calling cell, passed by xlwings"


@xw.func(category="KPI")
@xw.arg("values", doc="数值或区域 / a number or a range", **RANGE)
@xw.arg("digits", doc="小数位数，默认 0 / decimals, default 0")
@xw.arg("clean", doc="TRUE：先舍入到 9 位小数（总分、金额的做法） / round to 9 decimals first")
@xw.ret(**SPILL)
def KPI_ROUND(values, digits=0, clean=False):
    """按 Excel 规则四舍五入（远离零），可整列 / Excel's ROUND (half away from zero) over a range"""
    return F.kpi_round(values, digits, clean)


@xw.func(category="KPI")
@xw.arg("values", doc="指标值或区域，如 0.96 或 96% / metric value(s)", **RANGE)
@xw.arg("thresholds", doc="分数线，按顺序，第一个满足的档生效 / thresholds, first match wins", **RANGE)
@xw.arg("points", doc="各档分值，与分数线一一对应 / points of each band", **RANGE)
@xw.arg("direction", doc='">="（默认，越高越好）或 "<=" 等 / ">=" (default), "<=", ">", "<", "=="')
@xw.ret(**SPILL)
def KPI_BAND(values, thresholds, points, direction=">="):
    """按档位取分：第一个满足条件的档 / band lookup: points of the first band the value meets"""
    return F.kpi_band(values, thresholds, points, direction)


@xw.func(category="KPI")
@xw.arg("role", doc=ROLE)
@xw.arg("item", doc="考核项目 id 或名称 / item id or label")
@xw.arg("values", doc="该项目的输入值（单一输入可整列） / the item's input value(s)", **RANGE)
@xw.arg("keys", doc="可选：多输入项目的输入 id，如 points.self / optional input ids", **RANGE)
@xw.arg("settings", doc=SETTINGS, **RANGE)
@xw.arg("caller", doc=CALLER)
@xw.ret(**SPILL)
def KPI_ITEM(role, item, values, keys=None, settings=None, caller=None):
    """单个考核项目的得分 / one item's points"""
    return F.kpi_item(role, item, values, keys, F.given_or_caller(settings, caller))


@xw.func(category="KPI")
@xw.arg("role", doc=ROLE)
@xw.arg("keys", doc=KEYS, **RANGE)
@xw.arg("values", doc=VALUES, **RANGE)
@xw.arg("settings", doc=SETTINGS, **RANGE)
@xw.arg("caller", doc=CALLER)
@xw.ret(**SPILL)
def KPI_SCORE(role, keys, values, settings=None, caller=None):
    """整张考核表：每人返回 总分、等级、绩效工资、状态 / total, grade, pay, status per employee"""
    return F.kpi_score(role, keys, values, F.given_or_caller(settings, caller))


@xw.func(category="KPI")
@xw.arg("scheme", doc="等级方案 id（如 grade_a_e）或岗位 / grade scheme id, or a role")
@xw.arg("scores", doc="分数或区域 / score(s)", **RANGE)
@xw.arg("settings", doc=SETTINGS, **RANGE)
@xw.arg("caller", doc=CALLER)
@xw.ret(**SPILL)
def KPI_GRADE(scheme, scores, settings=None, caller=None):
    """由分数得等级（按“设置”的分数线） / the grade of each score (by 设置's thresholds)"""
    return F.kpi_grade(scheme, scores, F.given_or_caller(settings, caller))


@xw.func(category="KPI")
@xw.arg("role", doc=ROLE)
@xw.arg("scores", doc="总分或区域 / total score(s)", **RANGE)
@xw.arg("base_salary", doc="基本工资（可为区域） / base salary", **RANGE)
@xw.arg("q_amount", doc="可选：绩效基数Q / optional Q amount", **RANGE)
@xw.arg("full_attendance", doc="可选：全勤 是/否 / optional full attendance", **RANGE)
@xw.arg("settings", doc=SETTINGS, **RANGE)
@xw.arg("caller", doc=CALLER)
@xw.ret(**SPILL)
def KPI_PAY(role, scores, base_salary=None, q_amount=None, full_attendance=None, settings=None,
            caller=None):
    """由总分和基本工资算绩效工资 / performance pay from the score and the base"""
    return F.kpi_pay(role, scores, base_salary, q_amount, full_attendance,
                     F.given_or_caller(settings, caller))


@xw.func(category="KPI")
@xw.arg("role", doc=ROLE)
@xw.arg("keys", doc=KEYS, **RANGE)
@xw.arg("values", doc=VALUES, **RANGE)
@xw.arg("item", doc="可选：只说明这一项 / optional: explain this item only")
@xw.arg("settings", doc=SETTINGS, **RANGE)
@xw.arg("caller", doc=CALLER)
@xw.ret(**SPILL)
def KPI_EXPLAIN(role, keys, values, item=None, settings=None, caller=None):
    """得分说明：哪一档、哪一级、哪些事件 / how the score came about, as a sentence"""
    return F.kpi_explain(role, keys, values, item, F.given_or_caller(settings, caller))
