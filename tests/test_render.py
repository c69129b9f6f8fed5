"""Looked at, not just generated: every kind of page HR prints — the scorecards, the monthly
report, the payroll, the roll-up, the result notices and the master workbook — printed to PDF
by LibreOffice and checked as a Chinese HR manager would look at them:

* page counts (one page wide; the report's summary on two pages; each card and each notice
  on the pages it says it has; no page of an internal sheet);
* text at 9 pt or more on every page (font sizes read from the PDF with pdftohtml);
* no two words on top of each other (word boxes from pdftotext -bbox);
* none of the internal words on paper: role ids (qc_iqc), grade scheme ids (grade_a_e),
  diagnostic codes (bad-value), English furniture ("error", "printed", "page", "Settings"),
  seed references ("S7"), defined names (KPI_TOTAL) or English sentences.

The pages are made once, in the session's background (tests/background.py): three months
of the 47-person sample with a history, the first two approved; the report, payroll, roll-up
and notices of them; one filled card of every role; the master workbook; all printed by one
LibreOffice run. With ``KPI_UPDATE_DOCS=1`` the pages shown in the README are written to
docs/ as PNG (pdftoppm).
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from kpi_workbook.cli import main
from kpi_workbook.rules.loader import builtin_catalog
from kpi_workbook.sample import sample_inputs
from kpi_workbook.workbook.libreoffice import find_soffice, recalculate
from kpi_workbook.workbook.scorecard.build import build_workbook
from kpi_workbook.workbook.scorecard.fill import fill_workbooks
from kpi_workbook.workbook.scorecard.roster import read_roster

from . import background
from .lo_fixtures import soffice  # noqa: F401

MONTHS = ("2026-08", "2026-09", "2026-10")
COMPANY = "示例电子有限公司"
APPROVER = "人事 王经理"
TYPED_OVER = "E010"  # a total typed over by hand in the last month: its card is 错误
DOCS = Path(__file__).resolve().parent.parent / "docs"
ID = re.compile(r"\bE0\d\d\b")
MIN_PT = 8.95  # 9 pt, less what pdftohtml's whole-unit heights lose


# ---------------------------------------------------------------------------------------
# The pages, made in the background.


def to_pdf(soffice_path: str, books: list[Path], outdir: Path) -> list[Path]:
    """``books`` printed by one LibreOffice run into ``outdir`` (a throw-away profile)."""
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([soffice_path, "--headless", f"-env:UserInstallation=file://{profile}",
                        "--convert-to", "pdf", "--outdir", str(outdir), *map(str, books)],
                       check=True, capture_output=True, timeout=900)
    pdfs = [outdir / f"{b.stem}.pdf" for b in books]
    assert all(p.exists() for p in pdfs), f"LibreOffice wrote no PDF for some of {books}"
    return pdfs


def _type_over_total(book: Path, employee_id: str) -> None:
    """What a supervisor sometimes does: type a number over the total's formula."""
    wb = openpyxl.load_workbook(book)
    for ws in wb.worksheets:
        names = {n: list(d.destinations)[0][1].replace("$", "") for n, d in ws.defined_names.items()}
        if "KPI_EMPLOYEE_ID" in names and ws[names["KPI_EMPLOYEE_ID"]].value == employee_id:
            ws[names["KPI_TOTAL"]] = 99.5
    wb.save(book)


@background.job("render", slow=True)
def _pages(folder: Path) -> dict:
    catalog = builtin_catalog()
    roster = read_roster(catalog)
    history = folder / "历史.xlsx"
    reports = {}
    for month in MONTHS:
        book = folder / f"{month}考核表.xlsx"
        build_workbook(catalog, roster, month, book)
        last = month == MONTHS[-1]
        inputs = sample_inputs(catalog, roster, month, weak={"E006", "E023"},
                               incomplete={"E003", "E017"} if last else set())
        fill_workbooks(catalog, [book], list(inputs.itertuples(index=False, name=None)))
        if last:
            _type_over_total(book, TYPED_OVER)
        reports[month] = folder / f"{month}月度报表.xlsx"
        assert main(["report", str(book), "--out", str(reports[month]), "--history", str(history),
                     "--company", COMPANY]) in (0, 1)
        if not last:
            assert main(["approve", str(reports[month]), "--history", str(history), "--by", APPROVER]) == 0
    payroll = folder / "工资表.xlsx"  # an approved month: its 审批 column says who and when
    assert main(["payroll", str(reports[MONTHS[1]]), "--out", str(payroll), "--history", str(history),
                 "--allow-incomplete", "--company", COMPANY]) == 0
    rollup = folder / "年度汇总.xlsx"
    assert main(["rollup", "--history", str(history), "--year", "2026", "--out", str(rollup),
                 "--company", COMPANY]) == 1  # the last month is not approved yet: said, and written
    notices = folder / "绩效结果通知书.xlsx"  # printed by the command itself (LibreOffice)
    assert main(["notices", str(reports[MONTHS[-1]]), "--history", str(history), "--out", str(notices),
                 "--company", COMPANY]) == 0  # 错误, 未完成 and 不参与 get no notice: not an error
    master = folder / "绩效管理.xlsx"
    assert main(["master", "--out", str(master), "--month", MONTHS[-1], "--roster",
                 str(Path(__file__).resolve().parent.parent / "kpi_workbook" / "data" / "sample_roster.csv")]) == 0
    one_each = pd.concat([roster[roster["role"] == r].head(1) for r in dict.fromkeys(roster["role"])],
                         ignore_index=True)
    cards = folder / "cards" / "考核表.xlsx"
    cards.parent.mkdir()
    build_workbook(catalog, one_each, MONTHS[-1], cards)
    fill_workbooks(catalog, [cards], list(sample_inputs(catalog, one_each, MONTHS[-1])
                                          .itertuples(index=False, name=None)))
    (cards,) = recalculate([cards], folder / "recalculated")  # the cards as a spreadsheet shows them
    soffice_path = find_soffice()
    assert soffice_path, "LibreOffice (soffice) is not installed: run `bash .ci/test`"
    books = {"report": reports[MONTHS[-1]], "payroll": payroll, "rollup": rollup, "master": master,
             "cards": cards}
    pdfs = dict(zip(books, to_pdf(soffice_path, list(books.values()), folder / "pdf")))
    pdfs["notices"] = notices.with_suffix(".pdf")
    return {"folder": folder, "reports": reports, "history": history, "roster": roster, "pdf": pdfs,
            "books": {**books, "notices": notices}, "roles": list(one_each["role"]),
            "cards_roster": one_each}


@pytest.fixture(scope="module")
def made(tmp_path_factory, soffice):  # noqa: F811
    return background.result("render", tmp_path_factory)


@pytest.fixture(scope="module")
def poppler():
    if not (shutil.which("pdftotext") and shutil.which("pdftoppm") and shutil.which("pdftohtml")):
        pytest.fail("pdftotext/pdftoppm/pdftohtml (poppler-utils) are required: bash .ci/test installs them",
                    pytrace=False)  # fails, never skips


@pytest.fixture(scope="module")
def calibri_metrics():
    """Carlito (or Calibri): the metrics of XlsxWriter's default font, by which Excel sizes
    columns; without it LibreOffice makes every column about a third wider."""
    listed = subprocess.run(["fc-list"], capture_output=True, timeout=60).stdout.decode("utf-8", "replace")
    if not re.search(r"carlito|calibri", listed, re.I):
        pytest.fail("the Carlito font is not installed (bash .ci/test installs "
                    "fonts-crosextra-carlito)", pytrace=False)  # fails, never skips


# ---------------------------------------------------------------------------------------
# Reading a PDF: text per page, font sizes, word boxes.


def pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          timeout=120).stdout.decode("utf-8")
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def of_sheet(texts: list[str], sheet: str) -> list[int]:
    """Page numbers (1-based) whose page header names ``sheet``."""
    return [i for i, t in enumerate(texts, start=1) if re.search(rf"· *{sheet}", t[:400])]


def font_sizes(pdf: Path) -> list[tuple[int, float, str]]:
    """(page, size in points, text) of every piece of text: pdftohtml at zoom 4 gives each
    text's height as 3.9 units per point of font size (calibrated on LibreOffice's PDFs)."""
    xml = subprocess.run(["pdftohtml", "-xml", "-stdout", "-i", "-zoom", "4", str(pdf)],
                         check=True, capture_output=True, timeout=300).stdout.decode("utf-8", "replace")
    out, page = [], 0
    for line in xml.splitlines():
        if m := re.match(r'<page number="(\d+)"', line):
            page = int(m.group(1))
        elif m := re.match(r'<text top="-?\d+" left="-?\d+" width="\d+" height="(\d+)" font="\d+">(.*)</text>', line):
            text = re.sub(r"<[^>]+>", "", m.group(2)).strip()
            if text:
                out.append((page, int(m.group(1)) / 3.9, text))
    return out


def word_boxes(pdf: Path) -> list[tuple[int, float, float, float, float, str]]:
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True,
                         timeout=300).stdout.decode("utf-8", "replace")
    out, page = [], 0
    for line in xml.splitlines():
        if "<page " in line:
            page += 1
        elif m := re.search(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*)</word>', line):
            out.append((page, *map(float, m.groups()[:4]), m.group(5)))
    return out


def overlapping(pdf: Path) -> list[tuple[int, str, str]]:
    """Pairs of words on a page whose boxes cover each other by more than a third of the
    smaller one: text written over text (a row too low for its wrapped lines)."""
    found = []
    for page, words in itertools.groupby(word_boxes(pdf), key=lambda w: w[0]):
        words = sorted(words, key=lambda w: w[2])
        for i, a in enumerate(words):
            for b in words[i + 1:]:
                if b[2] >= a[4]:
                    break
                dx, dy = min(a[3], b[3]) - max(a[1], b[1]), min(a[4], b[4]) - max(a[2], b[2])
                smaller = min((a[3] - a[1]) * (a[4] - a[2]), (b[3] - b[1]) * (b[4] - b[2]))
                if dx > 0.5 and dy > 0.5 and dx * dy > smaller / 3:
                    found.append((page, a[5], b[5]))
    return found


def internal_words(text: str) -> list[str]:
    """What must never be on paper: ids, codes, English furniture and sentences."""
    catalog = builtin_catalog()
    ids = sorted(set(catalog.roles) | set(catalog.grade_schemes), key=len, reverse=True)
    patterns = [r"(?<![A-Za-z0-9_])(?:" + "|".join(map(re.escape, ids)) + r")(?![A-Za-z0-9_])",
                r"\b[a-z]+(?:-[a-z]+)+\b",  # diagnostic codes: bad-value, formula-changed
                r"\b[A-Za-z]+_[A-Za-z0-9_]+\b",  # ids and defined names: qc_iqc, KPI_TOTAL
                r"\b(?:error|warning|info|printed|page|settings|notes)\b",
                r"\bS\d{1,2}\b",  # seed references
                r"\b(?!(?:xlsx|csv|pdf)\b)[a-z]{3,}\b", r"\b[A-Z][a-z]{2,}\b"]  # English words
    return sorted({m.group(0) for p in patterns for m in re.finditer(p, text, re.I if "error" in p else 0)})


def save_png(pdf: Path, page: int, name: str, dpi: int = 80) -> None:
    """With KPI_UPDATE_DOCS=1: page ``page`` of ``pdf`` as docs/<name>.png (for the README)."""
    if os.environ.get("KPI_UPDATE_DOCS", "") != "1":
        return
    stem = pdf.parent / f"{name}-render"
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile",
                    str(pdf), str(stem)], check=True, timeout=120)
    shutil.copy(f"{stem}.png", DOCS / f"{name}.png")


def test_the_checks_can_fail(tmp_path, soffice, poppler):  # noqa: F811
    """Each check finds what it looks for: small text, text written over text, an id."""
    import xlsxwriter

    book = tmp_path / "bad.xlsx"
    wb = xlsxwriter.Workbook(str(book))
    ws = wb.add_worksheet("表")
    ws.write(0, 0, "七磅字 qc_iqc grade_a_e bad-value printed S7", wb.add_format({"font_size": 7}))
    ws.write(2, 0, "上面一行写满了很长很长的中文", wb.add_format({"text_wrap": True}))
    ws.set_column(0, 0, 8)
    ws.set_row(2, 12)  # three wrapped lines in a row of one: they run over each other
    wb.close()
    (pdf,) = to_pdf(soffice, [book], tmp_path)
    assert any(size < MIN_PT for _, size, _ in font_sizes(pdf))
    assert overlapping(pdf)
    found = internal_words("".join(pages(pdf)))
    assert {"qc_iqc", "grade_a_e", "bad-value", "printed", "S7"} <= set(found)


# ---------------------------------------------------------------------------------------
# Every kind of page: readable, nothing internal.

KINDS = ["report", "payroll", "rollup", "notices", "master", "cards"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_page_is_at_least_9_pt(made, poppler, calibri_metrics, kind):
    small = [(p, round(s, 1), t) for p, s, t in font_sizes(made["pdf"][kind]) if s < MIN_PT]
    assert not small, small[:10]


@pytest.mark.parametrize("kind", KINDS)
def test_no_text_is_written_over_text(made, poppler, kind):
    assert overlapping(made["pdf"][kind]) == []


@pytest.mark.parametrize("kind", KINDS)
def test_nothing_internal_is_on_paper(made, poppler, kind):
    texts = pages(made["pdf"][kind])
    assert texts and internal_words("\n".join(texts)) == []


# ---------------------------------------------------------------------------------------
# Each kind of page: what it must hold, on how many pages.


def test_report_pages(made, poppler, catalog):
    pdf = made["pdf"]["report"]
    texts = pages(pdf)
    summary = of_sheet(texts, "月度汇总")
    assert 1 <= len(summary) <= 2, summary  # 47 people on at most two pages
    ids = set().union(*(ID.findall(texts[p - 1]) for p in summary))
    assert ids == set(made["roster"]["employee_id"])
    assert COMPANY in texts[0] and "2026-10 月度绩效汇总" in texts[0] and "打印日期" in texts[0]
    assert re.search(r"第 1 页，共 \d+ 页", texts[0])
    last = flat(texts[summary[-1] - 1])
    assert "合计" in last and "共47人" in last and all(w in last for w in ("制表：", "审核：", "批准："))
    lines = {ID.search(line).group(0): line for p in summary for line in texts[p - 1].splitlines()
             if ID.search(line)}
    assert "错误" in lines[TYPED_OVER]  # its status, and its reason beside it (wrapped in 预警)
    assert "错误：J13" in flat("".join(texts[p - 1] for p in summary)) and "公式被改动" in flat(
        "".join(texts[p - 1] for p in summary))
    absent = lines["E013"]  # 缺岗 3 months (S9): 不参与, no total on paper
    assert "不参与" in absent and "—" in absent and not re.search(r"\b\d+\.\d\b", absent)
    # 部门统计: one page per grade scheme in use, each with its whole chart and a 合计 row
    schemes = list(dict.fromkeys(catalog.roles[r].grade_scheme for r in made["roster"]["role"]))
    stats = of_sheet(texts, "部门统计")
    assert len(stats) == len(schemes)
    for page, scheme_id in zip(stats, schemes):
        text = texts[page - 1]
        label = catalog.grade_schemes[scheme_id].label
        assert text.count("各部门等级分布") == 1 and "人数" in text and "合计" in text, page
        assert f"等级方案：{label}".replace(" ", "") in flat(text)
        grades = catalog.grade_schemes[scheme_id].grades()
        others = {g for s in schemes if s != scheme_id for g in catalog.grade_schemes[s].grades()} - set(grades)
        assert not any(re.search(rf"(?<![\w]){re.escape(g)}(?![\w])", text) for g in others if len(g) > 1)
    calibration = of_sheet(texts, "校准")
    assert calibration and "A–E五级" in flat(texts[calibration[-1] - 1])  # the scheme's label, not its id
    assert of_sheet(texts, "未完成") and of_sheet(texts, "问题")  # this month has both
    assert "scorecards" not in "".join(texts) and "/tmp" not in "".join(texts)  # file names only
    save_png(pdf, summary[-1], "report-summary")
    save_png(pdf, stats[0], "report-stats")
    save_png(pdf, calibration[0], "report-calibration")


def test_report_summary_rows_are_at_least_9_pt(made, poppler, calibri_metrics):
    # rows are 15 pt at 100 %: a 10 pt font stays ≥ 9 pt while one-line rows are ≥ 13.5 pt apart
    pdf = made["pdf"]["report"]
    page = of_sheet(pages(pdf), "月度汇总")[0]
    tops = sorted(y0 for p, x0, y0, x1, y1, w in word_boxes(pdf) if p == page and ID.fullmatch(w))
    assert min(b - a for a, b in zip(tops, tops[1:])) >= 13.5


def test_an_empty_sheet_prints_no_page(tmp_path, soffice, poppler, catalog):  # noqa: F811
    """A month with nothing missing and no findings: no blank 未完成 or 问题 page."""
    roster = read_roster(catalog).head(3)
    book = tmp_path / "b.xlsx"
    build_workbook(catalog, roster, "2026-10", book)
    fill_workbooks(catalog, [book], list(sample_inputs(catalog, roster, "2026-10").itertuples(index=False, name=None)))
    out = tmp_path / "r.xlsx"
    assert main(["report", str(book), "--out", str(out)]) == 0
    (pdf,) = to_pdf(soffice, [out], tmp_path / "pdf")
    texts = pages(pdf)
    assert of_sheet(texts, "月度汇总") and not of_sheet(texts, "未完成") and not of_sheet(texts, "问题")
    assert all(t.strip() for t in texts)


def test_payroll_pages(made, poppler):
    pdf = made["pdf"]["payroll"]
    texts = pages(pdf)
    assert 1 <= len(texts) <= 2  # 46 people paid, one page wide
    assert COMPANY in texts[0] and "2026-09 绩效工资表" in texts[0] and "第 1 页，共" in texts[0]
    paid = set().union(*(ID.findall(t) for t in texts))
    assert paid == set(made["roster"]["employee_id"]) - {"E013"}  # E013 takes no part (S9)
    every = "\n".join(texts)
    assert len(re.findall(rf"已审批 \d{{4}}-\d\d-\d\d {APPROVER}", every)) == len(paid)  # 审批 readable, whole
    assert "合计（46人）" in flat(every) and all(w in flat(texts[-1]) for w in ("制表：", "审核：", "批准："))
    assert "说明" not in every  # the notes column stays off paper
    money = [float(v.replace(",", "")) for v in re.findall(r"¥(-?[\d,]+\.\d\d)", every)]
    assert money  # right-aligned amounts with their ¥
    frame = pd.read_excel(made["books"]["payroll"], engine="openpyxl")
    total = frame[frame["工号"].notna()]["应发绩效合计"].sum()
    assert f"{total:,.2f}" in every  # the 合计 row is the sum of the rows paid
    save_png(pdf, 1, "payroll")


def test_rollup_pages(made, poppler):
    pdf = made["pdf"]["rollup"]
    texts = pages(pdf)
    year = of_sheet(texts, "年度汇总")
    assert 1 <= len(year) <= 3  # 47 people in three grade schemes, each with its 合计, and the signatures
    assert set().union(*(ID.findall(texts[p - 1]) for p in year)) == set(made["roster"]["employee_id"])
    departments = of_sheet(texts, "部门汇总")
    assert len(departments) == 1 and "2026 年度绩效汇总" in texts[0]
    for page in year[-1:] + departments:
        assert "合计" in texts[page - 1] and "制表：" in flat(texts[page - 1])
    notes = of_sheet(texts, "说明")
    assert len(notes) == 1 and "年度评定" in texts[notes[0] - 1]
    save_png(pdf, year[0], "rollup")


def test_notice_pages(made, poppler, catalog):
    """One notice per complete card, on the pages it has (one; two for a card of many items,
    the second saying whose it is), with its items, the trend and the lines for the talk."""
    pdf = made["pdf"]["notices"]
    texts = pages(pdf)
    report = pd.read_excel(made["reports"][MONTHS[-1]], sheet_name="月度汇总", engine="openpyxl")
    report = report[report["工号"].notna()]
    complete = report[report["状态"] == "已完成"]
    by_id: dict[str, list[int]] = {}
    for i, text in enumerate(texts, start=1):
        ids = set(ID.findall(text))
        assert len(ids) == 1, (i, ids)  # every page says whose it is, and only that
        by_id.setdefault(ids.pop(), []).append(i)
    assert set(by_id) == set(complete["工号"])  # 未完成, 错误 and 不参与 get none
    assert all(len(p) <= 2 and p == list(range(p[0], p[0] + len(p))) for p in by_id.values())
    assert sum(len(p) == 1 for p in by_id.values()) > len(by_id) / 2  # most on one page
    # a department with an unfinished card holds its team pay: 待定 on the notice, never an amount
    waiting = complete[complete["应发绩效合计"].astype(str) == "待定"]
    assert len(waiting) and all("待定（见月度报表）" in flat(texts[by_id[e][0] - 1]) for e in waiting["工号"])
    book = openpyxl.load_workbook(made["books"]["notices"])
    labels = {ws.title.split()[0]: {c.value for r in ws.iter_rows() for c in r} for ws in book.worksheets}
    for row in complete.itertuples():
        notice = "".join(flat(texts[p - 1]) for p in by_id[row.工号])
        assert COMPANY in notice and "2026年10月绩效结果通知书（面谈表）" in notice
        assert f"{row.总分:g}" in notice or f"{row.总分:.1f}" in notice
        role = catalog.roles[made["roster"].set_index("employee_id").loc[row.工号, "role"]]
        short = [item.label for _, item in role.items() if len(item.label) <= 6]  # longer ones wrap
        assert all(flat(label) in notice for label in short), row.工号
        for words in ("面谈记录", "改进计划", "被考核人签字", "直接上级签字", "近6个月总分", "2026-08", "2026-09"):
            assert words in notice, (row.工号, words)
        assert {item.label for _, item in role.items()} <= {str(v).removesuffix("（加减分）")
                                                           for v in labels[row.工号]}
    with zipfile.ZipFile(made["books"]["notices"]) as z:  # the trend as a chart beside its table
        assert len([n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]) == len(by_id)
    one = next(p for p in by_id.values() if len(p) == 1)[0]
    save_png(pdf, one, "notice", dpi=80)


def test_cards_print_their_own_pages(made, poppler, catalog):
    """Printing the whole scorecard workbook prints the cards only (not 设置, 说明, 名单),
    each numbered on its own: 第 1 页 / 共 n 页."""
    pdf = made["pdf"]["cards"]
    texts = pages(pdf)
    numbers = [re.search(r"第\s*(\d+)\s*页\s*/\s*共\s*(\d+)\s*页", t) for t in texts]
    assert all(numbers), [i for i, n in enumerate(numbers, start=1) if not n]
    cards, k = [], 0
    while k < len(numbers):
        n = int(numbers[k].group(2))
        assert [int(m.group(1)) for m in numbers[k:k + n]] == list(range(1, n + 1))
        assert {int(m.group(2)) for m in numbers[k:k + n]} == {n}
        cards.append(texts[k:k + n])
        k += n
    roster = made["cards_roster"]
    assert len(cards) == len(roster)  # one card per employee, nothing else printed
    for card, e in zip(cards, roster.itertuples()):
        role = catalog.roles[e.role]
        whole = flat("".join(card))
        assert all(e.employee_id in page for page in card)  # the fields repeat on every page
        assert flat(role.name) in whole and flat(role.signatures[-1]) in whole
        assert "【假设】" not in whole and "修改此处的分数线" not in whole
    assert sum(len(c) == 1 for c in cards) >= 2
    iqc = next(i for i, c in enumerate(cards) if "来料检验员" in flat(c[0]))
    save_png(pdf, sum(len(c) for c in cards[:iqc]) + 1, "scorecard", dpi=90)


def test_master_prints_home_and_roster_only(made, poppler):
    pdf = made["pdf"]["master"]
    texts = pages(pdf)
    first = flat(texts[0])
    from kpi_workbook.api import master_buttons

    assert "人事主控工作簿" in first and all(flat(caption) in first for _, caption, *_ in master_buttons())
    assert "文件夹约定" in first and "工作表函数" not in first  # the functions are for the screen
    roster = texts[1:]
    assert 1 <= len(roster) <= 2 and all("员工名单" in t for t in roster)
    assert set().union(*(ID.findall(t) for t in roster)) == set(made["roster"]["employee_id"])
    every = "".join(texts)
    assert "UDF" not in every and "设置项" not in every and "docs/" not in every
    save_png(pdf, 1, "master-home")
