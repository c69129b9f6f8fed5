"""What each limit of the table (kpi_workbook/limits.py) costs: time and memory at the limit.

`python -m bench.run --limits [--scale F]` runs these steps, each in its own process (wall,
CPU, peak RSS), and writes the section "## At the limits" of bench/RESULTS.md. A step makes
its input at the limit (or just past it, where the product refuses), then runs the command
that meets it. ``--scale`` shrinks the two that build big books (sheets, cells) for a quick
look; the section says which scale it was run at. Not a test: the suite never runs it.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MB = 1 << 20

# step → (limit of the table, what is measured)
STEPS = {
    "new_refused": ("sheets", "`new` of a roster twice the sheet limit into one book: until the refusal"),
    "book_new": ("cells", "`new` of 45,000 qc_event_ledger cards (23 million cells, 2.2 GB inflated) into "
                          "one book: one sheet of the role measured, until the refusal"),
    "sheets": ("sheets", "`validate` of a book of as many scorecards as the sheet limit allows"),
    "cells": ("cells", "`validate` of a book just past the cell limit: until the refusal"),
    "part": ("part_mb", "`validate` of a book with a part past the part limit (refused from the zip directory)"),
    "part_lying": ("part_mb", "`validate` of a book whose shared strings claim 1 MB but hold 513 MB: "
                              "inflating stops at what the zip claims (then its checksum fails)"),
    "book": ("book_mb", "`validate` of a book whose parts together are past the book limit"),
    "cell_text": ("formula_chars", "`validate` of a card with a 10 MB formula in 备注"),
    "yaml_nodes": ("yaml_nodes", "`roles` with an alias bomb in grades.yaml"),
    "yaml_depth": ("yaml_depth", "`roles` with 100,000 nested brackets in grades.yaml"),
    "yaml_mb": ("yaml_mb", "`roles` with grades.yaml just under the size limit (comment lines)"),
    "json_depth": ("json_depth", "`score` of a 200,000-deep JSON array"),
    "json_mb": ("json_mb", "`score` of a JSON input just under the size limit"),
}


def _cli(*argv, env=None) -> int:
    done = subprocess.run([sys.executable, "-m", "kpi_workbook.cli", *map(str, argv)], cwd=ROOT,
                          env={**os.environ, "KPI_WORKBOOK_CACHE": "off", **(env or {})},
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    return done.returncode


def _roster(path: Path, people: int, role: str = "qc_inspector") -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("工号,姓名,部门,岗位,基本工资\n")
        for i in range(people):
            fh.write(f"E{i:06d},员工{i},部门{i % 40},{role},5000\n")
    return path


def _templates(work: Path, grades_head: str) -> Path:
    import shutil

    from kpi_workbook.rules.loader import builtin_templates_dir

    root = work / "templates"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(builtin_templates_dir(), root, ignore=shutil.ignore_patterns("__pycache__", "history"))
    grades = root / "grades.yaml"
    grades.write_text(grades_head + grades.read_text(encoding="utf-8"), encoding="utf-8")
    return root


def _padded_book(work: Path, sizes: list[int], claim: int | None = None) -> Path:
    """A small real book with extra parts (sizes in bytes, inflated) that compress about 100
    times, as real data might (a random 16 KB block of letters over and over: under the
    ratio limit). With ``claim``, the one part is the book's shared strings (text the reader
    parses) and the zip's headers say it is ``claim`` bytes (a lying header)."""
    import random
    import string
    import struct

    base = work / "base.xlsx"
    if not base.exists():
        _cli("new", "--month", "2026-10", "--out", base)
    letters = string.ascii_letters.encode()
    rng = random.Random(7)
    chunk = bytes(rng.choice(letters) for _ in range(16 * 1024)) * 64  # 1 MB
    out = work / "padded.xlsx"
    strings = "xl/sharedStrings.xml"
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if claim is None or info.filename != strings:
                zout.writestr(info, zin.read(info.filename))
        for k, size in enumerate(sizes):
            name = strings if claim is not None else f"xl/media/pad{k}.bin"
            with zout.open(name, "w") as part:
                if claim is not None:
                    part.write(b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.'
                               b'openxmlformats.org/spreadsheetml/2006/main"><si><t>')
                for _ in range(size // MB):
                    part.write(chunk)
    if claim is not None:  # the uncompressed size in the local header and the directory
        data = bytearray(out.read_bytes())
        for signature, at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
            start = 0
            while (start := data.find(signature, start)) >= 0:
                name_at = start + (30 if signature == b"PK\x03\x04" else 46)
                if data[name_at:name_at + len(strings)] == strings.encode():
                    data[start + at:start + at + 4] = struct.pack("<I", claim)
                start += 4
        out.write_bytes(bytes(data))
    return out


def prepare(step: str, work: Path, scale: float) -> list[str]:
    """Make the step's input (not measured); the command to measure."""
    from kpi_workbook.limits import value

    work.mkdir(parents=True, exist_ok=True)
    if step == "new_refused":
        roster = _roster(work / "big.csv", 2 * value("sheets"))
        return ["new", "--roster", roster, "--month", "2026-10", "--out", work / "big.xlsx", "--force"]
    if step == "sheets":
        book = work / "sheets.xlsx"
        people = int((value("sheets") - 3) * scale)
        _cli("new", "--roster", _roster(work / "sheets.csv", people), "--month", "2026-10", "--out", book, "--force")
        return ["validate", book]
    if step == "cells":  # qc_event_ledger: the most cells a sheet has; just past the limit
        from kpi_workbook.rules.loader import builtin_catalog
        from kpi_workbook.workbook.scorecard.form import sheet_cells

        catalog = builtin_catalog()
        # sheet_cells is an upper bound (about 12 % above what a sheet holds): a quarter more
        people = int(1.25 * value("cells") * scale / sheet_cells(catalog, catalog.roles["qc_event_ledger"]))
        book = work / "cells.xlsx"
        roomy = {"KPI_WORKBOOK_MAX_CELLS": str(4 * value("cells")), "KPI_WORKBOOK_MAX_BOOK_MB": str(4 * value("book_mb"))}
        _cli("new", "--roster", _roster(work / "cells.csv", people, "qc_event_ledger"), "--month", "2026-10",
             "--out", book, "--force", env=roomy)
        # only the cell limit as it is: 40,000 such cards are past the inflated-size limit too
        return ["validate", book, {"KPI_WORKBOOK_MAX_CELLS": str(int(value("cells") * scale)),
                                   "KPI_WORKBOOK_MAX_BOOK_MB": str(4 * value("book_mb"))}]
    if step == "book_new":  # the biggest role: a sheet of it measured, then the refusal
        roster = _roster(work / "ledger.csv", 45_000, "qc_event_ledger")
        return ["new", "--roster", roster, "--month", "2026-10", "--out", work / "ledger.xlsx", "--force"]
    if step == "part":
        return ["validate", _padded_book(work, [value("part_mb") * MB + MB])]
    if step == "part_lying":
        return ["validate", _padded_book(work, [value("part_mb") * MB + MB], claim=MB)]
    if step == "book":
        part = (value("part_mb") - 1) * MB
        return ["validate", _padded_book(work, [part] * (value("book_mb") * MB // part + 1))]
    if step == "cell_text":
        import openpyxl

        book = work / "note.xlsx"
        _cli("new", "--month", "2026-10", "--out", book, "--force")
        wb = openpyxl.load_workbook(book)
        ws = wb.worksheets[3]
        note = next(c.column_letter for c in ws[5] if c.value == "备注/纪要")
        ws[f"{note}6"] = "=" + "+".join(["1"] * (5 * MB))
        wb.save(book)
        return ["validate", book]
    if step == "yaml_nodes":
        lines = ['b0: &b0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
        lines += [f"b{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * 9) + "]" for i in range(1, 10)]
        return ["--templates", _templates(work, "\n".join(lines) + "\n"), "roles"]
    if step == "yaml_depth":
        return ["--templates", _templates(work, "deep: " + "[" * 100_000 + "]" * 100_000 + "\n"), "roles"]
    if step == "yaml_mb":  # comment lines: a valid file of that size (its nodes: yaml_nodes)
        line = "# " + "注释" * 48 + "\n"
        filler = line * ((value("yaml_mb") * MB - 200_000) // len(line))
        return ["--templates", _templates(work, filler), "roles"]
    if step == "json_depth":
        deep = work / "deep.json"
        deep.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
        return ["score", "qc_inspector", "--input", deep]
    if step == "json_mb":
        big = work / "big.json"
        pad = "x" * (value("json_mb") * MB - 1000)
        big.write_text(json.dumps({"month": "2026-10", "inputs": {"miss_detection.misses": 1},
                                   "employee": {"name": pad}}), encoding="utf-8")
        return ["score", "qc_inspector", "--input", big]
    raise SystemExit(f"unknown step {step}")


def measure(step: str, work: Path, scale: float) -> dict:
    """Make the input, then run the command in a child process: wall, CPU, peak RSS, exit."""
    argv = prepare(step, work / step, scale)
    env = argv.pop() if isinstance(argv[-1], dict) else {}
    said = work / step / "stderr.txt"  # a file, not a pipe: validate may say a lot
    with open(said, "wb") as err_file:
        wall = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "kpi_workbook.cli", *map(str, argv)], cwd=ROOT,
                                 env={**os.environ, "KPI_WORKBOOK_CACHE": "off", **env},
                                 stdout=subprocess.DEVNULL, stderr=err_file)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - wall
    with open(said, encoding="utf-8", errors="replace") as fh:
        err = fh.read(4000)
    return {"step": step, "limit": STEPS[step][0], "wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
            "rss_mb": usage.ru_maxrss / 1024, "exit": os.waitstatus_to_exitcode(status),
            "said": err.strip().splitlines()[0][-160:] if err.strip() else ""}  # the first line


def run(work: Path, scale: float, only: list[str] | None = None) -> list[dict]:
    out = []
    for step in only or list(STEPS):
        done = subprocess.run([sys.executable, "-m", "bench.limits", step, str(work), str(scale)],
                              capture_output=True, text=True, check=False, cwd=ROOT)
        if done.returncode:
            raise RuntimeError(f"limit step {step} failed:\n{done.stderr[-2000:]}")
        out.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


def section(results: list[dict], scale: float) -> str:
    from kpi_workbook.limits import BY_NAME, shown

    lines = ["## At the limits", "",
             f"Command: `python -m bench.run --limits --scale {scale:g}` (each command in its own process; "
             f"{'sheets and cells at the full limits' if scale == 1 else f'sheets and cells at {scale:g} of their limits'}).",
             "", "| step | limit | what | wall s | CPU s | peak RSS MB | exit |", "|---|---|---|---|---|---|---|"]
    for r in results:
        limit = BY_NAME[r["limit"]]
        lines.append(f"| {r['step']} | `{limit.name}` {shown(limit.value)} | {STEPS[r['step']][1]} | "
                     f"{r['wall']:.2f} | {r['cpu']:.2f} | {r['rss_mb']:.0f} | {r['exit']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    print(json.dumps(measure(sys.argv[1], Path(sys.argv[2]), float(sys.argv[3]))))
