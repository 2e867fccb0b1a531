"""``mathwright`` command line. Each pipeline area registers its commands in its own module;
heavy imports (torch, transformers) happen inside the commands so ``--help`` is instant.
Bad input anywhere exits 2 with one ``error:`` line (:func:`mathwright.cli.apps.input_errors`)."""
from __future__ import annotations

from mathwright.cli.apps import app, err

# Importing a module registers its commands on the shared apps.
from mathwright.cli import goat, train, evaluate, caef, words, sandbox, verifier, instruct, quickstart, catalog  # noqa: E402,F401


def main(argv: list[str] | None = None) -> None:
    """Console entry point (``argv`` defaults to ``sys.argv[1:]``)."""
    app(args=argv, prog_name="mathwright")


__all__ = ["app", "err", "main"]
