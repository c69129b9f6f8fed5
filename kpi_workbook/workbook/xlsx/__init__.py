"""The .xlsx file format, and nothing about scorecards: open a book once against bounded
limits (zip bombs, sizes, defused XML), read its sheets fast, patch cells in place, clone
sheets, write big tables as sheet XML, set up printing.

May import: ``kpi_workbook.diagnostics`` and ``kpi_workbook.numbers``, and the plumbing
beside it in ``workbook/`` (files, locks, collector). Never ``scorecard/`` or ``month/``.
"""
