"""``mathwright ls`` (what the registries and bundled recipes hold) and ``mathwright validate``
(check a recipe's every key and name without loading a model), as torchtune's ``tune ls/validate``."""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Optional

import typer

from mathwright.cli.apps import app, fail

CONFIGS = Path(__file__).resolve().parents[3] / "configs"

# kind -> "module:attr" of a Registry; imported only when listed.
CATALOG: dict[str, str] = {
    "formats": "mathwright.formats.registry:FORMATS",
    "benchmarks": "mathwright.data.benchmarks:BENCHMARKS",
    "strategies": "mathwright.solve.strategies:STRATEGIES",
    "solve-strategies": "mathwright.eval.solve_expr:STRATEGIES",
    "suites": "mathwright.eval.arith_suites:SUITES",
    "prompts": "mathwright.solve.prompts:PROMPTS",
    "extractors": "mathwright.eval.extract:EXTRACTORS",
    "backends": "mathwright.models.base:BACKENDS",
}


def _registry(kind: str):
    module, attr = CATALOG[kind].split(":")
    return getattr(importlib.import_module(module), attr)


@app.command("ls")
def ls_cmd(kind: Optional[str] = typer.Argument(None, help=f"one of: {', '.join(CATALOG)}, recipes")) -> None:
    """List registered names and bundled recipes. Example: ``mathwright ls formats``."""
    kinds = [kind] if kind else [*CATALOG, "recipes"]
    for k in kinds:
        if k == "recipes":
            names = sorted(p.name for p in CONFIGS.glob("*.yaml"))
        elif k in CATALOG:
            names = _registry(k).names()
        else:
            fail(f"unknown kind {k!r}; valid: {', '.join([*CATALOG, 'recipes'])}")
        typer.echo(f"{k}: {', '.join(names)}")


@app.command("validate")
def validate_cmd(config: Path = typer.Argument(..., help="recipe YAML"),
                 overrides: Optional[list[str]] = typer.Argument(None, help="dotted key=value overrides")) -> None:
    """Check a recipe's keys, types, ranges and registry names without loading a model (data files and model
    directories need not exist yet; ``train`` checks them before it loads anything).
    Example: ``mathwright validate configs/quickstart.yaml trainer.learning_rate=3e-3``."""
    from mathwright.train.recipe import load_recipe

    kind, cfg = load_recipe(config, list(overrides or []))
    typer.echo(f"{config}: ok ({kind} recipe, {type(cfg).__name__})")
