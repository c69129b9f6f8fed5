"""The month's outputs, made from the scorecard books: the report (scoring every card, the
summary, statistics and calibration sheets), approval and the history, payroll, roll-ups,
the result notices handed to each employee (notices.py),
the monthly run that ties them together, and the HR master workbook the month is run from.

May import: everything below it — ``rules/``, ``kinds/``, ``engine/``, ``workbook/scorecard/``,
``workbook/xlsx/`` and the plumbing. Nothing in ``workbook/`` imports it.
"""
