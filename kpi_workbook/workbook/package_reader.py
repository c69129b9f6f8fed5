"""Read an .xlsx package directly: sheets, defined names, cell contents and cached values.

openpyxl builds a Python object per cell and style, which costs seconds on a thousand
formatted scorecards; the report only needs each cell's text. This reader scans each sheet's
XML once with regular expressions — no DTD or entity processing, so nothing in a file can
expand — and gives, per sheet, what a cell holds (a value, or ``"=" + formula``) and the
cached result of each formula. Excel's shared formulas are translated to each cell.
Packages it does not understand (e.g. namespace-prefixed XML) raise ``Unsupported``; the
caller then reads them with openpyxl.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import unescape

_ENTITIES = {"&quot;": '"', "&apos;": "'"}
_SHEET = re.compile(r'<sheet\b([^>]*)/>')
_ATTR = re.compile(r'([\w:]+)="([^"]*)"')
_REL = re.compile(r"<Relationship\b([^>]*)/>")
_NAME = re.compile(r"<definedName\b([^>]*)>(.*?)</definedName>", re.S)
# Cells with content only: a self-closing <c .../> is an empty (styled) cell.
_CELL = re.compile(r'<c r="([A-Z]{1,3}[0-9]+)"((?:\s+\w+="[^"]*")*)>(.*?)</c>', re.S)
_KIND = re.compile(r'\bt="(\w+)"')
_F = re.compile(r"<f\b([^>]*?)(?:/>|>(.*?)</f>)", re.S)
_V = re.compile(r"<v>(.*?)</v>", re.S)
_T = re.compile(r"<t\b[^>]*>(.*?)</t>", re.S)
_SI = re.compile(r"<si>(.*?)</si>", re.S)
_SINGLE = re.compile(r"^(?:'((?:[^']|'')+)'|([^'!]+))!\$?([A-Z]{1,3})\$?([0-9]+)$")


_INDEX: dict[tuple, tuple] = {}


class Unsupported(Exception):
    """This package's XML is not in the plain form this reader handles."""


def _text(raw: str) -> str:
    return unescape(raw, _ENTITIES) if "&" in raw else raw


@dataclass
class SheetData:
    contents: dict[str, object] = field(default_factory=dict)  # ref → value or "=formula"
    cached: dict[str, object] = field(default_factory=dict)  # ref → cached formula result


@dataclass
class Package:
    path: Path
    sheet_names: list[str]
    parts: dict[str, str]  # sheet name → part name in the zip
    names: dict[str, dict[str, str]]  # sheet name ("" = workbook) → defined name → cell ref
    broken: dict[str, list[str]]  # sheet name → names that point nowhere (#REF!, ranges…)
    _zip: zipfile.ZipFile
    _strings: list[str] | None = None

    @classmethod
    def open(cls, path: Path) -> Package:
        """The package at ``path``; its workbook-level index is kept for re-opens of the
        same unchanged file (the report reads a book's scorecards, then its 名单)."""
        archive = zipfile.ZipFile(path)
        stat = Path(path).stat()
        key = (str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size)
        if key in _INDEX:
            return cls(Path(path), *_INDEX[key], archive)
        package = cls._index(path, archive)
        _INDEX.clear()  # one book at a time is all that is ever re-read
        _INDEX[key] = (package.sheet_names, package.parts, package.names, package.broken)
        return package

    @classmethod
    def _index(cls, path: Path, archive: zipfile.ZipFile) -> Package:
        try:
            workbook = archive.read("xl/workbook.xml").decode("utf-8")
            rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8")
        except KeyError as exc:
            raise Unsupported(str(exc)) from None
        if "<sheets>" not in workbook:
            raise Unsupported("workbook.xml uses prefixed elements")
        targets = {}
        for attrs in _REL.findall(rels):
            a = dict(_ATTR.findall(attrs))
            target = a.get("Target", "")
            targets[a.get("Id")] = target.lstrip("/") if target.startswith("/") else "xl/" + target
        names_in_order, parts = [], {}
        for attrs in _SHEET.findall(workbook):
            a = dict(_ATTR.findall(attrs))
            name = _text(a.get("name", ""))
            names_in_order.append(name)
            parts[name] = targets.get(a.get("r:id"), "")
        names: dict[str, dict[str, str]] = {"": {}}
        broken: dict[str, list[str]] = {}
        for attrs, body in _NAME.findall(workbook):
            a = dict(_ATTR.findall(attrs))
            local = a.get("localSheetId")
            scope = names_in_order[int(local)] if local is not None and int(local) < len(names_in_order) else ""
            if a["name"].startswith("_xlnm."):
                continue  # print titles, print area, filters: Excel's own ranges
            match = _SINGLE.match(_text(body).strip())
            if match and "#REF!" not in body:
                names.setdefault(scope, {})[a["name"]] = f"{match.group(3)}{match.group(4)}"
            elif scope and ("#REF!" in body or a["name"].startswith("KPI_")):
                broken.setdefault(scope, []).append(a["name"])
        return cls(Path(path), names_in_order, parts, names, broken, archive)

    def close(self) -> None:
        self._zip.close()

    def strings(self) -> list[str]:
        if self._strings is None:
            try:
                xml = self._zip.read("xl/sharedStrings.xml").decode("utf-8")
            except KeyError:
                xml = ""
            self._strings = [_text("".join(_T.findall(si))) for si in _SI.findall(xml)]
        return self._strings

    def sheet(self, name: str) -> SheetData:
        xml = self._zip.read(self.parts[name]).decode("utf-8")
        if "<sheetData" not in xml:
            raise Unsupported(f"sheet {name} uses prefixed elements")
        data = SheetData()
        shared: dict[str, tuple[str, str]] = {}  # si → (master ref, master formula)
        pending: list[tuple[str, str]] = []  # (ref, si) of shared-formula children
        for ref, attrs, body in _CELL.findall(xml):
            kind = _KIND.search(attrs).group(1) if "t=" in attrs else "n"
            value = self._value(kind, body)
            f = _F.search(body) if "<f" in body else None
            if f is None:
                if value is not None:
                    data.contents[ref] = value
                continue
            data.cached[ref] = value
            fattrs, ftext = f.group(1), f.group(2)
            si = re.search(r'\bsi="(\d+)"', fattrs)
            if ftext:
                data.contents[ref] = "=" + _text(ftext)
                if si and 't="shared"' in fattrs:
                    shared[si.group(1)] = (ref, data.contents[ref])
            elif si:
                pending.append((ref, si.group(1)))
        if pending:
            from openpyxl.formula.translate import Translator

            for ref, si in pending:
                origin, formula = shared.get(si, ("", ""))
                data.contents[ref] = Translator(formula, origin=origin).translate_formula(ref) \
                    if formula else "="
        return data

    def _value(self, kind: str, body: str):
        if kind == "inlineStr":
            return _text("".join(_T.findall(body)))
        v = _V.search(body)
        if v is None:
            return None
        raw = v.group(1)
        if not raw and kind not in ("str", "inlineStr"):
            return None  # openpyxl through lxml writes <v></v> for a formula never calculated
        if kind == "s":
            return self.strings()[int(raw)]
        if kind in ("str", "e"):
            return _text(raw)
        if kind == "b":
            return raw == "1"
        number = float(raw)
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
