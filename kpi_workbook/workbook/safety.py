"""Opening files people send: refuse zip bombs and non-xlsx files before any parser runs.

openpyxl parses the XML inside with defusedxml when it is installed (it is a dependency),
which defuses entity-expansion attacks; this module guards the zip container itself.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..diagnostics import KpiError, error

MAX_UNCOMPRESSED = 1 << 30  # 1 GiB of XML is far beyond any real scorecard workbook
MAX_RATIO = 200  # real xlsx parts compress 5–20×; bombs compress thousands of times


def check_xlsx(path: Path | str) -> None:
    """Raise KpiError unless ``path`` is a plausible, bounded .xlsx/.xlsm zip."""
    path = Path(path)
    if not path.is_file():
        raise KpiError([error("no-file", f"找不到文件 {path}", f"file not found: {path}",
                              source=str(path))])
    if not zipfile.is_zipfile(path):
        raise KpiError([error("not-xlsx", f"{path.name} 不是 xlsx 工作簿（文件损坏或格式不对）",
                              f"{path.name} is not an xlsx workbook (corrupt or wrong format)",
                              source=str(path))])
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise KpiError([error("not-xlsx", f"{path.name} 无法打开：{exc}", f"cannot open {path.name}: {exc}",
                              source=str(path))]) from None
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names:
        raise KpiError([error("not-xlsx", f"{path.name} 不是 xlsx 工作簿", f"{path.name} is not an xlsx workbook",
                              source=str(path))])
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    if total > MAX_UNCOMPRESSED or (total > (50 << 20) and total / packed > MAX_RATIO):
        raise KpiError([error("zip-bomb", f"{path.name} 解压后过大（{total >> 20} MB），拒绝打开",
                              f"{path.name} expands to {total >> 20} MB: refused as a possible zip bomb",
                              source=str(path))])
