"""The HR master workbook (`kpi-workbook master`): 首页, 名单, 设置 and ``xlwings.conf``.

It is written with XlsxWriter as ``.xlsx``: the macros are imported separately
(``kpi-workbook excel-setup`` on Windows, or by hand from ``macros/``), after which Excel
saves it as ``.xlsm``. The buttons on 首页 are already placed and linked to the macro
names of ``macros/KPIButtons.bas``; they work once that module is in the workbook.

The folder of the master workbook is the work folder; the buttons (``excel/buttons.py``)
read and write there. This module also reads the settings and the roster back
(:func:`read_settings`, :func:`read_master_roster`), which the buttons ask for through
``kpi_workbook.api``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import xlsxwriter

from ... import numbers
from ...diagnostics import KpiError, error
from ...numbers import ParseError, is_blank, normalise_text, parse_flag
from ...rules.loader import Catalog
from ...words import HOME_SHEET, ROSTER_SHEET, SETTINGS_SHEET
from ..files import atomic_output
from ..scorecard.roster import CHINESE, COLUMNS
from ..xlsx.limits import DAMAGED, check_xlsx
from ..xlsx.printing import lines_needed, print_nothing, print_setup

HOME, ROSTER, SETTINGS, CONFIG = HOME_SHEET, ROSTER_SHEET, SETTINGS_SHEET, "xlwings.conf"
UDF_MODULES = "kpi_workbook.excel.udfs"
ROSTER_HEADERS = [CHINESE[c] for c in COLUMNS]  # 工号 姓名 部门 岗位 基本工资 绩效基数Q 全勤 直接上级 缺岗月数

# 设置: (setting, default, explanation). The buttons read them by the name in column A.
MONTH, SPLIT, FOLDER, TEMPLATES, OVERWRITE = "月份", "拆分方式", "工作文件夹", "模板目录", "覆盖已有考核表"
APPROVER = "审批人"
SETTINGS_ROWS = (
    (MONTH, None, "考核月份 YYYY-MM，如 2026-10 / the month scored"),
    (SPLIT, "部门", "按此列拆成多个工作簿（部门、岗位或直接上级）；留空则所有人一个工作簿 / "
                  "one workbook per value of this column; empty: one workbook"),
    (FOLDER, "", "留空 = 本工作簿所在文件夹 / empty: this workbook's folder"),
    (TEMPLATES, "", "留空 = 内置岗位模板；或填模板文件夹路径 / empty: built-in templates"),
    (OVERWRITE, "否", "是：“生成考核表”覆盖已有考核表（已填的数据会丢失！） / 是: overwrite "
                     "existing scorecards (their data is lost)"),
    (APPROVER, "", "“审批”按钮记录的审批人；留空 = 电脑的登录名 / who approves (empty: the login name)"),
)

# (Sub in KPIButtons.bas, caption, what it does, reads, writes)
BUTTONS = (
    ("KPI_CreateScorecards", "生成考核表", "按名单生成本月考核表", "名单、设置",
     "<月份>/考核表/*.xlsx"),
    ("KPI_EntrySheet", "生成录入表", "每个岗位一张表、每人一行，主管在一张表里填全月数据",
     "<月份>/考核表/", "<月份>/数据/录入表.xlsx"),
    ("KPI_ImportData", "导入数据", "把数据文件写入考核表的输入格", "<月份>/数据/*.csv|xlsx",
     "<月份>/考核表/*.xlsx，<月份>/导入问题.csv"),
    ("KPI_Validate", "检查", "逐格检查考核表：空的必填项、错误值、被改动的公式", "<月份>/考核表/",
     "<月份>/检查结果.csv"),
    ("KPI_GenerateReport", "生成月度报表", "重算全部考核表，写月度汇总、部门统计与预警",
     "<月份>/考核表/，历史.xlsx", "<月份>/月度报表.xlsx，历史.xlsx"),
    ("KPI_ExportPayroll", "导出工资表", "把月度报表的金额列导出给财务", "<月份>/月度报表.xlsx",
     "<月份>/工资表.csv"),
) + (
    # the rest of the month from the master (校准, 审批, 汇总, 通知书)
    ("KPI_Calibrate", "校准", "打开月度报表的“校准”表：选校准等级、写校准理由，保存", "<月份>/月度报表.xlsx",
     "<月份>/月度报表.xlsx（校准表）"),
    ("KPI_Approve", "审批", "审批并锁定本月（含校准），记录审批人、时间与每行哈希",
     "<月份>/月度报表.xlsx，历史.xlsx", "历史.xlsx"),
    ("KPI_Rollup", "季度/年度汇总", "按历史汇总本月所在季度和年度", "历史.xlsx",
     "汇总/<季度>季度汇总.xlsx，汇总/<年>年度汇总.xlsx"),
    ("KPI_Notices", "通知书", "每人一页绩效结果通知书（面谈表），发给员工面谈签字",
     "<月份>/月度报表.xlsx，考核表，历史.xlsx", "<月份>/绩效结果通知书.xlsx（及 .pdf）"),
)

# xlwings.conf: keys from A1 down with no gap (xlwings stops at the first empty cell).
# Keys starting with "_" are placeholders xlwings ignores: an empty live key would hide the
# interpreter set on the xlwings ribbon. Remove the "_" and fill in the value to use one.
CONFIG_ROWS = (
    ("UDF Modules", UDF_MODULES, "本工作簿的函数模块 / the module with the worksheet functions"),
    ("_Interpreter_Win", "", "去掉开头的 _ 并填 python.exe 完整路径，如 "
     r"C:\Users\hr\AppData\Local\Programs\Python\Python311\python.exe / remove the _ and enter "
     "the full path of python.exe (otherwise the xlwings ribbon's setting is used)"),
    ("_Interpreter_Mac", "", "macOS：去掉 _ 并填 python 路径 / macOS: remove the _, enter the path"),
    ("_Conda Path", "", "使用 Anaconda 时：去掉 _ 并填安装目录 / with Anaconda: its folder"),
    ("_Conda Env", "", "使用 Anaconda 时：去掉 _ 并填环境名 / with Anaconda: the environment"),
    ("_PYTHONPATH", "", "kpi-workbook 未 pip 安装时：去掉 _ 并填源码目录 / source folder, if not "
     "pip-installed"),
)


def write_master(catalog: Catalog, out: Path, month: str, roster: pd.DataFrame | None = None,
                 force: bool = False) -> Path:
    """Write the master workbook; ``roster`` is a checked roster (or None: headers only)."""
    out = Path(out)
    with atomic_output(out, force=force) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"strings_to_numbers": False,
                                              "strings_to_formulas": False,
                                              "strings_to_urls": False})
        f = _formats(book)
        _home(book, f)
        _roster(book, f, catalog, roster)
        _settings(book, f, catalog, month)
        _config(book, f)
        book.close()
    return out


def _formats(book) -> dict:
    base = {"font_name": "等线", "font_size": 10, "valign": "vcenter"}
    add = lambda **kw: book.add_format({**base, **kw})  # noqa: E731
    return {
        "title": add(bold=True, font_size=16),
        "h2": add(bold=True, font_size=12, font_color="#1F4E78"),
        "header": add(bold=True, bg_color="#D9E1F2", border=1, align="center", text_wrap=True),
        "cell": add(border=1, text_wrap=True),
        "input": add(border=1, bg_color="#FFFDE7", locked=False),
        "text_input": add(border=1, bg_color="#FFFDE7", locked=False, num_format="@"),
        "note": add(font_color="#595959", text_wrap=True),
        "code": add(font_name="Consolas", font_color="#1F4E78"),
        "status": add(italic=True, font_color="#375623"),
        "money": add(border=1, bg_color="#FFFDE7", locked=False, num_format="#,##0.00"),
    }


HOME_WIDTHS = (16, 52, 28, 30)  # A (buttons) … D; text below the buttons spans B:D


def _home_text(ws, row: int, first: int, text: str, fmt, width: float) -> None:
    """``text`` merged over columns ``first``..D, as high as its wrapped lines need."""
    ws.merge_range(row, first, row, len(HOME_WIDTHS) - 1, text, fmt)
    ws.set_row(row, max(15.0, lines_needed(text, width) * 13.5 + 3))


def _home(book, f) -> None:
    """首页: one printed page (A4 landscape); every long text is merged over the columns it
    needs and its row is as high as its lines, so nothing runs over a neighbour."""
    ws = book.add_worksheet(HOME)
    for j, width in enumerate(HOME_WIDTHS):
        ws.set_column(j, j, width)
    span_all, span_bcd = sum(HOME_WIDTHS), sum(HOME_WIDTHS[1:])
    ws.write(0, 0, "绩效考核 · 人事主控工作簿", f["title"])
    ws.set_row(0, 24)
    _home_text(ws, 1, 0, "每月：在“设置”填月份 → 在“名单”维护员工 → 依次点击下面的按钮。按钮会先保存本工作簿，"
               "所有文件都在本工作簿所在的文件夹（或“设置”中的工作文件夹）里。", f["note"], span_all)
    ws.write(3, 0, "上次操作：", f["h2"])
    ws.write(3, 1, "（尚未运行）", f["status"])
    ws.write_row(5, 0, ["按钮", "做什么", "读取", "写出"], f["header"])
    for i, (macro, caption, what, reads, writes) in enumerate(BUTTONS):
        row = 6 + i
        ws.set_row(row, 34)
        ws.write_row(row, 1, [what, reads, writes], f["cell"])
        ws.write(row, 0, caption, f["cell"])  # under the button: the printout names it too
        # A Forms button linked to the macro: it runs once KPIButtons.bas is imported.
        ws.insert_button(row, 0, {"macro": macro, "caption": caption, "width": 112,
                                  "height": 30, "x_offset": 2, "y_offset": 2})
    row = 6 + len(BUTTONS) + 1
    ws.write(row, 0, "文件夹约定", f["h2"])
    folders = (
        "名单：本工作簿的“名单”表；若为空，则用同一文件夹中的 名单.xlsx 或 名单.csv",
        "<月份>/考核表/：生成的考核表（按“拆分方式”每个部门一个，或一个 考核表.xlsx），发给主管填写",
        "<月份>/数据/：要导入的数据文件（长表：工号、输入、评分人、值；或宽表：工号 + 每个输入一列）",
        "<月份>/检查结果.csv、<月份>/月度报表.xlsx、<月份>/工资表.csv；历史.xlsx 记录每月结果（连续预警）",
        "<月份>/绩效结果通知书.xlsx：每人一页，打印后面谈、签字；汇总/：季度与年度汇总")
    for k, line in enumerate(folders):
        ws.write(row + 1 + k, 0, "·", f["note"])
        _home_text(ws, row + 1 + k, 1, line, f["note"], span_bcd)
    row += len(folders) + 2
    printed_rows = row - 2  # 首页 on paper: the steps, the buttons, the folders (the functions are for the screen)
    ws.write(row, 0, "工作表函数 / worksheet functions", f["h2"])
    examples = (
        ('=KPI_SCORE("qc_inspector", B1:M1, B2:M40)', "每人一行：总分、等级、绩效工资、状态（溢出）"),
        ('=KPI_BAND(C2:C40, {0.98,0.95,0.9}, {20,15,10})', "按档位取分，第一个满足的档生效"),
        ('=KPI_GRADE("grade_a_e", N2:N40)', "由分数得等级"),
        ('=KPI_PAY("cs_specialist", N2:N40, F2:F40)', "由总分和基本工资算绩效工资"),
        ('=KPI_ITEM("qc_iqc", "miss_detection", C2:C40)', "单个项目的得分"),
        ('=KPI_EXPLAIN("qc_inspector", B1:M1, B2:M2)', "得分说明"),
        ('=KPI_ROUND(A2:A40, 1)', "按 Excel 规则四舍五入"),
    )
    for k, (formula, what) in enumerate(examples):
        ws.write_string(row + 1 + k, 1, formula, f["code"])
        _home_text(ws, row + 1 + k, 2, what, f["note"], sum(HOME_WIDTHS[2:]))
    _home_text(ws, row + 2 + len(examples), 1, "需要 xlwings 加载项：在 xlwings 功能区点 Import Functions"
               "（或 KPI › 刷新函数）；每个函数的参数说明在 Excel 的“插入函数”向导 KPI 类别中。/ Needs the "
               "xlwings add-in: Import Functions on the xlwings ribbon; each function's arguments are "
               "described in Excel's Insert Function wizard, category KPI.", f["note"], span_bcd)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 1)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.print_area(0, 0, printed_rows, len(HOME_WIDTHS) - 1)
    ws.activate()


ROLES_TOP = len(SETTINGS_ROWS) + 3  # 设置: the header row of the role list (0-based)


def _roles_ref(catalog: Catalog) -> str:
    """The 岗位名称 column of the role list on 设置 (the 名单 岗位 dropdown)."""
    return f"='{SETTINGS}'!$B${ROLES_TOP + 2}:$B${ROLES_TOP + 1 + len(catalog.roles)}"


def _settings(book, f, catalog: Catalog, month: str) -> None:
    ws = book.add_worksheet(SETTINGS)
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 26)
    ws.set_column(2, 2, 70)
    ws.write_row(0, 0, ["设置项", "值", "说明"], f["header"])
    for i, (name, default, note) in enumerate(SETTINGS_ROWS, start=1):
        ws.write_string(i, 0, name, f["cell"])
        value = month if name == MONTH else default
        ws.write_string(i, 1, value or "", f["text_input"])  # text: Excel would make 2026-10 a date
        ws.write_string(i, 2, note, f["note"])
    flags = next(i for i, r in enumerate(SETTINGS_ROWS, start=1) if r[0] == OVERWRITE)
    ws.data_validation(flags, 1, flags, 1, {"validate": "list", "source": ["是", "否"]})
    split = next(i for i, r in enumerate(SETTINGS_ROWS, start=1) if r[0] == SPLIT)
    ws.data_validation(split, 1, split, 1, {"validate": "list", "source": ["部门", "岗位", "直接上级"],
                                            "ignore_blank": True})
    top = ROLES_TOP
    ws.write(top - 1, 0, "可选岗位 / roles", f["h2"])
    ws.write_row(top, 0, ["岗位 id", "岗位名称", "来源"], f["header"])
    roles = list(catalog.roles.values())
    for k, role in enumerate(roles, start=1):
        ws.write_row(top + k, 0, [role.id, role.name, role.source], f["cell"])
    print_nothing(ws)  # the buttons' settings and the role ids: for the screen, not for paper


def _roster(book, f, catalog: Catalog, roster: pd.DataFrame | None) -> None:
    ws = book.add_worksheet(ROSTER)
    ws.write_row(0, 0, ROSTER_HEADERS, f["header"])
    ws.set_column(0, 2, 11)
    ws.set_column(3, 3, 30)
    ws.set_column(4, 7, 12)
    ws.freeze_panes(1, 0)
    n = 0 if roster is None else len(roster)
    for i, e in enumerate([] if roster is None else roster.itertuples(index=False), start=1):
        role = catalog.roles[e.role]
        ws.write_string(i, 0, str(e.employee_id), f["text_input"])
        ws.write_string(i, 1, str(e.name), f["input"])
        ws.write_string(i, 2, str(e.department), f["input"])
        ws.write_string(i, 3, role.name, f["input"])
        for col, value in ((4, e.base_salary), (5, e.q_amount)):
            if value is None or pd.isna(value):
                ws.write_blank(i, col, None, f["money"])
            else:
                ws.write_number(i, col, float(value), f["money"])
        att = e.full_attendance
        ws.write_string(i, 6, "" if att is None or pd.isna(att) else ("是" if att else "否"), f["input"])
        ws.write_string(i, 7, "" if is_blank(e.supervisor) else str(e.supervisor), f["input"])
        absent = getattr(e, "months_absent", None)  # S9: 缺岗月数 above the role's limit → 不参与
        if absent is None or pd.isna(absent):
            ws.write_blank(i, 8, None, f["input"])
        else:
            ws.write_number(i, 8, float(absent), f["input"])
        account = getattr(e, "wangwang", None)  # 旺旺: what an import profile matches by
        ws.write_string(i, ROSTER_HEADERS.index(CHINESE["wangwang"]), "" if is_blank(account) else str(account),
                        f["text_input"])
    last = max(n, 500)
    ws.data_validation(1, 3, last, 3, {"validate": "list", "source": _roles_ref(catalog),
                                       "error_message": "请从“设置”表的岗位列表中选择"})
    ws.data_validation(1, 6, last, 6, {"validate": "list", "source": ["是", "否"]})
    ws.autofilter(0, 0, max(n, 1), len(ROSTER_HEADERS) - 1)
    # on paper: A4 landscape, one page wide, the header row on every page
    print_setup(ws, "员工名单", header_rows=(0, 0))
    ws.print_area(0, 0, max(n, 1), len(ROSTER_HEADERS) - 1)


def _config(book, f) -> None:
    ws = book.add_worksheet(CONFIG)
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 28)
    ws.set_column(2, 2, 90)
    for i, (key, value, note) in enumerate(CONFIG_ROWS):
        ws.write_string(i, 0, key)
        ws.write_string(i, 1, value)
        ws.write_string(i, 2, note, f["note"])
    print_nothing(ws)  # xlwings' settings: never on paper


# ---------------------------------------------------------------------------------------
# Reading it back (the buttons).


@dataclass(frozen=True)
class Settings:
    month: str
    split_by: str | None
    folder: Path
    templates: Path | None
    overwrite: bool
    approver: str = ""  # 设置 › 审批人 (empty: the login name)


def read_settings(master: Path) -> Settings:
    """The 设置 sheet of a saved master workbook (by setting name, wherever the row is)."""
    master = Path(master)
    book = _open(master)
    try:
        if SETTINGS not in book.sheetnames:
            raise KpiError([error("no-settings", f"{master.name} 没有“{SETTINGS}”工作表，不是主控工作簿",
                                  f"{master.name} has no {SETTINGS} sheet: not a master workbook",
                                  source=str(master))])
        values: dict[str, Any] = {}  # setting name → its cell's value
        for row in book[SETTINGS].iter_rows(min_col=1, max_col=2, values_only=True):
            if row and isinstance(row[0], str):
                values.setdefault(normalise_text(row[0]), row[1])
    finally:
        book.close()
    folder = values.get(FOLDER)
    templates = values.get(TEMPLATES)
    base = master.parent
    try:
        overwrite = False if is_blank(values.get(OVERWRITE)) else parse_flag(values[OVERWRITE])
    except ValueError:
        raise KpiError([error("bad-setting", f"“{OVERWRITE}”应为 是 或 否",
                              f"{OVERWRITE} must be 是 or 否", source=str(master))]) from None
    return Settings(
        month=parse_month(values.get(MONTH), master),
        split_by=None if is_blank(values.get(SPLIT)) else normalise_text(str(values[SPLIT])),
        folder=base if is_blank(folder) else (base / str(folder).strip()).resolve(),
        templates=None if is_blank(templates) else (base / str(templates).strip()).resolve(),
        overwrite=overwrite,
        approver="" if is_blank(values.get(APPROVER)) else normalise_text(str(values[APPROVER])))


def parse_month(value, source: Path) -> str:
    """2026-10, 2026/10, 2026年10月, or a date Excel made of what was typed."""
    try:
        return numbers.parse_month(value)
    except ParseError:
        shown = "" if is_blank(value) else str(value)
        raise KpiError([error("bad-month", f"请在“{SETTINGS}”中把“{MONTH}”填为 YYYY-MM（现为“{shown}”）",
                              f"set {MONTH} on the {SETTINGS} sheet to YYYY-MM (it is '{shown}')",
                              source=str(source))]) from None


def read_master_roster(master: Path) -> pd.DataFrame | None:
    """The raw 名单 sheet as text (blank rows dropped), or None when it lists nobody."""
    check_xlsx(master)
    try:
        raw = pd.read_excel(master, sheet_name=ROSTER, dtype=str, keep_default_na=False,
                            engine="openpyxl")
    except ValueError:  # no such sheet
        return None
    raw.columns = [str(c) for c in raw.columns]
    keep = [not all(is_blank(v) for v in row) for row in raw.itertuples(index=False)]
    raw = raw[keep]
    return raw if len(raw) else None


def _open(path: Path):
    check_xlsx(path)
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except DAMAGED as exc:  # a damaged file: one sentence
        raise KpiError([error("not-xlsx", f"{path.name} 无法打开：{exc}", f"cannot open {path.name}: {exc}",
                              source=str(path))]) from None
