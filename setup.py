"""The optional compiled scanner (kpi_workbook/workbook/xlsx/plain_scan.c, the top-level
module ``kpi_workbook_scan``): everything else is declared in setup.cfg. Without a compiler
the build of the extension is skipped and the package reads the same books in Python
(plain_scan.py); ``python setup.py build_ext --inplace`` builds it beside the source tree.

The module holds the SHA-256 of the source it was built from (``SOURCE_SHA256``), and
plain_scan.py uses it only when that is the digest of the plain_scan.c beside it (installed
with the package as data): a module built from another checkout is never used."""

import hashlib
from pathlib import Path

from setuptools import Extension, setup

SOURCE = "kpi_workbook/workbook/xlsx/plain_scan.c"
DIGEST = hashlib.sha256((Path(__file__).resolve().parent / SOURCE).read_bytes()).hexdigest()

setup(ext_modules=[Extension("kpi_workbook_scan", sources=[SOURCE], optional=True,
                             define_macros=[("SOURCE_SHA256", f'"{DIGEST}"')])])
