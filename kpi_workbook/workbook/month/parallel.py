"""Reading a month's books on every core: the report over a folder of department books.

Each book is read, its formulas checked and its 名单 compared in a worker process; the
results come back in the order of the books, so the report is the same as when they are read
one after another. A damaged book is findings (as in the serial path); anything else raised
in a worker is a bug and is raised again here.

The catalog goes to each worker once (the pool's initializer), not with every book. A card
scored by the catalog itself comes back with ``catalog`` None and is given the caller's
catalog again: the report scores all cards that share a catalog object together, so copies
made by pickling must not split them.

``KPI_WORKBOOK_WORKERS`` sets the number of processes (1: never start any).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ...diagnostics import Diagnostic, KpiError
from ...rules.loader import Catalog
# how many processes: the same rule as new and fill (re-exported for the report's callers)
from ..scorecard.pool import MIN_BOOKS as MIN_BOOKS, workers
from ..scorecard.reader import Card

# a book and what was found in it: its cards, its findings
BookResult = tuple[list[Card], list[Diagnostic]]
Reader = Callable[[Catalog, Path], BookResult]

_WORKER: dict[str, object] = {}


def read_books(catalog: Catalog, books: list[Path], read_one: Reader, step=None) -> list[BookResult]:
    """``read_one(catalog, path)`` for every book, on as many processes as ``workers`` says;
    a book whose reading raises KpiError gives no cards and that error's diagnostics.
    ``step(1, name)`` is called as each book is done (a progress bar)."""
    def done(path: Path, result: BookResult) -> BookResult:
        if step is not None:
            step(1, path.name)
        return result

    n = workers(len(books))
    if n == 1:
        return [done(path, _guarded(read_one, catalog, path)) for path in books]
    with ProcessPoolExecutor(max_workers=n, initializer=_start,
                             initargs=(catalog, read_one, os.getpid())) as pool:
        results = [done(path, result) for path, result in
                   zip(books, pool.map(_read_in_worker, books))]  # a book at a time: both cores
    # stay busy to the last book (a chunk of a dozen left one core idle at the end)
    for cards, _ in results:
        for card in cards:
            if card.catalog is None:
                card.catalog = catalog
    return results


def _guarded(read_one: Reader, catalog: Catalog, path: Path) -> BookResult:
    try:
        return read_one(catalog, path)
    except KpiError as exc:  # a damaged file must not stop the report for everyone else
        return [], list(exc.diagnostics)


def _start(catalog: Catalog, read_one: Reader, parent: int) -> None:
    from ..xlsx import package

    package.quiet_interrupt(parent)  # Ctrl-C: the parent says so once; a reader just stops
    _WORKER["catalog"], _WORKER["read_one"] = catalog, read_one
    package._WORKER_PROCESS["inside"] = True  # every core is busy already: no more processes


def _read_in_worker(path: Path) -> BookResult:
    catalog = _WORKER["catalog"]
    read_one = _WORKER["read_one"]
    assert isinstance(catalog, Catalog) and callable(read_one)
    cards, diags = _guarded(read_one, catalog, path)
    for card in cards:
        if card.catalog is catalog:
            card.catalog = None  # the caller's own catalog: given back there, not a copy
    return cards, diags
