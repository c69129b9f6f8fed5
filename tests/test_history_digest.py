"""Issue 24: the history is not hashed row by row on every read when its sheets are byte for
byte what the program wrote and sealed (校验's 数据摘要 rows, signed by 摘要封印); any other
sheet is, and `kpi-workbook history` always hashes every row."""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from kpi_workbook.workbook.month import chain
from kpi_workbook.workbook.month.history import read_history_book

from .helpers import run
from .test_money_signoff import cs_month  # noqa: F401  (a fixture)


@pytest.fixture
def approved(cs_month, capsys):  # noqa: F811
    _, report, hist = cs_month
    assert run(capsys, "approve", report, "--history", hist, "--by", "王经理")[0] == 0
    return hist


def count_links(monkeypatch) -> list[int]:
    calls = [0]
    real = chain.link

    def counted(*args):
        calls[0] += 1
        return real(*args)
    monkeypatch.setattr(chain, "link", counted)
    return calls


def rows_of(path: Path) -> int:
    wb = openpyxl.load_workbook(path)
    return sum(wb[s].max_row - 1 for s in wb.sheetnames if s.split(" ")[0] in ("历史", "审批", "审批版本", "审计", "计算记录"))


def part_of(path: Path, sheet: str) -> str:
    """The zip member of ``sheet``: workbook.xml names it, its relationships say where."""
    with zipfile.ZipFile(path) as z:
        names = dict(re.findall(r'<sheet name="([^"]+)" sheetId="\d+"(?: state="\w+")? r:id="(rId\d+)"',
                                z.read("xl/workbook.xml").decode()))
        rels = {}
        for rel in re.findall(r"<Relationship [^>]*/>", z.read("xl/_rels/workbook.xml.rels").decode()):
            rels[re.search(r'Id="([^"]+)"', rel).group(1)] = re.search(r'Target="([^"]+)"', rel).group(1)
    return "xl/" + rels[names[sheet]].lstrip("/").removeprefix("xl/")


def rewrite(path: Path, member: str, change) -> None:
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    parts[member] = change(parts[member])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def test_a_history_as_written_is_read_without_hashing_its_rows_again(approved, monkeypatch, capsys):
    calls = count_links(monkeypatch)
    book = read_history_book(approved)
    assert calls[0] == 0 and len(book.rows) == 2 and len(book.versions) == 2
    read_history_book(approved, full=True)  # kpi-workbook history: every row
    assert calls[0] == rows_of(approved) > 0
    calls[0] = 0
    assert run(capsys, "history", approved)[0] == 0 and calls[0] == rows_of(approved)


def test_the_seal_lists_each_sheets_data_digest_as_stored(approved):
    wb = openpyxl.load_workbook(approved)
    listed = {r[1]: r[2] for r in wb["校验"].iter_rows(values_only=True) if r[0] == "数据摘要"}
    assert set(listed) == {"历史 2026-10", "审批", "审批版本 2026-10", "计算记录"}
    with zipfile.ZipFile(approved) as z:
        xml = z.read(part_of(approved, "历史 2026-10"))
    data = xml[xml.index(b"<sheetData"):xml.rindex(b"</sheetData>") + len(b"</sheetData>")]
    assert listed["历史 2026-10"] == hashlib.sha256(data).hexdigest()  # the documented form, independently


def test_bytes_edited_in_the_file_are_hashed_row_by_row_and_refused(approved, capsys):
    """An amount changed in the sheet's XML (no spreadsheet program: the rest of the bytes
    stay), with and without its data digest recomputed: either way the row is named."""
    part = part_of(approved, "历史 2026-10")
    rewrite(approved, part, lambda b: b.replace(b"<v>435</v>", b"<v>935</v>", 1))
    code, _, err = run(capsys, "payroll", approved.parent / "r.xlsx", "--out", approved.parent / "p.csv",
                       "--history", approved)
    assert code == 1 and "历史 2026-10第 2 行" in err, err
    with zipfile.ZipFile(approved) as z:
        xml = z.read(part)
    data = xml[xml.index(b"<sheetData"):xml.rindex(b"</sheetData>") + len(b"</sheetData>")]
    digest = hashlib.sha256(data).hexdigest().encode()
    seal = part_of(approved, "校验")
    old = openpyxl.load_workbook(approved)["校验"]
    before = next(r[2] for r in old.iter_rows(values_only=True) if r[0] == "数据摘要" and r[1] == "历史 2026-10")
    rewrite(approved, seal, lambda b: b.replace(before.encode(), digest))  # the digest made to match
    code, _, err = run(capsys, "approve", approved.parent / "r.xlsx", "--history", approved, "--by", "王经理")
    assert code == 1 and "历史 2026-10第 2 行" in err, err


def test_the_one_pass_reader_reads_what_the_package_reader_reads(tmp_path):
    """A history with awkward cells (entities, edge spaces, a control character, an empty
    text, booleans, whole and fractional numbers, a long text), each sheet read both ways."""
    import pandas as pd

    from kpi_workbook.workbook.month.history import COLUMNS, HistoryBook, write_history
    from kpi_workbook.workbook.scorecard.reader import sheet_values
    from kpi_workbook.workbook.xlsx.sheet_rows import read_written

    names = ["A&B <x> \"q\"", " 前后空格 ", "控制\x01字符", "", "=1+1", "长" * 20_000, "普通"]
    rows = pd.DataFrame([{"工号": f"E{k}", "姓名": name, "部门": "品质部", "岗位ID": "qc_inspector",
                          "月份": "2026-10", "总分": [87, 87.25, 0.1 + 0.2, -0.0, 1e15, 3, 99.5][k],
                          "等级": "A", "状态": "已完成", "部门最低": k % 2 == 0,
                          "应发绩效合计": None if k == 3 else 400.0 + k / 100}
                         for k, name in enumerate(names)], columns=COLUMNS)
    path = tmp_path / "h.xlsx"
    write_history(path, HistoryBook(rows))
    with zipfile.ZipFile(path) as z:
        fast = read_written(z.read(part_of(path, "历史 2026-10")))
    assert fast is not None and fast == sheet_values(path, "历史 2026-10")
    assert fast[1][1] == names[0] and fast[3][1] == "控制字符" and fast[1][8] is True
    book = read_history_book(path)
    assert book.rows["姓名"].tolist() == [r[1] for r in sheet_values(path, "历史 2026-10")[1:]]
    openpyxl.load_workbook(path).save(path)  # saved by another program: shared strings
    with zipfile.ZipFile(path) as z:
        assert read_written(z.read("xl/worksheets/sheet1.xml")) is None  # left to the package reader


@pytest.mark.parametrize("data", [
    '<row r="1"><c r="A1" t="inlineStr"><is><t>4&#51;5</t></is></c></row>',  # another entity
    '<row r="1"><!-- --><c r="A1"><v>1</v></c></row>',  # a comment
    '<row r="1"><c r="A1"><v>1</v></c><c r="A1"><v>2</v></c></row>',  # a cell twice
    '<row r="1"><x:c r="A1"><v>1</v></x:c></row>',  # a cell of a prefixed name
    '<row r="1"><c r="A1"><f>1+1</f><v>2</v></c></row>',  # a formula
    '<row r="1"><c r="A1" t="inlineStr"><is><r><t>a</t></r></is></c></row>',  # rich text
    '<row r="3000000"><c r="A3000000"><v>1</v></c></row>',  # past the row limit
])
def test_the_one_pass_reader_leaves_every_other_form_to_the_package_reader(data):
    from kpi_workbook.workbook.xlsx.sheet_rows import read_written

    part = f"<worksheet><sheetData>{data}</sheetData></worksheet>".encode()
    assert read_written(part) is None
    ok = b'<worksheet><sheetData><row r="2"><c r="B2" t="inlineStr"><is><t>a&amp;b</t></is></c></row></sheetData></worksheet>'
    assert read_written(ok) == [[None, None], [None, "a&b"]]
