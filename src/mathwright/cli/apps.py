"""The typer apps every command module attaches to (one module per pipeline area)."""
from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

app = typer.Typer(
    name="mathwright",
    help="Teach language models to compute, and prove it by measurement.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
generate_app = typer.Typer(help="Generate datasets (goat, caef, word-problems, mathinstruct).", no_args_is_help=True)
sandbox_app = typer.Typer(help="Run model-written programs under limits.", no_args_is_help=True)
app.add_typer(generate_app, name="generate")
app.add_typer(sandbox_app, name="sandbox")

err = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` to stderr and exit with ``code`` (2 = bad usage or input)."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)
