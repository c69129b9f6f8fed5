"""STAND-INS for the Windows-only modules ``xlwings.udfs`` imports (pywin32's ``pythoncom``,
``pywintypes`` and ``win32com.client``), so the tests can use xlwings' REAL UDF decorators
(``xlfunc``/``xlarg``/``xlret``) and VBA generator (``generate_vba_wrapper``) on Linux.

The stand-in modules are minimal module objects put into ``sys.modules`` for the duration of
a ``with`` block (anything that would talk to COM raises); they live in the package
(``kpi_workbook.excel.windows_standins``) because ``python -m kpi_workbook.excel.generate_vba``
needs them too. This file re-exports them for the tests and says how xlwings is required.
"""

from __future__ import annotations

import types

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

__all__ = ["NAMES", "StandinBook", "StandinCaller", "StandinRange", "StandinSheet", "have_pywin32",
           "is_standin", "load_udfs", "need_xlwings", "real_decorators", "windows_standins"]


# STAND-INS for what a desktop UDF reaches through xlwings' ``caller`` argument (COM objects
# in Excel): caller.sheet.book.sheets["设置"].used_range.options(ndim=2, ...).value, .row,
# .column — that and nothing more.


class StandinRange:
    """STAND-IN for a sheet's used range: its values (a list of rows) and where it starts."""

    def __init__(self, rows, row: int = 1, column: int = 1):
        self.rows, self.row, self.column = rows, row, column

    def options(self, **options):
        assert options.get("ndim") == 2  # the reader asks for a list of rows
        return self

    @property
    def value(self):
        return self.rows


class StandinSheet:
    """STAND-IN for an xlwings sheet: a name and a used range."""

    def __init__(self, name: str, rows, row: int = 1, column: int = 1):
        self.name, self.used_range = name, StandinRange(rows, row, column)


class _StandinSheets(dict):
    """``book.sheets``: indexed by name; iterating gives the sheets, as xlwings' Sheets does."""

    def __iter__(self):
        return iter(self.values())


class StandinBook:
    """STAND-IN for an xlwings book: its sheets."""

    def __init__(self, *sheets: StandinSheet):
        self.sheets = _StandinSheets((s.name, s) for s in sheets)


class StandinCaller:
    """STAND-IN for the calling range xlwings passes as ``caller``: caller.sheet.book."""

    def __init__(self, book: StandinBook):
        self.sheet = types.SimpleNamespace(book=book)
