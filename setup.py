"""The optional compiled scanner (kpi_workbook/workbook/xlsx/plain_scan.c, the top-level
module ``kpi_workbook_scan``): everything else is declared in setup.cfg. Without a compiler
the build of the extension is skipped and the package reads the same books in Python
(plain_scan.py); ``python setup.py build_ext --inplace`` builds it beside the source tree."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("kpi_workbook_scan", sources=["kpi_workbook/workbook/xlsx/plain_scan.c"],
                             optional=True)])
