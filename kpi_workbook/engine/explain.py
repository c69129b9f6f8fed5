"""Turn an item's explanation data into a record and a sentence.

The engine's explanation is data (which band, which level, which events); this module
renders one employee's row of it, e.g. "询单转化率 0.36 落在 >= 0.35 档，得 80 分".
"""

from __future__ import annotations

import math

from ..rules.model import RATER_LABELS, Item, Role


def _num(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "空"
    return f"{value:g}"


def _shown(value: float, input_type: str) -> str:
    """A measured value as a person reads it: 0.36 of a percent metric is 36%."""
    if input_type == "percent" and value is not None and not math.isnan(value):
        return f"{value * 100:.6g}%"
    return _num(value)


def _band_text(when, input_type: str) -> str:
    """A band condition as people write it: >= 0.35 of a percent metric is ≥ 35%."""
    if input_type != "percent":
        return str(when)
    if when.op == "range":
        return (f"{'[' if when.lo_closed else '('}{_shown(when.lo, 'percent')}, "
                f"{_shown(when.hi, 'percent')}{']' if when.hi_closed else ')'}")
    if when.op == "else":
        return "其他"
    return f"{when.op} {_shown(when.value, 'percent')}"


def explain_item(role: Role, item: Item, detail: dict, i: int, points: float) -> dict:
    """An explanation record for employee row ``i``: data plus a Chinese sentence."""
    rule = item.rule
    rec: dict = {"kind": rule.kind}
    text = ""
    if rule.kind == "bands":
        value, band = float(detail["value"][i]), int(detail["band"][i])
        rec.update(value=None if math.isnan(value) else value)
        if band >= 0:
            b = rule.bands[band]
            rec.update(band=band, when=str(b.when), band_points=b.points)
            text = (f"{rule.input.label} {_shown(value, rule.input.type)} 落在 "
                    f"{_band_text(b.when, rule.input.type)} 档，得 {_num(points)} 分")
        else:
            text = f"{rule.input.label} {_shown(value, rule.input.type)} 未落入任何档"
    elif rule.kind == "ratio":
        value = float(detail["value"][i])
        rec.update(value=None if math.isnan(value) else value, cap=rule.cap)
        text = (f"{rule.input.label} {_shown(value, rule.input.type)} × {item.full_scale:g}"
                f"（封顶 {_shown(rule.cap, rule.input.type)}），"
                f"得 {_num(points)} 分")
    elif rule.kind == "events":
        counted = []
        for ev in rule.events:
            v = float(detail[ev.id][i])
            if v:
                each = f"{ev.points:+g}/次" if ev.type == "count" else (
                    f"{ev.points:+g}" if ev.type == "flag" else "实扣/奖")
                counted.append({"event": ev.id, "label": ev.label, "value": v,
                                "points": v * (ev.points if ev.type != "points" else ev.sign)})
                text_part = f"{ev.label} ×{v:g}（{each}）" if ev.type == "count" else (
                    f"{ev.label}（{each}）" if ev.type == "flag" else f"{ev.label} {ev.sign * v:+g}")
                counted[-1]["text"] = text_part
        rec.update(events=[{k: v for k, v in c.items() if k != "text"} for c in counted],
                   bonus=float(detail["bonus"][i]), deduction=float(detail["deduction"][i]))
        base = "配分" if rule.base == "max" else f"{rule.base:g}"
        text = (f"从{base}起，" + "；".join(c["text"] for c in counted) if counted
                else f"无扣分/奖分事件，保持{base}") + f"，得 {_num(points)} 分"
    elif rule.kind in ("direct", "levels"):
        raters = role.raters.raters if role.raters and f"raw.{role.raters.raters[0].id}" in detail else []
        parts = []
        for r in raters or [None]:
            suffix = f".{r.id}" if r else ""
            if rule.kind == "levels":
                idx = int(detail[f"level{suffix}"][i])
                shown = rule.levels[idx].label if idx >= 0 else "空"
                parts.append((r, shown, None if idx < 0 else rule.levels[idx].points))
            else:
                v = float(detail[f"value{suffix}"][i])
                parts.append((r, _num(v), None if math.isnan(v) else v))
        rec["ratings"] = [{"rater": r.id if r else None, "value": shown, "points": p}
                          for r, shown, p in parts]
        rated = "，".join(f"{RATER_LABELS[r.id] if r else '评分'} {shown}" for r, shown, _ in parts)
        how = ""
        if raters and role.raters.mode == "weighted":
            how = "（加权：" + " + ".join(f"{RATER_LABELS[r.id]}×{r.weight:g}" for r in raters) + "）"
        elif raters:
            how = "（以最后一位评分人为准）"
        if rule.kind == "direct" and rule.levels and not math.isnan(points):
            # guidance ranges are on the rater's 0..scale basis, not the item's points
            typed = points * item.full_scale / item.max if item.max else points
            level = level_of_points(item, typed)
            if level:
                rec["level"] = level
                how += f"，属 {level} 档"
        text = f"{rated}{how}，得 {_num(points)} 分"
    elif rule.kind == "rank":
        r, n = float(detail["rank"][i]), float(detail["team_size"][i])
        rec.update(rank=None if math.isnan(r) else r, team_size=None if math.isnan(n) else n)
        text = f"团队 {_num(n)} 人中第 {_num(r)} 名，得 {_num(points)} 分"
    rec["text"] = text
    return rec


def level_of_points(item: Item, points: float) -> str | None:
    """Which guidance level typed points fall in (first match: 18 is A in A 18–20, B 15–18)."""
    for level in item.rule.levels:
        if level.min <= points <= level.max:
            return level.label
    return None
