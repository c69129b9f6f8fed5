"""Recalculating workbooks with a real spreadsheet engine (LibreOffice, headless).

XlsxWriter writes formulas with a cached value of 0 (or whatever ``value=`` says), so
reading a freshly generated file with openpyxl ``data_only=True`` proves nothing about
the formulas.  :func:`recalculate` round-trips files through ``soffice --convert-to xlsx``
with a throw-away user profile that forces a full recalculation on load, and
:func:`read_defined_values` reads the recalculated values back by defined name.

Gotchas this module handles (verified against LibreOffice 7.4):

* By default LibreOffice *keeps* the cached values an xlsx carries ("never recalculate"
  for files not saved by LibreOffice itself); only ``Formula/Load/OOXMLRecalcMode = 0``
  in the profile's ``registrymodifications.xcu`` makes it recalculate every formula.
* ``soffice`` exits with status 0 even when an input cannot be loaded (it only prints
  "Error: source file could not be loaded"), so every expected output is checked.
* Each call gets its own profile directory: LibreOffice hands work over to an already
  running instance that uses the same profile, so a shared profile would make
  concurrent calls (or a desktop LibreOffice) interfere.
* Sheet-scoped names survive the round trip as ``<definedName localSheetId="N">``;
  openpyxl 3.1 puts them in ``ws.defined_names``, global ones in ``wb.defined_names``.
* Error results come back as strings such as ``"#N/A"`` or ``"#DIV/0!"`` (openpyxl cell
  ``data_type == "e"``); booleans as ``True``/``False``; text formulas as ``str``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from .files import unfinished

__all__ = ["find_soffice", "recalculate", "read_defined_values", "export_pdf", "RECALC_XCU"]

_FALLBACK = Path("/usr/lib/libreoffice/program/soffice")

# 0 = always recalculate, 1 = never, 2 = prompt (which headless treats as "never").
RECALC_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" \
xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""

_XLSX_FILTER = "xlsx:Calc MS Excel 2007 XML"


def find_soffice() -> str | None:
    """Path of the LibreOffice ``soffice`` executable, or None when it is not installed."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    if _FALLBACK.is_file() and os.access(_FALLBACK, os.X_OK):
        return str(_FALLBACK)
    return None


def _kill_group(proc: subprocess.Popen) -> None:
    """Stop the soffice wrapper and the soffice.bin it spawned (same new session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()


def recalculate(paths: list[Path], out_dir: Path, timeout: float = 600) -> list[Path]:
    """Recalculate every workbook in ``paths`` with LibreOffice; return the new files.

    All files are converted by one ``soffice`` process.  Outputs are written to
    ``out_dir`` under the input's stem + ``.xlsx`` (the same name for .xlsx inputs),
    replacing files of that name; the returned list is in the order of ``paths``.
    Raises FileNotFoundError for a missing input, ValueError for bad arguments and
    RuntimeError (with soffice's output) when soffice is missing, times out or fails
    to produce an output.
    """
    paths = [Path(p).resolve() for p in paths]
    out_dir = Path(out_dir).resolve()
    if not paths:
        return []
    for p in paths:
        if not p.is_file():
            raise FileNotFoundError(f"cannot recalculate {p}: no such file")
        if p.parent == out_dir:
            raise ValueError(f"out_dir {out_dir} must differ from the directory of input {p}")
    names = [p.stem + ".xlsx" for p in paths]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"inputs would overwrite each other in {out_dir}: {duplicates}")
    soffice = find_soffice()
    if soffice is None:
        raise RuntimeError("LibreOffice (soffice) is not installed or not on PATH")
    out_dir.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="kpi-lo-") as tmp, unfinished(Path(tmp)):
        tmp_path = Path(tmp)
        user = tmp_path / "profile" / "user"
        user.mkdir(parents=True)
        (user / "registrymodifications.xcu").write_text(RECALC_XCU, encoding="utf-8")
        staging = tmp_path / "out"  # fresh, so a stale file can never pass for an output
        staging.mkdir()
        cmd = [
            soffice,
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--headless", "--norestore", "--nologo", "--nolockcheck",
            "--convert-to", _XLSX_FILTER,
            "--outdir", str(staging),
            *map(str, paths),
        ]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise RuntimeError(f"soffice timed out after {timeout:g}s converting "
                               f"{len(paths)} file(s)") from None
        finally:
            if proc.poll() is None:  # e.g. KeyboardInterrupt during communicate()
                _kill_group(proc)
        out_text = stdout.decode(errors="replace").strip()
        err_text = stderr.decode(errors="replace").strip()
        missing = [p for p, n in zip(paths, names) if not (staging / n).is_file()]
        if proc.returncode != 0 or missing:
            which = ", ".join(str(p) for p in missing) or "(none missing)"
            raise RuntimeError(
                f"soffice failed to recalculate {which} (exit status {proc.returncode})\n"
                f"stderr:\n{err_text or '(empty)'}\nstdout:\n{out_text or '(empty)'}")
        results = []
        for n in names:
            target = out_dir / n
            shutil.move(str(staging / n), str(target))
            results.append(target)
    return results


def export_pdf(book: Path, out: Path, timeout: float = 600) -> Path:
    """``book`` printed to the PDF ``out`` by LibreOffice (its print setup: page size,
    scaling, headers), written atomically. RuntimeError when soffice is missing or fails."""
    from .files import atomic_output

    book, out = Path(book).resolve(), Path(out)
    soffice = find_soffice()
    if soffice is None:
        raise RuntimeError("LibreOffice (soffice) is not installed or not on PATH")
    with tempfile.TemporaryDirectory(prefix="kpi-lo-") as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "profile" / "user").mkdir(parents=True)
        staging = tmp_path / "out"
        staging.mkdir()
        cmd = [soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
               "--norestore", "--nologo", "--nolockcheck", "--convert-to", "pdf", "--outdir",
               str(staging), str(book)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            _, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise RuntimeError(f"soffice timed out after {timeout:g}s printing {book.name}") from None
        finally:
            if proc.poll() is None:
                _kill_group(proc)
        made = staging / (book.stem + ".pdf")
        if proc.returncode != 0 or not made.is_file():
            raise RuntimeError(f"soffice failed to print {book} (exit status {proc.returncode}): "
                               f"{stderr.decode(errors='replace').strip() or '(no output)'}")
        with atomic_output(out, force=True) as target:
            shutil.copyfile(made, target)
    return out


_SKIP = object()


def _cell_value(wb, sheet: str, cells: str):
    """Value of a single-cell reference like ``$B$1``; ``_SKIP`` for anything else."""
    from openpyxl.utils.cell import range_boundaries

    if sheet not in wb.sheetnames:
        return _SKIP
    try:
        min_col, min_row, max_col, max_row = range_boundaries(cells.replace("$", ""))
    except (ValueError, TypeError):
        return _SKIP
    if None in (min_col, min_row) or (min_col, min_row) != (max_col, max_row):
        return _SKIP
    return wb[sheet].cell(row=min_row, column=min_col).value


def _resolve(wb, defined) -> dict[str, object]:
    from openpyxl.formula.tokenizer import TokenizerError

    values: dict[str, object] = {}
    for name, dn in defined.items():
        try:
            dests = list(dn.destinations)
        except (TokenizerError, AttributeError):  # formulas openpyxl cannot split or match
            continue  # (constants and #REF! have no destinations: an empty list)
        if len(dests) != 1:
            continue
        sheet, cells = dests[0]
        value = _cell_value(wb, sheet.replace("''", "'"), cells)
        if value is not _SKIP:
            values[name] = value
    return values


def read_defined_values(path: Path) -> dict[str, dict[str, object]]:
    """``{sheet title: {name: value}}`` for single-cell defined names of a recalculated file.

    Sheet-scoped names are listed under their sheet; workbook-global names under ``""``.
    Names that are not a single cell (ranges, multi-area, constants, formulas, broken
    references) are left out.  Values are openpyxl's cached values (``data_only=True``):
    numbers, str, bool, None, datetimes, and error codes as strings like ``"#N/A"``.
    """
    from openpyxl import load_workbook

    wb = load_workbook(Path(path), data_only=True)
    try:
        result: dict[str, dict[str, object]] = {"": _resolve(wb, wb.defined_names)}
        for ws in wb.worksheets:
            result[ws.title] = _resolve(wb, ws.defined_names)
        return result
    finally:
        wb.close()
