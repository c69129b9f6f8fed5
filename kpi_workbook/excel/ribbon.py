"""Put the KPI ribbon tab (``macros/KPIRibbon.xml``) into a workbook file.

The ribbon is a part of the workbook's zip (``workbook/xlsx/ribbon.py`` puts it there, through
``api.add_ribbon``); the file is rewritten atomically and must not be open in Excel.
``python -m kpi_workbook.excel.ribbon BOOK.xlsm``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .. import api
from . import macros_dir

RIBBON_FILE = "KPIRibbon.xml"


def add_ribbon(book: Path, xml: bytes | None = None) -> Path:
    """Add (or replace) the KPI ribbon tab of ``book`` (``macros/KPIRibbon.xml`` unless
    ``xml`` is given); returns ``book``."""
    return api.add_ribbon(book, xml if xml is not None else (macros_dir() / RIBBON_FILE).read_bytes())


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("用法 / usage: python -m kpi_workbook.excel.ribbon BOOK.xlsm", file=sys.stderr)
        return 2
    print(add_ribbon(Path(args[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
