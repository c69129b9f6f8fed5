"""A scorecard workbook to change a few cells in: what `fill` writes through.

``XmlBook`` reads through the package layer and, on save, rewrites only the sheets it
changed: each edited cell's element is replaced (its style kept), and the cached results
of those sheets' formulas are dropped so every spreadsheet recomputes them. Everything
else in the package — styles, validation, names, macros — is copied byte for byte.
Where a cell to write has no element to replace (a file saved by another program that
dropped empty cells), the edits go through openpyxl instead (``OpenpyxlBook``).
"""

from __future__ import annotations

from pathlib import Path

import openpyxl

from ...diagnostics import KpiError, error
from ..xlsx.clone import cell_xml
from ..xlsx.package import Book, patch
from .reader import Card
from ..xlsx.limits import DAMAGED


Scorecard = Card  # one card type: what fill finds is the reader's Card (names, department)


def _card(path: Path, sheet: str, names: dict[str, str], get) -> Card | None:
    if "KPI_EMPLOYEE_ID" not in names or "KPI_ROLE" not in names:
        return None
    text = lambda n: str(get(names[n]) or "").strip() if n in names else ""  # noqa: E731
    return Card(path, sheet, text("KPI_EMPLOYEE_ID"), text("KPI_ROLE"), names,
                fields={"department": text("KPI_DEPARTMENT")})


class XmlBook:
    def __init__(self, path: Path, parts: dict[str, str] | None = None):
        self.path = Path(path)
        self.package = Book.open(self.path) if parts is None else Book.open_to_patch(self.path, parts)
        self.data: dict[str, dict] = {}
        self.edits: dict[str, dict[str, object]] = {}

    def _contents(self, sheet: str) -> dict:
        if sheet not in self.data:
            self.data[sheet] = self.package.sheet(sheet).contents
        return self.data[sheet]

    def scorecards(self) -> list[Scorecard]:
        cards = []
        for sheet in self.package.sheet_names:
            names = self.package.names.get(sheet, {})
            if "KPI_EMPLOYEE_ID" in names:
                card = _card(self.path, sheet, names, lambda ref, s=sheet: self._contents(s).get(ref))
                if card is not None:
                    cards.append(card)
        return cards

    def get(self, sheet: str, ref: str):
        edits = self.edits.get(sheet, {})
        return edits[ref] if ref in edits else self._contents(sheet).get(ref)

    def set(self, sheet: str, ref: str, value) -> None:
        self.edits.setdefault(sheet, {})[ref] = value

    def save(self, target: Path) -> None:
        """Only the edited cells' elements change; the edited sheets' cached formula results
        are dropped and the book asks for a full recalculation on open."""
        try:
            if patch(self.package, target, self.edits, cell_xml):  # cells with no element
                book = OpenpyxlBook(self.path)
                for sheet, cells in self.edits.items():
                    for ref, value in cells.items():
                        book.set(sheet, ref, value)
                book.save(target)
        finally:
            self.package.close()

    def close(self) -> None:
        self.package.close()


class OpenpyxlBook:
    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.book = openpyxl.load_workbook(self.path, keep_vba=self.path.suffix.lower() == ".xlsm")
        except DAMAGED as exc:
            raise KpiError([error("not-xlsx", f"{self.path.name} 无法打开（文件损坏或格式不对）：{exc}",
                                  f"cannot open {self.path.name} (corrupt or wrong format): {exc}",
                                  source=str(self.path))]) from None

    def scorecards(self) -> list[Scorecard]:
        cards = []
        for ws in self.book.worksheets:
            names = {}
            for name, dn in ws.defined_names.items():
                dest = list(dn.destinations)
                if len(dest) == 1:
                    names[name] = dest[0][1].replace("$", "")
            card = _card(self.path, ws.title, names, lambda ref, ws=ws: ws[ref].value)
            if card is not None:
                cards.append(card)
        return cards

    def get(self, sheet: str, ref: str):
        return self.book[sheet][ref].value

    def set(self, sheet: str, ref: str, value) -> None:
        self.book[sheet][ref].value = value

    def save(self, target: Path) -> None:
        self.book.calculation.fullCalcOnLoad = True  # Excel recomputes what we changed on open
        self.book.save(target)


def open_editable(path: Path, parts: dict[str, str] | None = None) -> XmlBook:
    """The book to edit, read through the package layer (bounded, linear); with ``parts``
    (sheet → part, from an earlier opening of it) its names are not read again: the cells
    to write are given by reference."""
    return XmlBook(path, parts)
