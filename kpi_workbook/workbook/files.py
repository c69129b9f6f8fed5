"""Writing output files safely: refuse to overwrite unless asked, and write atomically.

A file is written to a temporary name in the same folder and renamed into place, so an
interrupted run never leaves a half-written workbook or a damaged original.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..diagnostics import KpiError, error


def refuse_existing(path: Path, force: bool) -> None:
    if path.is_dir():
        raise KpiError([error("is-dir", f"{path} 是文件夹，不能作为输出文件",
                              f"{path} is a folder, not an output file", source=str(path))])
    if path.exists() and not force:
        raise KpiError([error("exists", f"{path} 已存在；如需覆盖请加 --force",
                              f"{path} already exists; use --force to overwrite", source=str(path))])


@contextmanager
def atomic_output(path: Path, force: bool = False):
    """Yield a temporary path next to ``path``; rename it into place on success."""
    path = Path(path)
    refuse_existing(path, force)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    except OSError as exc:
        raise KpiError([error("cannot-write", f"无法写入 {path}：{exc.strerror}",
                              f"cannot write {path}: {exc.strerror}", source=str(path))]) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp makes the file private (0600); give it the permissions a normal save would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        with open(tmp_path, "rb+") as written:  # on disk before it takes the real name
            os.fsync(written.fileno())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
