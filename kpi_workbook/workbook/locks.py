"""Locks for read-modify-write of a user's file (the history, a scorecard workbook).

A second process that wants the same file waits up to a bounded time (``--lock-timeout``,
or the environment variable KPI_WORKBOOK_LOCK_TIMEOUT, default 60 s), then stops with one
sentence. The lock files of a folder are kept in one hidden folder in it,
``.kpi-workbook-locks`` (on Windows, where a leading dot hides nothing, it is given the
hidden attribute): still beside the data, so that two computers working on a shared folder
lock each other out, but HR sees no extra file per book. A lock file is named after its
file (``历史.xlsx.lock``), never ends in .xlsx, and is left in place on purpose (deleting
a lock file that another process holds breaks locking).
"""

from __future__ import annotations

import hashlib
import math
import os
from contextlib import ExitStack, contextmanager
from pathlib import Path

from ..diagnostics import KpiError, error
from ..limits import value

ENV = "KPI_WORKBOOK_LOCK_TIMEOUT"


def lock_timeout(timeout: float | None = None) -> float:
    """Seconds to wait: ``timeout`` (the option, checked by the CLI), else the environment
    variable, parsed like the option (negative, NaN, infinite or a word: one sentence, exit 2),
    else the default of the table of limits."""
    if timeout is not None:
        seconds = float(timeout)
        if not (math.isfinite(seconds) and seconds >= 0):
            raise KpiError([error("lock-timeout", f"等待时间须为 0 或更大的有限秒数，得到 {timeout}",
                                  f"the lock timeout must be a finite number of seconds, 0 or more; got "
                                  f"{timeout}")])
        return seconds
    return float(value("lock_timeout"))


LOCK_FOLDER = ".kpi-workbook-locks"
FILE_ATTRIBUTE_HIDDEN = 0x2


def lock_path(path: Path) -> Path:
    """The lock file of ``path``: in the hidden lock folder beside it; a name too long to
    take ".lock" is hashed (a file name has at most 255 bytes)."""
    path = Path(path)
    name = f"{path.name}.lock"
    if len(os.fsencode(name)) > 240:
        name = hashlib.sha256(os.fsencode(path.name)).hexdigest()[:40] + ".lock"
    return path.parent / LOCK_FOLDER / name


def hide(folder: Path, kernel32=None) -> None:
    """Give ``folder`` Windows' hidden attribute (elsewhere its leading dot hides it).
    ``kernel32``: the Windows API (ctypes.windll.kernel32), given by a test on other systems."""
    if kernel32 is None:
        if os.name != "nt":
            return
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]  # Windows only
    attributes = kernel32.GetFileAttributesW(str(folder))
    if attributes in (-1, 0xFFFFFFFF) or attributes & FILE_ATTRIBUTE_HIDDEN:
        return  # gone meanwhile, or hidden already
    kernel32.SetFileAttributesW(str(folder), attributes | FILE_ATTRIBUTE_HIDDEN)


def _lock_folder(path: Path) -> Path:
    folder = lock_path(path).parent
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        hide(folder)
    return folder


@contextmanager
def locked(path: Path, timeout: float | None = None):
    """Hold the lock of ``path`` for the block; wait at most ``timeout`` seconds for it."""
    from filelock import FileLock, Timeout  # here: a report without a history takes no lock

    path = Path(path)
    seconds = lock_timeout(timeout)
    try:
        _lock_folder(path)
        lock = FileLock(str(lock_path(path)), timeout=seconds)
        lock.acquire()
    except Timeout:
        raise KpiError([error("locked", f"{path.name} 正被另一个程序写入，等待 {seconds:g} 秒后放弃：请稍后再试",
                              f"{path.name} is being written by another program; gave up after waiting "
                              f"{seconds:g} s: try again later", source=str(path))]) from None
    except OSError as exc:
        raise KpiError([error("cannot-lock", f"无法为 {path.name} 加锁：{exc.strerror}",
                              f"cannot lock {path.name}: {exc.strerror}", source=str(path))]) from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def locked_all(paths, timeout: float | None = None):
    """Lock several files, always in the same order (no two processes deadlock)."""
    with ExitStack() as stack:
        # a file that does not exist is refused later by its reader: no lock file for it
        for path in sorted({Path(p).resolve() for p in paths if Path(p).is_file()}):
            stack.enter_context(locked(path, timeout))
        yield
