"""``mathwright`` command line. Each pipeline area registers its commands in its own module;
heavy imports (torch, transformers) happen inside the commands so ``--help`` is instant."""
from __future__ import annotations

import sys

from mathwright.cli.apps import app, err

# Importing a module registers its commands on the shared apps.
from mathwright.cli import goat, train, evaluate, caef, words, sandbox, verifier, instruct, quickstart, catalog  # noqa: E402,F401
from mathwright.data.io import DataError


def main() -> None:
    """Console entry point: known input errors print one line naming file/line/problem and exit 2."""
    try:
        app()
    except DataError as e:
        err.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
        sys.exit(2)
