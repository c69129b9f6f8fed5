"""Locks for read-modify-write of a user's file (the history, a scorecard workbook).

A second process that wants the same file waits up to a bounded time (``--lock-timeout``,
or the environment variable KPI_WORKBOOK_LOCK_TIMEOUT, default 60 s), then stops with one
sentence. The lock file sits beside the file, so that two computers on a shared folder see
it too; it is hidden and named after the file (``.历史.xlsx.lock``), and it never ends in
.xlsx, so `report DIR` never takes it for a workbook.
"""

from __future__ import annotations

import os
from contextlib import ExitStack, contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from ..diagnostics import KpiError, error

ENV = "KPI_WORKBOOK_LOCK_TIMEOUT"
DEFAULT_TIMEOUT = 60.0


def lock_timeout(timeout: float | None = None) -> float:
    if timeout is not None:
        return float(timeout)
    text = os.environ.get(ENV, "").strip()
    try:
        return float(text) if text else DEFAULT_TIMEOUT
    except ValueError:
        raise KpiError([error("lock-timeout", f"环境变量 {ENV} 须为秒数，得到 '{text}'",
                              f"the environment variable {ENV} must be seconds, got '{text}'")]) from None


def lock_path(path: Path) -> Path:
    path = Path(path)
    return path.parent / f".{path.name}.lock"


@contextmanager
def locked(path: Path, timeout: float | None = None):
    """Hold the lock of ``path`` for the block; wait at most ``timeout`` seconds for it."""
    path = Path(path)
    seconds = lock_timeout(timeout)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
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
