"""Issue 24: the report's rows in one compact part (month/report_rows.py), read by approve and
payroll of a report as written instead of its 100 MB 月度汇总 sheet.

The part must say exactly what the sheets say: its rows are 月度汇总 as sheet_rows.read_written
reads it back, its roles the 校准 sheet's as calibration.card_roles reads them — over reports
of every kind (team pay 待定, NaN and infinite money, 不参与 rows, an empty month, texts XML and
formulas would trip on). It is taken only where the report is the file the history records; a
part changed in the file makes the sheets read and checked as before."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, strategies as st

from kpi_workbook.workbook.month import approval, report_rows, verify
from kpi_workbook.workbook.month.calibration import SHEET as CALIBRATION, card_roles
from kpi_workbook.workbook.month.report import build_report
from kpi_workbook.workbook.month.report_writer import write_report
from kpi_workbook.workbook.month.tables import SUMMARY
from kpi_workbook.workbook.scorecard.reader import _rows, open_package
from kpi_workbook.workbook.xlsx import sheet_rows

from .helpers import run
from .test_money_fast import Scored, computed_rows, no_row_hashing, no_scoring
from .test_money_signoff import cs_month, edit_report  # noqa: F401  (a fixture)
from .test_payroll_trust import CS_ROSTER, cs, read_csv
from .test_report import make_book

MAX_ROWS = 1_048_576


def the_part(report: Path) -> bytes:
    with zipfile.ZipFile(report) as z:
        return z.read(report_rows.PART)


def _line_ends(value):
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


def assert_part_says_what_the_sheets_say(report: Path) -> list[list]:
    """The part's rows are 月度汇总 as read_written reads it (and as the package reader does),
    its roles those card_roles reads from the 校准 sheet."""
    found = report_rows.parse_part(the_part(report), MAX_ROWS)
    assert found is not None
    rows, roles = found
    with open_package(report) as package:
        written = sheet_rows.read_written(package.read(package.parts[SUMMARY]))
        generic = package.sheet(SUMMARY)
    assert written is not None and rows == written
    assert [[type(v) for v in r] for r in rows] == [[type(v) for v in r] for r in written]  # 1 is not 1.0
    assert not any(isinstance(v, float) and v != v for r in rows for v in r)
    # the package reader's rows too, but for line ends: an XML parser reads "\r\n" and "\r" as
    # "\n", read_written (and so the part, and approve as written today) as they are written
    assert _rows({**generic.contents, **generic.cached}) == [[_line_ends(v) for v in r] for r in rows]
    calibration = approval._sheet_tables(report, [CALIBRATION])[CALIBRATION]
    assert calibration is not None and roles == card_roles(calibration)
    return rows


@pytest.fixture
def scored(tmp_path, catalog):
    """The engine's month of two cs_specialist cards (S1 ¥435, S2 ¥522)."""
    book = make_book(catalog, tmp_path / "cs.xlsx", CS_ROSTER, cs("S1") + cs("S2"))
    return build_report(catalog, [book])


TRICKY = ["a & b < c > d ]]> e", "两行\n第二行\r\n第三行\t制表", "=SUM(A1:A9)", "+1", "@cmd|' /C calc'!A0",
          " 前后空格 ", "控制\x01字符\x1f", "", "#NUM!", "&amp; literally", "\\u0026 and \\\\", '"quoted"',
          "x" * 20_000 + "尾", "😀 outside the BMP"]


def test_the_part_is_the_sheets_over_reports_of_every_kind(tmp_path, catalog, scored):
    s = scored.summary
    base = s.iloc[[0]].astype(object)
    rows = []
    for k, text in enumerate(TRICKY):  # every text in every text column, numbers of every kind
        row = base.copy()
        row["工号"] = f"E{k:02d}" if k % 5 else f" E{k:02d} "
        for column in ("姓名", "部门", "等级", "问题", "说明", "预警"):
            row[column] = TRICKY[(k + len(column)) % len(TRICKY)]
        row["状态"] = ("已完成", "未完成", "错误", "不参与")[k % 4]
        row["总分"] = [np.float64(0.1 + 0.2), 2.0 / 3, 1e16, -0.0, np.int64(7), float("nan"), 95,
                     123456789012345.67, 1e-300, True, "87", None, float("inf"), 5e-324][k]
        row["绩效工资"] = [float("nan"), float("inf"), -1e308, "待定", None, 435.0, 0.1 + 0.7,
                       1234567.895, -12.5, np.float32(1.1), 2**53 + 1, 10**17, "", 0][k]
        row["应发绩效合计"] = row["绩效工资"]
        row["部门排名"] = [1.0, None, float("nan"), 3][k % 4]
        rows.append(row)
    kinds = {
        "engine's month": scored,
        "every kind of value": type(scored)(scored.month, pd.concat([s.astype(object), *rows], ignore_index=True),
                                            scored.money_columns),
        "empty month": type(scored)(scored.month, s.iloc[0:0], scored.money_columns),
        "calibrated": type(scored)(scored.month, s, scored.money_columns, calibrations={"S1": ("A", "好 & <强>")},
                                   graded=s),
    }
    for name, data in kinds.items():
        report = tmp_path / f"{name}.xlsx"
        write_report(catalog, data, report)
        rows_read = assert_part_says_what_the_sheets_say(report)
        assert len(rows_read) >= len(data.summary) + 1, name
    # the texts came through whole (not only "equal to what the sheet says")
    tricky = report_rows.parse_part(the_part(tmp_path / "every kind of value.xlsx"), MAX_ROWS)
    assert tricky is not None
    texts = {v for r in tricky[0] for v in r if isinstance(v, str)}
    assert {"a & b < c > d ]]> e", "=SUM(A1:A9)", "控制字符", "x" * 20_000 + "尾", "#NUM!"} <= texts
    assert {" E00 ", "E04"} <= texts  # complete cards (and a 工号 with spaces: stripped as a role's key)
    assert tricky[1]["E04"] == tricky[1]["E00"] == "cs_specialist" and "E01" not in tricky[1]


def test_the_part_of_a_month_run_through_report_approve_and_calibration(tmp_path, cs_month, capsys):  # noqa: F811
    _, report, hist = cs_month
    assert_part_says_what_the_sheets_say(report)
    code, _, err = run(capsys, "approve", report, "--history", hist, "--by", "王经理")
    assert code == 0, err
    assert_part_says_what_the_sheets_say(report)  # stamped: the part carried as it was
    assert report_rows.PART in zipfile.ZipFile(report).namelist()


def test_a_report_as_written_is_read_from_its_part_not_its_sheets(tmp_path, cs_month, capsys, monkeypatch):  # noqa: F811
    _, report, hist = cs_month

    def no_sheets(*args, **kwargs):
        raise Scored()

    with monkeypatch.context() as m:
        no_scoring(m)
        no_row_hashing(m)
        m.setattr(approval, "_sheet_tables", no_sheets)
        code, _, err = run(capsys, "approve", report, "--history", hist, "--by", "王经理")
        assert code == 0, err
        out = tmp_path / "p.csv"
        code, _, err = run(capsys, "payroll", report, "--out", out, "--history", hist, "--require-approved")
        assert code == 0, err
    # the same payroll as from the sheets, rows hashed
    slow = tmp_path / "slow.csv"
    monkeypatch.setattr(approval, "_compact_rows", lambda report: None)
    monkeypatch.setattr(approval, "as_recorded", lambda report, computed: "")
    code, _, err = run(capsys, "payroll", report, "--out", slow, "--history", hist, "--require-approved")
    assert code == 0 and slow.read_bytes() == out.read_bytes(), err
    assert [r["应发绩效合计"] for r in read_csv(out)[1]] == ["435.00", "522.00"]


def rewrite_part(report: Path, change) -> None:
    with zipfile.ZipFile(report) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    parts[report_rows.PART] = change(parts[report_rows.PART])
    with zipfile.ZipFile(report, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def test_a_changed_part_is_not_taken_the_sheets_are_read_and_checked(tmp_path, cs_month, capsys, monkeypatch):  # noqa: F811
    """The part's 435 made 9435: the file is no longer the one recorded, so its sheets are
    read and their rows hashed as before (no card scored again: they are the engine's), and
    S1 is paid ¥435 — the part never pays."""
    _, report, hist = cs_month
    written = verify.report_digest(report)
    rewrite_part(report, lambda data: data.replace(b"435", b"9435"))
    assert b"9435" in the_part(report) and verify.report_digest(report) not in ("", written)
    no_scoring(monkeypatch)  # taking the changed part would make the row hashes differ: scored
    code, _, err = run(capsys, "approve", report, "--history", hist, "--by", "王经理")
    assert code == 0, err
    out = tmp_path / "p.csv"
    code, _, err = run(capsys, "payroll", report, "--out", out, "--history", hist, "--require-approved")
    assert code == 0, err
    assert [r["应发绩效合计"] for r in read_csv(out)[1]] == ["435.00", "522.00"]


def test_a_changed_sheet_and_part_are_refused_as_before(tmp_path, cs_month, capsys):  # noqa: F811
    _, report, hist = cs_month
    cells = edit_report(report, "S1", {"绩效工资": 9435, "应发绩效合计": 9435})  # saved by openpyxl: no part
    code, _, err = run(capsys, "approve", report, "--history", hist, "--by", "王经理")
    assert code == 1 and cells["应发绩效合计"] in err and "435" in err


def test_a_report_as_written_without_the_part_reads_its_sheets(tmp_path, cs_month, capsys, monkeypatch):  # noqa: F811
    """A report written before the part (by an older build) and recorded: read as before."""
    book, report, hist = cs_month
    save = sheet_rows.save
    monkeypatch.setattr(sheet_rows, "save", lambda written, sheets, target, extra=None: save(written, sheets, target))
    assert run(capsys, "report", book, "--out", report, "--history", hist, "--force")[0] == 0
    assert report_rows.PART not in zipfile.ZipFile(report).namelist()
    assert computed_rows(hist)[-1]["报表摘要"] == verify.report_digest(report)
    with monkeypatch.context() as m:
        no_scoring(m)
        no_row_hashing(m)
        code, _, err = run(capsys, "approve", report, "--history", hist, "--by", "王经理")
        assert code == 0, err


HEAD = report_rows.compact_part([], {}).split(b"[]")[0]


@pytest.mark.parametrize("data", [
    report_rows.compact_part([["工号"], ["S1"]], {"S1": "cs"}).replace(b"<rows>", b"<rows >"),
    report_rows.compact_part([["工号"]], {}).replace(b'version="1"', b'version="2"'),
    report_rows.compact_part([["工号"]], {}) + b"<!-- more -->",
    HEAD + b'[["a","&amp;"]]</rows><roles>{}</roles></kpiRows>',
    HEAD + b'[["a"]]</rows><x/><roles>{}</roles></kpiRows>',
    HEAD + b'[["a",NaN]]</rows><roles>{}</roles></kpiRows>',
    HEAD + b'[["a",Infinity]]</rows><roles>{}</roles></kpiRows>',
    HEAD + b'[["a",["nested"]]]</rows><roles>{}</roles></kpiRows>',
    HEAD + b'[["a",{"k":1}]]</rows><roles>{}</roles></kpiRows>',
    HEAD + b'{"rows":[]}</rows><roles>{}</roles></kpiRows>',
    HEAD + b'["a"]</rows><roles>{}</roles></kpiRows>',
    HEAD + b'[["a"]]</rows><roles>{"S1":1}</roles></kpiRows>',
    HEAD + b'[["a"]]</rows><roles>[]</roles></kpiRows>',
    HEAD + b'[["a"]</rows><roles>{}</roles></kpiRows>',
    HEAD + b"[" * 200_000 + b"]" * 200_000 + b"</rows><roles>{}</roles></kpiRows>",
    HEAD + b"[" + b"[1]," * 20 + b"[1]]</rows><roles>{}</roles></kpiRows>",  # 21 rows, more than allowed
    # numbers read_written never gives: not finite, a whole number as a float or past 2**53
    HEAD + b'[["a",1e400]]</rows><roles>{}</roles></kpiRows>',
    HEAD + b'[["a",-1e400]]</rows><roles>{}</roles></kpiRows>',
    HEAD + b'[["a",' + b"1" * 41 + b']]</rows><roles>{}</roles></kpiRows>',
    HEAD + b'[["a",9007199254740992]]</rows><roles>{}</roles></kpiRows>',
    HEAD + b'[["a",300.0]]</rows><roles>{}</roles></kpiRows>',
], ids=lambda d: d[-60:].decode("utf-8", "replace"))
def test_a_part_of_any_other_form_is_refused(data):
    assert report_rows.parse_part(data, 20) is None


def _hooked(data: bytes, max_rows: int):
    """parse_part as it was: every number checked by a hook of json.loads as it is parsed
    (the reference the bytes-first check must agree with)."""
    import math

    def number(text: str):
        if any(c in text for c in ".eE"):
            x = float(text)
            if not math.isfinite(x) or (x.is_integer() and abs(x) < 2**53):
                raise ValueError(text)
            return x
        if len(text) > 17 or abs(n := int(text)) >= 2**53:
            raise ValueError(text)
        return n
    head, tail = HEAD, b"</roles></kpiRows>"
    if not (data.startswith(head) and data.endswith(tail)):
        return None
    rows_text, roles_text = data[len(head):-len(tail)].split(b"</rows><roles>")
    try:
        rows = json.loads(rows_text, parse_float=number, parse_int=number)
        roles = json.loads(roles_text)
    except ValueError:
        return None
    if len(rows) > max_rows or any(type(v) not in (int, float, str, bool, type(None)) for r in rows for v in r):
        return None
    return rows, roles


@given(st.lists(st.lists(st.one_of(
    st.integers(-2**54, 2**54), st.floats(allow_nan=False), st.sampled_from([300.0, -0.0, 1e16, 1e400, 2.5]),
    st.text("0123456789.eE-", max_size=20), st.booleans(), st.none()), max_size=6), max_size=6))
def test_the_numbers_are_checked_as_each_one_was(rows):
    """Numbers written any way (and texts that look like them) are taken or refused as the
    hook checking each number refused them: the bytes-first check never takes one it refused."""
    text = json.dumps(rows, ensure_ascii=False, separators=(",", ":")).replace("Infinity", "1e400")
    data = HEAD + text.encode() + b"</rows><roles>{}</roles></kpiRows>"
    assert report_rows.parse_part(data, 20) == _hooked(data, 20)


@given(st.lists(st.from_regex(r"-?[1-9][0-9]{0,14}\.[0-9]{1,18}", fullmatch=True), min_size=1, max_size=6))
def test_decimals_written_by_hand_are_checked_as_each_one_was(numbers):
    """Decimals json.dumps never writes (long fractions, which a float may round to a whole
    number): taken or refused as the hook checking each number did (r31's finding)."""
    data = HEAD + ("[[" + ",".join(numbers) + "]]").encode() + b"</rows><roles>{}</roles></kpiRows>"
    assert report_rows.parse_part(data, 20) == _hooked(data, 20)


def test_a_decimal_that_rounds_to_a_whole_number_is_refused():
    for number in ("99999999.000000001", "904819.000000000000015", "766257297316986.04436803"):
        data = HEAD + f'[["E1",{number}]]'.encode() + b"</rows><roles>{}</roles></kpiRows>"
        assert report_rows.parse_part(data, 20) is None, number


def test_the_form_read_is_the_form_written():
    rows = [["工号", "金额", None], ["S1", 435, 1.5], ["<&>]]>", True, "\n"],
            ["S2", -5, 2**53 - 1, 1e17, 5e-324, 1.7976931348623157e308, -0.5, 1e16]]
    assert report_rows.parse_part(report_rows.compact_part(rows, {"S1": "cs"}), 20) == (rows, {"S1": "cs"})
    part = report_rows.compact_part(rows, {"S1": "<&>"})
    body = part[len(HEAD):]
    assert b"&" not in body and body.count(b"<") == 4  # </rows>, <roles>, </roles>, </kpiRows>: no other
    assert json.loads(part[len(HEAD):part.index(b"</rows>")]) == rows


def test_read_back_is_what_read_written_reads_of_the_cell_written():
    values = [*TRICKY, 0.1 + 0.2, -0.0, 1e16, 2**53 + 1, 10**17, float("nan"), float("inf"), -float("inf"),
              np.float64(2.5), np.int64(-3), np.float32(1.1), True, np.bool_(False), None, 5e-324, 1e-7,
              123456789012345.67, 12, -12, "0012", pd.Timestamp("2026-10-01")]
    for value in values:
        xml = f'<sheetData><row r="1">{sheet_rows.cell("A1", "", value)}</row></sheetData>'.encode()
        read = sheet_rows.read_written(xml)
        assert read is not None and read[0] == [sheet_rows.read_back(value)], repr(value)
        assert type(read[0][0]) is type(sheet_rows.read_back(value)), repr(value)


def test_a_copy_of_the_report_elsewhere_still_reads_its_part(tmp_path, cs_month):  # noqa: F811
    _, report, _ = cs_month
    copy = Path(shutil.copy(report, tmp_path / "copy.xlsx"))
    assert approval._compact_rows(copy) == report_rows.parse_part(the_part(report), MAX_ROWS)


def test_one_card_twice_in_the_part_is_scored_again_never_paid_twice(tmp_path, cs_month, capsys, monkeypatch):  # noqa: F811
    """A part (of a file the record names) holding S1 twice and S2 not at all has the month's
    row count but is not its rows: the books are scored again and each card paid once, as
    the engine computed it."""
    _, report, hist = cs_month

    def twice(data: bytes) -> bytes:
        rows, roles = report_rows.parse_part(data, MAX_ROWS)
        s1 = next(r for r in rows if r and r[0] == "S1")
        return report_rows.compact_part([s1 if r and r[0] == "S2" else r for r in rows], roles)

    rewrite_part(report, twice)
    monkeypatch.setattr(approval, "as_recorded", lambda report, computed: "taken as the recorded file")
    out = tmp_path / "p.csv"
    code, _, err = run(capsys, "payroll", report, "--out", out, "--history", hist, "--unapproved")
    assert code == 0, err
    paid = read_csv(out)[1]
    assert sorted((r["工号"], r["应发绩效合计"]) for r in paid) == [("S1", "435.00"), ("S2", "522.00")]
