"""Copy each role's prototype scorecard sheet once per employee, inside the .xlsx package.

Every scorecard of a role is the same sheet but for its header cells (name, 工号, 部门, pay
fields): same formulas, validation, formats, merges and print setup. So the builder writes
one prototype sheet per role with XlsxWriter, and this module — reading and writing the
package through ``package.py`` — writes one copy of its XML per employee with those cells replaced,
copies the prototype's sheet-scoped names (KPI_*, print titles) to each copy, and rewrites
the workbook's sheet list, relationships and content types. This is what makes populating
a thousand scorecards take about a second instead of fifteen.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from ..files import unfinished
from ...numbers import XML_ILLEGAL, xml_escape as escape, xml_unescape as unescape
from .package import cell_elements, read_parts, write_parts

WORKSHEET_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
WORKSHEET_CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_SHEET = re.compile(r'<sheet name="([^"]*)" sheetId="(\d+)"( state="\w+")? r:id="(rId\d+)"/>')
_REL = re.compile(r'<Relationship Id="(rId\d+)" Type="([^"]+)" Target="([^"]+)"/>')
_NAME = re.compile(r'<definedName name="([^"]+)"((?: \w+="[^"]*")*)>(.*?)</definedName>', re.S)
_LOCAL = re.compile(r' localSheetId="(\d+)"')
_ATTR = {'"': "&quot;"}


@dataclass
class SheetCopy:
    name: str  # the new sheet's name
    prototype: str  # the prototype sheet it copies
    cells: dict[str, object]  # A1 ref → value (str, number, or None for blank)


def quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def cell_xml(ref: str, style: str, value) -> str:
    """A cell element: a number, an inline string, or empty (None/NaN/\"\")."""
    s = f' s="{style}"' if style else ""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return f'<c r="{ref}"{s}/>'
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<c r="{ref}"{s}><v>{repr(float(value)).removesuffix(".0")}</v></c>'
    text = XML_ILLEGAL.sub("", str(value))  # a control character would make the file unreadable
    return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{escape(text)}</t></is></c>'


class _Template:
    """A prototype sheet's XML split around the cells each copy replaces (found by the
    package layer's parser, in one pass)."""

    def __init__(self, xml: bytes, refs: list[str]):
        self.chunks: list[bytes] = []
        self.slots: list[tuple[str, str]] = []  # (ref, style)
        spans = cell_elements(xml, refs)
        for ref in refs:
            if ref not in spans:
                raise ValueError(f"prototype sheet has no cell {ref}")
        position = 0
        for ref, (start, end, style) in sorted(spans.items(), key=lambda item: item[1][0]):
            self.chunks.append(xml[position:start])
            self.slots.append((ref, style))
            position = end
        self.chunks.append(xml[position:])

    def render(self, cells: dict[str, object]) -> bytes:
        out = [self.chunks[0]]
        for (ref, style), chunk in zip(self.slots, self.chunks[1:]):
            out.append(cell_xml(ref, style, cells.get(ref)).encode("utf-8"))
            out.append(chunk)
        return b"".join(out)


def clone_sheets(path: Path, copies: list[SheetCopy]) -> None:
    """Rewrite the package at ``path``: prototypes replaced by their copies, in order."""
    parts = read_parts(path)
    workbook = parts["xl/workbook.xml"].decode("utf-8")
    rels = parts["xl/_rels/workbook.xml.rels"].decode("utf-8")
    targets = {rid: target for rid, kind, target in _REL.findall(rels) if kind == WORKSHEET_TYPE}
    others = [(kind, target) for rid, kind, target in _REL.findall(rels) if kind != WORKSHEET_TYPE]
    sheets = [(unescape(name, _ATTR), int(sid), state, rid)
              for name, sid, state, rid in _SHEET.findall(workbook)]
    prototypes = {c.prototype for c in copies}
    kept = [s for s in sheets if s[0] not in prototypes]
    proto_index = {s[0]: i for i, s in enumerate(sheets) if s[0] in prototypes}
    if any(i < len(kept) for i in proto_index.values()):
        raise ValueError("prototype sheets must come after every sheet that is kept")

    # the new sheet list: kept sheets first (their indexes do not move), then the copies
    refs: dict[str, set[str]] = {}  # per prototype: roles may differ (S9's 缺岗月数 cell)
    for c in copies:
        refs.setdefault(c.prototype, set()).update(c.cells)
    templates = {p: _Template(parts["xl/" + targets[sheets[i][3]]], sorted(refs.get(p, ())))
                 for p, i in proto_index.items()}
    new_parts: dict[str, bytes] = {}
    entries: list[str] = []
    rel_lines: list[str] = []
    for k, (name, _, state, rid) in enumerate(kept, start=1):
        part = f"worksheets/sheet{k}.xml"
        new_parts["xl/" + part] = parts["xl/" + targets[rid]]
        entries.append(f'<sheet name="{escape(name, _ATTR)}" sheetId="{k}"{state} r:id="rId{k}"/>')
        rel_lines.append(f'<Relationship Id="rId{k}" Type="{WORKSHEET_TYPE}" Target="{part}"/>')
    for k, copy in enumerate(copies, start=len(kept) + 1):
        part = f"worksheets/sheet{k}.xml"
        new_parts["xl/" + part] = templates[copy.prototype].render(copy.cells)
        entries.append(f'<sheet name="{escape(copy.name, _ATTR)}" sheetId="{k}" r:id="rId{k}"/>')
        rel_lines.append(f'<Relationship Id="rId{k}" Type="{WORKSHEET_TYPE}" Target="{part}"/>')
    n = len(kept) + len(copies)
    for j, (kind, target) in enumerate(others, start=n + 1):
        rel_lines.append(f'<Relationship Id="rId{j}" Type="{kind}" Target="{target}"/>')

    workbook = re.sub(r"<sheets>.*?</sheets>", lambda _: "<sheets>" + "".join(entries) + "</sheets>",
                      workbook, flags=re.S)
    workbook = re.sub(r"<definedNames>.*?</definedNames>",
                      lambda m: _names(m.group(0), sheets, proto_index, copies, len(kept)),
                      workbook, flags=re.S)
    parts["xl/workbook.xml"] = workbook.encode("utf-8")
    parts["xl/_rels/workbook.xml.rels"] = re.sub(
        r"(<Relationships[^>]*>).*(</Relationships>)",
        lambda m: m.group(1) + "".join(rel_lines) + m.group(2), rels, flags=re.S).encode("utf-8")

    types = parts["[Content_Types].xml"].decode("utf-8")
    types = re.sub(r'<Override PartName="/xl/worksheets/[^"]+" ContentType="[^"]+"/>', "", types)
    overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{k}.xml" ContentType="{WORKSHEET_CONTENT}"/>'
                        for k in range(1, n + 1))
    parts["[Content_Types].xml"] = types.replace("</Types>", overrides + "</Types>").encode("utf-8")
    if "docProps/app.xml" in parts:  # its list of sheet titles is optional: drop it, not fix it
        app = parts["docProps/app.xml"].decode("utf-8")
        app = re.sub(r"<HeadingPairs>.*?</HeadingPairs>|<TitlesOfParts>.*?</TitlesOfParts>", "",
                     app, flags=re.S)
        parts["docProps/app.xml"] = app.encode("utf-8")

    parts = {k: v for k, v in parts.items() if not k.startswith("xl/worksheets/")}
    parts.update(new_parts)
    tmp = path.with_name(path.name + ".clone")
    try:
        with unfinished(tmp):  # Ctrl-C removes it too
            write_parts(tmp, parts)
            tmp.replace(path)
    finally:  # a full disk or an interruption leaves no .clone file behind
        tmp.unlink(missing_ok=True)


def _names(block: str, sheets, proto_index: dict[str, int], copies: list[SheetCopy],
           first: int) -> str:
    """The definedNames block: the prototypes' sheet-scoped names copied to each copy."""
    keep: list[str] = []
    per_proto: dict[str, list[re.Match[str]]] = {p: [] for p in proto_index}
    index_to_proto = {i: p for p, i in proto_index.items()}
    for match in _NAME.finditer(block):
        local = _LOCAL.search(match.group(2))
        proto = index_to_proto.get(int(local.group(1))) if local else None
        if proto is None:
            keep.append(match.group(0))
        else:
            per_proto[proto].append(match)
    out = list(keep)
    for k, copy in enumerate(copies, start=first):
        proto = copy.prototype
        old_refs = (escape(quote(proto)) + "!", escape(proto) + "!")  # text nodes: no &quot;
        new_ref = escape(quote(copy.name)) + "!"
        for match in per_proto[proto]:
            text = match.group(3)
            for old in old_refs:
                text = text.replace(old, new_ref)
            attrs = _LOCAL.sub(f' localSheetId="{k}"', match.group(2))
            out.append(f'<definedName name="{match.group(1)}"{attrs}>{text}</definedName>')
    return "<definedNames>" + "".join(out) + "</definedNames>"
