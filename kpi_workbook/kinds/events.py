"""events: start from ``base`` (the item's max, or a number) and add each recorded event.

Events are in item points already (``in_item_points``): a count × its points, a flag (是)
its points, or points typed within the event's range, signed. An empty event cell means it
did not happen, so the item is never empty. Bonus sums the positive events, deduction the
negative ones; the formula builds the same two sums.
"""

from __future__ import annotations

import numpy as np

from ..rules.model import Event, EventsRule, InputDef, InputType, Item, Role
from .base import Detail, Ref, RuleKind, Value, is_yes, num, number_shown

EVENT_INPUT_TYPES: dict[str, InputType] = {"count": "count", "flag": "flag", "points": "points"}


def per_event(ev: Event) -> float:
    """The points of one occurrence of a count or flag event (a points event's are typed)."""
    if isinstance(ev.points, tuple):
        raise TypeError(f"event {ev.id} has a points range, not points per occurrence")
    return ev.points


def signed(ev: Event) -> float:
    """What one unit of the event's input is worth: its points per occurrence, or ±1 for
    points typed within its range."""
    return ev.sign if isinstance(ev.points, tuple) else ev.points


def event_term(rule: EventsRule, event_id: str, ref: Ref) -> str:
    """The signed points of one event row (count × points, flag, or typed points)."""
    ev = next(e for e in rule.events if e.id == event_id)
    v = ref(ev.id)
    if ev.type == "flag":
        return f"IF({is_yes(v)},{num(per_event(ev))},0)"
    if ev.type == "points":
        return f"{v}*{ev.sign}"
    return f"{v}*{num(per_event(ev))}"


def event_sums(rule: EventsRule, ref: Ref) -> tuple[str, str]:
    """(bonus, deduction) expressions: bonus adds positive events, deduction subtracts the
    negative ones, as ``Events.evaluate`` accumulates them."""
    bonus, deduction = "0", "0"
    for ev in rule.events:
        term = event_term(rule, ev.id, ref)
        if ev.sign < 0:
            deduction += f"-({term})"
        else:
            bonus += f"+{term}"
    return bonus, deduction


class Events(RuleKind[EventsRule]):
    model = EventsRule
    in_item_points = True

    def inputs(self, item: Item, rule: EventsRule) -> list[InputDef]:
        defs = []
        for ev in rule.events:
            kind = EVENT_INPUT_TYPES[ev.type]
            hi = max(abs(p) for p in ev.points) * 1000 \
                if isinstance(ev.points, tuple) else None
            defs.append(InputDef(id=ev.id, label=ev.label, label_en=ev.label_en, type=kind,
                                 unit="次" if kind == "count" else "", min=0, max=hi,
                                 required=False, default=0))
        return defs

    def evaluate(self, item: Item, rule: EventsRule, value: Value,
                 row_max: np.ndarray) -> tuple[np.ndarray, Detail]:
        base = row_max if rule.base == "max" else np.full_like(row_max, float(rule.base))
        bonus = np.zeros_like(row_max)
        deduction = np.zeros_like(row_max)
        detail: Detail = {}
        for ev in rule.events:
            v = np.nan_to_num(value(ev.id))  # an empty event cell means it did not happen
            detail[ev.id] = v
            amount = v * signed(ev)
            if ev.sign < 0:
                deduction = deduction - amount
            else:
                bonus = bonus + amount
        detail["bonus"], detail["deduction"] = bonus, deduction
        # Events are in item points already: base is the item's max (or a number).
        return base + bonus - deduction, detail

    def formula(self, item: Item, rule: EventsRule, ref: Ref, rmax: str) -> tuple[str, str]:
        base = rmax if rule.base == "max" else num(rule.base)
        bonus, deduction = event_sums(rule, ref)
        return f"{base}+({bonus})-({deduction})", "FALSE"

    def explain(self, role: Role, item: Item, rule: EventsRule, detail: dict, i: int,
                points: float) -> tuple[dict, str]:
        counted = []
        for ev in rule.events:
            v = float(detail[ev.id][i])
            if v:
                each = "实扣/奖" if ev.type == "points" else (
                    f"{per_event(ev):+g}/次" if ev.type == "count" else f"{per_event(ev):+g}")
                counted.append({"event": ev.id, "label": ev.label, "value": v,
                                "points": v * signed(ev)})
                text_part = f"{ev.label} ×{v:g}（{each}）" if ev.type == "count" else (
                    f"{ev.label}（{each}）" if ev.type == "flag" else f"{ev.label} {ev.sign * v:+g}")
                counted[-1]["text"] = text_part
        rec = {"events": [{k: v for k, v in c.items() if k != "text"} for c in counted],
               "bonus": float(detail["bonus"][i]), "deduction": float(detail["deduction"][i])}
        base = "配分" if rule.base == "max" else f"{rule.base:g}"
        return rec, (f"从{base}起，" + "；".join(str(c["text"]) for c in counted) if counted
                     else f"无扣分/奖分事件，保持{base}") + f"，得 {number_shown(points)} 分"


KIND = Events()
