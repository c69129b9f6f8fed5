"""Data package: the VBA modules, ribbon XML and xlwings Lite files (installed as kpi_workbook.macros)."""
