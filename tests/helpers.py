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


def settings_cells(path) -> dict[str, str]:
    """Defined name → its cell on 设置 (GRADE_*, PAY_*), read with openpyxl: an independent
    reader, not the package's."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)  # the workbook's names are all it reads
    try:
        return {n: list(d.destinations)[0][1].replace("$", "") for n, d in wb.defined_names.items()
                if n.startswith(("GRADE_", "PAY_"))}
    finally:
        wb.close()


def edited_settings(src, target, values: dict[str, object]):
    """A copy of ``src`` with 设置 cells (by defined name) set as HR would type them."""
    from kpi_workbook.workbook.scorecard.editable import XmlBook

    cells = settings_cells(src)
    book = XmlBook(src)
    for name, value in values.items():
        book.set("设置", cells[name], value)
    book.save(target)
    return target


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux: read from /proc)."""
    from pathlib import Path

    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found
