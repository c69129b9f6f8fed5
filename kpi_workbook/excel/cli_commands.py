"""The Excel subcommands of ``kpi-workbook``: ``excel-setup`` and ``master``.

``kpi_workbook.cli.build_parser`` registers them with two lines::

    from .excel.cli_commands import register as register_excel
    register_excel(sub, sys.modules[__name__])

``helpers`` is the ``kpi_workbook.cli`` module: its ``_catalog(args)``, ``_month(text)``,
``UsageError`` and ``EXIT_OK`` are used, so these commands behave like the others (one
sentence on stderr, exit 2 for bad usage). Importing this module does not import xlwings;
only ``excel-setup`` does, on Windows.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path


def register(subparsers, helpers) -> None:
    setup = subparsers.add_parser(
        "excel-setup", help="Windows: import the VBA modules and buttons into BOOK (saved as .xlsm)")
    setup.add_argument("book", metavar="BOOK.xlsm", help="a master workbook (.xlsx or .xlsm)")
    setup.add_argument("--standalone", action="store_true",
                       help="embed xlwings' VBA module instead of referencing the xlwings add-in")
    setup.set_defaults(run=lambda args: cmd_excel_setup(args, helpers))

    master = subparsers.add_parser("master", help="write the HR master workbook (首页, 名单, 设置, "
                                                  "xlwings.conf)")
    master.add_argument("--out", required=True, metavar="MASTER.xlsx")
    master.add_argument("--roster", metavar="FILE", help=".xlsx or .csv to fill 名单 (default: empty)")
    master.add_argument("--month", metavar="YYYY-MM", help="default: this month")
    master.add_argument("--force", action="store_true", help="overwrite an existing file")
    master.set_defaults(run=lambda args: cmd_master(args, helpers))


def cmd_excel_setup(args, helpers) -> int:
    from .setup import NOT_WINDOWS, setup_workbook

    if not sys.platform.startswith("win"):
        raise helpers.UsageError(" / ".join(NOT_WINDOWS))
    target = setup_workbook(Path(args.book), standalone=args.standalone)
    print(f"{target}\t已导入宏、按钮与 KPI 功能区 / macros, buttons and the KPI ribbon added")
    return helpers.EXIT_OK


def cmd_master(args, helpers) -> int:
    from ..workbook.roster import read_roster
    from .master import write_master

    catalog = helpers._catalog(args)
    month = helpers._month(args.month) if args.month else dt.date.today().strftime("%Y-%m")
    from ..workbook.files import refuse_inputs

    refuse_inputs(Path(args.out), [Path(args.roster)] if args.roster else [])
    roster = read_roster(catalog, args.roster) if args.roster else None
    out = write_master(catalog, Path(args.out), month, roster, force=args.force)
    people = 0 if roster is None else len(roster)
    print(f"{out}\t主控工作簿，名单 {people} 人 / master workbook, {people} on the roster")
    return helpers.EXIT_OK
