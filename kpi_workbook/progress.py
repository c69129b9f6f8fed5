"""A progress bar on stderr (tqdm) for long commands, only when stderr is a terminal: a
pipe, a file or a test sees nothing of it, and stdout (the results) is never touched.

Many steps (or an unknown number) show the bar at once; a few steps show it once the work
has taken two seconds (a report over four books of 150 cards each is four long steps).

Also :func:`cell` for tables printed on a terminal: columns padded by display width (a
Chinese character takes two columns), so names of two and three characters line up."""

from __future__ import annotations

import sys
import unicodedata
from contextlib import contextmanager

LONG = 10  # this many steps or more: the bar at once
DELAY = 2.0  # seconds: fewer steps show the bar once the work takes this long


def wanted(total: int | None, stream=None) -> bool:
    stream = stream or sys.stderr
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def delay(total: int | None) -> float:
    """Seconds before the bar shows: none for many (or unknown) steps, else ``DELAY``."""
    return 0.0 if total is None or total >= LONG else DELAY


@contextmanager
def progress(total: int | None, desc: str, unit: str = "张"):
    """Yields ``step(n=1, note="")``; a no-op unless :func:`wanted`."""
    if not wanted(total):
        yield lambda n=1, note="": None
        return
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True,
               delay=delay(total))

    def step(n: int = 1, note: str = "") -> None:
        if note:
            bar.set_postfix_str(note, refresh=False)
        bar.update(n)

    try:
        yield step
    finally:
        bar.close()


def display_width(text: object) -> int:
    """Columns ``text`` takes on a terminal: wide and full-width characters two, others one."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in str(text))


def cell(text: object, width: int, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` terminal columns (left-aligned, or right)."""
    text = str(text)
    pad = " " * max(0, width - display_width(text))
    return pad + text if right else text + pad
