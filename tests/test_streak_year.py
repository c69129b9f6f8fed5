"""The streak warnings of a month read from the months before it as sealed (history.streak_rows:
four columns of each month sheet the history did not read, issue 24) are those of the whole
history read and verified (streak_warnings over every row), for every month of a year and the
first of the next; the report reads no month before its own in full; a month sheet changed
after the read is refused, never used."""

from __future__ import annotations

import os
import random
import zipfile

import pandas as pd
import pytest

from kpi_workbook.diagnostics import Refused
from kpi_workbook.workbook.month import history as H

from .test_history_months import _report_column as column, month_of, read  # noqa: F401  (read: a fixture)

MONTHS = [f"2025-{m:02d}" for m in (10, 11, 12)] + [f"2026-{m:02d}" for m in range(1, 13)]


def year_rows(catalog) -> pd.DataFrame:
    """15 months of 60 people in the roles of both warning schemes (A-E: E twice running or
    three times a year; 5 levels: 不及格 twice running, lowest in the department twice), drawn
    at random (seeded) so that every kind of warning occurs and many do not; a few awkward
    rows too: a repeated id in a month (the later row counts), ids with XML's own characters,
    a number as id, a person missing some months, a row without an id."""
    rng = random.Random(24)
    grades = {"qc_inspector": ["A", "B", "C", "D", "E", "E"],
              "taobao_cs_staff": ["优秀", "良好", "合格", "不及格", "不及格"]}
    people = [(f"E{k:03d}", role) for k, role in enumerate(["qc_inspector"] * 35 + ["taobao_cs_staff"] * 25)]
    people += [("A&B<1>", "qc_inspector"), ("1007", "qc_inspector")]
    rows = []
    for month in MONTHS:
        for eid, role in people:
            if eid == "E005" and month in ("2026-03", "2026-07"):
                continue
            rows.append({"工号": eid, "姓名": "某" + eid[-1], "部门": "品质部" if role.startswith("qc") else "客服部",
                         "岗位ID": role, "月份": month, "总分": float(rng.randint(40, 110)),
                         "等级": rng.choice(grades[role]), "状态": "已完成", "部门最低": rng.random() < 0.3,
                         "应发绩效合计": float(rng.randint(0, 800))})
        rows.append({**rows[-3], "等级": "E", "部门最低": True})  # E061's month again: this row counts
        rows.append({**rows[-1], "工号": ""})
    frame = pd.DataFrame(rows)
    frame["工号"] = frame["工号"].astype(object)
    frame.loc[frame["工号"] == "1007", "工号"] = 1007  # written as a number
    return frame


def test_streak_rows_give_the_warnings_of_the_whole_history(tmp_path, catalog):
    hist = tmp_path / "h.xlsx"
    H.write_history(hist, H.HistoryBook(year_rows(catalog)))
    whole = H.read_history_book(hist)
    assert not whole.unread
    seen: set[str] = set()
    for month in [*MONTHS[3:], "2027-01"]:
        expected = H.streak_warnings(catalog, whole.rows, month)
        book = H.read_history_book(hist, months=())
        book.load([month], (H.SHEET,))
        earlier = H.streak_rows(catalog, book, month)
        needs = {m for m in MONTHS if m < month and (m[:4] == month[:4] or m == H.previous_month(month))}
        assert set(earlier["月份"]) == needs  # the year's months before, and the one before that (E twice)
        assert H.streak_warnings(catalog, pd.concat([book.rows, earlier], ignore_index=True), month) == expected
        seen |= {t[:4] for texts in expected.values() for t in texts}
        if month != "2027-01":
            assert expected  # every month of the year warns someone
    assert {"连续2个", "本年3个", "本年4个"} <= seen
    assert any("部门最低" in t for texts in H.streak_warnings(catalog, whole.rows, "2026-12").values() for t in texts)


def test_a_month_sheet_changed_after_the_read_is_refused(tmp_path, catalog):
    hist = tmp_path / "h.xlsx"
    H.write_history(hist, H.HistoryBook(year_rows(catalog)))
    book = H.read_history_book(hist, months=())
    # the file replaced by another with November's member edited (same size, so only its
    # bytes tell): the identity of the file read first no longer holds
    other = tmp_path / "other.xlsx"
    with zipfile.ZipFile(hist) as src, zipfile.ZipFile(other, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info).replace(b">E<", b">D<"))
    other.replace(hist)
    with pytest.raises(Refused, match="changed while it was read"):
        H.streak_rows(catalog, book, "2026-12")


def test_a_month_sheet_whose_bytes_are_not_the_sealed_ones_is_refused(tmp_path, catalog):
    """Even in the very file read (same inode, size and time): one byte of November's
    compressed sheet flipped in place is found by the sealed digest of its bytes."""
    hist = tmp_path / "h.xlsx"
    H.write_history(hist, H.HistoryBook(year_rows(catalog)))
    book = H.read_history_book(hist, months=())
    kept = book.stored["历史 2026-11"]
    stat = os.stat(hist)
    with zipfile.ZipFile(hist) as z, open(hist, "r+b") as f:
        at = H._member_start(f, z.getinfo(kept.member)) + kept.compressed // 2
        f.seek(at)
        byte = f.read(1)
        f.seek(at)
        f.write(bytes([byte[0] ^ 0x20]))
    os.utime(hist, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert H._identity(hist) == book.identity
    with pytest.raises(Refused, match="changed while it was read"):
        H.streak_rows(catalog, book, "2026-12")


def test_the_report_reads_no_earlier_month_whole_and_still_warns(tmp_path, catalog, capsys, read):  # noqa: F811
    hist = tmp_path / "h.xlsx"
    month_of(tmp_path, catalog, capsys, hist, "2026-10")  # Q2 graded E
    read.clear()
    report = month_of(tmp_path, catalog, capsys, hist, "2026-11", approve=False)  # and again
    assert read == [set()]  # October's sheet: four columns of its sealed bytes, not read whole
    assert "连续2个月E" in column(report, "预警")["Q2"]
    assert not column(report, "预警")["Q1"]
