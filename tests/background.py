"""Fixtures' heavy work done in child processes from the start of the session.

Some module- or session-scoped fixtures build a workbook and have LibreOffice, Gnumeric and
the ``formulas`` package (in Python) recalculate it: seconds of CPU each, a minute and more
for the month book (tests/engines.py). Such work needs nothing of the test session but a
folder, so a function ``work(root: Path) -> result`` (the result picklable) is registered
with :func:`job`, and its fixture asks :func:`result` for it. conftest.py starts the jobs
(:func:`start`) when the session begins, every job a collected module defines or uses: the
slow one(s) each in a process of its own, the short ones shared out in the order their
modules run among two more (SHORT_PROCESSES: one chain of them all was the session's long
pole, the last module waiting for six jobs before its own); the other tests run meanwhile.
The month book's modules run last (conftest.py), so they rarely wait. Each job's CPU (with
its subprocesses: LibreOffice, Gnumeric), wall time and the time its fixture waited for it
are kept (:func:`timings`) and printed at the session's end (conftest.py), to see where the
time goes.

A child runs the same function as the inline path (``spawn``: a fresh interpreter; the
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
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

JOBS: dict[str, tuple[Callable[[Path], object], bool]] = {}  # name → (work, slow)
_DONE: dict[str, tuple[str, object]] = {}  # name → ("ok", result) or ("error", traceback)
_CHILDREN: list[dict] = []  # {"process", "receive", "pending": names not yet received}
_WHERE: dict[str, dict] = {}  # job name → the child that runs it
_ROOTS: dict[str, Path] = {}  # name → the folder the child's work writes into
_TIMES: dict[str, dict[str, float]] = {}  # name → {"cpu", "wall", "start", "end" (since the session's start), "waited"}
_EPOCH = [0.0]  # time.time() when the jobs were started
SHORT_PROCESSES = 2  # the short jobs' processes (the machines this runs on have two cores or more)


def job(name: str, slow: bool = False):
    """Register ``work(root)`` as the background job ``name`` (a slow one gets a process
    of its own)."""
    def register(work):
        JOBS[name] = (work, slow)
        work.background_job = name
        return work
    return register


NICE = 10  # the children's priority below the session's (Unix; their processes inherit it)


def _run_jobs(jobs: list[tuple[str, Callable[[Path], object], str]], conn, parent: int) -> None:
    """The child: every job in turn, each result sent back as soon as it is there. It runs
    at a lower priority than the session: the session's own tests are the longer path, and
    the jobs have until their modules run (last) to use the time the session leaves."""
    with contextlib.suppress(AttributeError, OSError):  # no os.nice on Windows
        os.nice(NICE)
    _end_with(parent)
    try:
        for name, work, root in jobs:
            began, cpu = time.time(), _cpu()
            try:
                outcome = ("ok", work(Path(root)))
            except BaseException:
                outcome = ("error", traceback.format_exc())
            conn.send((name, *outcome, {"cpu": _cpu() - cpu, "start": began, "end": time.time()}))
    finally:
        conn.close()


def _cpu() -> float:
    """CPU seconds of this process and of its children waited for (soffice, ssconvert)."""
    try:
        import resource
    except ImportError:  # not on Windows: this process only
        return time.process_time()
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _end_with(parent: int) -> None:
    """The child ends when the session does, however that ends (a killed pytest left its
    month-book job recalculating for half an hour): Linux kills it when its parent dies,
    and a parent already gone before that was set ends it here."""
    if sys.platform.startswith("linux"):
        import ctypes

        # SIGTERM, not SIGKILL: the handler first ends what the job started (a bench run's
        # commands, soffice), which a killed job left running for minutes
        signal.signal(signal.SIGTERM, _end_below)
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)


def _end_below(signum, frame) -> None:
    """The session is gone: every process under this job killed, then the job."""
    for pid in _descendants(os.getpid()):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    os._exit(1)


def start(names: list[str], tmp_path_factory) -> None:
    """Start the jobs ``names`` (once per session; listed in the order their modules run):
    each slow one in a process of its own, started first (the month book is the session's
    long pole), the short ones dealt in turn to SHORT_PROCESSES more, each running its share
    in that order (the first module's job first)."""
    left = set(names) - set(_DONE) - set(_WHERE)
    names = sorted(dict.fromkeys(n for n in names if n in left), key=lambda n: not JOBS[n][1])  # stable
    if not names:
        return
    _EPOCH[0] = _EPOCH[0] or time.time()
    for name in names:
        _ROOTS[name] = tmp_path_factory.mktemp(name)
    short = [n for n in names if not JOBS[n][1]]
    groups = [[n] for n in names if JOBS[n][1]] + [short[k::SHORT_PROCESSES] for k in range(SHORT_PROCESSES)]
    context = multiprocessing.get_context("spawn")
    for group in filter(None, groups):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_run_jobs, name="fixture-jobs",
                                  args=([(n, JOBS[n][0], str(_ROOTS[n])) for n in group], send,
                                        os.getpid()))
        process.start()
        send.close()
        child = {"process": process, "receive": receive, "pending": set(group)}
        _CHILDREN.append(child)
        _WHERE.update((n, child) for n in group)


def result(name: str, tmp_path_factory):
    """The result of job ``name``: from its process when one runs it (waiting for it), else
    computed here now. Once per session either way."""
    if name not in _DONE:
        if name in _WHERE:
            began = time.time()
            _receive_until(_WHERE[name], name)
            _TIMES.setdefault(name, {})["waited"] = time.time() - began
        else:
            work, _ = JOBS[name]
            _DONE[name] = ("ok", work(tmp_path_factory.mktemp(name)))
    kind, payload = _DONE[name]
    if kind != "ok":
        raise RuntimeError(f"the fixture job {name!r} failed in its process:\n{payload}")
    return payload


def _receive_until(child: dict, name: str) -> None:
    process, receive, pending = child["process"], child["receive"], child["pending"]
    while name in pending:
        try:
            got, kind, payload, spent = receive.recv()  # before join: results outgrow a pipe
        except EOFError:
            for lost in pending:
                _DONE[lost] = ("error", f"the jobs' process died (exit code {process.exitcode})")
            pending.clear()
            break
        pending.discard(got)
        _DONE[got] = (kind, payload)
        _TIMES[got] = {"cpu": spent["cpu"], "wall": spent["end"] - spent["start"],
                       "start": spent["start"] - _EPOCH[0], "end": spent["end"] - _EPOCH[0], **_TIMES.get(got, {})}
    if not pending:
        _finish(child, kill=False)


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


def _finish(child: dict, kill: bool) -> None:
    if not any(c is child for c in _CHILDREN):
        return
    _CHILDREN[:] = [c for c in _CHILDREN if c is not child]
    process, receive = child["process"], child["receive"]
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
    """At the session's end: end the processes with whatever they still run (the session
    stopped early, or a job's fixture was never used)."""
    for child in list(_CHILDREN):
        _finish(child, kill=True)
    _WHERE.clear()


def jobs_of(module) -> set[str]:
    """The jobs a test module needs: defined in it, or used by it (a module-level name
    bound to a function that declares ``background_jobs``, as tests/engines.month_book)."""
    names = set()
    for value in vars(module).values() if module is not None else ():
        name = getattr(value, "background_job", None)
        if name in JOBS:
            names.add(name)
        names.update(n for n in getattr(value, "background_jobs", ()) if n in JOBS)
    return names


def needed(items) -> list[str]:
    """The jobs the collected ``items`` need, in the order the items run (the first
    needed first)."""
    modules = dict.fromkeys(getattr(item, "module", None) for item in items)
    return list(dict.fromkeys(n for m in modules for n in sorted(jobs_of(m))))


def timings() -> list[str]:
    """One line per job received: its CPU (with its subprocesses), its wall time, when it
    ran (seconds since the jobs started) and how long its fixture waited for it."""
    lines = []
    for name, t in sorted(_TIMES.items(), key=lambda kv: kv[1].get("end", 0.0)):
        if "cpu" in t:
            lines.append(f"{name:<20} {t['cpu']:7.1f} CPU-s {t['wall']:7.1f} s wall, from {t['start']:6.1f} s "
                         f"to {t['end']:6.1f} s; its fixture waited {t.get('waited', 0.0):5.1f} s")
    return lines


def order(item) -> int:
    """Where a test's module runs: 0 without jobs, 1 with short ones, 2 with a slow one
    (the later, the longer its jobs had to run while the other tests ran)."""
    names = jobs_of(getattr(item, "module", None))
    return 2 if any(JOBS[n][1] for n in names) else 1 if names else 0
