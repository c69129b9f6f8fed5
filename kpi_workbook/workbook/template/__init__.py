"""Role templates as workbooks HR edits, not YAML: ``template export`` writes a role as a
workbook (sheets.py says where everything sits and which Chinese words the dropdowns offer;
export.py writes it), ``template new`` a blank one with a short worked example (blank.py),
``template import`` reads one back into a templates folder after linting it, every problem
one sentence naming the sheet and cell (importer.py). Export then import is lossless.

May import: ``rules/``, ``kinds/``, ``diagnostics``, ``numbers``, ``suggest``,
``workbook/xlsx/`` and the plumbing beside it. Never ``scorecard/`` or ``month/``.
"""
