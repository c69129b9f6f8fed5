"""`kpi-workbook demo`: the whole job on built-in sample data, three months running.

For each month: new → fill → validate → report (with history, so streak warnings show),
approve for the first two months, then payroll (clean rows only) for the last month. A few cards are left incomplete and one total is typed
over by hand, so the report shows what it does with them. Prints a short summary and the
paths it wrote. Every step is a call of ``kpi_workbook.api``, as a script of one's own would be.
"""

from __future__ import annotations

import sys
from pathlib import Path

import openpyxl

from . import api
from .diagnostics import KpiError, error
from .progress import cell, display_width
from .rules.loader import Catalog
from .sample import sample_inputs

MONTHS = ("2026-08", "2026-09", "2026-10")
WEAK = {"E006", "E023"}  # weak every month: their streak warnings show in the last report
INCOMPLETE = {"E003", "E017", "E031"}  # supervisors who have not finished the last month
TYPED_OVER = "E010"  # a total typed over by hand in the last month
APPROVED_MONTHS = MONTHS[:2]  # the first two months are approved; the last is still open
APPROVER = "人事 王经理"


def run_demo(catalog: Catalog, out: Path, force: bool = False) -> int:
    if out.exists() and any(out.iterdir()) and not force:
        raise KpiError([error("exists", f"{out} 不是空目录；如需覆盖请加 --force",
                              f"{out} is not empty; use --force to overwrite", source=str(out))])
    out.mkdir(parents=True, exist_ok=True)
    roster = api.read_roster(templates=catalog)
    history = out / "history.xlsx"
    if history.exists():
        history.unlink()  # the demo's history starts with its first month
    written: list[Path] = []
    for month in MONTHS:
        last = month == MONTHS[-1]
        folder = out / month
        book = folder / "scorecards.xlsx"
        api.new(month, out=book, force=True, templates=catalog)
        inputs = folder / "inputs.csv"
        sample_inputs(catalog, roster, month, weak=WEAK,
                      incomplete=INCOMPLETE if last else set()).to_csv(inputs, index=False,
                                                                       encoding="utf-8-sig")
        api.fill(book, inputs, templates=catalog)
        if last:
            _type_over_total(book, TYPED_OVER)
            findings = api.validate(book, templates=catalog).diagnostics
            print(f"validate {book}: {len(findings)} 个问题 / findings")
        result = api.report(book, folder / "report.xlsx", history=history, force=True, templates=catalog)
        written += [book, inputs, result.out]
        if month in APPROVED_MONTHS:  # HR approves the month once it is final
            approved = api.approve(result.out, history, by=APPROVER)
            print(approved.summary_line())
    payroll = out / MONTHS[-1] / "payroll.csv"
    # the last month has unfinished cards and is not approved yet: pay the clean rows, say
    # so for each one (--unapproved), list every one left out
    pay = api.payroll(result.out, payroll, history=history, allow_incomplete=True, unapproved=True,
                      force=True, templates=catalog)
    for d in pay.diagnostics:
        print(d)
    print(pay.summary_line())
    written += [history, payroll]
    _print_summary(result)
    print("\n写出的文件 / files written:")
    for path in written:
        print(f"  {path}")
    return 0


def _type_over_total(book: Path, employee_id: str) -> None:
    """What a supervisor sometimes does: type a number over the total's formula."""
    wb = openpyxl.load_workbook(book)
    for ws in wb.worksheets:
        names = {n: list(d.destinations)[0][1].replace("$", "") for n, d in ws.defined_names.items()}
        if "KPI_EMPLOYEE_ID" in names and ws[names["KPI_EMPLOYEE_ID"]].value == employee_id:
            ws[names["KPI_TOTAL"]] = 99.5
    wb.save(book)


def _print_summary(result) -> None:
    s = result.summary
    print(f"\n{result.summary_line()}\n")
    rows = [["工号", "姓名", "部门", "总分", "等级", "应发", "状态", "预警"]]
    for r in s.sort_values(["部门", "总分"], ascending=[True, False]).itertuples(index=False):
        amount = r.应发绩效合计
        pay = (amount if isinstance(amount, str) else  # 待定: waits for the department
               "" if amount is None or amount != amount else f"{amount:,.2f}")
        grade = r.等级 if isinstance(r.等级, str) else "—"
        rows.append([r.工号, r.姓名, r.部门, f"{r.总分:.1f}", grade, pay, r.状态, r.预警 or ""])
    for line in table_lines(rows, right={3, 5}):
        print(line)
    sys.stdout.flush()


def table_lines(rows: list[list], right: frozenset[int] | set[int] = frozenset()) -> list[str]:
    """Rows as lines whose columns line up on a terminal (by display width: a Chinese
    character takes two columns); columns in ``right`` are right-aligned; two spaces apart."""
    widths = [max(display_width(r[j]) for r in rows) for j in range(len(rows[0]))]
    return ["  ".join(cell(v, widths[j], j in right) for j, v in enumerate(r)).rstrip() for r in rows]
