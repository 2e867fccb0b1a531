"""The format registries, one per kind of format, and :data:`FORMATS`, every name of every kind.

- :data:`ARITH_FORMATS`: arithmetic formats, each an :class:`~mathwright.formats.contract.ArithFormat`
  (``name``, ``stop``, ``prompt``, ``render``, ``parse``, ``check``): what ``generate``, ``train`` and
  ``eval arith`` use, and the name a trained model directory records.
- :data:`SOLUTION_FORMATS`: worked solutions to word problems (``gsm``: calculator-annotated GSM8K text,
  ``pot``: a Python program); each has ``name``, ``parse`` and its record check (``check_record`` or the
  batched ``check_records``).
- :data:`STEP_FORMATS`: one machine step per record (``caef``: the full CAEF view, ``caef-local``:
  the constant-size local view); each has ``name``, ``render``, ``parse``, ``check(record)`` and the
  oracle ``step(prompt)``.
- :data:`FORMATS`: every name above with its own entry, for ``mathwright ls``, recipe validation and
  ``mathwright check``; :func:`format_kind` says which kind a name is.

Entries are lazy ``"module:attr"`` strings, so importing this module stays cheap:

>>> "goat" in FORMATS and format_kind("pot") == "solution" and format_kind("caef-local") == "step"
True
>>> arith_format("goat").parse("Answer: 12 / 5 = 2 R 2")
'2 R 2'
>>> arith_format("gsm")
Traceback (most recent call last):
...
ValueError: 'gsm' is a solution format (word-problem solutions); an arithmetic format is needed here: aligned, aligned-scratch, aligned-scratch6, aligned8, goat, padded, padded8, reversed, scratchpad
"""
from __future__ import annotations

from typing import Any

from mathwright.formats.contract import ArithFormat
from mathwright.registry import Registry

ARITH_FORMATS: Registry[ArithFormat] = Registry("format")  # messages read "unknown format 'x'"
SOLUTION_FORMATS: Registry[Any] = Registry("solution format")
STEP_FORMATS: Registry[Any] = Registry("step format")
FORMATS: Registry[Any] = Registry("formats")

KINDS: dict[str, tuple[Registry, str]] = {
    "arith": (ARITH_FORMATS, "arithmetic problems"),
    "solution": (SOLUTION_FORMATS, "word-problem solutions"),
    "step": (STEP_FORMATS, "machine steps"),
}


def _add(kind: str, name: str, target: str) -> None:
    KINDS[kind][0].add(name, target)
    FORMATS.add(name, target)


_add("arith", "goat", "mathwright.formats.goat:FORMAT")
_add("arith", "reversed", "mathwright.formats.reversed:FORMAT")
_add("arith", "scratchpad", "mathwright.formats.scratchpad:FORMAT")
_add("arith", "padded", "mathwright.formats.padded:FORMAT")
_add("arith", "padded8", "mathwright.formats.padded:FORMAT8")
_add("arith", "aligned", "mathwright.formats.padded:ALIGNED")
_add("arith", "aligned8", "mathwright.formats.padded:ALIGNED8")
_add("arith", "aligned-scratch", "mathwright.formats.padded:ALIGNED_SCRATCH")
_add("arith", "aligned-scratch6", "mathwright.formats.padded:ALIGNED_SCRATCH6")
_add("solution", "gsm", "mathwright.formats.gsm:FORMAT")
_add("solution", "pot", "mathwright.formats.pot:FORMAT")
_add("step", "caef", "mathwright.formats.caef:FORMAT")
_add("step", "caef-local", "mathwright.formats.local:FORMAT")


def format_kind(name: str) -> str:
    """``'arith'``, ``'solution'`` or ``'step'``; an unknown name raises KeyError with a did-you-mean hint."""
    for kind, (reg, _) in KINDS.items():
        if name in reg:
            return kind
    raise KeyError(FORMATS.unknown_message(name))


def arith_format(name: str) -> ArithFormat:
    """The arithmetic format ``name``; a format of another kind, or an unknown name, raises ValueError."""
    if name in ARITH_FORMATS:
        return ARITH_FORMATS.get(name)
    if name in FORMATS:
        kind = format_kind(name)
        raise ValueError(f"{name!r} is a {kind} format ({KINDS[kind][1]}); an arithmetic format is needed here: "
                         f"{', '.join(ARITH_FORMATS.names())}")
    raise ValueError(ARITH_FORMATS.unknown_message(name))
