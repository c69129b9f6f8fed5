"""The Excel subcommands of ``kpi-workbook``: ``excel-setup`` and ``master``.

``kpi_workbook.cli.build_parser`` registers them with two lines::

    from .excel.cli_commands import register as register_excel
    register_excel(sub)

They behave like the other commands (one sentence on stderr, exit 2 for bad usage): bad use
raises :class:`~kpi_workbook.diagnostics.UsageError`, templates are loaded by
``kpi_workbook.api.load_templates``. Importing this module does not import xlwings; only
``excel-setup`` does, on Windows.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..diagnostics import UsageError

EXIT_OK = 0


def register(subparsers) -> None:
    setup = subparsers.add_parser(
        "excel-setup", help="Windows：把宏与按钮导入主控工作簿（另存为 .xlsm）/ Windows: import the VBA "
        "modules and buttons into BOOK (saved as .xlsm)",
        description="Windows：把 VBA 模块、按钮与 KPI 功能区导入主控工作簿 / Windows: import the VBA "
        "modules, buttons and the KPI ribbon tab into a master workbook")
    setup.add_argument("book", metavar="BOOK.xlsm", help="主控工作簿（.xlsx 或 .xlsm）/ a master workbook (.xlsx or .xlsm)")
    setup.add_argument("--standalone", action="store_true",
                       help="嵌入 xlwings 的 VBA 模块，不引用加载项 / embed xlwings' VBA module instead of "
                       "referencing the xlwings add-in")
    setup.set_defaults(run=cmd_excel_setup)

    master = subparsers.add_parser("master", help="生成人事的主控工作簿 / write the HR master workbook",
                                   description="生成主控工作簿：首页（按钮）、名单、设置、xlwings.conf / write "
                                   "the HR master workbook: 首页 (buttons), 名单, 设置, xlwings.conf")
    master.add_argument("--out", required=True, metavar="MASTER.xlsx", help="输出文件 / the file to write")
    master.add_argument("--roster", metavar="FILE",
                        help="填入名单的 .xlsx 或 .csv（默认：空）/ .xlsx or .csv to fill 名单 (default: empty)")
    master.add_argument("--month", metavar="YYYY-MM", help="月份（默认：本月）/ the month (default: this month)")
    master.add_argument("--force", action="store_true", help="覆盖已有文件 / overwrite an existing file")
    master.set_defaults(run=cmd_master)


def cmd_excel_setup(args) -> int:
    from .setup import NOT_WINDOWS, setup_workbook

    if not sys.platform.startswith("win"):
        raise UsageError(*NOT_WINDOWS)
    target = setup_workbook(Path(args.book), standalone=args.standalone)
    print(f"{target}\t已导入宏、按钮与 KPI 功能区 / macros, buttons and the KPI ribbon added")
    return EXIT_OK


def _month(text: str) -> str:
    from ..numbers import ParseError, parse_month

    try:
        return parse_month(text)
    except ParseError as exc:
        raise UsageError(exc.zh, exc.en) from None


def cmd_master(args) -> int:
    from ..api import master

    made = master(args.out, month=_month(args.month) if args.month else None,
                  roster=args.roster, templates=args.templates, force=args.force)
    print(f"{made.path}\t主控工作簿，名单 {made.people} 人 / master workbook, {made.people} on the roster")
    return EXIT_OK
