"""One diagnostic type for every layer: templates, inputs, workbooks, reports.

Bad user data becomes :class:`Diagnostic` records that are collected and reported all at
once; bugs and I/O failures stay exceptions. A diagnostic names where (file, a path inside
it, or sheet and cell), a stable code, and its message in Chinese and in English as two
fields: they are joined into one line only where a person reads them (``message``, ``str``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message_zh: str
    message_en: str = ""
    severity: Severity = "error"
    source: str = ""  # a file path, or "" for data given directly
    path: tuple[str | int, ...] = ()  # location inside the source (template path, input key)
    sheet: str = ""
    cell: str = ""
    line: int | None = None  # 1-based line in the source file, when known

    @property
    def message(self) -> str:
        """Chinese first, then English: the one-line form for people."""
        if self.message_en and self.message_en != self.message_zh:
            return f"{self.message_zh} / {self.message_en}"
        return self.message_zh

    def where(self) -> str:
        parts = []
        if self.source:
            parts.append(self.source + (f":{self.line}" if self.line else ""))
        if self.sheet:
            parts.append(f"[{self.sheet}]" + (f"!{self.cell}" if self.cell else ""))
        if self.path:
            parts.append("/".join(str(p) for p in self.path))
        return " ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return f"{where}: {self.severity}: {self.message} [{self.code}]" if where else (
            f"{self.severity}: {self.message} [{self.code}]"
        )

    def to_dict(self) -> dict:
        data = asdict(self)
        data["path"] = list(self.path)
        data["message"] = self.message
        return {k: v for k, v in data.items() if v not in ("", (), [], None)}


@dataclass
class KpiError(Exception):
    """Raised where work cannot go on; carries every diagnostic found so far."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return "\n".join(str(d) for d in self.diagnostics)


def error(code: str, zh: str, en: str, **where) -> Diagnostic:
    return Diagnostic(code=code, message_zh=zh, message_en=en, severity="error", **where)


def warning(code: str, zh: str, en: str, **where) -> Diagnostic:
    return Diagnostic(code=code, message_zh=zh, message_en=en, severity="warning", **where)


def info(code: str, zh: str, en: str, **where) -> Diagnostic:
    return Diagnostic(code=code, message_zh=zh, message_en=en, severity="info", **where)


class Bilingual(ValueError):
    """A bad-value error whose message is known in both languages (``zh``, ``en``)."""

    def __init__(self, zh: str, en: str = "") -> None:
        self.zh, self.en = zh, en or zh
        super().__init__(f"{zh} / {en}" if en and en != zh else zh)


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in diagnostics)


class Refused(KpiError):
    """The data says no (a month in error, an approved month, an unclean payroll): the
    command stops with its findings and exits 1, not 2 — nothing was wrong with how it was
    called."""


class UsageError(Bilingual):
    """A call that cannot be made as given (an option missing, two options that exclude
    each other): the caller's mistake, not the data's. One sentence; the CLI exits 2."""
