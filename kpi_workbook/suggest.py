"""'Did you mean …' for an unknown role or input key (difflib), with the Chinese labels."""

from __future__ import annotations

import difflib


def close(word: str, choices: dict[str, str], n: int = 3) -> list[str]:
    """Up to ``n`` display texts of the choices closest to ``word``; ``choices`` maps every
    spelling that may be typed (id, Chinese name, label) to the text to show."""
    folded = {str(k).lower(): v for k, v in choices.items() if k}
    hits = difflib.get_close_matches(str(word).lower(), list(folded), n=n * 3, cutoff=0.6)
    return list(dict.fromkeys(folded[h] for h in hits))[:n]


def did_you_mean(word: str, choices: dict[str, str]) -> tuple[str, str]:
    """('；是不是：a、b', '; did you mean: a, b') or two empty strings."""
    hits = close(word, choices)
    if not hits:
        return "", ""
    return f"；是不是：{'、'.join(hits)}", f"; did you mean: {', '.join(hits)}"


def key_choices(resolver) -> dict[str, str]:
    """Every input key of a KeyResolver and its Chinese label path, shown as 'key（标签）'."""
    out: dict[str, str] = {}
    for key, spec in resolver.specs.items():
        base = key.rsplit(".", 1)[0] if spec.rater else key
        shown = f"{base}（{spec.label_path()}）"
        out[base] = shown
        out[spec.label_path()] = shown
        out[spec.input.label] = shown
    return out
