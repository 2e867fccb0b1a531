"""YAML recipes -> typed dataclasses, with dotted ``key=value`` overrides that fail loudly.

Defaults live in the dataclass (one place); a YAML file and command-line overrides only say what differs.
An unknown key or a value of the wrong type raises :class:`ConfigError` naming the file, the line (or the
override) and the key, with a did-you-mean hint — nanoGPT's configurator without the ``exec``.

A field annotated ``dict[str, Any]`` whose name is in ``passthrough`` is checked against another dataclass's
fields (e.g. the ``trainer:`` block against TRL's ``SFTConfig``) but otherwise passed through untouched.

>>> from dataclasses import dataclass, field
>>> @dataclass
... class Demo:
...     lr: float = 1e-3
...     tags: list[str] = field(default_factory=list)
>>> load_config(Demo, None, ["lr=3e-3", "tags=[a,b]"])
Demo(lr=0.003, tags=['a', 'b'])
>>> load_config(Demo, None, ["lrr=1"])
Traceback (most recent call last):
...
mathwright.train.config.ConfigError: override 'lrr=1': unknown key 'lrr'; did you mean 'lr'?
"""
from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from pathlib import Path
from typing import Any, Sequence

import yaml

from mathwright.io import DataError


class ConfigError(DataError):
    """A bad recipe: the message names the file (and line) or the override, and the key."""

    def __init__(self, where: str, problem: str) -> None:
        ValueError.__init__(self, f"{where}: {problem}")
        self.path, self.line, self.problem = where, None, problem


def parse_value(text: str) -> Any:
    """Parse an override value as YAML, also reading ``3e-4`` as a float (YAML 1.1 would keep a string).

    >>> parse_value("3e-4"), parse_value("true"), parse_value("[q_proj, v_proj]"), parse_value("runs/x")
    (0.0003, True, ['q_proj', 'v_proj'], 'runs/x')
    """
    value = yaml.safe_load(text) if text.strip() else ""
    if isinstance(value, str):
        try:
            return float(value) if any(c in value.lower() for c in ".e") and not value.isalpha() else value
        except ValueError:
            return value
    return value


class _Raw:
    """An override value: the text as typed and its YAML reading. A ``str`` field takes the text itself,
    so ``prompt={question}`` stays a template instead of becoming a YAML mapping."""

    def __init__(self, text: str) -> None:
        self.text, self.value = text, parse_value(text)


def _unwrap(value: Any) -> Any:
    if isinstance(value, _Raw):
        return value.value
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _wants_str(tp: Any) -> bool:
    return tp is str or (typing.get_origin(tp) in (typing.Union, types.UnionType) and str in typing.get_args(tp))


def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """``{("trainer", "learning_rate"): line}`` for every mapping key in a YAML document (1-based lines)."""
    lines: dict[tuple[str, ...], int] = {}

    def walk(node: Any, prefix: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = prefix + (str(k.value),)
                lines[key] = k.start_mark.line + 1
                walk(v, key)

    try:
        walk(yaml.compose(text), ())
    except yaml.YAMLError:
        pass
    return lines


def _hint(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(sorted(known))})"


def _coerce(value: Any, tp: Any, key: str) -> Any:
    """``value`` checked against type hint ``tp``; ints are accepted for floats, a scalar for a list."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _coerce(value, a, key)
            except TypeError as e:
                errors.append(str(e))
        raise TypeError(errors[0] if errors else f"{key!r} must not be null")
    if origin is list:
        (inner,) = typing.get_args(tp) or (Any,)
        items = value if isinstance(value, list) else [value]
        return [_coerce(v, inner, key) for v in items]
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise TypeError(f"{key!r} must be a mapping, got {type(value).__name__} {value!r}")
        return dict(value)
    if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if tp is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # e.g. model: 7 -> "7" is odd but harmless; numbers as names happen
    if isinstance(tp, type) and isinstance(value, tp) and not (tp is int and isinstance(value, bool)):
        return value
    tname = getattr(tp, "__name__", str(tp))
    raise TypeError(f"{key!r} must be {tname}, got {type(value).__name__} {value!r}")


# Bounds by key name (the last part of a dotted key), for our recipes and for the trainer block passed to
# TRL: past them a run dies deep in training or quietly does something else (max_steps=-5 trains a full
# epoch, max_length=0 trains on nothing).
POSITIVE = frozenset({
    "max_length", "limit", "max_minutes", "learning_rate", "lr", "per_device_train_batch_size",
    "per_device_eval_batch_size", "batch_size", "gradient_accumulation_steps", "grad_accum", "num_train_epochs",
    "epochs", "logging_steps", "save_steps", "eval_steps", "r", "lora_r", "alpha", "lora_alpha", "max_new_tokens",
})
NON_NEGATIVE = frozenset({
    "seed", "data_seed", "threads", "warmup_steps", "weight_decay", "max_grad_norm", "save_total_limit",
    "dataloader_num_workers", "adam_epsilon", "value_coef", "lm_coef",
})
FRACTION = frozenset({"dropout", "lora_dropout", "residual_dropout", "warmup_ratio"})  # in [0, 1)


def bound_problem(key: str, value: Any) -> str | None:
    """Why ``value`` is out of range for a key named ``key`` (dotted is fine), or None.

    >>> bound_problem("trainer.max_steps", -5), bound_problem("max_length", 0), bound_problem("lr", 3e-4)
    ("'trainer.max_steps' must be -1 (train by epochs) or >= 1, got -5", "'max_length' must be > 0, got 0", None)
    """
    name = key.rsplit(".", 1)[-1]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return f"{key!r} must be a finite number, got {value!r}"
    if name == "max_steps" and not (value == -1 or value >= 1):
        return f"{key!r} must be -1 (train by epochs) or >= 1, got {value!r}"
    if name in POSITIVE and value <= 0:
        return f"{key!r} must be > 0, got {value!r}"
    if name in NON_NEGATIVE and value < 0:
        return f"{key!r} must be >= 0, got {value!r}"
    if name in FRACTION and not 0 <= value < 1:
        return f"{key!r} must be in [0, 1), got {value!r}"
    return None


def check_bounds(obj: Any, where: str) -> None:
    """:func:`bound_problem` over a built config's fields (and its dict fields' items): a ConfigError at ``where``."""
    items = dataclasses.asdict(obj).items() if dataclasses.is_dataclass(obj) else obj.items()
    for key, value in items:
        for k, v in (((f"{key}.{sk}", sv) for sk, sv in value.items()) if isinstance(value, dict) else [(key, value)]):
            problem = bound_problem(k, v)
            if problem:
                raise ConfigError(where, problem)


def _check_choice(value: Any, tp: Any, key: str) -> None:
    """A string for a field typed ``SomeEnum | str`` (TRL's lr_scheduler_type, optim, ...) must be a member."""
    import enum

    args = typing.get_args(tp) if typing.get_origin(tp) in (typing.Union, types.UnionType) else (tp,)
    for a in args:
        if isinstance(a, type) and issubclass(a, enum.Enum) and isinstance(value, str):
            valid = [m.value for m in a]
            if value not in valid:
                raise TypeError(f"{key!r} must be one of {', '.join(map(str, valid))}; got {value!r}")


def _check_passthrough(target: type, block: dict, where: Any, path: tuple[str, ...]) -> dict:
    """Check a block passed through to dataclass ``target`` (unknown keys, types, choices, bounds); returns the
    block with numbers written as strings (YAML 1.1 reads ``3e-4`` as one) turned into numbers."""
    dotted = ".".join(path)
    known = {f.name: f for f in dataclasses.fields(target)}
    try:
        hints = typing.get_type_hints(target)
    except Exception:  # unresolvable annotations in a foreign class: check names only
        hints = {}
    out = dict(block)
    for sub, value in block.items():
        key = f"{dotted}.{sub}"
        if sub not in known:
            raise ConfigError(where(path + (str(sub),)), f"unknown key {key!r}{_hint(str(sub), list(known))}")
        tp = hints.get(sub, Any)
        if isinstance(value, str) and _numeric(tp):
            try:
                value = out[sub] = int(value) if int in _members(tp) and value.lstrip("-").isdigit() else float(value)
            except ValueError:
                pass
        try:
            _coerce(value, tp, key)
            _check_choice(value, tp, key)
        except TypeError as e:
            raise ConfigError(where(path + (str(sub),)), str(e)) from None
        problem = bound_problem(key, value)
        if problem:
            raise ConfigError(where(path + (str(sub),)), problem)
    return out


def _members(tp: Any) -> tuple:
    return typing.get_args(tp) if typing.get_origin(tp) in (typing.Union, types.UnionType) else (tp,)


def _numeric(tp: Any) -> bool:
    """An int/float field that takes no strings (so ``"3e-4"`` can only mean a number)."""
    m = _members(tp)
    return any(a in (int, float) for a in m) and str not in m


def _build(cls: type, data: dict, where: Any, prefix: tuple[str, ...], passthrough: dict[str, type]) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        path = prefix + (str(key),)
        dotted = ".".join(path)
        if key not in fields:
            raise ConfigError(where(path), f"unknown key {dotted!r}{_hint(str(key), list(fields))}")
        tp = hints[key]
        if isinstance(value, _Raw):
            value = value.text if _wants_str(tp) and value.text.strip() not in ("null", "~") else value.value
        if dataclasses.is_dataclass(tp):
            if not isinstance(value, dict):
                raise ConfigError(where(path), f"{dotted!r} must be a mapping of {tp.__name__} fields")
            kwargs[key] = _build(tp, value, where, path, passthrough)
            continue
        value = _unwrap(value)
        if isinstance(value, str) and _numeric(tp):  # YAML 1.1 reads 1e-4 (no dot) in a file as a string
            try:
                value = int(value) if int in _members(tp) and value.lstrip("-").isdigit() else float(value)
            except ValueError:
                pass
        if key in passthrough and isinstance(value, dict):
            value = _check_passthrough(passthrough[key], value, where, path)
        try:
            kwargs[key] = _coerce(value, tp, dotted)
        except TypeError as e:
            raise ConfigError(where(path), str(e)) from None
        problem = bound_problem(dotted, kwargs[key])
        if problem:
            raise ConfigError(where(path), problem)
    try:
        return cls(**kwargs)
    except ValueError as e:  # the class's own checks (__post_init__), e.g. an unknown mode
        if isinstance(e, ConfigError):
            raise
        bad = next((k for k in kwargs if f"{k} " in str(e) or f"{k!r}" in str(e)), None)
        raise ConfigError(where(prefix + (bad,)) if bad else where(prefix), str(e)) from None


def _set_dotted(data: dict, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = data
    for p in parts[:-1]:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override '{dotted}'", f"{p!r} is not a mapping")
    node[parts[-1]] = value


def load_config(cls: type, path: str | Path | None, overrides: Sequence[str] = (),
                passthrough: dict[str, type] | None = None) -> Any:
    """Build ``cls`` from YAML file ``path`` (or nothing) plus ``key=value`` overrides (dotted for nesting)."""
    passthrough = passthrough or {}
    data: dict[str, Any] = {}
    lines: dict[tuple[str, ...], int] = {}
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(str(path), f"cannot read: {e.strerror}") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where_yaml = f"{path}:{mark.line + 1}" if mark is not None else str(path)
            raise ConfigError(where_yaml, f"not YAML ({getattr(e, 'problem', None) or e})") from None
        if data is None:
            raise ConfigError(str(path), "empty recipe (no keys); see configs/ for examples")
        if not isinstance(data, dict):
            raise ConfigError(str(path), f"a recipe must be a YAML mapping of keys, got {type(data).__name__}")
        lines = _key_lines(text)
    origin: dict[tuple[str, ...], str] = {}
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r}", "expected key=value")
        key, raw = item.split("=", 1)
        _set_dotted(data, key.strip(), _Raw(raw))
        origin[tuple(key.strip().split("."))] = item

    def where(keypath: tuple[str, ...]) -> str:
        for n in range(len(keypath), 0, -1):
            if keypath[:n] in origin:
                return f"override {origin[keypath[:n]]!r}"
        if keypath in lines:
            return f"{path}:{lines[keypath]}"
        return str(path) if path is not None else "config"

    return _build(cls, data, where, (), passthrough)


def to_yaml(obj: Any) -> str:
    """A dataclass as YAML (field order kept), for writing the resolved config next to outputs."""
    return yaml.safe_dump(dataclasses.asdict(obj), sort_keys=False, allow_unicode=True)
