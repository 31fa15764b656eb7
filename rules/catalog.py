"""Load the AI tool catalog: shipped files, then a deployment's own overlay files, every error reported at once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rules.catalog_schema import CatalogFile, SharedPlatformsFile, Tool
from rules.hostnames import HostIndex, HostMatch, normalize_host
from rules.yaml_loading import RuleFileError, read_yaml

CATALOG_DIR = Path(__file__).parent / "catalog"
SHARED_PLATFORMS_FILE = CATALOG_DIR / "shared-platforms.yaml"


class CatalogError(Exception):
    """Every problem found while loading, one `file:field: message` per line."""

    def __init__(self, problems: Sequence[RuleFileError]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def _field_path(location: Iterable[Any], tools: Any = None) -> str:
    path = ""
    parts = list(location)
    for index, part in enumerate(parts):
        if isinstance(part, int):
            path += f"[{part}]"
            # Name the tool too: "tools[41]" alone sends a reviewer counting entries.
            if index > 0 and parts[index - 1] == "tools" and isinstance(tools, list) and part < len(tools):
                tool_id = tools[part].get("id") if isinstance(tools[part], dict) else None
                path += f"({tool_id})" if tool_id else ""
        else:
            path += f".{part}" if path else str(part)
    return path or "file"


def _validation_problems(path: Path, error: ValidationError, raw: Any) -> list[RuleFileError]:
    tools = raw.get("tools") if isinstance(raw, dict) else None
    return [RuleFileError(path, _field_path(e["loc"], tools), e["msg"]) for e in error.errors()]


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    tool: Tool
    path: Path
    overlay: bool


@dataclass
class Catalog:
    tools: dict[str, CatalogEntry] = field(default_factory=dict)
    index: HostIndex[CatalogEntry] = field(default_factory=HostIndex)
    files: list[tuple[Path, CatalogFile]] = field(default_factory=list)
    shared_platforms: frozenset[str] = frozenset()

    def lookup(self, host: str) -> HostMatch[CatalogEntry] | None:
        return self.index.lookup(host)

    def __len__(self) -> int:
        return len(self.tools)


def _load_shared_platforms(path: Path, problems: list[RuleFileError]) -> frozenset[str]:
    try:
        raw = read_yaml(path)
        return frozenset(SharedPlatformsFile.model_validate(raw).domains)
    except RuleFileError as error:
        problems.append(error)
    except ValidationError as error:
        problems += _validation_problems(path, error, None)
    return frozenset()


def _parse_catalog_file(path: Path, problems: list[RuleFileError]) -> CatalogFile | None:
    try:
        raw = read_yaml(path)
    except RuleFileError as error:
        problems.append(error)
        return None
    try:
        return CatalogFile.model_validate(raw)
    except ValidationError as error:
        problems += _validation_problems(path, error, raw)
        return None


class _Builder:
    """Adds files to a catalog, recording duplicate ids and names as problems rather than overwriting."""

    def __init__(self, catalog: Catalog, problems: list[RuleFileError]) -> None:
        self.catalog = catalog
        self.problems = problems
        self.name_owner: dict[tuple[str, str], CatalogEntry] = {}

    def add_file(self, path: Path, parsed: CatalogFile, overlay: bool) -> None:
        self.catalog.files.append((path, parsed))
        for position, tool in enumerate(parsed.tools):
            where = f"tools[{position}]({tool.id})"
            previous = self.catalog.tools.get(tool.id)
            if previous is not None and not (overlay and not previous.overlay):
                self.problems.append(RuleFileError(path, f"{where}.id", f"duplicate id, first in {previous.path}"))
                continue
            if previous is not None:
                self._forget(previous)
            entry = CatalogEntry(tool=tool, path=path, overlay=overlay)
            self.catalog.tools[tool.id] = entry
            self._add_names(entry, where)

    def _forget(self, replaced: CatalogEntry) -> None:
        """An overlay replaces a shipped tool: its names go with it, unless the overlay claims them again."""
        for key, owner in list(self.name_owner.items()):
            if owner is replaced:
                del self.name_owner[key]

    def _add_names(self, entry: CatalogEntry, where: str) -> None:
        tool = entry.tool
        for kind, names in (("suffixes", tool.suffixes), ("exact", tool.exact)):
            for position, name in enumerate(names):
                self._add_name(entry, f"{where}.{kind}[{position}]", kind, name)

    def _add_name(self, entry: CatalogEntry, where: str, kind: str, name: str) -> None:
        if normalize_host(name) != name:
            self.problems.append(RuleFileError(entry.path, where, f"{name!r} is not a normalised host name"))
            return
        if name in self.catalog.shared_platforms:
            self.problems.append(
                RuleFileError(entry.path, where, f"{name} is a shared platform; list the AI product's own names")
            )
            return
        key = ("exact" if kind == "exact" else "suffix", name)
        owner = self.name_owner.get(key)
        if owner is not None and owner.tool.id != entry.tool.id and not (entry.overlay and not owner.overlay):
            self.problems.append(RuleFileError(entry.path, where, f"{name} already belongs to {owner.tool.id}"))
            return
        self.name_owner[key] = entry

    def build_index(self) -> None:
        for (kind, name), entry in self.name_owner.items():
            if kind == "exact":
                self.catalog.index.add_exact(name, entry)
            else:
                self.catalog.index.add_suffix(name, entry)


def catalog_files(directory: Path = CATALOG_DIR) -> list[Path]:
    return sorted(p for p in directory.glob("*.yaml") if p.name != SHARED_PLATFORMS_FILE.name)


def load_catalog(
    paths: Sequence[Path] | None = None,
    overlays: Sequence[Path] = (),
    shared_platforms: Path = SHARED_PLATFORMS_FILE,
) -> Catalog:
    """Load and index the catalog; raise CatalogError listing every problem in every file."""
    problems: list[RuleFileError] = []
    catalog = Catalog(shared_platforms=_load_shared_platforms(shared_platforms, problems))
    builder = _Builder(catalog, problems)
    for overlay, group in ((False, catalog_files() if paths is None else paths), (True, overlays)):
        for path in group:
            parsed = _parse_catalog_file(path, problems)
            if parsed is not None:
                builder.add_file(path, parsed, overlay)
    builder.build_index()
    # With overlays, the shipped files' examples may no longer hold (an overlay may claim their names on purpose);
    # the overlay files' own examples must.
    problems += check_examples(catalog, only=set(overlays) if overlays else None)
    if problems:
        raise CatalogError(problems)
    return catalog


def check_examples(catalog: Catalog, only: set[Path] | None = None) -> list[RuleFileError]:
    """Every file's examples (or those of the files in `only`) must resolve as stated against the whole catalog."""
    problems: list[RuleFileError] = []
    for path, parsed in catalog.files:
        if only is not None and path not in only:
            continue
        for host, expected in parsed.examples.match.items():
            found = catalog.lookup(host)
            got = found.value.tool.id if found else None
            if got != expected:
                problems.append(RuleFileError(path, f"examples.match[{host}]", f"resolves to {got}, not {expected}"))
        for host in parsed.examples.no_match:
            found = catalog.lookup(host)
            if found is not None:
                problems.append(RuleFileError(path, f"examples.no_match[{host}]", f"resolves to {found.value.tool.id}"))
    return problems
