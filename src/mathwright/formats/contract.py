"""The format contracts: what an arithmetic format promises to everything that renders, trains on, asks
with or grades it, and the one prompt template they share.

An **arithmetic format** (goat, reversed, scratchpad, padded, aligned, ...) turns one :class:`Problem`
into a training record and reads a model's answer back:

- ``name``: its registry name, recorded in datasets, recipes and trained model directories;
- ``stop``: stop strings for generation (``()``: the model ends with EOS);
- ``prompt(problem, template=None)``: the text the model is asked with, ``template`` (the training
  prompt, by default :data:`PROMPT`) formatted with the record fields ``instruction`` (the format's
  canonical instruction for ``problem``) and ``input`` (``problem.expr()``);
- ``render(problem, rng=None)``: the record ``{instruction, input, output, answer, op}``;
- ``parse(text)``: the answer in a model output (``'-138'``, ``'3 R 2'``, ``'undefined'``), or None
  (``''`` also means "no answer"); it reads any text without raising;
- ``check(record)``: None when every step of the record is exact, else the first problem.

Solution formats (``gsm``, ``pot``: a word problem's worked solution) and step formats (``caef``,
``caef-local``: one machine step per record) are other kinds with their own registries
(:mod:`mathwright.formats.registry`); they share only ``name``, ``parse`` and a record check.

>>> from mathwright.arith.problem import Problem
>>> from mathwright.formats import reversed as rev
>>> fmt = ArithText("reversed", render=rev.render, parse=rev.parse, check=rev.check, stop=("\\n",))
>>> isinstance(fmt, ArithFormat), fmt.prompt(Problem("add", 12, 30)), fmt.prompt(Problem("add", 1, 2), "Q: {input} =")
(True, '12 + 30\\nAnswer: ', 'Q: 1 + 2 =')
>>> fmt.parse(fmt.render(Problem("add", 12, 30))["output"])
'42'
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable, Optional, Protocol, runtime_checkable

from mathwright.arith.problem import Problem

PROMPT = "{instruction}\nAnswer: "  # Goat's inference prompt (docs/goat.md §5); the trainer's default prompt


def prompt_text(instruction: str, problem: Problem, template: Optional[str] = None) -> str:
    """``template`` (default :data:`PROMPT`) over the record fields ``instruction`` and ``input``; a template
    naming any other field raises ValueError saying which fields an arithmetic prompt has."""
    try:
        return (template or PROMPT).format(instruction=instruction, input=problem.expr())
    except (KeyError, IndexError) as e:
        raise ValueError(f"prompt template {template!r} names {e.args[0]!r}; an arithmetic prompt has the fields "
                         f"'instruction' and 'input'") from None


@runtime_checkable
class ArithFormat(Protocol):
    """The arithmetic format contract (see the module docstring)."""

    name: str
    stop: tuple[str, ...]

    def prompt(self, problem: Problem, template: Optional[str] = None) -> str: ...

    def render(self, problem: Problem, rng: Optional[random.Random] = None) -> dict: ...

    def parse(self, text: str) -> Optional[str]: ...

    def check(self, record: dict) -> Optional[str]: ...


def _expr(problem: Problem) -> str:
    return problem.expr()


def _op_field(record: dict) -> str:
    return str(record.get("op", "?"))


@dataclass(frozen=True)
class ArithText:
    """An :class:`ArithFormat` made of a format module's pure functions (how goat, reversed and scratchpad
    register); ``instruction`` is the canonical instruction a prompt is built from (default ``a + b``),
    ``op_of`` names a record's operation for ``mathwright check``'s counts (default its ``op`` field)."""

    name: str
    render: Callable[..., dict]
    parse: Callable[[str], Optional[str]]
    check: Callable[[dict], Optional[str]]
    stop: tuple[str, ...] = ()
    instruction: Callable[[Problem], str] = _expr
    op_of: Callable[[dict], str] = _op_field

    def prompt(self, problem: Problem, template: Optional[str] = None) -> str:
        return prompt_text(self.instruction(problem), problem, template)
