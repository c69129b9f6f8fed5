"""Print setup shared by the report, the roll-ups, the payroll and the notices: A4 landscape,
one page wide, a title block in the page header (company, title, date printed), repeated
header rows, page numbers in the footer, and row heights that fit wrapped text (LibreOffice
and Excel do not grow a row for wrapped text written by a generator, so the height is set
from the text). Everything on paper is Chinese: no English furniture, no ids.

Also the furniture a Chinese office expects under a table (:func:`signature_line`: 制表 /
审核 / 批准 with lines to sign on), :func:`print_nothing` for a sheet that must stay out of
"print the whole workbook" (设置, 说明, 名单, xlwings.conf) and :func:`chinese_part`, the
Chinese half of a bilingual message ("中文 / English") for paper.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from datetime import date

FONT = "等线"
FONT_SIZE = 10
NUMBER_FONT = "Arial"  # metric-compatible fonts exist everywhere (Liberation Sans)
LINE_HEIGHT = 13.5  # points per line of 10 pt text
MIN_ROW = 15.0


@functools.lru_cache(maxsize=4096)  # a report's names, departments and titles repeat
def text_units(text: str) -> float:
    """Width of ``text`` in column-width units at 10 pt: a CJK character is about two digits."""
    units = 0.0
    for ch in str(text):
        units += 1.8 if unicodedata.east_asian_width(ch) in ("W", "F") else 1.0
    return units


def last_column_for(text: str, start: int, widths: dict[int, float], size: float = 11,
                    default: float = 8.43) -> int:
    """The last column a one-line ``text`` of ``size`` pt reaches when written in column
    ``start`` (``widths``: column → width, ``default`` for the others): a print area that
    stops short of it cuts the line off on paper."""
    need, last, room = text_units(text) * size / 10, start - 1, 0.0
    while room < need:
        last += 1
        room += widths.get(last, default)
    return last


def lines_needed(text: str, width: float) -> int:
    """Lines a wrapped cell of ``width`` units needs for ``text`` (explicit newlines count)."""
    if text is None or text == "":
        return 1
    room = max(width - 0.8, 1.0)
    return sum(max(1, math.ceil(text_units(part) / room)) for part in str(text).split("\n"))


def row_height(values: list, widths: list[float], wrapped: set[int]) -> float:
    """Height in points for a row whose columns ``wrapped`` wrap their text."""
    lines = max([lines_needed(values[j], widths[j]) for j in wrapped if j < len(values)] or [1])
    return max(MIN_ROW, lines * LINE_HEIGHT + 2)


def _escape(text: str) -> str:
    return str(text).replace("&", "&&")


def print_setup(ws, title: str, company: str = "", header_rows: tuple[int, int] | None = (0, 0),
                printed: date | None = None, pages_tall: int = 0, stamp: str = "") -> None:
    """A4 landscape, one page wide; the title block in the page header; 第 x 页，共 n 页 below;
    with ``stamp`` (an approval: who, when, month hash) the title says 已审批 and the stamp
    is printed at the foot of every page."""
    if stamp:
        title = f"{title}（已审批）"
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, pages_tall)
    ws.set_margins(left=0.25, right=0.25, top=0.75, bottom=0.55)
    if header_rows is not None:
        ws.repeat_rows(*header_rows)
    day = (printed or date.today()).isoformat()
    left = f'&L&"{FONT},Bold"&11 {_escape(company)}' if company else "&L"
    ws.set_header(f'{left}&C&"{FONT},Bold"&14 {_escape(title)}'
                  f'&R&"{FONT},Regular"&11 打印日期 {day}', {"margin": 0.3})  # 11 pt: ≥ 9 when fit to width
    left = f'&L&"{FONT},Regular"&11 {_escape(stamp)}' if stamp else ""
    # beside a stamp the page number goes to the right: centred, the stamp ran into it
    where = "&R" if stamp else "&C"
    ws.set_footer(f'{left}{where}&"{FONT},Regular"&11 第 &P 页，共 &N 页', {"margin": 0.25})


SIGNERS = ("制表", "审核", "批准")


def signature_line(signers: tuple[str, ...] = SIGNERS, dated: bool = True) -> str:
    """'制表：__________    审核：__________    批准：__________    日期：____年___月___日'."""
    parts = [f"{who}：{'_' * 12}" for who in signers]
    if dated:
        parts.append("日期：______年____月____日")
    return "        ".join(parts)


def print_nothing(ws) -> None:
    """Keep ``ws`` out of "print the whole workbook": its print area is one empty cell far
    to the right, which LibreOffice skips and Excel drops as a blank page. The sheet stays
    visible and editable; a user who wants it on paper clears the print area."""
    ws.print_area(0, 16383, 0, 16383)  # XFD1: never written, never formatted


_ENGLISH_HALF = re.compile(r"\s+/\s+(?=[A-Za-z0-9'\"(#\[])")


def chinese_part(text: object) -> str:
    """The Chinese half of a bilingual text: each '；'-separated part of "中文 / English"
    keeps what comes before the ' / ' that starts the English (a part without one is kept)."""
    if text is None:
        return ""
    out = []
    for part in str(text).split("；"):
        cut = _ENGLISH_HALF.search(part)
        out.append(part[:cut.start()] if cut and _has_cjk(part[:cut.start()]) else part)
    return "；".join(out)


def _has_cjk(text: str) -> bool:
    return any(unicodedata.east_asian_width(ch) in ("W", "F") for ch in text)
