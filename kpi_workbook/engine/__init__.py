"""Pure scoring: a role's inputs in, totals, grades, pay and explanations out, over whole
columns (``score``), the month's team pay and ranks (``month``), one card as data (``api``),
and role descriptions (``describe``). No I/O.

May import: ``rules/``, ``kinds/`` and the foundations (``diagnostics``, ``numbers``,
``suggest``, ``words``). Never ``workbook/``, ``api`` or a front end.
"""
