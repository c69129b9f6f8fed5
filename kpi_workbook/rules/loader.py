"""Load the templates directory into a :class:`Catalog`, or say everything wrong with it.

Layout: ``grades.yaml`` (grade schemes), ``pay.yaml`` (pay and award rules) and
``roles/*.yaml`` (one role scorecard each). Every problem is a diagnostic with the file,
the path inside it and its line; all of them are collected before anything is raised.
Each file is parsed once (libyaml when available), within the YAML budget of the table of
limits (``bounded_yaml``: size, nodes with aliases expanded, nesting); what it parses to is
cached by content (``yaml_cache``), and the models are validated from it on every load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import TypeAdapter, ValidationError

from ..diagnostics import Diagnostic, KpiError, error, has_errors
from . import yaml_cache
from .bounded_yaml import SAFE_LOADER, YamlRefused, budget_key, check_file_size, parse_yaml
from .model import GradeScheme, GradesFile, PayFile, PayRule, Role
from .names import RoleNames, fold

_PAY_RULE: TypeAdapter[PayRule] = TypeAdapter(PayRule)
T = TypeVar("T")


def builtin_templates_dir() -> Path:
    """The templates shipped with the package (``templates/`` in the repository).

    Installed, they are the data package ``kpi_workbook.templates``; imported from a source
    checkout, that package does not exist and the repository's folder is used.
    """
    try:
        return Path(str(resources.files("kpi_workbook.templates")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "templates"


@dataclass(frozen=True)
class Catalog:
    roles: dict[str, Role]
    grade_schemes: dict[str, GradeScheme]
    pay_rules: dict[str, PayRule]
    role_files: dict[str, Path] = field(default_factory=dict)
    directory: Path | None = None
    # caches of what is made from the templates: never given, never copied (init=False, so
    # dataclasses.replace starts a changed catalog with empty ones)
    _pay_cache: dict = field(default_factory=dict, init=False, compare=False, repr=False)
    _derived: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    def derived(self, kind: str, role: Role, make: Callable[[Catalog, Role], T]) -> T:
        """``make(self, role)``, made once per catalog, kind and role and kept here, beside the
        templates it comes from (a sheet layout, its formulas). It is shared by every caller:
        treat it as read-only (layouts are frozen)."""
        key = (kind, role.id)
        hit = self._derived.get(key)
        if hit is None or hit[0] is not role:
            hit = self._derived[key] = (role, make(self, role))
        return hit[1]

    def __getstate__(self) -> dict:  # a pickled catalog (e.g. to a worker) leaves its caches
        return {k: v for k, v in self.__dict__.items() if k not in ("_pay_cache", "_derived")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _pay_cache={}, _derived={})

    def role(self, key: str) -> Role:
        """A role by any name people write for it (rules/names.py): id, name, the short name
        printed on the card, English name or an alias, after folding width and spaces."""
        if key in self.roles:
            return self.roles[key]
        found = self.role_names().find(key)
        if found.role is not None:
            return found.role
        if not found.ambiguous:
            # the beginning of a form's title ("客服专员绩效" for 客服专员绩效考核表), if unambiguous
            wanted = fold(key)
            starts = [r for r in self.roles.values() if wanted and fold(r.name).startswith(wanted)]
            if len(starts) == 1:
                return starts[0]
        zh, en = found.message(key)
        if not (found.ambiguous or found.closest):  # nothing close: the whole list
            valid = ", ".join(sorted(self.roles))
            zh, en = f"{zh}；可选岗位：{valid}", f"{en}; valid roles: {valid}"
        raise KpiError([error("unknown-role", zh, en)])

    def role_names(self) -> RoleNames:
        """The index of every name of every role (made once per catalog)."""
        hit = self._derived.get(("role-names", ""))
        if hit is None or hit[0] is not self.roles:
            hit = self._derived[("role-names", "")] = (self.roles, RoleNames(self.roles.values()))
        return hit[1]

    def grade_scheme(self, role: Role) -> GradeScheme:
        return self.grade_schemes[role.grade_scheme]

    def role_pay_rules(self, role: Role) -> list[PayRule]:
        """The role's pay rules with its overrides applied (made once per role)."""
        cached = self._pay_cache.get(role.id)
        if cached is not None and cached[0] is role:
            return cached[1]
        rules = self._resolve_pay_rules(role)
        self._pay_cache[role.id] = (role, rules)
        return rules

    def _resolve_pay_rules(self, role: Role) -> list[PayRule]:
        rules = []
        for ref in role.pay_rules:
            base = self.pay_rules[ref.id]
            if ref.with_:
                base = _PAY_RULE.validate_python({**base.model_dump(), **ref.with_})
            rules.append(base)
        return rules


def load_catalog(directory: Path | str | None = None) -> Catalog:
    """Load and cross-check every template; raise :class:`KpiError` listing all errors."""
    catalog, diagnostics = read_catalog(directory)
    if has_errors(diagnostics):
        raise KpiError(diagnostics)
    return catalog


@lru_cache(maxsize=4)
def builtin_catalog() -> Catalog:
    return load_catalog(None)


def read_catalog(directory: Path | str | None = None) -> tuple[Catalog, list[Diagnostic]]:
    """Load what can be loaded, with every diagnostic (the linter wants both)."""
    root = Path(directory) if directory is not None else builtin_templates_dir()
    diags: list[Diagnostic] = []
    if not root.is_dir():
        diags.append(error("no-templates", f"找不到模板目录 {root}",
                           f"template directory {root} not found", source=str(root)))
        return Catalog({}, {}, {}, directory=root), diags

    schemes: dict[str, GradeScheme] = {}
    grades = _load(root / "grades.yaml", GradesFile, diags)
    for i, scheme in enumerate(grades.grade_schemes if grades else []):
        if scheme.id in schemes:
            diags.append(_dup(root / "grades.yaml", ("grade_schemes", i, "id"), scheme.id))
        schemes[scheme.id] = scheme

    pay_rules: dict[str, PayRule] = {}
    pay = _load(root / "pay.yaml", PayFile, diags)
    for i, rule in enumerate(pay.pay_rules if pay else []):
        if rule.id in pay_rules:
            diags.append(_dup(root / "pay.yaml", ("pay_rules", i, "id"), rule.id))
        pay_rules[rule.id] = rule

    roles: dict[str, Role] = {}
    files: dict[str, Path] = {}
    role_paths = sorted((root / "roles").glob("*.yaml"))
    if not role_paths:
        diags.append(error("no-roles", f"{root / 'roles'} 下没有岗位模板",
                           f"no role templates under {root / 'roles'}", source=str(root)))
    for path in role_paths:
        role = _load(path, Role, diags)
        if role is None:
            continue
        if role.id in roles:
            diags.append(_dup(path, ("id",), role.id))
            continue
        roles[role.id] = role
        files[role.id] = path

    catalog = Catalog(roles, schemes, pay_rules, files, root)
    if grades is not None and pay is not None:  # else every reference would fail: one error says why
        diags.extend(check_references(catalog))
    return catalog, diags


def check_references(catalog: Catalog) -> list[Diagnostic]:
    """Every grade scheme, pay rule and grade named by a role or rule exists."""
    diags: list[Diagnostic] = []
    for role in catalog.roles.values():
        source = str(catalog.role_files.get(role.id, role.id))
        if role.grade_scheme not in catalog.grade_schemes:
            diags.append(_missing(source, ("grade_scheme",), "grade scheme", role.grade_scheme,
                                  catalog.grade_schemes))
            continue
        for s, section in enumerate(role.sections):
            for i, item in enumerate(section.items):
                if item.grade_scheme and item.grade_scheme not in catalog.grade_schemes:
                    diags.append(_missing(source, ("sections", s, "items", i, "grade_scheme"),
                                          "grade scheme", item.grade_scheme, catalog.grade_schemes))
        for p, ref in enumerate(role.pay_rules):
            if ref.id not in catalog.pay_rules:
                diags.append(_missing(source, ("pay_rules", p), "pay rule", ref.id,
                                      catalog.pay_rules))
                continue
            try:
                rules = catalog.role_pay_rules(role.model_copy(update={"pay_rules": [ref]}))
            except ValidationError as exc:
                diags.extend(_validation_diags(exc, source, None, ("pay_rules", p, "with")))
                continue
            grades = set(catalog.grade_schemes[role.grade_scheme].grades())
            named = _grades_named(rules[0])
            if named - grades:
                diags.append(error(
                    "unknown-grade",
                    f"工资规则 {ref.id} 引用了等级 {sorted(named - grades)}，但等级方案 "
                    f"{role.grade_scheme} 只有 {sorted(grades)}",
                    f"pay rule {ref.id} names grades {sorted(named - grades)} that scheme "
                    f"{role.grade_scheme} does not have ({sorted(grades)})",
                    source=source, path=("pay_rules", p)))
            if rules[0].kind == "deduction_pool" and rules[0].value is None and not any(
                    catalog.pay_rules.get(r.id) is not None
                    and catalog.pay_rules[r.id].kind == "point_value" for r in role.pay_rules):
                diags.append(error(
                    "pool-needs-value",
                    f"工资规则 {ref.id}（扣分池）需要每分金额：请同时使用 point_value 规则或设置 value",
                    f"pay rule {ref.id} (deduction pool) needs a point value: use a point_value "
                    "rule too, or set value", source=source, path=("pay_rules", p)))
    return diags


def _grades_named(rule) -> set[str]:
    if rule.kind in ("grade_amount", "top_scorer_award"):
        return set(rule.amounts)
    if rule.kind == "fail_penalty":
        return set(rule.grades)
    return set()


# ---------------------------------------------------------------------------------------


def _load(path: Path, model, diags: list[Diagnostic]):
    try:
        check_file_size(path)
        text = path.read_text(encoding="utf-8")
    except YamlRefused as exc:
        diags.append(_refused(path, exc))
        return None
    except FileNotFoundError:
        diags.append(error("missing-file", f"缺少模板文件 {path}", f"template file {path} is missing",
                           source=str(path)))
        return None
    except (OSError, UnicodeDecodeError) as exc:
        diags.append(error("unreadable", f"无法读取 {path}：{exc}", f"cannot read {path}: {exc}",
                           source=str(path)))
        return None
    try:
        data, tree = _parse_cached(text)
    except YamlRefused as exc:  # past a limit of the table: one sentence, nothing built
        diags.append(_refused(path, exc))
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        diags.append(error("yaml-syntax", f"YAML 语法错误：{exc}", f"YAML syntax error: {exc}",
                           source=str(path), line=mark.line + 1 if mark else None))
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        if tree is None:  # the data came from the cache: parse again for the lines
            tree = _parse_yaml(text)[1]
        diags.extend(_validation_diags(exc, str(path), tree))
        return None


def _refused(path: Path, exc: YamlRefused) -> Diagnostic:
    return error("yaml-limit", f"{path.name}：{exc.zh}，拒绝读取（上限见 README“安全与限制”）",
                 f"{path.name}: {exc.en}; refused (the limits are in README 'Safety and limits')",
                 source=str(path), line=exc.line)


# libyaml's C parser when PyYAML was built with it, else the pure-Python one (bounded_yaml)
_SAFE_LOADER = SAFE_LOADER


def _parse_yaml(text: str):
    """(data, node tree) from one parse, within the YAML budget (bounded_yaml.py)."""
    return parse_yaml(text, _SAFE_LOADER)


def _parse_cached(text: str):
    """(data, node tree or None): the data from the cache of parsed templates when this very
    text was parsed before (no tree then: it is made only if there is an error to place)."""
    folder = yaml_cache.cache_dir()
    entry = yaml_cache.key(f"PyYAML {yaml.__version__} {_SAFE_LOADER.__name__} {budget_key()}", text)
    data = yaml_cache.get(folder, entry)
    if data is not yaml_cache.MISS:
        return data, None
    data, tree = _parse_yaml(text)
    yaml_cache.put(folder, entry, data)
    return data, tree


def _validation_diags(exc: ValidationError, source: str, tree, prefix=()) -> list[Diagnostic]:
    out = []
    for err in exc.errors():
        # pydantic adds the union member's tag to the path ("bands" in rule.bands.bands):
        # drop those so the path is the one in the file.
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        loc = _drop_tags(prefix + loc, tree)
        expected = err["msg"]
        got = err.get("input")
        got_text = "" if isinstance(got, (dict, list)) else f"，得到 {got!r}"
        out.append(Diagnostic(
            code=f"schema-{err['type']}",
            message_zh=f"{'/'.join(map(str, loc)) or '(文件)'}：{expected}{got_text}",
            message_en=f"{'/'.join(map(str, loc)) or '(file)'}: {expected}"
                       + ("" if isinstance(got, (dict, list)) else f", got {got!r}"),
            source=source, path=loc, line=_line_of(tree, loc)))
    return out


def _drop_tags(loc: tuple, tree) -> tuple:
    """Remove discriminator tags pydantic inserts (e.g. 'rule', 'bands', 'bands')."""
    if tree is None:
        return loc
    out: list = []
    node = tree
    for part in loc:
        child = _child(node, part)
        if child is None and isinstance(part, str):
            continue  # a tag, not a key of the file
        out.append(part)
        node = child
    return tuple(out)


def _child(node, part):
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == part:
                return value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    return None


def _line_of(tree, loc: tuple) -> int | None:
    node, line = tree, None
    for part in loc:
        child = _child(node, part)
        if child is None:
            break
        node = child
    if node is not None:
        line = node.start_mark.line + 1
    return line


def _dup(path: Path, loc: tuple, ident: str) -> Diagnostic:
    return error("duplicate-id", f"id 重复：{ident}", f"duplicate id: {ident}", source=str(path),
                 path=loc)


def _missing(source: str, loc: tuple, what: str, name: str, valid) -> Diagnostic:
    names = ", ".join(sorted(valid))
    return error("unresolved-reference", f"引用不存在：{name}；可选：{names}",
                 f"{what} '{name}' does not exist; valid: {names}", source=source, path=loc)
