"""`shadowscope rules`: validate, search and explain the AI tool catalog (and a deployment's own overlays)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shadowscope.options import fail

if TYPE_CHECKING:
    from rules.catalog import Catalog

app = typer.Typer(help="The AI tool catalog: validate it, look host names up, list tools.", no_args_is_help=True)

OverlayOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--overlay",
        envvar="SHADOWSCOPE_CATALOG_OVERLAY",
        help="A YAML file of your own tools (same schema) laid over the shipped catalog; repeatable.",
        exists=True,
        dir_okay=False,
    ),
]


def _load(overlays: list[Path] | None) -> Catalog:
    from rules.catalog import CatalogError, load_catalog

    try:
        return load_catalog(overlays=overlays or ())
    except CatalogError as error:
        for problem in error.problems:
            typer.echo(str(problem), err=True)
        raise fail(f"{len(error.problems)} problem(s) in the catalog", code=1) from error


@app.command()
def check(overlay: OverlayOption = None) -> None:
    """Validate every catalog file and its examples; exit 1 listing every problem as file:field: message."""
    catalog = _load(overlay)
    names = sum(len(e.tool.suffixes) + len(e.tool.exact) for e in catalog.tools.values())
    typer.echo(f"ok: {len(catalog)} tools, {names} host names, {len(catalog.files)} files")


@app.command("check-classifiers")
def check_classifiers(
    directory: Annotated[
        Path | None, typer.Option("--dir", help="A classifier rules directory (default: the shipped rules).")
    ] = None,
) -> None:
    """Validate the classifier rules (recognizers, document scorers, labels) and their examples; exit 1 on problems."""
    from classifiers.rule_examples import check_examples
    from rules.classifier_rules import CLASSIFIER_DIR, ClassifierRulesError, load_classifier_rules

    try:
        rules = load_classifier_rules(directory or CLASSIFIER_DIR)
    except ClassifierRulesError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from error
    problems = check_examples(rules)
    for problem in problems:
        typer.echo(str(problem), err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"ok: {len(rules.recognizers)} recognizers, {len(rules.scorers)} document scorers")


@app.command("check-detections")
def check_detections(
    directory: Annotated[
        Path | None, typer.Option("--dir", help="A detection rules directory (default: the shipped rules).")
    ] = None,
) -> None:
    """Validate the detection rules and run every rule's cases; exit 1 listing each problem."""
    from rules.detection_rules import DETECTION_DIR, DetectionRulesError, check_cases, load_detection_rules

    try:
        rules = load_detection_rules(directory or DETECTION_DIR)
    except DetectionRulesError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from error
    problems = check_cases(rules)
    for problem in problems:
        typer.echo(str(problem), err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"ok: {len(rules)} detection rules, {sum(len(r.rule.cases) for r in rules)} cases")


@app.command()
def lookup(
    names: Annotated[list[str], typer.Argument(help="Host names to resolve.")],
    overlay: OverlayOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per name.")] = False,
) -> None:
    """Which AI tool a host name belongs to, which catalog entry matched, and the tool's risk facts and score."""
    from rules.hostnames import normalize_host
    from rules.risk import score

    catalog = _load(overlay)
    unmatched = 0
    for name in names:
        found = catalog.lookup(name)
        if found is None:
            unmatched += 1
            reason = "not a valid host name" if normalize_host(name) is None else "no AI tool in the catalog"
            typer.echo(json.dumps({"name": name, "tool": None, "reason": reason}) if as_json else f"{name}: {reason}")
            continue
        tool, risk = found.value.tool, score(found.value.tool.facts)
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "name": name,
                        "tool": tool.id,
                        "vendor": tool.vendor,
                        "category": tool.category.value,
                        "matched": found.entry,
                        "match": found.kind.value,
                        "file": str(found.value.path),
                        "risk_score": risk.total,
                        "facts": tool.facts.model_dump(mode="json"),
                    }
                )
            )
            continue
        how = "is" if found.kind == "exact" else "is under"
        typer.echo(f"{name}: {tool.name} ({tool.id}) by {tool.vendor}, {tool.category.value}, {tool.kind.value}")
        typer.echo(f"  because {normalize_host(name)} {how} {found.entry} ({found.value.path.name})")
        typer.echo(f"  risk score {risk.total}/100")
        for component in risk.components:
            points = f"{component.points:>4.0f}/{component.maximum:.0f}"
            typer.echo(f"    {component.name:<20} {points}  {'; '.join(component.reasons)}")
        for fact_name, fact in tool.facts:
            if fact.known:
                typer.echo(f"  {fact_name}: {fact.value} — {fact.source} (read {fact.as_of})")
    if unmatched == len(names):
        raise typer.Exit(1)


@app.command("list")
def list_tools(
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    vendor: Annotated[str | None, typer.Option(help="Only this vendor (case-insensitive substring).")] = None,
    overlay: OverlayOption = None,
    summary: Annotated[bool, typer.Option("--summary", help="Counts per category and fact coverage.")] = False,
) -> None:
    """List catalog tools with their risk score, optionally filtered."""
    from rules.catalog_schema import Category
    from rules.risk import score

    if category is not None and category not in {c.value for c in Category}:
        raise fail(f"unknown category {category!r}; one of: {', '.join(c.value for c in Category)}")
    catalog = _load(overlay)
    entries = [
        e
        for e in catalog.tools.values()
        if (category is None or e.tool.category == category)
        and (vendor is None or vendor.lower() in e.tool.vendor.lower())
    ]
    if summary:
        _print_summary([e.tool for e in entries])
        return
    for entry in sorted(entries, key=lambda e: (e.tool.category, e.tool.vendor.lower(), e.tool.id)):
        tool = entry.tool
        typer.echo(f"{tool.id:<34} {tool.category.value:<32} {score(tool.facts).total:>3}  {tool.name} ({tool.vendor})")


def _print_summary(tools: list[object]) -> None:
    from rules.catalog_schema import Tool

    typed = [t for t in tools if isinstance(t, Tool)]
    typer.echo(f"{len(typed)} tools, {sum(len(t.suffixes) + len(t.exact) for t in typed)} host names")
    for category, count in sorted(Counter(t.category.value for t in typed).items()):
        typer.echo(f"  {category:<32} {count:>4}")
    typer.echo("share of tools with each fact known:")
    for fact_name in typed[0].facts.model_fields if typed else ():
        known = sum(1 for t in typed if getattr(t.facts, fact_name).known)
        typer.echo(f"  {fact_name:<28} {known:>4}  {100 * known / len(typed):5.1f}%")
