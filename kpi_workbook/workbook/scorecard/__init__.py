"""One employee's scorecard sheet: its layout and native formulas, building the books from
a roster, the month's 设置 (rule book) and template versions, reading a card back (values,
names, formulas), validating it, and filling its input cells from data; books built or
filled one per worker process on every core (``pool``).

May import: ``rules/``, ``kinds/``, ``engine/``, ``diagnostics``, ``numbers``, ``suggest``,
``workbook/xlsx/`` and the plumbing beside it. Never ``month/``.
"""
