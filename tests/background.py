"""Fixtures' heavy work done in ONE child process from the start of the session.

Some module- or session-scoped fixtures build a workbook and have LibreOffice, Gnumeric and
the ``formulas`` package (in Python) recalculate it: seconds of CPU each, a minute and more
for the month book (tests/engines.py). Such work needs nothing of the test session but a
folder, so a function ``work(root: Path) -> result`` (the result picklable) is registered
with :func:`job`, and its fixture asks :func:`result` for it. conftest.py starts the child
(:func:`start`) when the session begins with every job a collected module defines or uses,
the short ones first; the other tests run meanwhile on the other core. The month book's
modules run last (conftest.py), so they rarely wait.

The child runs the same function as the inline path (``spawn``: a fresh interpreter; the
cards hypothesis draws are derandomized, so the same), and each fixture still runs its work
once per session. Without the spreadsheet engines nothing is started: the fixtures then run
inline, and ``require_engines`` fails them as before. A job that fails in the child fails
its fixture with the child's traceback.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import traceback
from collections.abc import Callable
from pathlib import Path

JOBS: dict[str, tuple[Callable[[Path], object], bool]] = {}  # name → (work, slow)
_DONE: dict[str, tuple[str, object]] = {}  # name → ("ok", result) or ("error", traceback)
_CHILD: dict[str, object] = {}  # "process", "receive", "pending" (names not yet received)
_ROOTS: dict[str, Path] = {}  # name → the folder the child's work writes into


def job(name: str, slow: bool = False):
    """Register ``work(root)`` as the background job ``name`` (slow ones run last)."""
    def register(work):
        JOBS[name] = (work, slow)
        work.background_job = name
        return work
    return register


def _run_jobs(jobs: list[tuple[str, Callable[[Path], object], str]], conn) -> None:
    """The child: every job in turn, each result sent back as soon as it is there."""
    try:
        for name, work, root in jobs:
            try:
                outcome = ("ok", work(Path(root)))
            except BaseException:
                outcome = ("error", traceback.format_exc())
            conn.send((name, *outcome))
    finally:
        conn.close()


def start(names: list[str], tmp_path_factory) -> None:
    """Start the child on the jobs ``names`` (once per session)."""
    names = sorted(set(names) - set(_DONE), key=lambda n: (JOBS[n][1], n))
    if "process" in _CHILD or not names:
        return
    for name in names:
        _ROOTS[name] = tmp_path_factory.mktemp(name)
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_run_jobs, name="fixture-jobs",
                              args=([(n, JOBS[n][0], str(_ROOTS[n])) for n in names], send))
    process.start()
    send.close()
    _CHILD.update(process=process, receive=receive, pending=set(names))


def result(name: str, tmp_path_factory):
    """The result of job ``name``: from the child when it runs it (waiting for it), else
    computed here now. Once per session either way."""
    if name not in _DONE:
        if name in _CHILD.get("pending", ()):
            _receive_until(name)
        else:
            work, _ = JOBS[name]
            _DONE[name] = ("ok", work(tmp_path_factory.mktemp(name)))
    kind, payload = _DONE[name]
    if kind != "ok":
        raise RuntimeError(f"the fixture job {name!r} failed in its process:\n{payload}")
    return payload


def _receive_until(name: str) -> None:
    process, receive, pending = _CHILD["process"], _CHILD["receive"], _CHILD["pending"]
    while name in pending:
        try:
            got, kind, payload = receive.recv()  # before join: results outgrow a pipe
        except EOFError:
            for lost in pending:
                _DONE[lost] = ("error", f"the jobs' process died (exit code {process.exitcode})")
            pending.clear()
            break
        pending.discard(got)
        _DONE[got] = (kind, payload)
    if not pending:
        _finish(kill=False)


def _descendants(pid: int) -> list[int]:
    """Every process under ``pid`` (Linux /proc; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _finish(kill: bool) -> None:
    if "process" not in _CHILD:
        return
    process, receive = _CHILD.pop("process"), _CHILD.pop("receive")
    _CHILD.pop("pending", None)
    if kill and process.is_alive():
        # soffice runs in a session of its own: the child's processes are killed by id
        below = _descendants(process.pid)
        process.kill()
        for pid in below:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    process.join()
    receive.close()


def stop() -> None:
    """At the session's end: end the child with whatever it still runs (the session
    stopped early, or a job's fixture was never used)."""
    _finish(kill=True)


def needed(items) -> list[str]:
    """The jobs the collected ``items`` need: defined in one of their modules, or used by
    one (a module-level name bound to a function that declares ``background_jobs``)."""
    names = set()
    for module in {getattr(item, "module", None) for item in items} - {None}:
        for value in vars(module).values():
            name = getattr(value, "background_job", None)
            if name in JOBS:
                names.add(name)
            names.update(n for n in getattr(value, "background_jobs", ()) if n in JOBS)
    return sorted(names)
