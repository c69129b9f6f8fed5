"""A ribbon (the Office 2010 customUI14 XML) inside a workbook file.

A ribbon is a part of the workbook's zip: ``customUI/customUI14.xml`` plus a relationship
of type ``.../2007/relationships/ui/extensibility`` in ``_rels/.rels`` (and an ``xml``
default content type). This rewrites the file with those changes, atomically.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

from ..files import atomic_output
from .limits import check_xlsx

PART = "customUI/customUI14.xml"
REL_TYPE = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_ID = "kpiRibbon"


def add_custom_ui(book: Path, xml: bytes) -> Path:
    """Add (or replace) the customUI14 part of ``book``; returns ``book``."""
    book = Path(book)
    check_xlsx(book)
    ET.fromstring(xml)  # refuse to write XML Office would reject outright
    with zipfile.ZipFile(book) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    parts[PART] = xml
    parts["_rels/.rels"] = _with_relationship(parts["_rels/.rels"])
    parts["[Content_Types].xml"] = _with_xml_default(parts["[Content_Types].xml"])
    with atomic_output(book, force=True) as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as target:
            target.writestr("[Content_Types].xml", parts.pop("[Content_Types].xml"))
            for name, data in parts.items():
                target.writestr(name, data)
    return book


def _with_relationship(rels: bytes) -> bytes:
    ET.register_namespace("", RELS_NS)
    root = ET.fromstring(rels)
    for rel in list(root):
        if rel.get("Type") == REL_TYPE or rel.get("Id") == REL_ID:
            root.remove(rel)
    ET.SubElement(root, f"{{{RELS_NS}}}Relationship",
                  {"Id": REL_ID, "Type": REL_TYPE, "Target": PART})
    return ET.tostring(root, xml_declaration=True, encoding="UTF-8")


def _with_xml_default(types: bytes) -> bytes:
    ET.register_namespace("", TYPES_NS)
    root = ET.fromstring(types)
    defaults = {d.get("Extension", "").lower() for d in root.iter(f"{{{TYPES_NS}}}Default")}
    if "xml" not in defaults:
        root.insert(0, ET.Element(f"{{{TYPES_NS}}}Default",
                                  {"Extension": "xml", "ContentType": "application/xml"}))
    return ET.tostring(root, xml_declaration=True, encoding="UTF-8")
