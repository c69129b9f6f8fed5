"""A cache of parsed template files, keyed by their content: every command starts fast.

Parsing YAML is most of what loading the templates costs; validating the parsed data with
pydantic is cheap. So the plain data a template file parses to is kept as JSON in the
user's cache folder, one file per content hash (SHA-256 of the parser's name and the
file's text): a changed template has another hash and is parsed afresh, an entry that is
unreadable, damaged or of another shape is ignored, and entries are written atomically.
Only data is cached (JSON, never pickle): loading an entry cannot run code, and the models
are still validated from it every time. A file whose data JSON would not give back exactly
(a date, a number as a key) is simply not cached.

The folder is ``$KPI_WORKBOOK_CACHE`` if set (``off`` turns the cache off), else
platformdirs' user cache folder when platformdirs is installed, else
``$XDG_CACHE_HOME/kpi-workbook`` or ``~/.cache/kpi-workbook``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

FORMAT = 1  # bump when what an entry holds changes


def cache_dir() -> Path | None:
    """The folder for parsed templates, or None when the cache is off."""
    configured = os.environ.get("KPI_WORKBOOK_CACHE")
    if configured is not None:
        return None if configured.strip().lower() in ("", "off", "0", "no") else Path(configured)
    try:
        from platformdirs import user_cache_dir
    except ImportError:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(base) / "kpi-workbook" / "templates"
    return Path(user_cache_dir("kpi-workbook", appauthor=False)) / "templates"


def key(parser: str, text: str) -> str:
    return hashlib.sha256(f"{FORMAT}\0{parser}\0{text}".encode()).hexdigest()


def get(folder: Path | None, entry: str):
    """The cached data for ``entry``, or :data:`MISS`."""
    if folder is None:
        return MISS
    try:
        with open(folder / f"{entry}.json", encoding="utf-8") as fh:
            stored = json.load(fh)
    except (OSError, UnicodeDecodeError, ValueError):  # absent, unreadable or damaged
        return MISS
    if not isinstance(stored, dict) or stored.get("key") != entry or "data" not in stored:
        return MISS
    return stored["data"]


def put(folder: Path | None, entry: str, data) -> bool:
    """Keep ``data`` for ``entry`` if JSON gives it back exactly; True if written. A cache
    that cannot be written (a read-only home) only means the next start parses again."""
    if folder is None:
        return False
    try:
        text = json.dumps({"key": entry, "data": data}, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):  # a date, a NaN: not JSON data
        return False
    if json.loads(text)["data"] != data:  # e.g. a number as a mapping key
        return False
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=folder, prefix=".tmp-",
                                         suffix=".json", delete=False) as fh:
            tmp = Path(fh.name)
            fh.write(text)
        os.replace(tmp, folder / f"{entry}.json")
        return True
    except OSError:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        return False


class _Miss:
    def __repr__(self) -> str:
        return "MISS"


MISS = _Miss()
