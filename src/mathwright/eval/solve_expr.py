"""Solving one arithmetic expression: the registry of expression strategies behind ``mathwright solve``.

``caef`` runs the CAEF machines (an oracle, a model, or a LoRA adapter per machine); ``direct`` asks a model
trained on an arithmetic format for the answer in one generation, exactly as ``eval arith`` does. A strategy
is ``fn(expr, model_spec, **opts) -> answer text``; bad input raises :class:`SolveError` (the CLI prints it
and exits with its ``code``). The word-problem strategies (cot, pot, hybrid, vote) are a different kind of
object and live in :data:`mathwright.solve.strategies.STRATEGIES`.

>>> STRATEGIES.get("caef")("45+67", "oracle")
'112'
>>> sorted(STRATEGIES)
['caef', 'direct']
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from mathwright.registry import Registry

# name -> "module:function(expr, model_spec, **opts) -> str"
STRATEGIES: Registry = Registry("solve strategies")
STRATEGIES.add("caef", "mathwright.eval.solve_expr:solve_caef")
STRATEGIES.add("direct", "mathwright.eval.solve_expr:solve_direct")


class SolveError(ValueError):
    """Bad input to a strategy; ``code`` is the exit status the CLI uses (2 = bad usage, 1 = a failed run)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def parse_problem(expr: str):
    """``'47//15'`` or ``'45+67'`` -> Problem; SolveError otherwise."""
    from mathwright.arith.problem import parse_expr

    try:
        return parse_expr(expr.replace("//", "/"))
    except ValueError as e:
        raise SolveError(str(e)) from None


def solve_caef(expr: str, model: str, mode: str = "local", machines: str = "long",
               adapters: Optional[str] = None, show_trace: bool = False,
               echo: Optional[Callable[[str], object]] = None) -> str:
    """Run the CAEF machines on ``expr``; with ``show_trace`` every model response goes to ``echo`` first."""
    from mathwright.solve.caef import OracleModel, solve_problems

    p = parse_problem(expr)
    if adapters:  # MACHINE=DIR,... : a LoRA adapter per machine on the base --model (CAEF's setup)
        from mathwright.solve.caef import AdapterSwitch

        if model == "oracle":
            raise SolveError("--adapters are LoRA adapters on a base model: give it with --model")
        table = dict(item.split("=", 1) for item in adapters.split(",") if "=" in item)
        for machine, adapter_dir in table.items():
            if not (Path(adapter_dir) / "adapter_config.json").is_file():
                raise SolveError(f"--adapters {machine}={adapter_dir}: not a LoRA adapter directory (no adapter_config.json)")
        m = AdapterSwitch(model, {k.strip().upper(): v for k, v in table.items()}).models()
    elif model == "oracle":
        m = OracleModel()
    else:
        from mathwright.models.base import load_model
        from mathwright.solve.caef import CachedModel

        m = CachedModel(load_model(model))  # greedy steps repeat: memoising them changes no answer
    run = solve_problems([p], m, mode=mode, machines=machines, keep_trace=show_trace)[0]
    if show_trace:
        for t in run.trace:
            (echo or print)(t.rstrip("\n"))
    if run.error:
        raise SolveError(f"the machine run failed: {run.error}", code=1)
    return run.answer or ""


def solve_direct(expr: str, model: str, fmt: str = "goat", **_: object) -> str:
    """Ask a model trained on format ``fmt`` (goat, aligned-scratch, ...) for the answer in one generation:
    the format's prompt, stop strings and parser, exactly as ``eval arith`` uses them."""
    from mathwright.eval.arith import read_answer, target
    from mathwright.formats.registry import arith_format
    from mathwright.models.base import GenerationConfig, load_model

    p = parse_problem(expr)
    try:
        arith = arith_format(fmt)
    except ValueError as e:
        raise SolveError(str(e)) from None
    if model == "oracle":
        raise SolveError("--strategy direct needs a trained model (--model DIR); 'oracle' is for --strategy caef")
    m = load_model(model)
    budget = max(64, 2 * len(target(arith, p)) + 16)  # the rendered answer's length bounds a sane output
    out = m.generate([arith.prompt(p)], GenerationConfig(max_new_tokens=budget, stop=arith.stop))[0][0]
    ans = read_answer(arith, out)
    return ans if ans is not None else f"unreadable model output: {out!r}"
