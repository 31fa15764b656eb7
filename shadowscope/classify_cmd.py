"""`shadowscope classify`: the data labels prompt content is classified into."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Classify prompt content (PII, health, payment card, financial, legal, credentials).",
    no_args_is_help=True,
)


@app.command()
def labels() -> None:
    """List the data labels with what each one covers."""
    from events.labels import DataLabel

    for label in DataLabel:
        typer.echo(f"{label.value:<14} {label.definition}")
