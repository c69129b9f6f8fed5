"""Books on every core: work done one book at a time, in worker processes (`new --split-by`,
`fill` over a folder of books).

:func:`each_book` calls ``work(shared, item)`` for every item, on as many processes as
:func:`workers` says, and gives the results back in the order of the items — so what a
command prints and writes is what doing them one after another gives. ``shared`` (the
catalog, say) goes to each worker once, when it starts, not with every item. A KpiError
raised for an item is raised again here, in order (the first item in order that fails is
the one reported, as in the serial path); anything else raised in a worker is a bug and is
raised again too.

Ctrl-C (sent to the whole process group) ends a worker at once: it removes the temporary
files it was writing and exits. The parent (cli's handler) kills the workers and removes
theirs too (:func:`remove_helpers_unfinished`), so no half-written book is left whichever
of them the signal reaches first.

``KPI_WORKBOOK_WORKERS`` sets the number of processes (1: never start any).
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from ...diagnostics import Diagnostic, KpiError, Refused
from ...limits import value
from .. import files

MIN_BOOKS = 4  # below this, starting processes costs more than it saves

_WORKER: dict[str, Any] = {}
_HELPERS: set[int] = set()  # the worker processes writing right now (their temporary files)


def workers(n_books: int) -> int:
    """How many processes to work on ``n_books`` with: every core, unless told otherwise."""
    wanted = value("workers") or os.cpu_count() or 1  # the table of limits; a bad value is refused
    return max(1, min(wanted, n_books)) if n_books >= MIN_BOOKS else 1


class _Failed:
    """A KpiError raised in a worker, carried back (the exception itself does not pickle)."""

    def __init__(self, exc: KpiError):
        self.refused = isinstance(exc, Refused)
        self.diagnostics: list[Diagnostic] = list(exc.diagnostics)

    def raise_again(self) -> None:
        raise (Refused if self.refused else KpiError)(self.diagnostics)


def each_book(work: Callable[[Any, Any], Any], items: Sequence, shared: Any = None,
              folders: Sequence[Path] = (), done: Callable[[Any, Any], None] | None = None,
              sizes: Sequence[float] | None = None, meanwhile: Callable[[], Any] | None = None) -> list:
    """``work(shared, item)`` for every item, in worker processes when there are enough
    items and cores; the results in the order of ``items``. ``folders`` are where the
    workers write (their temporary files are removed there on Ctrl-C); ``done(item,
    result)`` is called in order as each result is taken (a progress bar).

    ``sizes`` (one per item, e.g. its file's size) hands the workers the largest items
    first, so that no big one is left to the end with the other cores idle. ``meanwhile()``
    is called here while the workers work (before any item is worked on when there are
    none); if it raises, the items not started are dropped and its error is raised."""
    n = workers(len(items))
    results = []
    if n == 1:
        if meanwhile is not None:
            meanwhile()
        for item in items:
            result = work(shared, item)
            if done is not None:
                done(item, result)
            results.append(result)
        return results
    for folder in folders:
        files._WRITING_IN.add(Path(folder))
    order = range(len(items)) if sizes is None else sorted(range(len(items)), key=lambda k: -sizes[k])
    with ProcessPoolExecutor(max_workers=n, initializer=_start, initargs=(work, shared, os.getpid())) as pool:
        futures: list = [None] * len(items)
        for k in order:  # one book a task, the largest first: they even out
            futures[k] = pool.submit(_in_worker, items[k])
        _HELPERS.update(getattr(pool, "_processes", None) or ())
        try:
            if meanwhile is not None:
                meanwhile()
            for item, future in zip(items, futures):
                result = future.result()
                if isinstance(result, _Failed):
                    result.raise_again()
                if done is not None:
                    done(item, result)
                results.append(result)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        finally:
            _HELPERS.clear()
    return results


def _start(work: Callable, shared: Any, parent: int) -> None:
    from ..xlsx import package

    signal.signal(signal.SIGINT, _interrupted)
    package.end_with_parent(parent)  # the worker ends with its parent, however that ends
    package._WORKER_PROCESS["inside"] = True  # every core is busy already: no more processes
    _WORKER["work"], _WORKER["shared"] = work, shared


def _interrupted(*_) -> None:
    """Ctrl-C in a worker: its temporary files go, it ends silently (the parent says so)."""
    files.remove_unfinished()
    os._exit(130)


def _in_worker(item):
    try:
        return _WORKER["work"](_WORKER["shared"], item)
    except KpiError as exc:
        return _Failed(exc)


def remove_helpers_unfinished(wait: float = 2.0) -> None:
    """After the workers were killed (Ctrl-C): the temporary files they were writing. Each
    worker is waited for first (for at most ``wait`` seconds), so it makes no file after."""
    if not _HELPERS:
        return
    end = time.monotonic() + wait
    for pid in list(_HELPERS):
        while time.monotonic() < end:
            try:
                if os.waitpid(pid, os.WNOHANG) != (0, 0):
                    break
            except ChildProcessError:  # reaped already
                break
            time.sleep(0.01)
    pids = "|".join(str(p) for p in _HELPERS)
    theirs = re.compile(rf"\..+{re.escape(files.TEMP_MARK)}(?:{pids})-.+")
    for folder in list(files._WRITING_IN):
        try:
            entries = list(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            if theirs.fullmatch(entry.name):
                try:
                    entry.unlink()
                except OSError:
                    continue
