"""Looked at, not just generated: the report, a filled form, a roll-up and the master
workbook, printed to PDF by LibreOffice, with their page counts checked.

Each printed page carries its sheet's title in the page header ("2026-10 月度绩效汇总 · 部门统计"),
so pages are told apart by their text (pdftotext). With ``KPI_UPDATE_DOCS=1`` the pages shown
in the README are written to docs/ as PNG (pdftoppm).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from kpi_workbook.cli import main
from kpi_workbook.rules.loader import builtin_catalog
from kpi_workbook.sample import sample_inputs
from kpi_workbook.workbook.scorecard.build import build_workbook
from kpi_workbook.workbook.scorecard.fill import fill_workbooks
from kpi_workbook.workbook.libreoffice import find_soffice
from kpi_workbook.workbook.scorecard.roster import read_roster

from . import background
from .lo_fixtures import soffice  # noqa: F401

MONTHS = ("2026-08", "2026-09", "2026-10")
DOCS = Path(__file__).resolve().parent.parent / "docs"
ID = re.compile(r"\bE0\d\d\b")


@pytest.fixture(scope="module")
def poppler():
    if not (shutil.which("pdftotext") and shutil.which("pdftoppm")):  # fails, never skips
        pytest.fail("pdftotext/pdftoppm (poppler-utils) are required: bash .ci/test installs them",
                    pytrace=False)


def to_pdf(soffice_path: str, book: Path) -> Path:
    """``book`` printed by LibreOffice, next to it; a throw-away profile per call."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([soffice_path, "--headless", f"-env:UserInstallation=file://{profile}",
                        "--convert-to", "pdf", "--outdir", str(book.parent), str(book)],
                       check=True, capture_output=True, timeout=600)
    pdf = book.with_suffix(".pdf")
    assert pdf.exists(), f"LibreOffice wrote no PDF for {book}"
    return pdf


def pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          timeout=120).stdout.decode("utf-8")
    return [p for p in text.split("\f") if p.strip()]


def of_sheet(texts: list[str], sheet: str) -> list[int]:
    """Page numbers (1-based) whose page header names ``sheet``."""
    return [i for i, t in enumerate(texts, start=1) if re.search(rf"· *{sheet}", t.split("\n", 3)[0] + t[:400])]


def row_pitch(pdf: Path, page: int) -> float:
    """The smallest distance between two employee rows on ``page``: a one-line row."""
    xml = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                         check=True, capture_output=True, timeout=120).stdout.decode("utf-8")
    tops = sorted(float(m.group(1)) for m in re.finditer(r'yMin="([\d.]+)"[^>]*>E0\d\d<', xml))
    return min(b - a for a, b in zip(tops, tops[1:]))


def save_png(pdf: Path, page: int, name: str, dpi: int = 80) -> None:
    """With KPI_UPDATE_DOCS=1: page ``page`` of ``pdf`` as docs/<name>.png (for the README)."""
    if os.environ.get("KPI_UPDATE_DOCS", "") != "1":
        return
    stem = pdf.parent / f"{name}-render"
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile",
                    str(pdf), str(stem)], check=True, timeout=120)
    shutil.copy(f"{stem}.png", DOCS / f"{name}.png")


@background.job("render")
def _three_months(folder: Path) -> dict:
    """Three months of the 41-person sample, with history: report and roll-up; the last
    month's report printed by LibreOffice (in the session's background process)."""
    catalog = builtin_catalog()
    roster = read_roster(catalog)
    history = folder / "history.xlsx"
    for month in MONTHS:
        book = folder / f"{month}.xlsx"
        build_workbook(catalog, roster, month, book)
        inputs = sample_inputs(catalog, roster, month, weak={"E006", "E023"},
                               incomplete={"E003", "E017"} if month == MONTHS[-1] else set())
        fill_workbooks(catalog, [book], list(inputs.itertuples(index=False, name=None)))
        out = folder / f"report-{month}.xlsx"
        assert main(["report", str(book), "--out", str(out), "--history", str(history),
                     "--company", "示例电子有限公司"]) in (0, 1)
    soffice_path = find_soffice()
    assert soffice_path, "LibreOffice (soffice) is not installed: run `bash .ci/test`"
    return {"folder": folder, "report": out, "history": history, "book": book, "roster": roster,
            "pdf": to_pdf(soffice_path, out)}


@pytest.fixture(scope="module")
def demo(tmp_path_factory, soffice):  # noqa: F811
    return background.result("render", tmp_path_factory)


@pytest.fixture(scope="module")
def calibri_metrics():
    """Carlito (or Calibri): the metrics of XlsxWriter's default font, by which Excel sizes
    columns; without it LibreOffice makes every column about a third wider."""
    listed = subprocess.run(["fc-list"], capture_output=True, timeout=60).stdout.decode("utf-8", "replace")
    if not re.search(r"carlito|calibri", listed, re.I):
        pytest.fail("the Carlito font is not installed (bash .ci/test installs "
                    "fonts-crosextra-carlito)", pytrace=False)  # fails, never skips


@pytest.fixture(scope="module")
def report_pdf(demo, soffice):  # noqa: F811
    return demo["pdf"]  # to_pdf(soffice, demo["report"]), done with the months


def test_report_summary_is_at_least_9_pt(report_pdf, poppler, calibri_metrics):
    # rows are 15 pt at 100 %: a 10 pt font stays ≥ 9 pt while one-line rows are ≥ 13.5 pt apart
    summary = of_sheet(pages(report_pdf), "月度汇总")
    assert row_pitch(report_pdf, summary[0]) >= 13.5


def test_report_prints_on_pages_of_their_own(demo, report_pdf, poppler, catalog):
    pdf = report_pdf
    texts = pages(pdf)
    summary = of_sheet(texts, "月度汇总")
    assert 1 <= len(summary) <= 2, summary  # 47 people on at most two pages
    ids = set().union(*(ID.findall(texts[p - 1]) for p in summary))
    assert ids == set(demo["roster"]["employee_id"])
    assert "示例电子有限公司" in texts[0] and "2026-10 月度绩效汇总" in texts[0] and "printed" in texts[0]
    assert re.search(r"第 1 页，共 \d+ 页", texts[0])
    # 部门统计: one page per grade scheme in use, each with its whole chart (title, axis, legend)
    schemes = list(dict.fromkeys(catalog.roles[r].grade_scheme for r in demo["roster"]["role"]))
    stats = of_sheet(texts, "部门统计")
    assert len(stats) == len(schemes)
    for page, scheme_id in zip(stats, schemes):
        text = texts[page - 1]
        assert text.count("各部门等级分布") == 1 and "people" in text, page
        label = catalog.grade_schemes[scheme_id].label
        assert label.replace(" ", "") in text.replace(" ", "")
        grades = catalog.grade_schemes[scheme_id].grades()
        others = {g for s in schemes if s != scheme_id for g in catalog.grade_schemes[s].grades()} - set(grades)
        assert not any(re.search(rf"(?<![\w]){re.escape(g)}(?![\w])", text) for g in others if len(g) > 1)
    assert of_sheet(texts, "校准") and of_sheet(texts, "未完成") and of_sheet(texts, "问题")
    save_png(pdf, summary[0], "report-summary")
    save_png(pdf, stats[0], "report-stats")
    save_png(pdf, of_sheet(texts, "校准")[0], "report-calibration")


def test_filled_forms_print_one_page_each(tmp_path, soffice, poppler, catalog):  # noqa: F811
    roles = ["qc_iqc", "taobao_cs_staff", "cs_specialist", "presales_team_lead"]
    roster = read_roster(catalog)
    roster = pd.concat([roster[roster["role"] == r].head(1) for r in roles], ignore_index=True)
    book = tmp_path / "forms.xlsx"
    build_workbook(catalog, roster, "2026-10", book)
    inputs = sample_inputs(catalog, roster, "2026-10")
    fill_workbooks(catalog, [book], list(inputs.itertuples(index=False, name=None)))
    recalculated = tmp_path / "recalc"
    recalculated.mkdir()
    from kpi_workbook.workbook.libreoffice import recalculate

    filled = recalculate([book], recalculated)[0]
    pdf = to_pdf(soffice, filled)
    texts = pages(pdf)
    forms = [i for i, t in enumerate(texts, start=1) if "（2026-10）" in t]  # the form's title
    assert len(forms) == len(roster)  # one page each
    by_id = {}
    for page in forms:
        ids = set(ID.findall(texts[page - 1]))
        assert len(ids) == 1, page
        by_id[ids.pop()] = texts[page - 1]
    assert set(by_id) == set(roster["employee_id"])
    for e in roster.itertuples():  # the title, the items and the signature lines on that one page
        role = catalog.roles[e.role]
        flat = by_id[e.employee_id].replace(" ", "")
        assert role.name.replace(" ", "") in flat and role.signatures[-1].replace(" ", "") in flat
    for text in (texts[p - 1] for p in forms):
        assert "【假设】" not in text and "Max read from" not in text
    iqc = next(p for p in forms if "来料检验员" in texts[p - 1])
    save_png(pdf, iqc, "scorecard", dpi=90)


def test_rollup_prints(demo, soffice, poppler, tmp_path):  # noqa: F811
    out = tmp_path / "q4.xlsx"
    assert main(["rollup", "--history", str(demo["history"]), "--year", "2026", "--out", str(out),
                 "--company", "示例电子有限公司"]) == 1  # 2026-10 is not approved yet: said, and written
    pdf = to_pdf(soffice, out)
    texts = pages(pdf)
    year = of_sheet(texts, "年度汇总")
    assert 1 <= len(year) <= 2
    assert set().union(*(ID.findall(texts[p - 1]) for p in year)) == set(demo["roster"]["employee_id"])
    assert len(of_sheet(texts, "部门汇总")) == 1 and "2026 年度绩效汇总" in texts[0]
    save_png(pdf, year[0], "rollup")


def test_master_home_prints_on_one_page(tmp_path, soffice, poppler):  # noqa: F811
    out = tmp_path / "master.xlsx"
    assert main(["master", "--out", str(out), "--month", "2026-10"]) == 0
    pdf = to_pdf(soffice, out)
    texts = pages(pdf)
    first = texts[0]
    assert "KPI master workbook" in first and "worksheet functions" in first
    assert "Insert Function" in first  # the last line of 首页 is on its first page too
    assert not any("worksheet functions" in t or "KPI master workbook" in t for t in texts[1:])
    assert "docs/" not in "".join(texts)
    save_png(pdf, 1, "master-home")
