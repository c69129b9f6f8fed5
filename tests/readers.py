"""Both readers of the plain form: the compiled one (plain_scan.c, when built) and the Python
code of plain_scan.py alone (what runs without a compiler, and in xlwings Lite).

``pytestmark = pytest.mark.usefixtures("either_reader")`` in a module runs each of its tests
both ways; the Python way also reaches the processes a test starts (KPI_WORKBOOK_PURE_PYTHON).
"""

from __future__ import annotations

import pytest

from kpi_workbook.workbook.xlsx import plain_scan


@pytest.fixture(params=["compiled", "python"])
def either_reader(request, monkeypatch) -> str:
    if request.param == "python":
        monkeypatch.setattr(plain_scan, "compiled", None)
        monkeypatch.setenv("KPI_WORKBOOK_PURE_PYTHON", "1")
    return request.param
