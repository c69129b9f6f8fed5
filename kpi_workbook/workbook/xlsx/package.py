"""The .xlsx package: the only module that knows the zip layout and reads its XML.

A book is opened once (:meth:`Book.open`): its workbook part gives the sheets, their parts
and the defined names; :meth:`Book.sheet` reads one sheet's cells — what each holds (a
value, or ``"=" + formula``, shared formulas translated to each cell) and the cached
result of each formula. Both parts are read in one pass: by one regular expression when
they are in the plain form every spreadsheet program writes (``plain_scan.py``, built so
that it cannot backtrack), else by a streaming XML parser (expat), which reads any XML.
Either is linear in the file size. DTDs and entity declarations are refused (nothing can
expand); entities and character references (``&#57;0`` is "90") are decoded. Namespace
prefixes are ignored (``<x:c>`` is a cell), so books saved through lxml or by other
programs read like XlsxWriter's.

Every part is inflated as a stream against the limits of :class:`Limits` — a size and a
ratio that hold at any size — and refused with one sentence before memory grows, as are
books with more sheets, rows or cells than the limits allow (far above 10,000 employees).

:func:`patch` writes a copy of a book with some cells replaced (their style kept) and the
cached results of the changed sheets dropped; only those are deflated again (by isal where
installed), every other part is copied as it is stored once it is checked as a read checks it;
:func:`rewrite` does the same for whole parts a caller changes (the approval stamp on a
report); ``clone.py`` copies sheets through :func:`read_parts`/:func:`write_parts`.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import struct
import sys
import time
import types
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from xml.parsers import expat

from ...diagnostics import KpiError, error
from ...limits import value
from .limits import MB, Limits, check_archive
from .plain_scan import LONG_TEXT, cell_spans, drop_cached, scan_sheet, scan_sheet_chunks, scan_workbook

_zlib: types.ModuleType = zlib
try:  # the same deflate, 3.5 times as fast (writing a patched book was mostly deflating)
    from isal import isal_zlib as _zlib
except ImportError:  # pragma: no cover - isal is a dependency; zlib writes the same parts
    pass
_crc32 = _zlib.crc32
_INFLATE_ERRORS: tuple[type[BaseException], ...] = (ValueError, zlib.error, _zlib.error)
_READ_ERRORS: tuple[type[BaseException], ...] = (OSError, *_INFLATE_ERRORS)  # what inflating a member here raises on a damaged one
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # a member's local header (APPNOTE 4.3.7)


def _damaged(path: Path, zh: str, en: str, sheet: str = "", cell: str = "", code: str = "damaged-xlsx"):
    return KpiError([error(code, f"{path.name} 已损坏：{zh}", f"{path.name} is damaged: {en}",
                           source=str(path), sheet=sheet, cell=cell)])


def _too_big(path: Path, zh: str, en: str, sheet: str = ""):
    return KpiError([error("too-large", f"{path.name} 超出限制，拒绝打开：{zh}",
                           f"{path.name} exceeds a limit and is refused: {en}",
                           source=str(path), sheet=sheet)])


# ---------------------------------------------------------------------------------------
# Bounded inflation and a defused streaming parser

CHUNK = 1 << 16  # what zipfile inflates at a time (a member compressed another way)
RAW_CHUNK = 1 << 18  # deflated bytes read from the file at a time
OUT_CHUNK = 1 << 20  # the most one step of inflating gives


def _chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, limits: Limits,
            budget: list[int]):
    """The inflated bytes of one part, chunk by chunk, stopped at the limits.

    A deflated or stored member (every part a spreadsheet program writes) is read from
    its local header on and inflated here, by isal where installed (zlib otherwise): a
    step gives at most ``OUT_CHUNK`` bytes, checked against the limits and the book's
    ``budget`` before the next, and the whole must be the size and CRC the directory
    says. Any other compression goes through zipfile, within the same limits."""
    allowance = limits.part_allowance(info.compress_size)
    if info.file_size > allowance or info.file_size > budget[0]:
        raise _bomb(path, info, info.file_size)
    if info.compress_type in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED) and not info.flag_bits & 1:
        yield from _raw_chunks(archive, info, path, allowance, budget)
        return
    total = 0
    try:
        with archive.open(info) as stream:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                total += len(chunk)
                if total > allowance or total > budget[0]:
                    raise _bomb(path, info, total)
                yield chunk
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, RuntimeError,
            NotImplementedError) as exc:
        # RuntimeError: an encrypted member; NotImplementedError: an unknown compression
        raise _damaged(path, f"无法解压 {info.filename}（{exc}）",
                       f"cannot inflate {info.filename} ({exc})") from None
    budget[0] -= total


def _raw_chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, allowance: int,
                budget: list[int]):
    """:func:`_chunks` of a deflated or stored member, inflated here (see there). The file
    is read at a position of its own, so that other parts may be read between two chunks."""
    total, crc = 0, 0
    zlib_module, crc32 = _zlib, _crc32  # (read once: a test swaps them for zlib's)
    try:
        at, left = _data_at(archive, info, path), info.compress_size
        inflater = zlib_module.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
        pending = b""
        while True:
            if not pending and left:
                fp = archive.fp
                if fp is None:
                    raise ValueError("the book is closed")
                fp.seek(at)
                pending = fp.read(min(left, RAW_CHUNK))
                if not pending:
                    raise ValueError("the file ends inside the member")
                at, left = at + len(pending), left - len(pending)
            if inflater is None:
                chunk, pending = pending[:OUT_CHUNK], pending[OUT_CHUNK:]
            elif inflater.eof:
                break
            else:
                chunk = inflater.decompress(pending, OUT_CHUNK)
                pending = inflater.unconsumed_tail
            if not chunk:
                if not pending and not left:
                    break
                continue
            total += len(chunk)
            if total > allowance or total > budget[0]:
                raise _bomb(path, info, total)
            if total > info.file_size:
                raise ValueError("it inflates to more than the directory says")
            crc = crc32(chunk, crc)
            yield chunk
        if inflater is not None and not inflater.eof:
            raise ValueError("the deflated data does not end where the directory says")
        if total != info.file_size or crc != info.CRC:
            raise ValueError("its size or CRC is not the directory's")
    except _READ_ERRORS as exc:
        raise _damaged(path, f"无法解压 {info.filename}（{exc}）",
                       f"cannot inflate {info.filename} ({exc})") from None
    budget[0] -= total


def _data_at(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> int:
    """Where the member's stored bytes begin in the file, past its local header (which
    must name the member the directory names)."""
    fp = archive.fp
    if fp is None:
        raise ValueError("the book is closed")
    fp.seek(info.header_offset)
    header = fp.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise _damaged(path, f"{info.filename} 的文件头无效", f"{info.filename} has a bad local header")
    fields = _LOCAL_HEADER.unpack(header)
    name = fp.read(fields[10])
    if name.decode("utf-8" if info.flag_bits & 0x800 else "cp437") != info.orig_filename:
        raise ValueError("the local header names another member")
    return info.header_offset + _LOCAL_HEADER.size + fields[10] + fields[11]


def _bomb(path: Path, info: zipfile.ZipInfo, size: int) -> KpiError:
    return KpiError([error(
        "zip-bomb", f"{path.name} 中的 {info.filename} 解压后过大（超过 {size >> 20} MB，"
        f"压缩比 {size // max(info.compress_size, 1)}），疑似压缩炸弹，拒绝打开",
        f"{info.filename} in {path.name} expands beyond {size >> 20} MB (ratio "
        f"{size // max(info.compress_size, 1)}): refused as a possible zip bomb", source=str(path))])


class _Refused(Exception):
    """A DTD or an entity declaration: the parse stops (see the handlers below)."""


def _parser(start, end, text) -> expat.XMLParserType:
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = CHUNK

    def refuse(*_):
        raise _Refused()

    parser.StartDoctypeDeclHandler = refuse  # no DTD: nothing can be declared to expand
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if text is not None:
        parser.CharacterDataHandler = text
    return parser


def _local(name: str) -> str:
    return name[name.index(":") + 1:] if ":" in name else name


class Book:
    """An opened package: sheets, their parts and names; :meth:`sheet` reads one sheet."""

    def __init__(self, path: Path | str, limits: Limits | None = None,
                 parts: dict[str, str] | None = None):
        self.path = Path(path)
        self.limits = limits or Limits.from_env()
        self._budget = [self.limits.book_bytes]
        self._cells = 0
        self._strings: list[str] | None = None
        self._long_strings: bool | None = None
        self.rows_memo: dict = {}  # sheet rows read so far, by their text (plain_scan.py)
        self._strings_part = "xl/sharedStrings.xml"  # or where the relationships say
        self.sheet_names: list[str] = []
        self.parts: dict[str, str] = {}  # sheet name → part name in the zip
        self.names: dict[str, dict[str, str]] = {"": {}}  # sheet ("" = book) → name → cell
        self.broken: dict[str, list[str]] = {}  # sheet → names that point nowhere
        self.repeated: dict[str, dict[str, list[str]]] = {}  # sheet → name defined twice → its cells
        self.elsewhere: dict[str, dict[str, str]] = {}  # sheet → its name → "other sheet!A1"
        self.defined: list[tuple[str, int | None, str]] = []  # (name, localSheetId, text)
        try:
            self.zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise _damaged(self.path, f"不是 zip 包（{exc}）", f"not a zip package ({exc})",
                           code="not-xlsx") from None
        try:

            check_archive(self.path, self.zip.infolist(), self.limits)
            if parts is None:
                self._index()
            else:  # opened again to be patched: the sheets' parts as an earlier open found them
                self.sheet_names, self.parts = list(parts), dict(parts)
        except BaseException:
            self.zip.close()
            raise

    @classmethod
    def open(cls, path: Path | str, limits: Limits | None = None) -> Book:
        return cls(path, limits)

    @classmethod
    def open_to_patch(cls, path: Path | str, parts: dict[str, str], limits: Limits | None = None) -> Book:
        """The book opened again to be patched (:func:`patch`), its workbook part not read:
        ``parts`` (sheet → part) are those an earlier :meth:`open` of it found, while it
        stayed locked; its names are not known here."""
        return cls(path, limits, parts)

    def __enter__(self) -> Book:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.zip.close()

    # -- parts -----------------------------------------------------------------------
    def has(self, part: str) -> bool:
        try:
            self.zip.getinfo(part)
            return True
        except KeyError:
            return False

    def read(self, part: str, budget: list[int] | None = None) -> bytes:
        """A whole part, inflated within the limits (``budget``: the bytes this pass over
        the book may still inflate; by default the book's reading pass)."""
        return b"".join(self._stream(part, budget))

    def _stream(self, part: str, budget: list[int] | None = None):
        try:
            info = self.zip.getinfo(part)
        except KeyError:
            raise _damaged(self.path, f"缺少 {part}", f"{part} is missing") from None
        return _chunks(self.zip, info, self.path, self.limits, self._budget if budget is None else budget)

    def _parse(self, part: str, start, end=None, text=None, sheet: str = "",
               holder=None, data: bytes | None = None) -> expat.XMLParserType:
        """Parse ``part`` with these handlers, streaming it from the zip (or ``data``: the
        part inflated already, when a plain scan stepped aside)."""
        parser = _parser(start, end, text)
        if holder is not None:
            holder.parser = parser  # the handlers read positions from it
        try:
            for chunk in self._stream(part) if data is None else (data,):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except _Refused:
            raise _damaged(self.path, f"{part} 含有 DTD 或实体声明（不允许）",
                           f"{part} has a DTD or entity declaration (not allowed)", sheet=sheet) from None
        except expat.ExpatError as exc:
            raise _damaged(self.path, f"{part} 不是有效的 XML（{exc}）",
                           f"{part} is not valid XML ({exc})", sheet=sheet) from None
        return parser

    # -- the workbook part -----------------------------------------------------------
    def _index(self) -> None:
        targets: dict[str, str] = {}

        def rel(name, attrs):
            if _local(name) == "Relationship":
                target = attrs.get("Target", "")
                target = target.lstrip("/") if target.startswith("/") else "xl/" + target
                targets[attrs.get("Id", "")] = target
                if attrs.get("Type", "").endswith("/sharedStrings"):
                    self._strings_part = target

        if self.has("xl/_rels/workbook.xml.rels"):
            self._parse("xl/_rels/workbook.xml.rels", rel)
        sheets: list[tuple[str, str]] = []
        names: list[tuple[str, int | None]] = []
        buf: list[str] = []
        state = {"in_name": False}

        def start(name, attrs):
            local = _local(name)
            if local == "sheet":
                rid = next((v for k, v in attrs.items() if ":" in k and _local(k) == "id"), "")
                sheets.append((attrs.get("name", ""), rid))
                if len(sheets) > self.limits.sheets:
                    raise _too_big(self.path, f"工作表多于 {self.limits.sheets} 张",
                                   f"more than {self.limits.sheets} sheets")
            elif local == "definedName":
                local_id = attrs.get("localSheetId")
                names.append((attrs.get("name", ""), int(local_id) if (local_id or "").isdigit() else None))
                buf.clear()
                state["in_name"] = True

        def end(name):
            if _local(name) == "definedName" and state["in_name"]:
                state["in_name"] = False
                n, local_id = names[-1]
                self.defined.append((n, local_id, "".join(buf)))

        def text(data):
            if state["in_name"]:
                buf.append(data)

        data = self.read("xl/workbook.xml")
        plain = scan_workbook(data)
        cells: list[str | None] | None = None  # each name's cell when the scan saw it is one
        if plain is None:
            self._parse("xl/workbook.xml", start, end, text, data=data)
        else:  # the common case: one regular scan (plain_scan.py)
            sheets, self.defined, cells = plain
            if len(sheets) > self.limits.sheets:
                raise _too_big(self.path, f"工作表多于 {self.limits.sheets} 张",
                               f"more than {self.limits.sheets} sheets")
        for name, rid in sheets:
            self.sheet_names.append(name)
            self.parts[name] = targets.get(rid, "")
        count = len(sheets)
        book_names, sheet_names = self.names, self.sheet_names
        # localSheetId → (its sheet, how that sheet's own cells are written): worked out once
        # per sheet, not per name (a book of 10,000 cards has hundreds of thousands of names)
        scopes: dict[int | None, tuple[str, tuple[str, str] | None]] = {}
        for (name, local_id, body), cell in zip(self.defined, cells if cells is not None else repeat(None)):
            if name.startswith("_xlnm."):
                continue  # print titles, print area, filters: Excel's own ranges
            at = scopes.get(local_id)
            if at is None:
                scope = sheet_names[local_id] if local_id is not None and local_id < count else ""
                at = scopes[local_id] = (scope, ("'" + scope.replace("'", "''") + "'!", scope + "!")
                                         if scope else None)
            scope, own = at
            if cell is None:
                found = single_cell(body)
                cell = found[1] if found is not None else None
            if cell is not None:
                scoped = book_names.get(scope)
                if scoped is None:
                    scoped = book_names[scope] = {}
                if name in scoped:  # defined twice: every cell it was given is kept
                    self.repeated.setdefault(scope, {}).setdefault(name, [scoped[name]]).append(cell)
                scoped[name] = cell
                if own is not None and not body.startswith(own):  # a sheet-scoped name on another sheet
                    target = single_cell(body)
                    if target is not None and target[0] != scope:
                        self.elsewhere.setdefault(scope, {})[name] = f"{target[0]}!{cell}"
            elif scope and ("#REF!" in body or name.startswith("KPI_")):
                self.broken.setdefault(scope, []).append(name)

    # -- shared strings --------------------------------------------------------------
    def strings(self) -> list[str]:
        if self._strings is None:
            self._strings = []
            if self.has(self._strings_part):
                self._strings = _read_strings(self, self._strings_part)
        return self._strings

    def long_strings(self) -> bool:
        """Whether a shared string is longer than the longest formula Excel allows (then
        every sheet's cells' sizes are looked at; worked out once per book)."""
        if self._long_strings is None:
            longest = LONG_TEXT
            self._long_strings = any(len(s) > longest for s in self.strings())
        return self._long_strings

    # -- one sheet -------------------------------------------------------------------
    def sheet(self, name: str) -> SheetData:
        """What the sheet's cells hold, and the cached result of each formula."""
        part = self.parts.get(name, "")
        if not part or not self.has(part):
            raise _damaged(self.path, f"工作表“{name}”的内容缺失", f"sheet '{name}' has no part",
                           sheet=name)
        raw = None
        plain = _PlainSheet(self, name)
        if self.zip.getinfo(part).file_size <= PLAIN_SCAN_BYTES:  # the common case (plain_scan.py)
            raw = self.read(part)
            if scan_sheet(raw, plain, self.limits.rows):
                return plain.finish()
        else:  # too big to hold: scanned a run of rows at a time as it is inflated; the book
            # is charged for the pass that reads it (this one, or expat's after it)
            plain.rows_memo = None
            budget = [self._budget[0]]
            if scan_sheet_chunks(self._stream(part, budget), plain, self.limits.rows, PLAIN_SCAN_BYTES):
                self._budget[0] = budget[0]
                return plain.finish()
        reader = _SheetReader(self, name)  # any XML; ``raw`` is not inflated twice
        self._parse(part, reader.start, reader.end, reader.text, sheet=name, holder=reader, data=raw)
        reader.finish()
        return reader.data

    def sheets(self, names: list[str]) -> dict[str, SheetData]:
        """Several sheets at once, in the order given; a batch of hundreds is shared with
        worker processes, one per further core (:func:`sheet_workers`), each reading its
        share from its own handle on the file. Whatever happens, it is what reading them one
        after another gives: the first sheet in order that is damaged raises its error (a
        bug raises as a bug), and the book's limits count every share."""
        helpers = sheet_workers(len(names))
        if helpers == 0:
            return {name: self.sheet(name) for name in names}
        shares = [names[k::helpers + 1] for k in range(helpers + 1)]
        self.strings()  # read once here, inherited by the workers
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        _FORKED["book"] = self  # inherited by the forked workers, never pickled
        try:
            with ProcessPoolExecutor(max_workers=helpers, mp_context=multiprocessing.get_context("fork"),
                                     initializer=_in_worker, initargs=(os.getpid(),)) as pool:
                futures = [pool.submit(_read_share, share) for share in shares[1:]]
                results = [_read_share(shares[0], own=True)] + [f.result() for f in futures]
        finally:
            _FORKED.clear()
        found: dict[str, SheetData | BaseException] = {}
        for (read, failed, inflated, cells) in results[1:]:
            self._budget[0] -= inflated
            self._count(cells, "")
            found.update(read)
            found.update(failed)
        own_read, own_failed, _, _ = results[0]
        found.update(own_read)
        found.update(own_failed)
        if self._budget[0] < 0:
            raise _too_big(self.path, f"解压后合计超过 {self.limits.book_bytes >> 20} MB",
                           f"more than {self.limits.book_bytes >> 20} MB when inflated")
        out: dict[str, SheetData] = {}
        for name in names:
            got = found[name]
            if isinstance(got, BaseException):
                raise got
            out[name] = got
        return out

    def _count(self, cells: int, sheet: str) -> None:
        self._cells += cells
        if self._cells > self.limits.cells:
            raise _too_big(self.path, f"单元格多于 {self.limits.cells} 个",
                           f"more than {self.limits.cells} cells", sheet=sheet)


def single_cell(text: str) -> tuple[str, str] | None:
    """(sheet, "A1") for a defined name that is one cell ('Sheet'!$A$1), else None."""
    plain = _PLAIN_CELL.fullmatch(text)  # nearly every name: no spaces, no quote in the sheet
    if plain is not None:
        quoted, bare, column, row = plain.groups()
        return (bare if quoted is None else quoted), column + row
    text = text.strip()
    if "#REF!" in text or "!" not in text:
        return None
    sheet, _, ref = text.rpartition("!")
    if sheet.startswith("'") and sheet.endswith("'") and len(sheet) >= 2:
        sheet = sheet[1:-1].replace("''", "'")
    elif "'" in sheet or not sheet:
        return None
    ref = ref.replace("$", "")
    if not _REF.fullmatch(ref):
        return None
    return sheet, ref


_REF = re.compile(r"[A-Z]{1,3}[1-9][0-9]{0,6}")  # anchored by fullmatch on a short text
_PLAIN_CELL = re.compile(r"(?:'([^'!]*)'|([^'!\s][^'!]*))!\$?([A-Z]{1,3})\$?([1-9][0-9]{0,6})")


def _read_strings(book: Book, part: str) -> list[str]:
    out: list[str] = []
    buf: list[str] = []
    depth = {"si": False, "t": 0, "rph": 0}

    def start(name, attrs):
        local = _local(name)
        if local == "si":
            depth["si"] = True
            buf.clear()
        elif local == "rPh":
            depth["rph"] += 1
        elif local == "t":
            depth["t"] += 1

    def end(name):
        local = _local(name)
        if local == "si":
            depth["si"] = False
            out.append("".join(buf))
        elif local == "rPh":
            depth["rph"] -= 1
        elif local == "t":
            depth["t"] -= 1

    def text(data):
        if depth["si"] and depth["t"] and not depth["rph"]:
            buf.append(data)

    book._parse(part, start, end, text)
    return out


@dataclass
class SheetData:
    contents: dict[str, object] = field(default_factory=dict)  # ref → value or "=formula"
    cached: dict[str, object] = field(default_factory=dict)  # ref → cached formula result
    # a cell may hold more than Excel allows: look at the sizes (plain_scan.LONG_TEXT; a
    # sheet read through expat is always looked at)
    long_text: bool = field(default=False, compare=False)


def column_letters(n: int) -> str:
    letters = ""
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def split_ref(ref: str) -> tuple[int, int]:
    """(row, column) of "B3"."""
    i = 0
    while i < len(ref) and ref[i].isalpha():
        i += 1
    return int(ref[i:]), column_number(ref[:i])


class _SheetReader:
    """expat handlers for one sheet part: cells, formulas, values, inline strings."""

    def __init__(self, book: Book, name: str):
        self.book, self.name = book, name
        self.data = SheetData(long_text=True)  # the rare path: its cells' sizes are looked at
        self.row = 0
        self.col = 0
        self.ref = ""
        self.kind = "n"
        self.formula: list[str] | None = None
        self.f_attrs: dict[str, str] = {}
        self.value: list[str] | None = None
        self.inline: list[str] | None = None
        self.in_t = 0
        self.in_rph = 0
        self.collect: list[str] | None = None
        self.shared: dict[str, tuple[str, str]] = {}
        self.pending: list[tuple[str, str]] = []
        self.in_data = False
        self.parser: expat.XMLParserType | None = None
        self.has_f = False
        self.last_ref = ""

    def _bad(self, zh: str, en: str) -> KpiError:
        return _damaged(self.book.path, zh, en, sheet=self.name, cell=self.ref, code="bad-cell")

    def start(self, name, attrs):
        local = name if ":" not in name else name[name.index(":") + 1:]
        if local == "c" and self.in_data:  # the most frequent element first
            r = attrs.get("r")
            if r:
                if "$" in r:
                    r = r.replace("$", "")
                if not _REF.fullmatch(r):
                    self.ref = r[:20]
                    raise self._bad(f"单元格地址 “{r[:20]}” 无效", f"invalid cell reference '{r[:20]}'")
                self.last_ref = r  # its column is worked out only if a cell without r follows
            else:
                if self.last_ref:
                    self.col = split_ref(self.last_ref)[1]
                    self.last_ref = ""
                self.col += 1
                r = f"{column_letters(self.col)}{self.row}"
            self.ref = r
            self.kind = attrs.get("t", "n")
            self.formula = self.value = self.inline = None
            self.has_f = False
            self.book._cells += 1
            if self.book._cells > self.book.limits.cells:
                raise _too_big(self.book.path, f"单元格多于 {self.book.limits.cells} 个",
                               f"more than {self.book.limits.cells} cells", sheet=self.name)
        elif not self.in_data:
            if local == "sheetData":
                self.in_data = True
        elif local == "v":
            self.value = []
            self.collect = self.value
        elif local == "f":
            self.has_f = True
            self.f_attrs = attrs
            self.formula = []
            self.collect = self.formula
        elif local == "row":
            r = attrs.get("r")
            if r and r.isdigit():
                self.row = int(r)
            else:
                self.row = (split_ref(self.last_ref)[0] if self.last_ref else self.row) + 1
            self.col = 0
            self.last_ref = ""
            if not 1 <= self.row <= self.book.limits.rows:
                self.ref = f"A{self.row}"
                raise _too_big(self.book.path, f"行号 {self.row} 超出 1…{self.book.limits.rows}",
                               f"row {self.row} is outside 1…{self.book.limits.rows}", sheet=self.name)
        elif local == "is":
            self.inline = []
        elif local == "rPh":
            self.in_rph += 1
        elif local == "t" and self.inline is not None:
            self.in_t += 1
            if not self.in_rph:
                self.collect = self.inline

    def text(self, data):
        if self.collect is not None:
            self.collect.append(data)

    def end(self, name):
        local = name if ":" not in name else name[name.index(":") + 1:]
        if not self.in_data:
            return
        if local == "c":
            self._cell()
        elif local == "v" or local == "f":
            self.collect = None
        elif local == "t" and self.inline is not None:
            self.in_t -= 1
            self.collect = None
        elif local == "rPh":
            self.in_rph -= 1
        elif local == "sheetData":
            self.in_data = False

    def _cell(self):
        ref = self.ref
        value = self._value()
        if not self.has_f:
            if value is not None:
                self.data.contents[ref] = value
            return
        formula_cell(self.data, self.shared, self.pending, ref, "".join(self.formula or ()),
                     self.f_attrs, value)

    def _value(self):
        kind = self.kind
        if kind == "inlineStr":
            return "".join(self.inline) if self.inline is not None else None
        if self.value is None:
            return None
        return cell_value(self.book, kind, "".join(self.value), self._bad)

    def finish(self):
        translate_shared(self.data, self.shared, self.pending)


def cell_value(book: Book, kind: str, raw: str, bad):
    """What a cell's <v> text means for its type ``t``; ``bad(zh, en)`` makes the error."""
    if kind == "str" or kind == "e":
        return raw
    if not raw:
        return None  # openpyxl through lxml writes <v></v> for a formula never calculated
    if kind == "s":
        strings = book.strings()
        try:
            index = int(raw)
            if index < 0:
                raise IndexError(index)
            return strings[index]
        except (ValueError, IndexError):
            raise bad(f"共享字符串编号 “{raw[:20]}” 无效", f"invalid shared string index '{raw[:20]}'") \
                from None
    if kind == "b":
        if raw.strip() in ("1", "true"):
            return True
        if raw.strip() in ("0", "false"):
            return False
        raise bad(f"逻辑值 “{raw[:20]}” 无效", f"invalid logical value '{raw[:20]}'")
    if kind == "d":
        try:
            return dt.datetime.fromisoformat(raw.strip())
        except ValueError:
            raise bad(f"日期 “{raw[:20]}” 无效", f"invalid date '{raw[:20]}'") from None
    if kind != "n":
        raise bad(f"未知的单元格类型 t=“{kind[:10]}”", f"unknown cell type t='{kind[:10]}'")
    try:
        number = float(raw)
    except ValueError:
        raise bad(f"数字单元格里是 “{raw[:20]}”，不是数字",
                  f"a number cell holds '{raw[:20]}', not a number") from None
    if not math.isfinite(number):
        raise bad(f"数字单元格里是 “{raw[:20]}”，不是有限的数字",
                  f"a number cell holds '{raw[:20]}', not a finite number")
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def formula_cell(data: SheetData, shared: dict[str, tuple[str, str]], pending: list[tuple[str, str]],
                 ref: str, text: str, attrs: dict[str, str], value: object) -> None:
    """A formula cell into ``data``: its cached result, and its text; a cell of a shared
    formula without text of its own waits in ``pending`` for :func:`translate_shared`."""
    data.cached[ref] = value
    si = attrs.get("si")
    if text:
        data.contents[ref] = "=" + text
        if si is not None and attrs.get("t") == "shared":
            shared[si] = (ref, "=" + text)
    elif si is not None:
        pending.append((ref, si))
    else:
        data.contents[ref] = "="


def translate_shared(data: SheetData, shared: dict[str, tuple[str, str]],
                     pending: list[tuple[str, str]]) -> None:
    """Each cell of a shared formula gets its own text, translated from the first cell's."""
    if not pending:
        return
    from openpyxl.formula.translate import Translator, TranslatorError

    for ref, si in pending:
        origin, formula = shared.get(si, ("", ""))
        try:
            data.contents[ref] = Translator(formula, origin=origin).translate_formula(ref) \
                if formula else "="
        except (TranslatorError, ValueError):
            data.contents[ref] = "="


# --- several sheets on several cores ------------------------------------------------------

SHEETS_PER_WORKER = 1000  # below this many sheets a share, a process costs more than it saves:
# measured (2026-12-07) on a book of 1,000 cards, two shares of 500 took 0.55–0.6 CPU-s against
# 0.39–0.43 in one process (the worker's copied pages, its own row memo, the results pickled
# back) for a few hundredths of a second of wall; 4,000 cards in two shares: 1.9 against 1.6
_FORKED: dict[str, Book] = {}  # the book being read, for the forked workers
_WORKER_PROCESS = {"inside": False}
# the workers inherit the opened book by fork; Windows has no fork, and on macOS forking a
# process that has loaded system frameworks is unsafe: there the sheets are read here
_CAN_FORK = sys.platform.startswith("linux")


def sheet_workers(n_sheets: int) -> int:
    """How many worker processes to read ``n_sheets`` with, besides this one: one per
    further core (``KPI_WORKBOOK_WORKERS`` sets the number of processes; 1 never starts
    any), none inside a worker already, none for a small batch."""
    if _WORKER_PROCESS["inside"] or n_sheets < 2 * SHEETS_PER_WORKER or not _CAN_FORK:
        return 0
    wanted = value("workers") or os.cpu_count() or 1  # the table of limits; a bad value is refused
    return max(0, min(wanted, n_sheets // SHEETS_PER_WORKER) - 1)


def quiet_interrupt(parent: int) -> None:
    """In a worker process that only reads: Ctrl-C (sent to the whole process group) ends it
    at once and silently; the parent process prints the one line and exits 130. The worker
    also ends when its parent does, however that ends (:func:`end_with_parent`)."""
    import signal

    signal.signal(signal.SIGINT, lambda *_: os._exit(130))
    end_with_parent(parent)


def end_with_parent(parent: int) -> None:
    """A worker ends when ``parent`` (the process that started it) does: on Linux the kernel
    kills it then (PR_SET_PDEATHSIG); a parent already gone before that was set (a Ctrl-C
    just as the worker was forked) ends it here, or it would wait for work forever, holding
    the command's output pipes open."""
    import signal

    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # no prctl: the parent's Ctrl-C ends its children
            pass
    if os.getppid() != parent:
        os._exit(130)


def _in_worker(parent: int) -> None:
    quiet_interrupt(parent)
    _WORKER_PROCESS["inside"] = True
    book = _FORKED["book"]
    book.zip = zipfile.ZipFile(book.path)  # its own handle: the parent's file position is its own
    book._budget = [book._budget[0]]
    book._cells = 0


def _read_share(names: list[str], own: bool = False):
    """(sheets read, sheets that raised, bytes inflated, cells counted) for one share."""
    book = _FORKED["book"]
    budget, cells = book._budget[0], book._cells
    read: dict[str, SheetData] = {}
    failed: dict[str, BaseException] = {}
    for name in names:
        try:
            read[name] = book.sheet(name)
        except Exception as exc:  # given back as it is, raised in the order of the sheets
            failed[name] = exc
            break  # the sheets after it are not needed: this error comes first among them
    return read, failed, budget - book._budget[0], book._cells - cells


PLAIN_SCAN_BYTES = 64 * MB  # a larger part is scanned (or read by expat) as it is inflated, never held whole


class _PlainSheet:
    """What :func:`plain_scan.scan_sheet` reads goes here: the same SheetData _SheetReader makes."""

    def __init__(self, book: Book, name: str):
        self.book, self.name = book, name
        self.data = SheetData()
        self.contents, self.cached = self.data.contents, self.data.cached
        self.rows_memo: dict | None = book.rows_memo
        self.long_text = False
        self.shared: dict[str, tuple[str, str]] = {}
        self.pending: list[tuple[str, str]] = []

    def count(self, cells: int) -> None:
        self.book._count(cells, self.name)

    def strings(self) -> list[str]:
        return self.book.strings()

    def cell(self, ref: str, kind: str, raw: str | None) -> object:
        def bad(zh: str, en: str) -> KpiError:
            return _damaged(self.book.path, zh, en, sheet=self.name, cell=ref, code="bad-cell")
        return None if raw is None else cell_value(self.book, kind, raw, bad)

    def formula(self, ref: str, text: str, attrs: dict[str, str], value: object) -> None:
        formula_cell(self.data, self.shared, self.pending, ref, text, attrs, value)

    def finish(self) -> SheetData:
        translate_shared(self.data, self.shared, self.pending)
        # a shared string is looked at only if some sheet read so far uses the strings
        self.data.long_text = self.long_text or (self.book._strings is not None and self.book.long_strings())
        return self.data


# ---------------------------------------------------------------------------------------
# Writing: patch cells, or write a new package from parts

def end_of_tag(data: bytes, index: int) -> int:
    """The position just past the tag that starts at ``data[index]`` ('<'), quotes respected."""
    quote = 0
    i = index
    n = len(data)
    while i < n:
        ch = data[i]
        if quote:
            if ch == quote:
                quote = 0
        elif ch in (0x22, 0x27):  # " '
            quote = ch
        elif ch == 0x3E:  # >
            return i + 1
        i += 1
    return n


def element_end(data: bytes, start: int, end_event: int) -> int:
    """The position just past an element, from expat's positions of its start and end events:
    the end event of an empty-element tag <c .../> comes just past it; that of <c>…</c> at
    its end tag's '<'."""
    head = end_of_tag(data, start)
    if head == end_event and data[head - 2:head] == b"/>":
        return head
    return end_of_tag(data, end_event)


def cell_elements(data: bytes, refs) -> dict[str, tuple[int, int, str]]:
    """(start, end, style) of the elements of the cells ``refs`` in a sheet part: one linear
    pass of the parser, positions exact (the cells a clone or a patch replaces)."""
    plain = cell_spans(data, refs)
    if plain is not None:
        return plain
    wanted = set(refs)
    found: dict[str, tuple[int, int, str]] = {}
    open_cell: list = []
    depth = {"data": False}

    def start(name, attrs):
        local = _local(name)
        if local == "sheetData":
            depth["data"] = True
        elif local == "c" and depth["data"]:  # every cell, so that each end closes its own
            open_cell.append((attrs.get("r"), parser.CurrentByteIndex, attrs.get("s", "")))

    def end(name):
        if _local(name) == "c" and open_cell:
            ref, at, style = open_cell.pop()
            if ref in wanted:
                found[ref] = (at, element_end(data, at, parser.CurrentByteIndex), style)

    parser = _parser(start, end, None)
    try:
        parser.Parse(data, True)
    except (_Refused, expat.ExpatError) as exc:
        raise ValueError(f"not a sheet part: {exc}") from None
    return found


def patch(book: Book, target: Path, edits: dict[str, dict[str, object]], cell_xml,
          drop_cached: bool = True) -> list[tuple[str, str]]:
    """Write ``book`` to ``target`` with the ``edits`` (sheet → ref → value) applied; each
    edited sheet without its formulas' cached results unless ``drop_cached`` is False.

    Returns the (sheet, ref) of edited cells that have no element in their sheet (a file
    saved by a program that dropped empty cells); nothing is written then.
    """
    parts: dict[str, bytes] = {}
    missing: list[tuple[str, str]] = []
    budget = [book.limits.book_bytes]  # the writing pass inflates the book once more
    for sheet, cells in edits.items():
        part = book.parts[sheet]
        data = _inflated(book, part, budget)[1]
        try:
            found = cell_elements(data, cells)
        except ValueError as exc:
            raise _damaged(book.path, f"工作表“{sheet}”不是有效的 XML", f"sheet '{sheet}' is not valid XML",
                           sheet=sheet) from exc
        spans = {ref: span for ref, span in found.items()
                 if data[span[0]:span[0] + 3] in (b"<c ", b"<c>", b"<c/")}  # <x:c>: not ours to write
        missing += [(sheet, ref) for ref in cells if ref not in spans]
        if missing:
            continue
        pieces, position = [], 0
        for ref in sorted(cells, key=lambda r: spans[r][0]):
            start, end, style = spans[ref]
            pieces.append(data[position:start])
            pieces.append(cell_xml(ref, style, cells[ref]).encode("utf-8"))
            position = end
        pieces.append(data[position:])
        out = b"".join(pieces)
        parts[part] = _drop_cached(out) if drop_cached else out
    if missing:
        return missing
    stored, workbook = _inflated(book, "xl/workbook.xml", budget)
    calc = _full_calc(workbook)
    copied = {}  # parts read above, copied as they are stored
    if calc != workbook:
        parts["xl/workbook.xml"] = calc
    elif stored is not None:  # (a book fill wrote asks for it already)
        copied["xl/workbook.xml"] = stored
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        now = time.localtime()[:6]
        for info in book.zip.infolist():
            if info.filename in parts:
                data = parts[info.filename]
                _put(archive, info.filename, now, zipfile.ZIP_DEFLATED, _deflate(data), _crc32(data), len(data))
                continue
            member = (copied[info.filename], b"") if info.filename in copied else _member(book, info, budget)
            if member is None:  # compressed some other way: inflated and deflated again
                data = book.read(info.filename, budget)
                _put(archive, info.filename, now, zipfile.ZIP_DEFLATED, _deflate(data), _crc32(data), len(data))
            else:
                _put(archive, info.filename, info.date_time, info.compress_type, member[0], info.CRC, info.file_size)
    return []


def rewrite(book: Book, target: Path, change: Callable[[str, bytes], tuple[bytes | memoryview, ...] | None]) -> None:
    """Write ``book`` to ``target`` part by part, each through ``change(part, its bytes)``:
    what it returns (the part changed, in pieces: a big part's unchanged bytes need not be
    copied to join them) is deflated at the fastest level (by isal where installed); a part
    it leaves (None) is copied as it is stored, not deflated again. Every part is inflated
    and checked as a read checks it (the limits, its size and CRC), one at a time, so no
    damaged or oversized part is copied and the book is never held whole."""
    budget = [book.limits.book_bytes]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        now = time.localtime()[:6]
        for info in book.zip.infolist():
            member = _member(book, info, budget)
            data = member[1] if member is not None else book.read(info.filename, budget)
            changed = change(info.filename, data)
            if changed is None and member is not None:
                _put(archive, info.filename, info.date_time, info.compress_type, member[0], info.CRC, info.file_size)
                continue
            pieces = (data,) if changed is None else changed
            packer, crc = fast_deflater(), 0
            packed = []
            for piece in pieces:
                crc = _crc32(piece, crc)
                packed.append(packer.compress(piece))
            packed.append(packer.flush())
            _put(archive, info.filename, now, zipfile.ZIP_DEFLATED, b"".join(packed), crc, sum(map(len, pieces)))


crc32 = _crc32  # zlib.crc32, by isal where installed


def fast_deflater():
    """A raw deflate stream (as a zip member holds it) at the fastest level, by isal where
    installed (zlib otherwise): ``.compress(chunk)`` … ``.flush()``."""
    return _zlib.compressobj(1, _zlib.DEFLATED, -15)


def _deflate(data: bytes) -> bytes:
    """``data`` deflated (raw, as a zip member holds it) at the fastest level."""
    compressor = _zlib.compressobj(1, _zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def _inflated(book: Book, part: str, budget: list[int]) -> tuple[bytes | None, bytes]:
    """:meth:`Book.read` of a part the patch reads (the same checks, one call to inflate),
    with its bytes as stored (None: compressed some other way)."""
    try:
        info = book.zip.getinfo(part)
    except KeyError:
        raise _damaged(book.path, f"缺少 {part}", f"{part} is missing") from None
    member = _member(book, info, budget)
    return (None, book.read(part, budget)) if member is None else member


def _member(book: Book, info: zipfile.ZipInfo, budget: list[int]) -> tuple[bytes, bytes] | None:
    """The member's bytes as they are stored (deflated or stored: copied as they are, not
    deflated again) and inflated; None for another compression or an encrypted member.
    They are checked as :meth:`Book.read` checks them — inflated within the limits and the
    book's ``budget``, their size and CRC those of the zip's directory — so no damaged or
    oversized part is copied."""
    if info.compress_type not in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED) or info.flag_bits & 1:
        return None
    allowance = book.limits.part_allowance(info.compress_size)
    if info.file_size > allowance or info.file_size > budget[0]:
        raise _bomb(book.path, info, info.file_size)
    try:
        at = _data_at(book.zip, info, book.path)
        fp = book.zip.fp
        if fp is None:
            raise ValueError("the book is closed")
        fp.seek(at)
        raw = fp.read(info.compress_size)
        if info.compress_type == zipfile.ZIP_STORED:
            data = raw
        else:
            inflater = _zlib.decompressobj(-15)
            data = inflater.decompress(raw, info.file_size + 1)
            if not inflater.eof:
                raise ValueError("the deflated data does not end where the directory says")
        if len(raw) != info.compress_size or len(data) != info.file_size or _crc32(data) != info.CRC:
            raise ValueError("its size or CRC is not the directory's")
    except _INFLATE_ERRORS as exc:
        raise _damaged(book.path, f"无法解压 {info.filename}（{exc}）",
                       f"cannot inflate {info.filename} ({exc})") from None
    budget[0] -= info.file_size
    return raw, data


def put_stored(out: zipfile.ZipFile, name: str, date_time, method: int, crc: int, size: int,
               compressed: int, chunks: Iterable[bytes]) -> None:
    """One member written to ``out`` from its bytes as they are stored (deflated already, or
    stored), ``compressed`` bytes in ``chunks``, with its ``crc`` and ``size`` inflated: no
    byte inflated or deflated again. Its directory entry is added after the last chunk, so a
    ``chunks`` that raises (a history whose bytes are not the sealed ones) leaves it out."""
    info = zipfile.ZipInfo(name, date_time=date_time)
    info.compress_type = method
    info.external_attr = 0o600 << 16
    info.CRC, info.compress_size, info.file_size = crc, compressed, size
    fp = out.fp
    if fp is None:
        raise ValueError("the zip is closed")
    info.header_offset = fp.tell()
    fp.write(info.FileHeader(size > zipfile.ZIP64_LIMIT or compressed > zipfile.ZIP64_LIMIT))
    written = 0
    for chunk in chunks:
        fp.write(chunk)
        written += len(chunk)
    if written != compressed:
        raise ValueError(f"{name}: {written} bytes written where the header says {compressed}")
    out.filelist.append(info)
    out.NameToInfo[name] = info
    out.start_dir = fp.tell()  # the directory goes after the last member, as writestr leaves it
    out._didModify = True  # type: ignore[attr-defined]  # so that closing writes the directory


def _put(out: zipfile.ZipFile, name: str, date_time, method: int, stored: bytes, crc: int, size: int) -> None:
    """:func:`put_stored` of a member held whole."""
    put_stored(out, name, date_time, method, crc, size, len(stored), (stored,))


_CACHED_AFTER_FORMULA = re.compile(rb"</f><v>[^<]*+</v>")  # the form every program writes
_CACHED_LEFT = (re.compile(rb"</f>[ \t\n]*<v"), re.compile(rb"<f[^<>]*/>[ \t\n]*<v"))


def _drop_cached(data: bytes) -> bytes:
    """The sheet without its formulas' cached results, so every program recomputes them.
    The usual form, a <v> right after </f>, goes by one expression on its literal "</f><v>"
    (fill writes a hundred thousand sheets of them); if any other is left (whitespace
    between, an <f/>, a <v> with attributes) or the part may hide markup ("<!"), the part
    goes through :func:`_drop_cached_parsed` (what is gone stays gone)."""
    if b"!" in data and b"<!" in data:
        return _drop_cached_parsed(data)
    out = _CACHED_AFTER_FORMULA.sub(b"</f>", data) if b"</f><v>" in data else data
    if any(left.search(out) is not None for left in _CACHED_LEFT):
        return _drop_cached_parsed(out)
    return out


def _drop_cached_parsed(data: bytes) -> bytes:
    """:func:`_drop_cached` of any form: each <v> that follows a formula inside a cell is
    removed, in one linear pass."""
    plain = drop_cached(data)
    if plain is not None:
        return plain
    out = []
    spans: list[tuple[int, int]] = []
    state = {"f": False}

    def start(name, attrs):
        local = _local(name)
        if local == "c":
            state["f"] = False
        elif local == "f":
            state["f"] = True
        elif local == "v" and state["f"]:
            spans.append((parser.CurrentByteIndex, -1))

    def end(name):
        if _local(name) == "v" and spans and spans[-1][1] == -1:
            spans[-1] = (spans[-1][0], parser.CurrentByteIndex)

    parser = _parser(start, end, None)
    parser.Parse(data, True)
    position = 0
    for start_at, end_event in spans:
        stop = element_end(data, start_at, end_event)
        out.append(data[position:start_at])
        position = stop
    out.append(data[position:])
    return b"".join(out)


def _full_calc(data: bytes) -> bytes:
    """Ask Excel to recompute everything when it opens the book."""
    try:
        xml = data.decode("utf-8")
    except UnicodeDecodeError:  # another encoding (the parser read it): leave it be
        return data
    if "fullCalcOnLoad" in xml:
        return data
    if "<calcPr" in xml:
        return xml.replace("<calcPr", '<calcPr fullCalcOnLoad="1"', 1).encode("utf-8")
    return xml.replace("</workbook>", '<calcPr fullCalcOnLoad="1"/></workbook>', 1).encode("utf-8")


def read_parts(path: Path) -> dict[str, bytes]:
    """Every part of a package we wrote ourselves (XlsxWriter's), inflated within limits."""
    with Book.open(path) as book:
        return {info.filename: book.read(info.filename) for info in book.zip.infolist()}


def write_parts(target: Path, parts: dict[str, bytes]) -> None:
    """A package from its parts, [Content_Types].xml first."""
    order = ["[Content_Types].xml"] + [k for k in parts if k != "[Content_Types].xml"]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for name in order:
            out.writestr(name, parts[name])
