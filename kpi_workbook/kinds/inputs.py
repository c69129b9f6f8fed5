"""The inputs of a role: what a person enters, how it is keyed, and how it is parsed.

Each input has a canonical key ``item_id.input_id`` (``.rater`` appended for rater
columns; pay-rule inputs are ``rule_id.input_id``). People may also key by the Chinese
labels (``考核项目`` / ``考核项目/输入``) and rater names (自评/主管/经理). Parsed values are
floats: a level is its index in the list, a flag is 0 or 1, an empty input is NaN.

It lives with the kinds because each kind says which inputs its rule takes and whether its
item is rated by default: the rules layer below knows only the schema.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..diagnostics import Diagnostic, error
from ..numbers import ParseError, is_blank, normalise_text, parse_flag, parse_number
from . import pay_kind, rule_kind
from ..rules.model import RATER_LABELS, InputDef, Item, PayRule, Role

RATER_ALIASES = {**{v: k for k, v in RATER_LABELS.items()}, "主管审核": "supervisor",
                 "经理审核": "manager", "上级审核": "supervisor", "考评": "supervisor",
                 "自评分": "self", "考评分": "supervisor", "上级": "supervisor"}


@dataclass(frozen=True)
class InputSpec:
    key: str  # canonical key
    owner: str  # item id, or pay rule id
    input: InputDef
    rater: str | None = None
    levels: tuple[str, ...] = ()  # for level inputs: the labels, in order
    item: Item | None = None
    rule_label: str = ""  # pay-rule inputs: the rule's label (季度提成)

    @property
    def type(self) -> str:
        return self.input.type

    @property
    def owner_label(self) -> str:
        """The 考核项目 of an item's input, the pay rule's label of a pay input."""
        return self.item.label if self.item else (self.rule_label or self.owner)

    def label_path(self) -> str:
        text = f"{self.owner_label}/{self.input.label}"
        return f"{text}/{RATER_LABELS[self.rater]}" if self.rater else text


def is_rated(role: Role, item: Item) -> bool:
    if role.raters is None:
        return False
    return item.rated if item.rated is not None else rule_kind(item.rule).rated_by_default


def item_inputs(role: Role, section, item: Item) -> list[InputDef]:
    """The inputs of one item (before rater columns are added)."""
    rule = item.rule
    defs: list[InputDef] = []
    if section.allocation is not None:
        a = section.allocation
        defs.append(InputDef(id="alloc", label=a.label, label_en="allocated points",
                             type="points", min=0, max=a.total, required=False, default=a.default))
    defs += rule_kind(rule).inputs(item, rule)
    return defs


# input_specs of a role and its pay rules, by their identity (the models are frozen): the
# engine, the reader and the report each ask for them per role and month. Each entry keeps
# its role and rules, so their ids stay theirs while it is here.
_SPECS: dict[tuple[int, ...], tuple[Role, tuple[PayRule, ...], tuple[InputSpec, ...]]] = {}
_SPECS_KEPT = 512


def input_specs(role: Role, pay_rules: Sequence[PayRule] = ()) -> tuple[InputSpec, ...]:
    """Every input of a role, in sheet order, with rater columns and pay-rule inputs."""
    key = (id(role), *map(id, pay_rules))
    hit = _SPECS.get(key)
    if hit is not None and hit[0] is role and all(a is b for a, b in zip(hit[1], pay_rules)):
        return hit[2]
    specs = _input_specs(role, pay_rules)
    if len(_SPECS) >= _SPECS_KEPT:
        _SPECS.clear()
    _SPECS[key] = (role, tuple(pay_rules), specs)
    return specs


def _input_specs(role: Role, pay_rules: Sequence[PayRule]) -> tuple[InputSpec, ...]:
    specs: list[InputSpec] = []
    for section, item in role.items():
        kind = rule_kind(item.rule)
        levels = kind.level_labels(item.rule)
        rated = is_rated(role, item)
        for d in item_inputs(role, section, item):
            base = f"{item.id}.{d.id}"
            if rated and role.raters is not None and d.id == kind.rated_input:
                for r in role.raters.raters:
                    specs.append(InputSpec(f"{base}.{r.id}", item.id, d, r.id, levels, item))
            else:
                specs.append(InputSpec(base, item.id, d, None, levels if d.type == "level" else (),
                                       item))
    for rule in pay_rules:
        for d in pay_kind(rule).inputs:
            specs.append(InputSpec(f"{rule.id}.{d.id}", rule.id, d, rule_label=rule.label))
    return tuple(specs)


# ---------------------------------------------------------------------------------------
# Resolving keys people write.


class KeyResolver:
    """Maps every accepted spelling of an input key to its canonical key.

    A spelling is, from the most to the least specific: the key itself and the label paths
    (``item.input``, ``item/input``, ``考核项目/输入项`` and their mixtures); the item alone
    (its id or 考核项目 label), which names its one value input; the card's 输入项 label
    alone. The first of these that names anything decides: one input is the answer, several
    make the spelling ambiguous (:meth:`lookup` says which inputs it may mean). Width, spaces
    and case do not matter.
    """

    def __init__(self, specs: tuple[InputSpec, ...]):
        self.specs = {s.key: s for s in specs}
        # three tiers of spellings (without rater) → the canonical base keys they name
        self.tiers: tuple[dict[str, list[str]], ...] = ({}, {}, {})

        def add(tier: int, spelling: str, base: str) -> None:
            found = self.tiers[tier].setdefault(_fold(spelling), [])
            if base not in found:
                found.append(base)

        per_owner: dict[str, list[InputSpec]] = {}
        for s in specs:
            base = f"{s.owner}.{s.input.id}"
            owner_label = s.owner_label
            for spelling in (base, f"{owner_label}/{s.input.label}", f"{s.owner}/{s.input.id}",
                             f"{s.owner}.{s.input.label}", f"{owner_label}.{s.input.id}",
                             f"{s.owner}/{s.input.label}", f"{owner_label}/{s.input.id}"):
                add(0, spelling, base)
            if s.input.id != "alloc" and s.input.id not in ("rank", "team_size"):
                add(2, s.input.label, base)  # the 输入项 label as printed on the card
            per_owner.setdefault(s.owner, []).append(s)
        for owner, owned in per_owner.items():
            bases = list(dict.fromkeys(f"{s.owner}.{s.input.id}" for s in owned if s.input.id != "alloc"))
            item = owned[0].item
            if item is not None and rule_kind(item.rule).item_key_is_metric and len(bases) > 1:
                bases = [f"{owner}.{_rank_primary(owned)}"]  # rank items: their metric
            for spelling in (owner, owned[0].owner_label):
                for base in bases:  # an item alone names its one value input
                    add(1, spelling, base)

    def lookup(self, key: str) -> tuple[str | None, tuple[str, ...]]:
        """(base key, ()) for a spelling that names one input, (None, the base keys it may
        mean) for an ambiguous one, (None, ()) for an unknown one."""
        folded = _fold(key)
        for tier in self.tiers:
            found = tier.get(folded)
            if found:
                return (found[0], ()) if len(found) == 1 else (None, tuple(found))
        return None, ()

    def owner(self, key: str) -> str | None:
        """The item (or pay rule) a key names on its own: its id or label."""
        folded = _fold(key)
        for spec in self.specs.values():
            if folded in (_fold(spec.owner), _fold(spec.owner_label)):
                return spec.owner
        return None

    def base_key(self, key: str) -> str | None:
        return self.lookup(key)[0]

    def split(self, key: str) -> tuple[str | None, str | None]:
        """(base key, rater) of a spelling, e.g. 'att.points.self' or '工作态度/得分/主管';
        (None, None) when it names no single input."""
        base, rater, _ = self.resolve(key)
        return base, rater

    def resolve(self, key: str) -> tuple[str | None, str | None, tuple[str, ...]]:
        """(base key, rater, ()) of a spelling; (None, None, candidates) when it is ambiguous,
        (None, None, ()) when it names nothing."""
        base, candidates = self.lookup(key)
        if base is not None or candidates:
            return base, None, candidates
        for sep in (".", "/"):
            head, _, tail = str(key).rpartition(sep)
            rater = self.rater(tail) if head else None
            if rater:
                base, candidates = self.lookup(head)
                if base is not None or candidates:
                    return base, (rater if base is not None else None), candidates
        return None, None, ()

    def path_of(self, base: str) -> str:
        """'日常检验工作/虚假记录': a base key as 考核项目/输入项."""
        spec = self.specs.get(base) or next(s for k, s in self.specs.items() if k.startswith(base + "."))
        return f"{spec.owner_label}/{spec.input.label}"

    def shown(self, base: str) -> str:
        """'daily_inspection.false_record（日常检验工作/虚假记录）': a base key for people."""
        return f"{base}（{self.path_of(base)}）"

    def rater(self, name: str) -> str | None:
        folded = normalise_text(str(name))
        if folded in ("self", "supervisor", "manager"):
            return folded
        return RATER_ALIASES.get(folded)

    def valid_keys(self) -> list[str]:
        return sorted({k.rsplit(".", 1)[0] if self.specs[k].rater else k for k in self.specs})


def _rank_primary(owned: list[InputSpec]) -> str:
    ids = [s.input.id for s in owned]
    return next((i for i in ids if i not in ("rank", "team_size", "alloc")), "rank")


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", normalise_text(str(text))).lower()


# ---------------------------------------------------------------------------------------
# Parsing values.


def parse_value(spec: InputSpec, value: object) -> float:
    """One typed value to its float form; raises ParseError saying what was expected."""
    if is_blank(value):
        return math.nan
    d = spec.input
    if d.type == "flag":
        return 1.0 if parse_flag(value) else 0.0
    if d.type == "level":
        text = normalise_text(str(value))
        if text in spec.levels:
            return float(spec.levels.index(text))
        raise ParseError(f"等级须为 {'、'.join(spec.levels)} 之一，得到“{value}”",
                         f"level must be one of {', '.join(spec.levels)}, got '{value}'")
    number = parse_number(value, percent=d.type == "percent")
    if d.type == "count" and not float(number).is_integer():
        raise ParseError(f"次数须为整数，得到 {value}", f"a count must be a whole number, got {value}")
    low, high = d.min, d.max
    if d.type in ("count", "points") and low is None:
        low = 0
    if (low is not None and number < low) or (high is not None and number > high):
        what = "得分超过配分" if d.type == "points" and d.id == "points" else "超出允许范围"
        raise ParseError(
            f"{value} {what} [{_fmt(low)}, {_fmt(high)}]", f"{value} is outside the allowed "
            f"range [{_fmt(low)}, {_fmt(high)}]")
    return number


def _fmt(value) -> str:
    if value is None:
        return "…"
    return str(int(value)) if float(value).is_integer() else str(value)


def _expand_item_dicts(resolver: KeyResolver, raw: dict):
    """``{"item": {"input": v}}`` is ``{"item.input": v}``; a dict of raters stays as it is."""
    for key, value in raw.items():
        owner = resolver.owner(key) if isinstance(value, dict) else None
        if owner and not all(resolver.rater(k) for k in value):
            for sub, v in value.items():
                yield f"{owner}.{sub}", v
        else:
            yield key, value


def parse_inputs(specs: tuple[InputSpec, ...], raw: dict, source: str = "") -> tuple[
        dict[str, float], list[Diagnostic]]:
    """Parse a JSON-style ``{key: value or {rater: value}}`` mapping for one scorecard."""
    resolver = KeyResolver(specs)
    values: dict[str, float] = {}
    diags: list[Diagnostic] = []

    def bad(key, zh, en):
        diags.append(error("bad-input", zh, en, source=source, path=(key,)))

    for key, value in _expand_item_dicts(resolver, raw):
        base, rater, candidates = resolver.resolve(key)
        if candidates:
            shown = "、".join(resolver.shown(c) for c in candidates)
            bad(key, f"输入项 '{key}' 可指 {shown}；请写 考核项目/输入项 或 key",
                f"input key '{key}' may mean {', '.join(candidates)}: write 考核项目/输入项 or the key")
            continue
        if base is None:
            from ..suggest import did_you_mean, key_choices

            valid = ", ".join(resolver.valid_keys())
            zh, en = did_you_mean(key, key_choices(resolver))
            bad(key, f"未知输入项 '{key}'{zh}；有效输入项：{valid}",
                f"unknown input key '{key}'{en}; valid keys: {valid}")
            continue
        pairs: list[tuple[str | None, object]]
        if isinstance(value, dict):
            pairs = []
            for rname, rvalue in value.items():
                r = resolver.rater(rname)
                if r is None:
                    bad(key, f"未知评分人 '{rname}'；可用 自评/主管/经理 或 self/supervisor/manager",
                        f"unknown rater '{rname}'; use self/supervisor/manager or 自评/主管/经理")
                    continue
                pairs.append((r, rvalue))
        else:
            pairs = [(rater, value)]
        for r, v in pairs:
            full = f"{base}.{r}" if r else base
            if full not in resolver.specs:
                rated = [k for k in resolver.specs if k.startswith(base + ".")]
                if rated and r is None:
                    bad(key, f"'{key}' 按评分人填写，如 {{\"supervisor\": 值}}；可用：{', '.join(rated)}",
                        f"'{key}' takes one value per rater, e.g. {{\"supervisor\": value}}; "
                        f"keys: {', '.join(rated)}")
                else:
                    bad(key, f"'{key}' 没有评分人 {r}", f"'{key}' has no rater column '{r}'")
                continue
            spec = resolver.specs[full]
            try:
                values[full] = parse_value(spec, v)
            except ParseError as exc:
                bad(key, f"输入项 '{key}'（{spec.label_path()}）：{exc.zh}", f"input '{key}': {exc.en}")
    return values, diags
