"""YAML loaded within a budget: every template file (and anything else read as YAML) goes
through :func:`parse_yaml` or :func:`load_yaml`.

A YAML file can ask for far more than it holds: aliases that repeat aliases (the "billion
laughs": a few lines that expand to billions of nodes, which the loaders share but every
later step — validation, the cache's JSON, the linter — walks in full), or thousands of
nested brackets, on which libyaml's composer recurses in C until the process crashes. So,
with the limits of the table (``kpi_workbook.limits``: ``yaml_mb``, ``yaml_nodes``,
``yaml_depth``), before anything is built:

1. the text's size is checked;
2. its events are read (the parser is a state machine: no recursion) and its nesting and
   number of nodes counted;
3. the node tree is composed (now shallow and bounded) and its size counted with every alias
   expanded (each node once, memoised, in a loop; an alias inside itself is refused);
4. only then is the data constructed.

Both PyYAML loaders are bounded the same way: libyaml's ``CSafeLoader`` when PyYAML has it,
else the pure-Python ``SafeLoader``. Both are "safe": plain data only, nothing is executed.
A refusal is :class:`YamlRefused` (a ``yaml.YAMLError``), one sentence in both languages.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ..limits import MB
from ..limits import value as limit

# libyaml's C parser when PyYAML was built with it (about ten times faster), else the
# pure-Python one
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlRefused(yaml.YAMLError):
    """A YAML text past a limit of the table: ``zh``, ``en`` and the limit's name."""

    def __init__(self, zh: str, en: str, limit_name: str, line: int | None = None):
        super().__init__(f"{zh} / {en}")
        self.zh, self.en, self.limit, self.line = zh, en, limit_name, line


def budget_key() -> str:
    """The limits a parse was made within (part of a cache entry's key: data parsed under a
    larger budget is not taken from the cache under a smaller one)."""
    return f"{limit('yaml_mb')}/{limit('yaml_nodes')}/{limit('yaml_depth')}"


def _line(event) -> int | None:
    mark = getattr(event, "start_mark", None)
    return mark.line + 1 if mark is not None else None


def _count_events(loader) -> None:
    """Nesting and nodes, from the events (before any node is composed)."""
    depth_max, nodes_max = limit("yaml_depth"), limit("yaml_nodes")
    depth = nodes = 0
    while loader.check_event():
        event = loader.get_event()
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > depth_max:
                raise YamlRefused(f"YAML 嵌套超过 {depth_max} 层", f"the YAML nests deeper than {depth_max} levels",
                                  "yaml_depth", _line(event))
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
        if isinstance(event, (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent,
                              yaml.AliasEvent)):
            nodes += 1
            if nodes > nodes_max:
                raise YamlRefused(f"YAML 节点多于 {nodes_max:,} 个", f"the YAML has more than {nodes_max:,} nodes",
                                  "yaml_nodes", _line(event))


def _children(node) -> list:
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _count_expanded(tree) -> None:
    """The tree's size and depth with every alias expanded, each node worked out once."""
    nodes_max, depth_max = limit("yaml_nodes"), limit("yaml_depth")
    done: dict[int, tuple[int, int]] = {}  # id(node) → (expanded size, depth)
    active: set[int] = set()  # the nodes on the path being walked
    stack = [(tree, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            kids = [done[id(k)] for k in _children(node)]
            size = 1 + sum(k[0] for k in kids)
            depth = 1 + max((k[1] for k in kids), default=0)
            active.discard(key)
            if size > nodes_max:
                raise YamlRefused(f"YAML 的别名展开后多于 {nodes_max:,} 个节点（疑似别名炸弹）",
                                  f"the YAML expands to more than {nodes_max:,} nodes through its aliases "
                                  "(a likely alias bomb)", "yaml_nodes", node.start_mark.line + 1)
            if depth > depth_max:
                raise YamlRefused(f"YAML 的别名展开后嵌套超过 {depth_max} 层",
                                  f"the YAML nests deeper than {depth_max} levels through its aliases",
                                  "yaml_depth", node.start_mark.line + 1)
            done[key] = (size, depth)
            continue
        if key in done:
            continue
        active.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in active:
                raise YamlRefused("YAML 的别名引用了自身", "a YAML alias refers to itself", "yaml_nodes",
                                  child.start_mark.line + 1)
            if id(child) not in done:
                stack.append((child, False))


def parse_yaml(text: str, loader_class=None):
    """(data, node tree) from one bounded parse; the tree keeps every node's line for
    messages. Raises YamlRefused past a limit, yaml.YAMLError on bad YAML. ``loader_class``:
    the PyYAML loader (default SAFE_LOADER)."""
    make = loader_class or SAFE_LOADER
    size = limit("yaml_mb")
    if len(text) > size * MB:
        raise YamlRefused(f"文件大于 {size} MB", f"the file is larger than {size} MB", "yaml_mb")
    loader = make(text)
    try:
        _count_events(loader)
    finally:
        loader.dispose()
    loader = make(text)
    try:
        tree = loader.get_single_node()
        if tree is not None:
            _count_expanded(tree)
        data = loader.construct_document(tree) if tree is not None else None
    finally:
        loader.dispose()
    return data, tree


def check_file_size(path: Path) -> None:
    """Refuse a YAML file far past the size limit before reading it whole (a character is
    at most 4 bytes in UTF-8; the text's own length is checked by parse_yaml)."""
    size = limit("yaml_mb")
    if path.stat().st_size > 4 * size * MB:
        raise YamlRefused(f"文件大于 {size} MB", f"the file is larger than {size} MB", "yaml_mb")


def load_yaml(source: Path | str) -> object:
    """The data of a YAML file (a Path) or text (a str), within the budget."""
    if isinstance(source, Path):
        check_file_size(source)
        source = source.read_text(encoding="utf-8")
    return parse_yaml(source)[0]
