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
    "solve-strategies": "mathwright.cli.caef:STRATEGIES",
    "suites": "mathwright.eval.arith_suites:SUITES",
    "prompts": "mathwright.solve.prompts:PROMPTS",
    "extractors": "mathwright.eval.extract:EXTRACTORS",
    "backends": "mathwright.models.base:BACKENDS",
}

# recipe kind -> "module:ConfigClass"; a recipe names its kind in a header line `# kind: verifier`.
RECIPE_KINDS: dict[str, str] = {
    "sft": "mathwright.train.sft:TrainConfig",
    "verifier": "mathwright.train.verifier:VerifierConfig",
}
# Blocks passed through to a library dataclass, checked against its fields.
PASSTHROUGH: dict[str, dict[str, str]] = {"sft": {"trainer": "trl:SFTConfig"}}


def _registry(kind: str):
    module, attr = CATALOG[kind].split(":")
    return getattr(importlib.import_module(module), attr)


def recipe_kind(path: Path) -> str:
    """The recipe's kind: a ``# kind: NAME`` header line, else ``verifier`` if the name says so, else ``sft``."""
    for line in path.read_text(encoding="utf-8").splitlines()[:30]:
        if line.startswith("# kind:"):
            return line.split(":", 1)[1].strip()
    return "verifier" if "verifier" in path.name else "sft"


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
    """Check a recipe's keys, types and registry names without loading a model.
    Example: ``mathwright validate configs/quickstart.yaml trainer.learning_rate=3e-3``."""
    from mathwright.train.config import load_config

    if not config.exists():
        fail(f"{config}: no such file")
    kind = recipe_kind(config)
    if kind not in RECIPE_KINDS:
        fail(f"{config}: unknown recipe kind {kind!r}; valid: {', '.join(RECIPE_KINDS)}")
    module, attr = RECIPE_KINDS[kind].split(":")
    cls = getattr(importlib.import_module(module), attr)
    passthrough = {}
    for block, target in PASSTHROUGH.get(kind, {}).items():
        mod, name = target.split(":")
        passthrough[block] = getattr(importlib.import_module(mod), name)
    try:
        cfg = load_config(cls, config, list(overrides or []), passthrough=passthrough)
    except ValueError as e:  # ConfigError, or a __post_init__ check such as an unknown mode
        fail(str(e) if str(config) in str(e) else f"{config}: {e}")
    for field_name, kind_name in (("format", "formats"), ("strategy", "strategies")):
        value = getattr(cfg, field_name, None)
        if isinstance(value, str) and value:
            reg = _registry(kind_name)
            if value not in reg:
                fail(f"{config}: {field_name}: {reg.unknown_message(value)}")
    typer.echo(f"{config}: ok ({kind} recipe, {cls.__name__})")
