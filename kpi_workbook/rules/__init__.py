"""Role templates as data: the schema (pydantic models), loading a template folder (with its
compiled cache), the linter, conditions, and the payroll layout.

May import: ``diagnostics``, ``numbers``, ``suggest`` and ``words`` only — the bottom layer;
nothing here knows a rule kind's behaviour, the engine or a workbook.
"""
