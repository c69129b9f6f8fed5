"""The workbook layer: everything that reads or writes a spreadsheet file.

- ``xlsx/``      the file format only (read, patch, clone, write rows, limits, print setup);
- ``scorecard/`` one employee's sheet (layout, formulas, build, 设置, read, validate, fill);
- ``month/``     the month's outputs (report, calibration, approval, history, payroll, rollup)
                 and the HR master workbook the month is run from;
- plumbing beside them: ``files`` (atomic writes), ``locks``, ``collector`` (GC pacing),
  ``libreoffice`` and ``recalc`` (running other spreadsheet engines).

Data flows one way: plumbing → xlsx → scorecard → month; a lower one never imports a higher
one (``tests/test_layering.py`` reads the imports). The package may import ``rules/``,
``kinds/``, ``engine/`` and the foundations (``diagnostics``, ``numbers``, ``suggest``,
``words``), never ``api`` or a front end.
"""
