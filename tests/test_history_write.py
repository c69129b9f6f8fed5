"""Writing the history's month sheets fast (issue 24): a column of plain texts or of numbers
is made by one comprehension, the rows joined column-wise, the part deflated as it is made.
The sheet XML must stay byte for byte what the writer gave value by value (the seal's
<sheetData> digest, chain.data_digest and every reader depend on it): here against that
writer, kept as the reference, over awkward values hypothesis draws."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xlsxwriter.utility import xl_col_to_name

from kpi_workbook.workbook.month import history as H
from kpi_workbook.workbook.month.chain import CHAIN, Signer, cell_text, data_digest, start
from kpi_workbook.workbook.xlsx.sheet_rows import cell

from .test_money_signoff import cs_month  # noqa: F401  (a fixture)

BOLD = ' s="1"'


def reference(signer: Signer, name: str, columns: list[str], frame: pd.DataFrame) -> tuple[bytes, str]:
    """The <sheetData> as the writer made it before (history._sheet_data of main at f6586ae),
    each value through _cell, sheet_rows.cell and chain.cell_text — without its memo of
    distinct values, which took -0.0 for an earlier 0.0 (written "0") and 0.0 for an earlier
    -0.0 ("-0"): here each value is written as itself. Returns (the XML, the last 链哈希)."""
    quote = json.encoder.encode_basestring
    data = frame.reindex(columns=columns)
    n = len(data)
    xml: list[list[str]] = []
    texts: list[list[str]] = []
    for c in columns:
        x_col, t_col = [], []
        for v in data[c].tolist():
            value = H._cell(c, v)
            if value is None:
                frag = ""
            elif isinstance(value, bool):
                frag = f' t="b"><v>{int(value)}</v></c>'
            else:
                frag = cell("", "", value)[len('<c r=""'):]
            x_col.append(frag)
            t_col.append(quote(cell_text(value)))
        xml.append(x_col)
        texts.append(t_col)
    letters = [xl_col_to_name(j) for j in range(len(columns) + 1)]
    previous = start(signer, name)
    out = ['<sheetData><row r="1">' + "".join(cell(f"{letters[j]}1", BOLD, c) for j, c in
                                              enumerate(columns + [CHAIN])) + "</row>"]
    refs = [f'<c r="{letter}' for letter in letters]
    for i, text, cells in zip(range(2, n + 2), zip(*(texts or [[""] * n])), zip(*(xml or [[""] * n]))):
        previous = signer.digest(previous + "\n[" + ",".join(text) + "]")
        row = str(i)
        out.append(f'<row r="{row}">' + "".join(refs[j] + row + '"' + x for j, x in enumerate(cells) if x)
                   + f'{refs[-1]}{row}" t="inlineStr"><is><t>{previous}</t></is></c></row>')
    out.append("</sheetData>")
    return "".join(out).encode("utf-8"), previous if n else ""


AWKWARD_TEXTS = ["", " ", " lead", "trail ", "a\nb", "\n", "\t", "x\ty", "a & b", "<b>", "]]>", 'say "hi"', "it's",
                 "=1+2", "=HYPERLINK(\"x\")", "+1", "-1", "@SUM(A1)", "品质部", "王\x00五", "bell\x07",
                 "\x1f", "\ufffe", "\uffff", "\u2028", "\u00a0nbsp", "nbsp\u00a0", "\U0001F600", "x" * 20_000,
                 "\U0001F600" * 20_000, "é" * 16_384, "a" * 16_383, "<" * 20_000, "True", "nan", "None", "-0"]
AWKWARD_NUMBERS = [0.0, -0.0, 1.5, -2.25, float("nan"), float("inf"), float("-inf"), 1e300, -1e300, 5e-324,
                   0.1 + 0.2, 123456789.123456789, 2.0 ** 53 + 1, 100.0, 1e16, 1e15, 0.005]
AWKWARD_OTHERS = [None, pd.NA, True, False, np.bool_(True), np.float64(-0.0), np.float64(2.5), np.int64(7),
                  np.float32(0.1), 0, 1, -3, 2 ** 53 + 1, pd.Timestamp("2026-10-01"), np.str_("np text")]

plain_text = st.text(st.characters(blacklist_categories=("Cs", "Zs", "Cc"), blacklist_characters="&<>"),
                     max_size=8) | st.sampled_from(["品质部", "A", "B", "已审批", "2026-12", "王 五", "a b  c"])
any_text = plain_text | st.sampled_from(AWKWARD_TEXTS) | st.text(max_size=12)
number = st.sampled_from(AWKWARD_NUMBERS) | st.floats(allow_nan=True, allow_infinity=True) | st.integers(-10**6, 10**6)


@st.composite
def column(draw, n: int) -> pd.Series:
    """A column of one kind as the history's frames hold it (plain texts, texts, floats,
    whole numbers, mixed values), in the dtypes pandas gives them."""
    kind = draw(st.sampled_from(["plain", "texts", "floats", "ints", "mixed", "string-dtype", "Int64"]))
    if kind == "plain":
        return pd.Series(draw(st.lists(plain_text, min_size=n, max_size=n)), dtype=object)
    if kind == "texts":
        return pd.Series(draw(st.lists(any_text, min_size=n, max_size=n)), dtype=object)
    if kind == "floats":
        return pd.Series(draw(st.lists(st.sampled_from(AWKWARD_NUMBERS) | st.floats(), min_size=n, max_size=n)),
                         dtype=np.float64)
    if kind == "ints":
        return pd.Series(draw(st.lists(st.integers(-10**9, 10**9), min_size=n, max_size=n)), dtype=object)
    if kind == "string-dtype":
        values = draw(st.lists(plain_text | st.none(), min_size=n, max_size=n))
        return pd.Series(values, dtype="string")
    if kind == "Int64":
        return pd.Series(draw(st.lists(st.integers(-1000, 1000) | st.none(), min_size=n, max_size=n)), dtype="Int64")
    values = draw(st.lists(any_text | number | st.sampled_from(AWKWARD_OTHERS), min_size=n, max_size=n))
    return pd.Series(values, dtype=object)


@st.composite
def frames(draw) -> tuple[str, list[str], pd.DataFrame]:
    family = draw(st.sampled_from([(H.SHEET, H.COLUMNS), (H.VERSIONS, H.VERSION_COLUMNS)]))
    n = draw(st.integers(0, 12))
    columns = family[1]
    frame = pd.DataFrame({c: draw(column(n)) for c in columns})
    if draw(st.booleans()) and n:  # a column left out: empty cells
        frame = frame.drop(columns=[draw(st.sampled_from(columns))])
    return f"{family[0]} 2026-12", columns, frame


def made(tmp_path: Path, signer: Signer, name: str, columns: list[str], frame: pd.DataFrame) -> tuple[bytes, int, str]:
    count, last, chunks = H._sheet_xml(signer, name, columns, frame, BOLD)
    return b"".join(chunks), count, last


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
          deadline=None)
@given(case=frames(), keyed=st.booleans())
def test_the_month_sheet_is_byte_for_byte_what_the_value_by_value_writer_gave(tmp_path, case, keyed):
    name, columns, frame = case
    signer = Signer(b"k" * 32) if keyed else Signer()
    expected, last = reference(signer, name, columns, frame)
    xml, count, tail = made(tmp_path, signer, name, columns, frame)
    assert xml == expected
    assert (count, tail) == (len(frame), last)


def test_awkward_values_of_every_kind_in_one_sheet(tmp_path):
    """Every awkward value in every column (a column of one kind each, and all mixed), over
    more rows than a chunk holds, as _sheet_data and _month_part write them."""
    values = AWKWARD_TEXTS + AWKWARD_NUMBERS + AWKWARD_OTHERS
    n = H.ROWS_A_CHUNK + 7
    columns = H.VERSION_COLUMNS
    frame = pd.DataFrame({c: [values[(i * 7 + j) % len(values)] for i in range(n)] for j, c in enumerate(columns)})
    frame["总分"] = [AWKWARD_NUMBERS[i % len(AWKWARD_NUMBERS)] for i in range(n)]  # floats only
    frame["工号"] = [f"E{i:06d}" for i in range(n)]  # plain texts only
    frame["版本"] = [i % 3 + 1 for i in range(n)]  # whole numbers only
    frame["姓名"] = [AWKWARD_TEXTS[i % len(AWKWARD_TEXTS)] for i in range(n)]  # texts only, awkward
    for signer in (Signer(), Signer(b"s" * 32)):
        expected, last = reference(signer, "审批版本 2026-12", columns, frame)
        assert made(tmp_path, signer, "审批版本 2026-12", columns, frame) == (expected, n, last)
        digest, count, tail = H._sheet_data(tmp_path / "cells.xml", signer, "审批版本 2026-12", columns, frame, BOLD)
        assert (tmp_path / "cells.xml").read_bytes() == expected
        assert (digest, count, tail) == (hashlib.sha256(expected).hexdigest(), n, last)


def test_a_column_of_plain_texts_or_of_numbers_is_not_made_value_by_value(monkeypatch):
    seen: list[str] = []
    real = H._cells_one_by_one

    def spy(column, values):
        seen.append(column)
        return real(column, values)

    monkeypatch.setattr(H, "_cells_one_by_one", spy)
    n = 50
    frame = pd.DataFrame({"工号": [f"E{i}" for i in range(n)], "姓名": ["王五"] * n, "版本": [1] * n,
                          "总分": [float(i) / 3 for i in range(n)], "应发绩效合计": [float("nan")] * n,
                          "等级": ["A", " B"] * (n // 2), "部门最低": [True] * n})
    H._sheet_xml(Signer(), "历史 2026-12", list(frame.columns), frame, BOLD)
    # a text with a space at its edge, and 部门最低 (written as TRUE/FALSE) go value by value
    assert seen == ["等级", "部门最低"]


@pytest.mark.parametrize("n", [3, 40_000])  # deflated at level 6, and (over BIG_PART of cells) fastest
def test_the_month_part_deflated_as_it_is_made_holds_what_its_digests_say(tmp_path, n):
    frame = pd.DataFrame({"月份": ["2026-12"] * n, "版本": [1] * n, "工号": [f"E{i:06d}" for i in range(n)],
                          "姓名": [f"员工{i}" for i in range(n)], "部门": ["品质部", "客服部"] * (n // 2) + ["品质部"] * (n % 2),
                          "总分": [i % 120 + 0.5 for i in range(n)], "等级": ["A"] * n, "状态": ["完成"] * n,
                          "应发绩效合计": [i * 1.25 for i in range(n)],
                          "金额明细": [json.dumps({"绩效工资": i * 1.25}, ensure_ascii=False) for i in range(n)],
                          "行哈希": [hashlib.sha256(str(i).encode()).hexdigest() for i in range(n)]})
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    signer = Signer()
    target, offset, part = H._month_part(scratch, signer, "审批版本 2026-12", H.VERSION_COLUMNS, frame, BOLD, False)
    stored = target.read_bytes()
    xml = zlib.decompress(stored, -15)
    expected, last = reference(signer, "审批版本 2026-12", H.VERSION_COLUMNS, frame)
    assert xml.count(expected) == 1 and data_digest(xml) == part.data == hashlib.sha256(expected).hexdigest()
    assert (offset, part.count, part.tail) == (0, n, last)
    assert (part.crc, part.size, part.compressed) == (zlib.crc32(xml), len(xml), len(stored))
    assert part.raw == hashlib.sha256(stored + H._sizes(part.crc, part.size, part.compressed)).hexdigest()
    assert xml.startswith(b'<?xml version="1.0"') and xml.endswith(b"</worksheet>")
    assert f'<dimension ref="A1:O{n + 1}"/>'.encode() in xml
    # and a zip of it reads back: the member copied as stored, its CRC and sizes the part's
    with zipfile.ZipFile(tmp_path / "z.zip", "w") as z:
        H._put_member(z, "sheet.xml", target, 0, part)
    with zipfile.ZipFile(tmp_path / "z.zip") as z:
        assert z.read("sheet.xml") == xml


# --- the report stamped without deflating again what does not change ----------------------

def stamp_reference(report: Path, record, printed) -> None:
    """stamp_report as it was (main at f6586ae): every part read whole, the changed ones
    changed, all of them deflated again."""
    import re

    from xml.sax.saxutils import escape

    from kpi_workbook.workbook.month import report_writer as R
    from kpi_workbook.workbook.month.verify import SOURCES, record_rows
    from kpi_workbook.workbook.xlsx import sheet_rows
    from kpi_workbook.workbook.xlsx.package import Book
    from kpi_workbook.workbook.xlsx.printing import FONT, _escape

    stamp = R._stamp_text(record)
    day = printed.isoformat()
    foot = escape(f'&L&"{FONT},Regular"&11 {_escape(stamp)}')

    def title(m: re.Match) -> str:
        text = m.group(2) if m.group(2).endswith(R.APPROVED_MARK) else m.group(2) + R.APPROVED_MARK
        return f"{m.group(1)}{text}{m.group(3)}{day}{m.group(5)}"

    with Book.open(report) as book:
        parts = {info.filename: book.read(info.filename) for info in book.zip.infolist()}
        sheets = dict(book.parts)
    for name, part in sheets.items():
        if part not in parts:
            continue
        if name != SOURCES:
            data = parts[part]
            cut = max(data.rfind(b"</sheetData>"), 0)
            xml = data[cut:].decode("utf-8")
            after = R._FOOTER.sub(lambda m: f"<oddFooter>{foot}&amp;R{m.group(1)}</oddFooter>",
                                  R._TITLE.sub(title, xml, 1), 1)
            if after != xml:
                parts[part] = data[:cut] + after.encode("utf-8")
            continue
        rows = "".join(
            f'<row r="{i}">' + "".join(sheet_rows.cell(f"{sheet_rows.xl_col_to_name(j)}{i}", "", str(v))
                                       for j, v in enumerate(row)) + "</row>"
            for i, row in enumerate(record_rows(record), start=1))
        parts[part] = R._SHEET_DATA.sub(lambda _: f"<sheetData>{rows}</sheetData>", parts[part].decode("utf-8"),
                                        count=1).encode("utf-8")
    with zipfile.ZipFile(report, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for filename, data in parts.items():
            out.writestr(filename, data)


def stored(path: Path) -> dict[str, tuple[bytes, bytes]]:
    """Part → (its bytes, its bytes as stored), in the package's order."""
    with zipfile.ZipFile(path) as z, open(path, "rb") as f:
        out = {}
        for info in z.infolist():
            f.seek(H._member_start(f, info))
            out[info.filename] = (z.read(info), f.read(info.compress_size))
        return out


def test_the_stamped_report_is_part_for_part_what_stamping_gave_and_copies_what_it_does_not_change(
        tmp_path, cs_month, capsys):  # noqa: F811
    from kpi_workbook.workbook.month import report_writer as R
    from kpi_workbook.workbook.month.verify import Stamp, read_record

    _, report, _ = cs_month
    record = read_record(report)
    record = type(record)(record.month, record.books, "示例公司 & <甲>", Stamp("王经理", "2026-12-07T10:00:00+00:00", 2,
                                                                           "ab" * 32))
    day = dt.date(2026, 12, 7)
    old, new = shutil.copy(report, tmp_path / "old.xlsx"), shutil.copy(report, tmp_path / "new.xlsx")
    stamp_reference(Path(old), record, day)
    seen: list[Path] = []
    R.stamp_report(Path(new), record, day, before=lambda path: seen.append(stored(path)))
    assert seen and seen[0] == stored(Path(new))  # before() saw the file the report became
    was, then, now = stored(report), stored(Path(old)), stored(Path(new))
    assert list(now) == list(then) == list(was)
    assert {p: d for p, (d, _) in now.items()} == {p: d for p, (d, _) in then.items()}
    changed = [p for p in was if was[p][0] != now[p][0]]
    assert changed and all(p.startswith("xl/worksheets/") for p in changed)
    # what did not change is copied as stored: not one part deflated again
    assert all(now[p][1] == was[p][1] for p in was if p not in changed)
    # and stamped again (another approval): the same as stamping the stamped report before
    record2 = type(record)(record.month, record.books, record.company, Stamp("李四", "2026-12-08T09:00:00+00:00", 3,
                                                                            "cd" * 32))
    stamp_reference(Path(old), record2, day)
    R.stamp_report(Path(new), record2, day)
    assert {p: d for p, (d, _) in stored(Path(new)).items()} == {p: d for p, (d, _) in stored(Path(old)).items()}


def test_without_isal_the_month_part_and_the_stamp_deflate_through_zlib(tmp_path, cs_month, monkeypatch):  # noqa: F811
    """isal is optional where the package runs without it (xlwings Lite): zlib writes the
    same parts."""
    from kpi_workbook.workbook.month import report_writer as R
    from kpi_workbook.workbook.month.verify import Stamp, read_record
    from kpi_workbook.workbook.xlsx import package

    monkeypatch.setattr(package, "_zlib", zlib)
    monkeypatch.setattr(H, "BIG_PART", 0)  # every month part deflated as a big one
    n = 50
    frame = pd.DataFrame({"月份": ["2026-12"] * n, "工号": [f"E{i}" for i in range(n)], "总分": [i / 7 for i in range(n)]})
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    target, _, part = H._month_part(scratch, Signer(), "历史 2026-12", H.COLUMNS, frame, BOLD, True)
    xml = zlib.decompress(target.read_bytes(), -15)
    assert data_digest(xml) == part.data and (part.crc, part.size) == (zlib.crc32(xml), len(xml))
    level1 = zlib.compressobj(1, zlib.DEFLATED, -15)
    assert target.read_bytes() == level1.compress(xml) + level1.flush()  # zlib's own bytes
    _, report, _ = cs_month
    record = read_record(report)
    record = type(record)(record.month, record.books, "", Stamp("王经理", "2026-12-07T10:00:00+00:00", 1, "ab" * 32))
    copy = Path(shutil.copy(report, tmp_path / "z.xlsx"))
    R.stamp_report(report, record, dt.date(2026, 12, 7))
    stamp_reference(copy, record, dt.date(2026, 12, 7))
    assert {p: d for p, (d, _) in stored(report).items()} == {p: d for p, (d, _) in stored(copy).items()}
