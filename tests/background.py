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


def _run_jobs(jobs: list[tuple[str, Callable[[Path], object] | tuple[str, str], str]], conn, parent: int,
              out: str | None = None, nice: int = NICE) -> None:
    """The child: every job in turn, each result sent back as soon as it is there (through
    ``conn``, or under pytest-xdist written into the folder ``out`` for the workers to read,
    :func:`_write_result`). It runs at a lower priority than the session: the session's own
    tests are the longer path, and the jobs have until their modules run (last) to use the
    time the session leaves. A job's work is its function, or (module, name) to import it
    by (the xdist controller never imports the test modules)."""
    with contextlib.suppress(AttributeError, OSError):  # no os.nice on Windows
        os.nice(nice)
    _end_with(parent)
    if out is not None:  # what a job prints (tqdm bars, soffice) into a file, not the controller's terminal
        log = os.open(Path(out) / f"output-{os.getpid()}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        for fd in (1, 2):
            os.dup2(log, fd)
        os.close(log)
    try:
        for name, work, root in jobs:
            began, cpu = time.time(), _cpu()
            try:
                if isinstance(work, tuple):
                    work = _imported(*work)
                outcome = ("ok", work(Path(root)))
            except BaseException:
                outcome = ("error", traceback.format_exc())
            spent = {"cpu": _cpu() - cpu, "start": began, "end": time.time()}
            if out is None:
                conn.send((name, *outcome, spent))
            else:
                _write_result(Path(out), name, outcome, spent)
    finally:
        if conn is not None:
            conn.close()


def _imported(module: str, qualname: str) -> Callable[[Path], object]:
    import importlib

    value = importlib.import_module(module)
    for part in qualname.split("."):
        value = getattr(value, part)
    return value  # type: ignore[return-value]


def _write_result(folder: Path, name: str, outcome: tuple[str, object], spent: dict[str, float]) -> None:
    """A job's outcome as ``NAME.pickle`` and its timings as ``NAME.json``, each written to
    a temporary name and renamed: a worker sees the whole file or none."""
    import json
    import pickle

    try:
        data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        data = pickle.dumps(("error", traceback.format_exc()))
    for suffix, content in ((".json", json.dumps(spent).encode()), (".pickle", data)):
        part = folder / f"{name}{suffix}.part"
        part.write_bytes(content)
        os.replace(part, folder / f"{name}{suffix}")


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
        if _SHARED and name in _shared_jobs():
            _DONE[name] = _read_shared(name)
        elif name in _WHERE:
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
    if receive is not None:
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
    if _SHARED:
        _TIMES.update(_shared_timings())
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


# ---------------------------------------------------------------------------------------
# Under pytest-xdist: the jobs run once per session, not once per worker. Each worker writes
# the jobs its collected items need, in their run order, into a folder the controller gave
# it (:func:`write_needed`); the controller starts them from the first worker's list when
# that worker has collected, before any test is handed out (:func:`start_shared`): the same
# processes as above, children of the controller (which outlives every worker), writing
# each result into the folder as it is there. A worker's fixture waits for its file
# (:func:`result`); ``jobs.json`` names the process that runs each job, so a job whose
# process died fails its fixtures instead of hanging them. A job not started there (no
# spreadsheet engines) runs inline in the worker, as above.

_SHARED: list[Path] = []  # the folder the controller's jobs write into (xdist; set in every process)
SHARED_NICE = 0  # the jobs' priority under xdist: the workers fill both cores, and a job niced
# to 10 got a tenth of one until they ran out of tests (the month book then became the long pole)


def share(folder: Path) -> None:
    _SHARED[:] = [Path(folder)]


def write_needed(folder: Path, worker: str, names: list[str]) -> None:
    """A worker's list of the jobs its items need: [name, module, function, slow] each."""
    import json

    specs = [[n, JOBS[n][0].__module__, JOBS[n][0].__qualname__, JOBS[n][1]] for n in names]
    part = folder / f"needed-{worker}.json.part"
    part.write_text(json.dumps(specs))
    os.replace(part, folder / f"needed-{worker}.json")


def start_shared(folder: Path, worker: str) -> None:
    """In the xdist controller, once: the jobs ``worker`` listed (:func:`write_needed`),
    each slow one in a process of its own, the short ones dealt to SHORT_PROCESSES more;
    ``jobs.json`` (written before any test runs) maps each to its process id."""
    import json

    share(folder)
    needed = folder / f"needed-{worker}.json"
    specs = json.loads(needed.read_text()) if needed.exists() else []
    _EPOCH[0] = _EPOCH[0] or time.time()
    slow, short = [s for s in specs if s[3]], [s for s in specs if not s[3]]
    groups = [[s] for s in slow] + [short[k::SHORT_PROCESSES] for k in range(SHORT_PROCESSES)]
    context = multiprocessing.get_context("spawn")
    started: dict[str, int] = {}
    for group in filter(None, groups):
        for name, *_ in group:
            (folder / name).mkdir()
        process = context.Process(target=_run_jobs, name="fixture-jobs",
                                  args=([(n, (m, q), str(folder / n)) for n, m, q, _ in group], None,
                                        os.getpid(), str(folder), SHARED_NICE))
        process.start()
        _CHILDREN.append({"process": process, "receive": None, "pending": {s[0] for s in group}})
        started.update((s[0], process.pid) for s in group)
    part = folder / "jobs.json.part"
    part.write_text(json.dumps({"epoch": _EPOCH[0], "jobs": started}))
    os.replace(part, folder / "jobs.json")


def _manifest() -> dict:
    import json

    path = _SHARED[0] / "jobs.json"
    return json.loads(path.read_text()) if path.exists() else {"epoch": 0.0, "jobs": {}}


def _shared_jobs() -> dict[str, int]:
    return _manifest()["jobs"]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        if not Path("/proc/self/stat").exists():  # no /proc (not Linux): ask the system
            with contextlib.suppress(OSError):
                os.kill(pid, 0)
                return True
        return False
    return state != "Z"


def _read_shared(name: str) -> tuple[str, object]:
    """A worker: the outcome of the controller's job ``name``, waiting for its file."""
    import pickle

    folder, pid = _SHARED[0], _shared_jobs()[name]
    path, began = folder / f"{name}.pickle", time.time()
    while not path.exists():
        if not _alive(pid) and not path.exists():
            return ("error", f"the jobs' process {pid} died before {name!r} was done")
        time.sleep(0.1)
    outcome = pickle.loads(path.read_bytes())
    waited = folder / f"{name}.waited-{os.getpid()}"
    waited.write_text(f"{time.time() - began:.3f}")
    return outcome


def _shared_timings() -> dict[str, dict[str, float]]:
    """The controller, at the end: every job's timings from its file, and the longest any
    worker's fixture waited for it."""
    import json

    folder, times = _SHARED[0], {}
    manifest = _manifest()
    for name in manifest["jobs"]:
        path = folder / f"{name}.json"
        if not path.exists():
            continue
        spent = json.loads(path.read_text())
        waits = [float(w.read_text()) for w in folder.glob(f"{name}.waited-*")]
        times[name] = {"cpu": spent["cpu"], "wall": spent["end"] - spent["start"],
                       "start": spent["start"] - manifest["epoch"], "end": spent["end"] - manifest["epoch"],
                       "waited": max(waits, default=0.0)}
    return times


def once(name: str, tmp_path_factory, make: Callable[[Path], object]):
    """A session fixture's ``make(folder)`` done once per session, not once per xdist
    worker: the first worker to ask makes it (under a file lock, in the shared folder), the
    others read its result (picklable; nobody may write into its folder afterwards). In one
    process, simply ``make`` in a new temporary folder."""
    if not _SHARED:
        return make(tmp_path_factory.mktemp(name))
    import pickle
    import tempfile

    from filelock import FileLock

    folder = _SHARED[0]
    done = folder / f"{name}.once.pickle"
    with FileLock(str(folder / f"{name}.once.lock")):
        if done.exists():
            return pickle.loads(done.read_bytes())
        value = make(Path(tempfile.mkdtemp(prefix=f"{name}-", dir=folder)))  # a fresh one if a worker failed before
        part = folder / f"{name}.once.pickle.part"
        part.write_bytes(pickle.dumps(value))
        os.replace(part, done)
        return value
