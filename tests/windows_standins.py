"""STAND-INS for the Windows-only modules ``xlwings.udfs`` imports (pywin32's ``pythoncom``,
``pywintypes`` and ``win32com.client``), so the tests can use xlwings' REAL UDF decorators
(``xlfunc``/``xlarg``/``xlret``) and VBA generator (``generate_vba_wrapper``) on Linux.

The stand-in modules are minimal module objects put into ``sys.modules`` for the duration of
a ``with`` block (anything that would talk to COM raises); they live in the package
(``kpi_workbook.excel.windows_standins``) because ``python -m kpi_workbook.excel.generate_vba``
needs them too. This file re-exports them for the tests and says how xlwings is required.
"""

from __future__ import annotations

import pytest

from .lo_fixtures import in_ci


def need_xlwings():
    """The xlwings module: skipped locally without it, an error in CI (a skip proves nothing)."""
    try:
        import xlwings
    except ImportError:
        message = "xlwings is not installed (pip install '.[excel]'); the Excel tests need it"
        if in_ci():
            pytest.fail(message + " (CI is set, so this is an error, not a skip)", pytrace=False)
        pytest.skip(message, allow_module_level=True)
    return xlwings


need_xlwings()

from kpi_workbook.excel.generate_vba import load_udfs, real_decorators  # noqa: E402
from kpi_workbook.excel.windows_standins import (NAMES, have_pywin32, is_standin,  # noqa: E402
                                                 windows_standins)

__all__ = ["NAMES", "have_pywin32", "is_standin", "load_udfs", "need_xlwings",
           "real_decorators", "windows_standins"]
