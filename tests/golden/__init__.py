"""Golden layouts: three generated workbooks kept as their unzipped, masked XML.

``kpi-workbook new`` builds each case from a small roster; every part of the package is
unzipped, what always differs between two runs is masked (the creation time in
docProps/core.xml) and each XML part is written one element per line, so that a layout
change shows in review as a readable diff of the part that changed (XlsxWriter's own
comparison tests split the XML the same way). ``tests/test_golden.py`` compares; after an
intended layout change, regenerate with::

    python -m tests.golden --update

and review the diff of ``tests/golden/`` like any other change.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import io
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
MONTH = "2026-10"
ROSTER_HEADER = ["工号", "姓名", "部门", "岗位", "基本工资", "绩效基数Q", "全勤", "直接上级"]
PARTS_FILE = "PARTS"  # the package's part names, in zip order
DIFF_LINES = 40  # per differing part in a failure message


@dataclass(frozen=True)
class Case:
    name: str
    roster: tuple[tuple[str, ...], ...]
    split_by: str | None = None
    book: str = "book.xlsx"  # with split_by: the department book kept as the golden file


CASES = (
    # a plain role: one rater-less scorecard (bands, events, ratio items)
    Case("plain_role", (("G001", "张三", "品质部", "qc_inspector", "5000", "", "是", ""),)),
    # a rater role: 自评 and 上级审核 columns in review order (the last one typed counts)
    Case("rater_role", (("G101", "李四", "售前部", "presales_dept_staff", "6000", "", "是", ""),)),
    # a split department book: two roles, one of them twice (a cloned prototype), and a
    # second department that goes to its own book
    Case("split_department", (
        ("G201", "王五", "客服部", "cs_manager", "8000", "", "是", ""),
        ("G202", "赵六", "客服部", "cs_specialist", "4800", "", "是", "王五"),
        ("G203", "钱七", "客服部", "cs_specialist", "4600", "", "否", "王五"),
        ("G204", "孙八", "品质部", "qc_iqc", "5200", "", "是", ""),
    ), split_by="部门", book="客服部.xlsx"),
)

# What always differs between two runs: (part, pattern, replacement).
MASKS = (
    ("docProps/core.xml", re.compile(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)"),
     r"\1MASKED\2"),
)


def build(case: Case, work: Path) -> Path:
    """Build ``case`` with the ``kpi-workbook new`` command into ``work``; the book's path."""
    from kpi_workbook.cli import main

    work.mkdir(parents=True, exist_ok=True)
    roster = work / "roster.csv"
    with roster.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(ROSTER_HEADER)
        writer.writerows(case.roster)
    argv = ["new", "--roster", str(roster), "--month", MONTH]
    if case.split_by:
        argv += ["--split-by", case.split_by, "--out-dir", str(work / "out")]
    else:
        argv += ["--out", str(work / "out" / case.book)]
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    if code != 0:
        raise RuntimeError(f"kpi-workbook {' '.join(argv)} exited with {code}")
    return work / "out" / case.book


def split_xml(text: str) -> str:
    """One element per line: a newline after every '>' that a '<' follows (lossless for the
    comparison: both sides are split the same way)."""
    return re.sub(r">(?=<)", ">\n", text.replace("\r\n", "\n")).rstrip("\n") + "\n"


def masked_parts(book: Path) -> dict[str, str]:
    """Every part of the package as masked text, in zip order (binary parts as their size)."""
    out: dict[str, str] = {}
    with zipfile.ZipFile(book) as z:
        for name in z.namelist():
            data = z.read(name)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                out[name] = f"binary part, {len(data)} bytes\n"
                continue
            for part, pattern, replacement in MASKS:
                if part == name:
                    text = pattern.sub(replacement, text)
            out[name] = split_xml(text)
    return out


def stored_parts(case: Case) -> dict[str, str] | None:
    """The committed golden parts of ``case`` (None if it was never generated)."""
    root = HERE / case.name
    listing = root / PARTS_FILE
    if not listing.is_file():
        return None
    names = listing.read_text(encoding="utf-8").splitlines()
    out = {}
    for name in names:
        path = root / name
        out[name] = path.read_text(encoding="utf-8") if path.is_file() else ""
    return out


def differences(expected: dict[str, str] | None, actual: dict[str, str]) -> list[str]:
    """Readable differences, one entry per part: which part, which lines."""
    if expected is None:
        return ["no golden files yet: run `python -m tests.golden --update`"]
    found = []
    if list(expected) != list(actual):
        diff = difflib.unified_diff(list(expected), list(actual), "golden parts", "generated parts",
                                    lineterm="")
        found.append("the list of parts differs:\n" + "\n".join(diff))
    for name in actual:
        if name in expected and expected[name] != actual[name]:
            diff = list(difflib.unified_diff(expected[name].splitlines(), actual[name].splitlines(),
                                             f"golden/{name}", f"generated/{name}", lineterm="", n=2))
            shown = diff[:DIFF_LINES] + ([f"... {len(diff) - DIFF_LINES} more diff lines"]
                                         if len(diff) > DIFF_LINES else [])
            found.append(f"part {name} differs:\n" + "\n".join(shown))
    return found


def write(case: Case, parts: dict[str, str]) -> None:
    """Replace the committed golden files of ``case`` with ``parts``."""
    root = HERE / case.name
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for name, text in parts.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    (root / PARTS_FILE).write_text("\n".join(parts) + "\n", encoding="utf-8", newline="\n")


def generate(case: Case) -> dict[str, str]:
    with tempfile.TemporaryDirectory(prefix="kpi-golden-") as tmp:
        return masked_parts(build(case, Path(tmp)))
