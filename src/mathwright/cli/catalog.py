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


def _registry(kind: str):
    module, attr = CATALOG[kind].split(":")
    return getattr(importlib.import_module(module), attr)


def recipe_kind(path: Path, header_only: bool = False) -> Optional[str]:
    """The recipe's kind: a ``# kind: NAME`` header line, else ``verifier`` if the name says so, else ``sft``
    (``header_only``: the header's kind or None)."""
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines()[:30]:
        if line.startswith("# kind:"):
            return line.split(":", 1)[1].strip()
    if header_only:
        return None
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


def load_recipe(config: Path, overrides: list[str], kind: Optional[str] = None, inputs: bool = False):
    """``(kind, config object)`` for a recipe, every key, type, range and registry name checked, raising
    :class:`~mathwright.io.InputError` naming the file (line) or override and the key. ``validate``,
    ``train`` and ``train-verifier`` all load through here, so what validate passes the trainers accept.
    ``inputs=True`` (the trainers) also requires the data files and the model to exist, before anything loads."""
    from mathwright.io import DataError, check_input_file
    from mathwright.models.tiny import PRESETS, is_preset
    from mathwright.train.config import ConfigError, _hint, check_bounds

    check_input_file(config)
    if not config.read_text(encoding="utf-8", errors="replace").strip():
        raise DataError(config, None, "empty recipe (no keys); see configs/ for examples")
    header = recipe_kind(config, header_only=True)
    if kind is not None and header is not None and header != kind:
        raise DataError(config, None, f"a {header} recipe (its '# kind:' line); this command takes {kind} recipes")
    kind = kind or recipe_kind(config)
    if kind not in RECIPE_KINDS:
        raise DataError(config, None, f"unknown recipe kind {kind!r}; valid: {', '.join(RECIPE_KINDS)}")
    if kind == "sft":
        from mathwright.cli.train import load_train_config

        cfg = load_train_config(config, overrides)
        model_field, data = "model", [*cfg.data, *cfg.eval_data]
        if cfg.mode == "scratch" and not is_preset(cfg.model):
            raise ConfigError(str(config), f"model: mode scratch builds a tiny preset; {cfg.model!r} is not one"
                                           f"{_hint(cfg.model, list(PRESETS))}")
        from mathwright.models.hf import _DTYPES

        if cfg.dtype not in _DTYPES:
            raise ConfigError(str(config), f"dtype: unknown dtype {cfg.dtype!r}; valid: {', '.join(_DTYPES)}")
    else:
        module, attr = RECIPE_KINDS[kind].split(":")
        cfg = getattr(importlib.import_module(module), attr).from_yaml(config, overrides)
        check_bounds(cfg, str(config))
        model_field, data = "base", [cfg.data] if cfg.data else []
    for field_name, kind_name in (("format", "formats"), ("strategy", "strategies")):
        value = getattr(cfg, field_name, None)
        if isinstance(value, str) and value:
            reg = _registry(kind_name)
            if value not in reg:
                raise ConfigError(str(config), f"{field_name}: {reg.unknown_message(value)}")
    if inputs:
        for path in data:
            check_input_file(path)
        from mathwright.cli.apps import check_model

        check_model(getattr(cfg, model_field))
    return kind, cfg


@app.command("validate")
def validate_cmd(config: Path = typer.Argument(..., help="recipe YAML"),
                 overrides: Optional[list[str]] = typer.Argument(None, help="dotted key=value overrides")) -> None:
    """Check a recipe's keys, types, ranges and registry names without loading a model (data files and model
    directories need not exist yet; ``train`` checks them before it loads anything).
    Example: ``mathwright validate configs/quickstart.yaml trainer.learning_rate=3e-3``."""
    kind, cfg = load_recipe(config, list(overrides or []))
    typer.echo(f"{config}: ok ({kind} recipe, {type(cfg).__name__})")
