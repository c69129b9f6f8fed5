"""A progress bar on stderr (tqdm) for long commands, only when stderr is a terminal: a
pipe, a file or a test sees nothing of it, and stdout (the results) is never touched."""

from __future__ import annotations

import sys
from contextlib import contextmanager

LONG = 10  # fewer steps than this are quick: no bar


def wanted(total: int | None, stream=None) -> bool:
    stream = stream or sys.stderr
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and (total is None or total >= LONG)


@contextmanager
def progress(total: int | None, desc: str, unit: str = "张"):
    """Yields ``step(n=1, note="")``; a no-op unless :func:`wanted`."""
    if not wanted(total):
        yield lambda n=1, note="": None
        return
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True)

    def step(n: int = 1, note: str = "") -> None:
        if note:
            bar.set_postfix_str(note, refresh=False)
        bar.update(n)

    try:
        yield step
    finally:
        bar.close()
