"""Small helpers shared by the workbook, report and payroll tests."""

from __future__ import annotations

import math

from kpi_workbook.cli import main


def emp(eid, name, dept, role, salary=5000.0, attendance=True) -> dict:
    """One roster row (canonical columns)."""
    return {"employee_id": eid, "name": name, "department": dept, "role": role,
            "base_salary": float(salary), "q_amount": math.nan, "full_attendance": attendance,
            "supervisor": ""}


def run(capsys, *argv) -> tuple[int, str, str]:
    """Run the CLI in-process: (exit code, stdout, stderr); never a traceback."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "内部错误" not in err, err
    return code, out, err
