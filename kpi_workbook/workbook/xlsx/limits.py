"""The limits of what a book may hold, and opening files people send: refuse zip bombs and
non-xlsx files before any parser runs.

The package layer (``package.py``) inflates every part as a stream against the same
limits, so a part whose header lies about its size is stopped too; this check refuses a
book from its zip directory before anything is inflated, also for the few places that
read through openpyxl (which parses with defusedxml: no entity expansion).
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import ParseError as XmlParseError
from xml.parsers.expat import ExpatError

from ...diagnostics import KpiError, error
from ...limits import BY_NAME as TABLE
from ...limits import MB, check_path, value



def _default(name: str) -> int:
    found = TABLE[name].value
    assert found is not None  # the book limits are numbers
    return int(found)


@dataclass(frozen=True)
class Limits:
    """Bounds on what one book may hold, from the one table of limits (``kpi_workbook.limits``,
    README "Safety and limits"). Defaults are far above real use (a book of 10,000
    scorecards is about 3 million cells and 300 MB of XML); the environment variables
    KPI_WORKBOOK_MAX_PART_MB, _MAX_BOOK_MB, _MAX_RATIO, _MAX_SHEETS, _MAX_ROWS, _MAX_CELLS
    lower or raise them (a bad value is refused, never ignored)."""

    part_bytes: int = _default("part_mb") * MB  # one inflated part
    book_bytes: int = _default("book_mb") * MB  # all parts of a book together
    ratio: int = _default("ratio")  # inflated ÷ compressed, for any part larger than ratio_floor
    # (Gnumeric's styles part compresses 133×, zeros about 1,000×)
    ratio_floor: int = 1 * MB  # a part this small may compress any amount
    sheets: int = _default("sheets")
    rows: int = _default("rows")  # Excel's own row limit
    cells: int = _default("cells")

    @classmethod
    def from_env(cls) -> Limits:
        d = cls()
        return cls(part_bytes=value("part_mb") * MB, book_bytes=value("book_mb") * MB,
                   ratio=value("ratio"), ratio_floor=d.ratio_floor, sheets=value("sheets"),
                   rows=value("rows"), cells=value("cells"))

    def part_allowance(self, compressed: int) -> int:
        """The most a part of ``compressed`` bytes may inflate to."""
        return min(self.part_bytes, max(self.ratio_floor, self.ratio * max(compressed, 1)))


# What reading a damaged or hostile file through openpyxl or pandas raises (defusedxml's
# refusals are ValueErrors). Anything else is a bug and must surface as one (exit 3).
# ``DAMAGED`` is made when first asked for (a module __getattr__), so that importing this
# module does not import openpyxl: the report reads through package.py alone; the modules
# that read through openpyxl ask for it where they do.
_DAMAGED: tuple[type[BaseException], ...] = ()


def __getattr__(name: str) -> tuple[type[BaseException], ...]:
    global _DAMAGED
    if name != "DAMAGED":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if not _DAMAGED:
        from openpyxl.utils.exceptions import InvalidFileException

        _DAMAGED = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, KeyError, ValueError, OSError,
                    EOFError, UnicodeError, InvalidFileException, XmlParseError, ExpatError)
    return _DAMAGED

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a compound file: encrypted xlsx, or old .xls


def _refuse(code: str, path: Path, zh: str, en: str) -> KpiError:
    return KpiError([error(code, zh, en, source=str(path))])


def check_file(path: Path) -> None:
    """Refuse what is not a zip at all: a missing file, a looping link, an encrypted book."""
    check_path(path, "工作簿", "workbook")  # a name the system cannot hold: one sentence
    if path.is_symlink() and not path.exists():
        raise _refuse("bad-symlink", path, f"{path.name} 是循环或损坏的符号链接，无法读取",
                      f"{path.name} is a looping or broken symbolic link: cannot read it")
    if not path.is_file():
        raise _refuse("no-file", path, f"找不到文件 {path}", f"file not found: {path}")
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            if head == OLE_MAGIC:
                f.seek(0)
                probe = f.read(1 << 20)
    except OSError as exc:
        raise _refuse("cannot-read", path, f"无法读取 {path}：{exc.strerror}",
                      f"cannot read {path}: {exc.strerror}") from None
    if head == OLE_MAGIC:
        if "EncryptedPackage".encode("utf-16-le") in probe or b"E\x00n\x00c\x00r\x00y\x00p\x00t" in probe:
            raise _refuse("encrypted", path, f"{path.name} 受密码保护（已加密），请在 Excel 中取消密码后再用",
                          f"{path.name} is password-protected (encrypted): remove the password in Excel first")
        raise _refuse("not-xlsx", path, f"{path.name} 是旧的 .xls 格式，请另存为 .xlsx",
                      f"{path.name} is in the old .xls format: save it as .xlsx")
    if not zipfile.is_zipfile(path):
        raise _refuse("not-xlsx", path, f"{path.name} 不是 xlsx 工作簿（文件损坏或格式不对）",
                      f"{path.name} is not an xlsx workbook (corrupt or wrong format)")


def check_xlsx(path: Path | str, limits: Limits | None = None) -> None:
    """Raise KpiError unless ``path`` is a plausible, bounded .xlsx/.xlsm zip."""
    path = Path(path)
    check_file(path)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _refuse("not-xlsx", path, f"{path.name} 无法打开：{exc}", f"cannot open {path.name}: {exc}") from None
    check_archive(path, infos, limits or Limits.from_env())


def check_archive(path: Path, infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    """The zip directory of a book: its parts, encryption and claimed sizes."""
    names = {i.filename for i in infos}
    if len(names) != len(infos):  # programs differ on which copy of a part they read
        seen: set[str] = set()
        twice = ""
        for info in infos:
            if info.filename in seen:
                twice = info.filename
                break
            seen.add(info.filename)
        raise _refuse("damaged-xlsx", path, f"{path.name} 中的部件 {twice} 出现了两次，文件已损坏",
                      f"{path.name} holds the part {twice} twice: the file is damaged")
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise _refuse("not-xlsx", path, f"无法打开 {path.name}：不是 xlsx 工作簿（缺少 [Content_Types].xml 或 xl/workbook.xml）",
                      f"cannot open {path.name}: not an xlsx workbook ([Content_Types].xml or xl/workbook.xml "
                      "is missing)")
    if any(i.flag_bits & 0x1 for i in infos):
        raise _refuse("encrypted", path, f"{path.name} 受密码保护（zip 加密），无法读取",
                      f"{path.name} is password-protected (zip encryption) and cannot be read")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > limits.part_allowance(info.compress_size) or total > limits.book_bytes:
            ratio = info.file_size // max(info.compress_size, 1)
            raise _refuse("zip-bomb", path,
                          f"{path.name} 中的 {info.filename} 解压后过大（{info.file_size >> 20} MB，压缩比 {ratio}），"
                          "疑似压缩炸弹，拒绝打开",
                          f"{info.filename} in {path.name} expands to {info.file_size >> 20} MB "
                          f"(ratio {ratio}): refused as a possible zip bomb")
    if len(infos) > limits.sheets * 4 + 1000:
        raise _refuse("too-large", path, f"{path.name} 含有 {len(infos)} 个部件，超出限制",
                      f"{path.name} has {len(infos)} parts, more than the limit")
