"""approve of a report as recorded does not read its month's 历史 rows (issue 24): the
month's last 计算记录 row records the 历史 month's zip member as the same ``report
--history`` sealed it (历史摘要); while that member is byte for byte the one sealed, its rows
are the report's. Anything else reads and compares them as ever."""

from __future__ import annotations

import openpyxl
import pytest

from kpi_workbook.workbook.month import approval, history as history_module
from kpi_workbook.workbook.month.history import HistoryBook, read_history_book, write_history

from .helpers import run
from .test_money_fast import computed_rows, copies
from .test_money_signoff import cs_month  # noqa: F401  (a fixture)

MONTH_SHEET = "历史 2026-10"


def no_month_read(monkeypatch) -> None:
    """No month sheet of the history read after the first read (HistoryBook.load)."""
    def refuse(self, wanted):
        raise AssertionError(f"read again: {wanted}")
    monkeypatch.setattr(HistoryBook, "_again", refuse)


def approved(hist) -> tuple[list[tuple], list[tuple]]:
    """The 审批 rows (without the time) and the month's 审批版本 rows."""
    wb = openpyxl.load_workbook(hist)
    head = [c.value for c in wb["审批"][1]]
    skip = {head.index("审批时间"), head.index("链哈希")}
    approvals = [tuple(v for j, v in enumerate(r) if j not in skip) for r in wb["审批"].iter_rows(min_row=2, values_only=True)]
    return approvals, list(wb["审批版本 2026-10"].iter_rows(values_only=True))


def test_report_history_links_the_month_sheet_it_seals(cs_month):  # noqa: F811
    _, report, hist = cs_month
    book = read_history_book(hist, months=())
    assert MONTH_SHEET in book.unread
    linked = computed_rows(hist)[-1]["历史摘要"]
    assert len(linked) == 64 and linked == book.stored[MONTH_SHEET].raw


def test_approve_as_recorded_reads_no_month_rows_and_approves_what_reading_approves(
        tmp_path, cs_month, capsys, monkeypatch):  # noqa: F811
    _, report, hist = cs_month
    read_report, read_hist = copies(tmp_path, report, hist, "reading")
    with monkeypatch.context() as m:
        no_month_read(m)
        code, stdout, err = run(capsys, "approve", report, "--history", hist, "--by", "王经理")
        assert code == 0 and "已审批" in stdout, err
    with monkeypatch.context() as m:
        m.setattr(approval, "history_as_reported", lambda *args: False)  # the reading path
        code, stdout, err = run(capsys, "approve", read_report, "--history", read_hist, "--by", "王经理")
        assert code == 0 and "已审批" in stdout, err
    assert approved(hist) == approved(read_hist) and len(approved(hist)[1]) == 3
    # the 历史 month copied as stored, still the one sealed with the report: still linked
    book = read_history_book(hist, full=True)  # every row's chain hashed again, approvals checked
    assert computed_rows(hist)[-1]["历史摘要"] == book.stored[MONTH_SHEET].raw
    assert book.rows.drop(columns="_sheet").equals(read_history_book(read_hist, full=True).rows.drop(columns="_sheet"))


def edit_month(hist, change) -> None:
    """The 历史 month's rows changed and the history written (sealed) again by the program."""
    book = read_history_book(hist)
    rows = book.rows.copy()
    change(rows)
    book.rows = rows
    write_history(hist, book)


@pytest.mark.parametrize("change", ["score", "department minimum"])
def test_a_month_sheet_changed_and_sealed_again_is_read_and_refused(tmp_path, cs_month, capsys, change):  # noqa: F811
    """The seal signs the new member, but the 计算记录 row links the one written with the
    report: the rows are read and compared — a changed 总分 refused as before; a change the
    approved fields do not cover (部门最低) read and compared, and approved as reading does."""
    _, report, hist = cs_month
    linked = computed_rows(hist)[-1]["历史摘要"]
    if change == "score":
        edit_month(hist, lambda rows: rows.__setitem__("总分", rows["总分"].astype(float) + 1))
    else:
        edit_month(hist, lambda rows: rows.__setitem__("部门最低", ~rows["部门最低"].astype(bool)))
    book = read_history_book(hist, months=())
    assert book.stored[MONTH_SHEET].raw != linked == computed_rows(hist)[-1]["历史摘要"]
    assert not approval.history_as_reported(book, "2026-10", approval.as_recorded(report, book.computation("2026-10")))
    code, stdout, err = run(capsys, "approve", report, "--history", hist, "--by", "王经理")
    if change == "score":
        assert code == 1 and "report --history" in err and "审批" not in openpyxl.load_workbook(hist).sheetnames
    else:
        assert code == 0 and "已审批" in stdout, err


def test_a_month_sheet_changed_in_place_is_refused_by_the_chain(tmp_path, cs_month, capsys):  # noqa: F811
    """The member's bytes changed, not sealed again: it is read, and its chain refuses it."""
    from .test_hostile import _flip_a_stored_byte

    _, report, hist = cs_month
    _flip_a_stored_byte(hist, read_history_book(hist, months=()).stored[MONTH_SHEET].member)
    code, _, err = run(capsys, "approve", report, "--history", hist, "--by", "王经理")
    assert code in (1, 2) and err


def test_a_record_without_the_link_reads_the_month(tmp_path, cs_month, capsys, monkeypatch):  # noqa: F811
    """A 计算记录 written before 历史摘要 (chained without it) is read as it was; approve
    reads and compares the month's rows, and approves."""
    _, report, hist = cs_month
    book = read_history_book(hist)
    old = history_module.COMPUTED_COLUMNS[:-1]
    book.computed = book.computed[old]
    with monkeypatch.context() as m:
        m.setattr(history_module, "COMPUTED_COLUMNS", old)
        m.setattr(history_module, "CHAINED", {**history_module.CHAINED, history_module.COMPUTED: old})
        write_history(hist, book)
    assert "历史摘要" not in computed_rows(hist)[0] and computed_rows(hist)[0]["报表摘要"]
    read_history_book(hist, full=True)  # every row's chain hashed again
    read = []
    original = HistoryBook._again
    monkeypatch.setattr(HistoryBook, "_again", lambda self, wanted: read.append(wanted) or original(self, wanted))
    code, stdout, err = run(capsys, "approve", report, "--history", hist, "--by", "王经理")
    assert code == 0 and "已审批" in stdout, err
    assert {MONTH_SHEET} in read


def test_a_reopened_month_reads_its_rows(tmp_path, cs_month, capsys, monkeypatch):  # noqa: F811
    book, report, hist = cs_month
    assert run(capsys, "approve", report, "--history", hist, "--by", "王经理")[0] == 0
    code, _, err = run(capsys, "report", book, "--out", report, "--history", hist, "--force", "--reopen",
                       "--reason", "复核")
    assert code == 0, err
    past = read_history_book(hist, months=())
    written = approval.as_recorded(report, past.computation("2026-10"))
    assert written and past.approval("2026-10") is not None
    assert not approval.history_as_reported(past, "2026-10", written)
    read = []
    original = HistoryBook._again
    monkeypatch.setattr(HistoryBook, "_again", lambda self, wanted: read.append(wanted) or original(self, wanted))
    code, stdout, err = run(capsys, "approve", report, "--history", hist, "--by", "王经理")
    assert code == 0 and "已审批" in stdout and any(MONTH_SHEET in w for w in read), err


def test_the_collector_is_paused_while_approve_works_and_runs_again_after(tmp_path, cs_month, capsys, monkeypatch):  # noqa: F811
    import gc

    _, report, hist = cs_month
    seen = []
    original = approval.approve_rows

    def approve_rows(*args, **kwargs):
        seen.append(gc.isenabled())
        return original(*args, **kwargs)
    monkeypatch.setattr(approval, "approve_rows", approve_rows)
    assert gc.isenabled()
    edited_report, edited = copies(tmp_path, report, hist, "edited")
    edit_month(edited, lambda rows: rows.__setitem__("总分", rows["总分"].astype(float) + 1))
    assert run(capsys, "approve", edited_report, "--history", edited, "--by", "王经理")[0] == 1  # refused
    assert seen == [False] and gc.isenabled()
    assert run(capsys, "approve", report, "--history", hist, "--by", "王经理")[0] == 0
    assert seen == [False, False] and gc.isenabled()


def test_a_report_that_cannot_be_stamped_leaves_the_month_unapproved(tmp_path, cs_month, capsys):  # noqa: F811
    """A report not the file the record names (one part of it damaged) is refused when approve
    stamps it; the history is written only once the stamped report is whole, so the month is
    not approved (r31's finding: it was approved, then the command said the report is damaged)."""
    import zipfile

    from .test_hostile import _flip_a_stored_byte

    _, report, hist = cs_month
    report, hist = copies(tmp_path, report, hist, "damaged")
    with zipfile.ZipFile(report) as z:
        part = next(n for n in z.namelist() if n.startswith("xl/charts/") or n.startswith("xl/drawings/"))
    _flip_a_stored_byte(report, part)
    code, _, err = run(capsys, "approve", report, "--history", hist, "--by", "王经理")
    assert code == 2 and "损坏" in err, err
    assert not len(read_history_book(hist).approvals)
