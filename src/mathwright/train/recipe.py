"""Recipes: a YAML file of any kind (``sft``, ``verifier``) loaded into its config dataclass with every key,
type, range and registry name checked, and the ``train`` job that runs an ``sft`` recipe.

``mathwright validate``, ``mathwright train``, ``mathwright train-verifier``, ``mathwright quickstart --config``
and ``python -m mathwright.train`` all load through :func:`load_recipe`, so they agree on every recipe: what
validate passes the trainers accept, except for files that do not exist yet (the data and the model are
looked for only by the commands that load them). A recipe must name its data; a job that makes its own
(quickstart) passes it as ``supplied``. Bad input raises :class:`~mathwright.io.InputError` naming the file
(line) or override and the key.
"""
from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from typing import Any, Optional

from mathwright.io import DataError, InputError, check_input_file
from mathwright.train.config import ConfigError, _hint, check_bounds, load_config

# recipe kind -> "module:ConfigClass"; a recipe names its kind in a header line `# kind: verifier`.
RECIPE_KINDS: dict[str, str] = {
    "sft": "mathwright.train.sft:TrainConfig",
    "verifier": "mathwright.train.verifier:VerifierConfig",
}


def recipe_kind(path: Path, header_only: bool = False) -> Optional[str]:
    """The recipe's kind: a ``# kind: NAME`` header line, else ``verifier`` if the name says so, else ``sft``
    (``header_only``: the header's kind or None)."""
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines()[:30]:
        if line.startswith("# kind:"):
            return line.split(":", 1)[1].strip()
    if header_only:
        return None
    return "verifier" if "verifier" in path.name else "sft"


def load_train_config(config: Optional[Path], overrides: list[str]):  # -> TrainConfig
    """Recipe + overrides -> TrainConfig; the ``trainer`` block is checked against TRL's SFTConfig fields."""
    from trl import SFTConfig

    from mathwright.train.sft import TrainConfig

    return load_config(TrainConfig, config, overrides, passthrough={"trainer": SFTConfig})


def load_recipe(config: Path, overrides: list[str], kind: Optional[str] = None, inputs: bool = False,
                supplied: Optional[dict[str, Any]] = None) -> tuple[str, Any]:
    """``(kind, config object)`` for a recipe, everything checked and nothing loaded. ``inputs=True`` (the
    trainers) also requires the data files and the model to exist, before anything loads. ``supplied``: fields
    the calling job sets itself, after the recipe and its overrides (quickstart: ``data``, the records it is
    about to generate, which need not exist yet, and ``output_dir``)."""
    from mathwright.models.tiny import PRESETS, is_preset

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
        cfg = dataclasses.replace(load_train_config(config, overrides), **(supplied or {}))
        model_field, data = "model", [*cfg.data, *cfg.eval_data]
        no_data = "no training data: set data: [path.jsonl, ...] (or the override data=[path.jsonl])"
        if cfg.mode == "scratch" and not is_preset(cfg.model):
            raise ConfigError(str(config), f"model: mode scratch builds a tiny preset; {cfg.model!r} is not one"
                                           f"{_hint(cfg.model, list(PRESETS))}")
        from mathwright.models.hf import _DTYPES

        if cfg.dtype not in _DTYPES:
            raise ConfigError(str(config), f"dtype: unknown dtype {cfg.dtype!r}; valid: {', '.join(_DTYPES)}")
    else:
        module, attr = RECIPE_KINDS[kind].split(":")
        cfg = dataclasses.replace(load_config(getattr(importlib.import_module(module), attr), config, overrides),
                                  **(supplied or {}))
        check_bounds(cfg, str(config))
        model_field, data = "base", [cfg.data] if cfg.data else []
        no_data = "no 'data' (a samples JSONL) given"
    value = getattr(cfg, "format", None)
    if isinstance(value, str) and value:
        from mathwright.formats.registry import FORMATS

        if value not in FORMATS:
            raise ConfigError(str(config), f"format: {FORMATS.unknown_message(value)}")
    if not cfg.data:  # validate refuses it as the trainers do: a recipe names its data
        raise InputError(f"{config}: {no_data}")
    if inputs:
        made = (supplied or {}).get("data") or []
        made = {made} if isinstance(made, str) else set(made)  # made by the job: need not exist yet
        for path in data:
            if path not in made:
                check_input_file(path)
        from mathwright.models import check_model

        check_model(getattr(cfg, model_field))
    return kind, cfg


def run_train(config: Path, overrides: list[str]) -> Path:
    """The ``train`` job: load the ``sft`` recipe ``config`` with ``overrides`` (every check first), train,
    and return where the model was saved. Bad input, or a value a library rejects, raises ``InputError``."""
    _, cfg = load_recipe(config, overrides, kind="sft", inputs=True)
    from mathwright.train.sft import train

    try:
        return train(cfg)
    except InputError:
        raise
    except ValueError as e:  # a library rejecting a value only it knows about
        raise InputError(f"{config}: {e}") from e
