"""Writing output files safely: refuse to overwrite unless asked, and write atomically.

A file is written to a temporary name in the same folder and renamed into place, so an
interrupted run never leaves a half-written workbook or a damaged original. Writes go
through, not around: a symlinked output path writes the file it points to, and a file that
is replaced keeps its permission bits and (where allowed) its owner — a 0600 workbook of
salaries stays 0600. The temporary file is removed on every failure (a full disk
included); one left by a killed run (``.NAME.kpi-tmp-PID-XXXX.ext``, its process gone) is
removed by the next write into that folder. An output that is one of the command's inputs
is refused (:func:`refuse_inputs`).
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..diagnostics import KpiError, error
from ..limits import check_path

TEMP_MARK = ".kpi-tmp-"
_UNFINISHED: set[Path] = set()  # temporary files and folders being written right now
_WRITING_IN: set[Path] = set()  # folders this process writes temporary files into


@contextmanager
def unfinished(path: Path):
    """Mark ``path`` (a temporary file or folder) as being written for the block: an
    interrupted run (Ctrl-C) removes it (:func:`remove_unfinished`) before it exits."""
    _UNFINISHED.add(Path(path))
    try:
        yield Path(path)
    finally:
        _UNFINISHED.discard(Path(path))


def remove_unfinished() -> None:
    """Remove every temporary file or folder being written (on Ctrl-C, before the process
    exits): what was there before is untouched, nothing half-written is left."""
    import shutil

    mine = re.compile(rf"\..+{re.escape(TEMP_MARK)}{os.getpid()}-.+")  # made, not yet marked
    for folder in list(_WRITING_IN):
        try:
            _UNFINISHED.update(p for p in folder.iterdir() if mine.fullmatch(p.name))
        except OSError:
            continue
    for path in list(_UNFINISHED):
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        except OSError:
            continue
WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM}


def refuse_existing(path: Path, force: bool) -> None:
    check_path(path, "输出文件", "output file")  # a name the system cannot hold: one sentence
    if path.is_dir():
        raise KpiError([error("is-dir", f"{path} 是文件夹，不能作为输出文件",
                              f"{path} is a folder, not an output file", source=str(path))])
    if path.exists() and not force:
        raise KpiError([error("exists", f"{path} 已存在；如需覆盖请加 --force",
                              f"{path} already exists; use --force to overwrite", source=str(path))])


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        try:
            return Path(a).resolve() == Path(b).resolve()
        except (OSError, RuntimeError):
            return False


def refuse_inputs(out: Path, inputs) -> None:
    """Refuse an output that is one of the inputs (``payroll R --out R --force``)."""
    for source in inputs:
        if source is not None and Path(source).is_file() and _same_file(Path(out), Path(source)):
            raise KpiError([error("output-is-input", f"输出文件 {out} 同时是输入文件，拒绝覆盖",
                                  f"the output {out} is also an input of this command: refused",
                                  source=str(out))])


def write_target(path: Path) -> Path:
    """The file a write to ``path`` should replace: a symlink's final target."""
    path = Path(path)
    if not path.is_symlink():
        return path
    try:
        return Path(os.path.realpath(path, strict=True))
    except (OSError, RuntimeError):
        try:  # a dangling link: create the file it names
            target = Path(os.path.realpath(path))
        except (OSError, RuntimeError):
            target = None
        if target is None or target.is_symlink() or target == path:
            raise KpiError([error("bad-symlink", f"{path} 是循环或损坏的符号链接，无法写入",
                                  f"{path} is a looping or broken symbolic link: cannot write it",
                                  source=str(path))]) from None
        return target


def clean_stale_temps(folder: Path) -> None:
    """Remove temporary files of ours left in ``folder`` by runs that were killed."""
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return
    for entry in entries:
        match = _TEMP.fullmatch(entry.name)
        if match is None:
            continue
        pid = int(match.group(1))
        if pid == os.getpid() or _alive(pid):
            continue
        try:
            entry.unlink()
        except OSError:  # removed by another run meanwhile, or not ours to remove: it stays
            continue


# ".NAME.kpi-tmp-PID-XXXX.xlsx", and the ".clone" that clone.py writes beside it
_TEMP = re.compile(r"\..+\.kpi-tmp-(\d{1,10})-[A-Za-z0-9_]{1,32}(\.[A-Za-z0-9]{1,8}){0,2}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


def _cannot_write(path: Path, exc: OSError) -> KpiError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return KpiError([error("disk-full", f"磁盘已满，无法写入 {path}（原文件未改动）",
                               f"the disk is full: cannot write {path} (the original is untouched)",
                               source=str(path))])
    return KpiError([error("cannot-write", f"无法写入 {path}：{exc.strerror or exc}",
                           f"cannot write {path}: {exc.strerror or exc}", source=str(path))])


@contextmanager
def atomic_output(path: Path, force: bool = False, inputs=()):
    """Yield a temporary path next to ``path``'s real file; rename it into place on success."""
    path = Path(path)
    refuse_existing(path, force)
    refuse_inputs(path, inputs)
    target = write_target(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_temps(target.parent)
        _WRITING_IN.add(target.parent)  # Ctrl-C between making the file and marking it finds it
        fd, tmp = tempfile.mkstemp(prefix=f".{_short(target.stem)}{TEMP_MARK}{os.getpid()}-",
                                   suffix=target.suffix, dir=target.parent)
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    os.close(fd)
    tmp_path = Path(tmp)
    _UNFINISHED.add(tmp_path)
    try:
        yield tmp_path
        try:
            _keep_mode(target, tmp_path)
            with open(tmp_path, "rb+") as written:  # on disk before it takes the real name
                os.fsync(written.fileno())
            os.replace(tmp_path, target)
        except OSError as exc:
            raise _cannot_write(path, exc) from None
    except Exception as exc:  # the writer's own failure: a full disk, a read-only folder
        cause = _os_error(exc)
        if cause is None or cause.errno not in WRITE_ERRORS:
            raise
        _collect_quietly()
        raise _cannot_write(path, cause) from None
    finally:
        tmp_path.unlink(missing_ok=True)  # gone already when it was renamed into place
        _UNFINISHED.discard(tmp_path)


def _short(stem: str, room: int = 180) -> str:
    """``stem`` cut to ``room`` bytes of UTF-8 (whole characters): a temporary name adds its
    mark, the process id, a random part and ".clone" to it, and a name has at most 255 bytes."""
    data = stem.encode("utf-8", "surrogateescape")
    return stem if len(data) <= room else data[:room].decode("utf-8", "ignore")


def _os_error(exc: BaseException | None) -> OSError | None:
    """The OSError behind a writer's exception (XlsxWriter wraps it in FileCreateError)."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, OSError):
            return exc
        if exc.args and isinstance(exc.args[0], OSError):
            return exc.args[0]
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def _collect_quietly() -> None:
    """A writer's zip left open when the disk filled fails again when it is collected (at
    exit, at the latest); that second failure is the one already reported, not a traceback
    for the user. Only write errors are silenced, and only once one was reported."""
    import sys

    previous = sys.unraisablehook
    if getattr(previous, "kpi_quiet", False):
        return

    def hook(unraisable):
        if isinstance(unraisable.exc_value, OSError) and unraisable.exc_value.errno in WRITE_ERRORS:
            return
        previous(unraisable)

    hook.__dict__["kpi_quiet"] = True  # a mark read back by getattr above
    sys.unraisablehook = hook


def _keep_mode(target: Path, tmp: Path) -> None:
    """The replaced file's mode and owner, or the mode a normal save would give."""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private (0600)
        return
    os.chmod(tmp, st.st_mode & 0o7777)
    if hasattr(os, "chown"):
        try:
            os.chown(tmp, st.st_uid, st.st_gid)
        except PermissionError:
            pass  # not ours to give away: the mode is kept all the same
