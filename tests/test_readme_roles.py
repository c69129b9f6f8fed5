"""The README's role table lists every shipped role, under its name and seed, and its counts
("18 个岗位") are the catalog's."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_role_is_in_the_readme(catalog):
    text = README.read_text(encoding="utf-8")
    rows = {m.group(1): (m.group(2).strip(), m.group(3).strip())
            for m in re.finditer(r"^\| `([a-z_]+)` \| (.+?) / [^|]*\| (S\d+) \|$", text, re.M)}
    assert set(rows) == set(catalog.roles)
    for role_id, (name, source) in rows.items():
        role = catalog.roles[role_id]
        assert (name, source) == (role.name, role.source), role_id
    n = len(catalog.roles)
    assert f"{n} 个岗位" in text and f"The {n} roles" in text
    assert not re.search(rf"\b(?!{n}\b)\d+ 个岗位", text)
