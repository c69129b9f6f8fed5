"""Recalculating a workbook with each of three spreadsheet engines, values read back alike.

The workbooks' formulas must give one result in Excel, WPS and LibreOffice. Excel cannot
run here, but three engines can, and each departs from Excel somewhere else (see
docs/excel-semantics.md): a formula on which all three agree is in the part of the
language they share. This module is the one place that runs them:

* ``libreoffice`` — ``soffice --convert-to xlsx`` with recalculation forced
  (:mod:`.libreoffice`);
* ``gnumeric`` — ``ssconvert --recalc in.xlsx out.xlsx`` (Debian package ``gnumeric``);
* ``formulas`` — the ``formulas`` package from PyPI (a test extra), in this process.

:func:`recalculate` gives ``{sheet title: {A1: value}}`` for one engine; values are
numbers (float), text (str), logicals (bool), error codes as text ("#N/A") and None for an
empty cell or an empty-text result. :func:`defined_cells` maps each sheet's defined names
to cells, so results are read by name whatever an engine does to names on saving.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import libreoffice

ENGINES = ("libreoffice", "gnumeric", "formulas")

Values = dict[str, dict[str, object]]


def find_engine(engine: str) -> str | None:
    """What runs ``engine`` here (a path, or the module's version), None when missing."""
    if engine == "libreoffice":
        return libreoffice.find_soffice()
    if engine == "gnumeric":
        return shutil.which("ssconvert")
    if engine == "formulas":
        try:
            import formulas
        except ImportError:
            return None
        return f"formulas {getattr(formulas, '__version__', '?')}"
    raise ValueError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")


def missing_engines(engines=ENGINES) -> list[str]:
    return [e for e in engines if find_engine(e) is None]


def _normal(value) -> object:
    """One cell value in the common form (see the module docstring)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) or type(value).__module__ == "numpy":
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, bool):
            return value
        return float(value)
    text = str(value)
    if text == "empty" and type(value).__name__ in ("Token", "_Token"):  # schedula.EMPTY
        return None
    return text


def _read_xlsx(path: Path) -> Values:
    import warnings

    from openpyxl import load_workbook

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Gnumeric's files have "no default style"
        wb = load_workbook(path, data_only=True, read_only=True)
    try:
        return {ws.title: {c.coordinate: _normal(c.value) for row in ws.iter_rows() for c in row
                           if getattr(c, "value", None) is not None}
                for ws in wb.worksheets}
    finally:
        wb.close()


def _gnumeric(path: Path, out_dir: Path, timeout: float) -> Path:
    ssconvert = find_engine("gnumeric")
    if ssconvert is None:
        raise RuntimeError("Gnumeric (ssconvert) is not installed: apt-get install gnumeric")
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / (path.stem + ".xlsx")
    target.unlink(missing_ok=True)  # a stale file can never pass for an output
    proc = subprocess.run([ssconvert, "--recalc", str(path), str(target)], capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=timeout)
    if proc.returncode != 0 or not target.is_file():
        raise RuntimeError(f"ssconvert failed to recalculate {path} (exit status "
                           f"{proc.returncode})\n{proc.stderr.decode(errors='replace')}")
    return target


def _formulas(path: Path) -> Values:
    try:
        import formulas
    except ImportError:
        raise RuntimeError("the formulas package is not installed: pip install formulas") from None
    import warnings

    from formulas.functions import wrap_ufunc

    from ..numbers import excel_round

    functions = formulas.get_functions()
    own_round = functions["ROUND"]
    # formulas' ROUND rounds the binary double (ROUND(5.015,2) is 5.01: 501.4999… × 100),
    # Excel, LibreOffice and Gnumeric the value at 15 significant digits (5.02): that
    # departure (docs/excel-semantics.md) is not what this engine is here to check, so it
    # rounds as Excel does while it recalculates a book
    functions["ROUND"] = wrap_ufunc(lambda x, d: excel_round(x, int(d)))
    # openpyxl, loading the book for ``formulas``, copies the borders and protection of each
    # merged range onto its covered cells (MergedCellRange.format): styles no formula reads,
    # and a sixth of the load of a book of scorecards. The covered cells are made empty
    # before that (Worksheet._clean_merge_range), so the values are the same without it.
    from openpyxl.worksheet.merge import MergedCellRange

    own_format = MergedCellRange.format
    MergedCellRange.format = lambda self: None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's "no default style"
            model = formulas.ExcelModel().loads(str(path)).finish()
            solution = model.calculate()
    finally:
        functions["ROUND"] = own_round
        MergedCellRange.format = own_format
    out: Values = {}
    for key, ranges in solution.items():
        # "'[book.xlsx]SHEET'!A1" (sheet titles upper-cased), single cells only
        book_sheet, _, ref = str(key).rpartition("!")
        if ":" in ref or "]" not in book_sheet:
            continue
        sheet = book_sheet.strip("'").split("]", 1)[1].replace("''", "'")
        out.setdefault(sheet.upper(), {})[ref] = _normal(_scalar(getattr(ranges, "value", ranges)))
    return out


def _scalar(value):
    """A cell's value out of the 1×1 array ``formulas`` gives (a scalar stays as it is)."""
    try:
        return value[0][0]
    except (TypeError, IndexError, KeyError):
        return value


def recalculate(engine: str, path: Path, out_dir: Path, timeout: float = 900) -> Values:
    """Recalculate ``path`` with ``engine``; ``{sheet title: {A1: value}}``.

    Raises RuntimeError when the engine is missing or fails. For ``formulas``, sheet titles
    are matched without regard to case (the package upper-cases them): use :func:`lookup`.
    """
    path, out_dir = Path(path).resolve(), Path(out_dir).resolve()
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")
    titles = _sheet_titles(path)  # also: an input that is no workbook fails here, clearly
    if engine == "libreoffice":
        (done,) = libreoffice.recalculate([path], out_dir / "libreoffice", timeout=timeout)
        values = _read_xlsx(done)
    elif engine == "gnumeric":
        values = _read_xlsx(_gnumeric(path, out_dir / "gnumeric", timeout))
    else:
        values = _formulas(path)
    # ssconvert exits 0 even for a file it misread (as text): every sheet must be back
    lost = [t for t in titles if t not in values and t.upper() not in values]
    if lost:
        raise RuntimeError(f"{engine} lost sheet(s) {lost[:5]} of {path}: it did not read "
                           "the workbook")
    return values


def _sheet_titles(path: Path) -> list[str]:
    from openpyxl import load_workbook

    from .xlsx.limits import DAMAGED

    try:
        wb = load_workbook(path, read_only=True)
    except DAMAGED as exc:  # what a file that is no workbook raises (a bug stays a bug)
        raise RuntimeError(f"cannot recalculate {path}: not a readable .xlsx ({exc})") from None
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def recalculate_all(path: Path, out_dir: Path, engines=ENGINES) -> dict[str, Values]:
    """Every engine on one workbook, at once (the external ones run while ``formulas``
    computes in this process). ``{engine: values}``."""
    external = [e for e in engines if e != "formulas"]
    with ThreadPoolExecutor(max_workers=max(1, len(external))) as pool:
        futures = {e: pool.submit(recalculate, e, path, out_dir) for e in external}
        results = {"formulas": recalculate("formulas", path, out_dir)} if "formulas" in engines else {}
        results.update({e: f.result() for e, f in futures.items()})
    return {e: results[e] for e in engines}


def lookup(values: Values, sheet: str, ref: str) -> object:
    """The value of ``sheet!ref`` (``$`` ignored; sheet title case-insensitive)."""
    ref = ref.replace("$", "")
    cells = values.get(sheet)
    if cells is None:
        cells = values.get(sheet.upper(), {})
    return cells.get(ref)


def defined_cells(path: Path) -> dict[str, dict[str, str]]:
    """``{sheet title: {name: A1}}`` for the sheet-scoped single-cell names of ``path``
    (workbook-global ones under ``""`` with "sheet!A1")."""
    import openpyxl  # loads openpyxl.reader.excel (not imported by name: it is no excel/ of ours)

    # Only the workbook part: openpyxl's full reader (which alone binds sheet-scoped names
    # to sheets) parsed every cell and style first, 6 s for a month of 250 cards. The names
    # are bound here as openpyxl binds them (WorkbookParser.assign_names): localSheetId is
    # the index among all sheets, reserved names (print titles, print area) left out.
    reader = openpyxl.reader.excel.ExcelReader(str(path), read_only=True)
    try:
        reader.read_manifest()
        reader.read_workbook()
        sheets = list(reader.parser.find_sheets())
        by_sheet = reader.parser.defined_names.by_sheet()
    finally:
        reader.archive.close()
    out: dict[str, dict[str, str]] = {"": {}}
    for name, dn in by_sheet.get("global", {}).items():
        dests = _dests(dn)
        if dests:
            out[""][name] = f"{dests[0]}!{dests[1]}"
    for idx, (sheet, rel) in enumerate(sheets):
        if "chartsheet" in rel.Type:
            continue
        out[sheet.name] = {}
        for name, dn in by_sheet.get(idx, {}).items():
            dests = _dests(dn)
            if dn.is_reserved is None and dests and dests[0] == sheet.name:
                out[sheet.name][name] = dests[1]
    return out


def _dests(dn) -> tuple[str, str] | None:
    from openpyxl.formula.tokenizer import TokenizerError

    try:
        dests = list(dn.destinations)
    except (TokenizerError, AttributeError):  # a formula openpyxl cannot split, a range it cannot match
        return None
    if len(dests) != 1 or ":" in dests[0][1]:
        return None
    return dests[0][0].replace("''", "'"), dests[0][1].replace("$", "")


def by_name(values: Values, names: dict[str, dict[str, str]]) -> dict[str, dict[str, object]]:
    """``{sheet: {name: value}}`` from one engine's cell values and :func:`defined_cells`."""
    return {sheet: {n: lookup(values, sheet, ref) for n, ref in cells.items()}
            for sheet, cells in names.items() if sheet}


def same(a, b, tol: float = 1e-9) -> bool:
    """Two cell values equal as a spreadsheet shows them (None and "" alike)."""
    a, b = _normal(a), _normal(b)
    if isinstance(a, float) and isinstance(b, float) and not isinstance(a, bool) \
            and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=0, abs_tol=tol)
    return a == b


__all__ = ["ENGINES", "find_engine", "missing_engines", "recalculate", "recalculate_all",
           "defined_cells", "by_name", "lookup", "same"]


if __name__ == "__main__":  # pragma: no cover - a manual check: python -m ... book.xlsx
    import sys

    with tempfile.TemporaryDirectory() as tmp:
        for eng, vals in recalculate_all(Path(sys.argv[1]), Path(tmp)).items():
            print(eng, sum(len(v) for v in vals.values()), "cells")
