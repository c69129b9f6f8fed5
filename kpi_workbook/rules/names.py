"""The names people write for a role: its id, its name, the short name printed on the card
(来料检验员 for 品质部检验绩效考核表（来料检验员）), its English name and the ``aliases`` its
template lists — compared after folding width, spaces and case, so ``来料检验员``,
``来料 检验员`` and ``ＩＱＣ`` are what they look like.

One index (:class:`RoleNames`) answers for every reader of a role name: the roster's 岗位,
``roles show``, ``score``, the worksheet functions. A name two roles share (品质部员工 is the
short name of two forms) is ambiguous and says so; an unknown one gets the closest names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from ..numbers import normalise_text
from .model import Role

_TITLE_SUFFIXES = ("岗位绩效考核表", "绩效考核评分表", "绩效评分考核表", "绩效月考核表", "绩效考核制度",
                   "绩效考核标准", "绩效考核表", "考核评分表", "绩效考核", "考核表")


def job_title(role: Role) -> str:
    """The role's short name, the job title a form and a report show in 岗位:
    '淘宝客服人员绩效考核表' → '淘宝客服人员', '品质部检验绩效考核表（来料检验员）' → '来料检验员'."""
    return _title(role.name)


@lru_cache(maxsize=1024)  # a report asks once per card: the same few names
def _title(name: str) -> str:
    name = name.strip()
    inner = re.search(r"[（(]([^）)]*)[）)]\s*$", name)
    if inner:
        # '（过程检验员·巡检）' → '过程检验员'; '（IQC/OQC）' (the station's code) → 'IQC/OQC'
        for part in inner.group(1).split("·"):
            if re.search(r"[员师长理]$", part.strip()):
                return part.strip()
        if re.fullmatch(r"[A-Z]{2,}(?:/[A-Z]{2,})*", inner.group(1).strip()):
            return inner.group(1).strip()
    name = re.sub(r"[（(][^）)]*[）)]\s*$", "", name).strip()
    for suffix in _TITLE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return name + "员工" if name.endswith("部") else name


def fold(text: object) -> str:
    """A name as compared: NFKC (full-width to half-width), no whitespace at all, lower case."""
    return re.sub(r"\s+", "", normalise_text(str(text))).lower()


def spellings(role: Role) -> list[str]:
    """Every name a role answers to, the id first."""
    names = [role.id, role.name, job_title(role), role.name_en, *role.aliases]
    return [n for n in dict.fromkeys(names) if n and fold(n)]


def shown(role: Role) -> str:
    """How a role is named in a message: 'qc_iqc（品质部检验绩效考核表（来料检验员））'."""
    return f"{role.id}（{role.name}）"


@dataclass(frozen=True)
class Found:
    """What a name resolved to: one role, or none with the roles it may mean (ambiguous) or
    the closest names (unknown)."""

    role: Role | None
    ambiguous: tuple[Role, ...] = ()
    closest: tuple[str, ...] = ()

    def message(self, text: object) -> tuple[str, str]:
        """(zh, en): why ``text`` names no single role, and what to write instead."""
        if self.ambiguous:
            names = [shown(r) for r in self.ambiguous]
            return (f"岗位“{text}”可指 {'、'.join(names)}，请写岗位 id 或表名全称",
                    f"role '{text}' may mean {', '.join(names)}: write the role id or the full name")
        if self.closest:
            return (f"未知岗位 '{text}'；是不是：{'、'.join(self.closest)}",
                    f"unknown role '{text}'; did you mean: {', '.join(self.closest)}")
        return (f"未知岗位 '{text}'（`kpi-workbook roles` 列出全部岗位）",
                f"unknown role '{text}' (see `kpi-workbook roles`)")


class RoleNames:
    """Every spelling of every role, folded, to the roles it names."""

    def __init__(self, roles: Iterable[Role]):
        self.roles = {r.id: r for r in roles}
        self.by_name: dict[str, list[str]] = {}
        for role in self.roles.values():
            for name in spellings(role):
                owners = self.by_name.setdefault(fold(name), [])
                if role.id not in owners:
                    owners.append(role.id)
        self.display = {fold(n): shown(r) for r in self.roles.values() for n in spellings(r)}

    def find(self, text: object) -> Found:
        key = fold(text) if text is not None else ""
        if not key:
            return Found(None)
        if key in self.roles:  # an id is never ambiguous
            return Found(self.roles[key])
        owners = self.by_name.get(key, [])
        if len(owners) == 1:
            return Found(self.roles[owners[0]])
        if owners:
            return Found(None, ambiguous=tuple(self.roles[o] for o in owners))
        from ..suggest import close

        return Found(None, closest=tuple(close(key, self.display)))

    def clashes(self) -> list[tuple[str, list[str]]]:
        """(name, role ids) for every name that more than one role answers to."""
        return [(name, ids) for name, ids in self.by_name.items() if len(ids) > 1]
