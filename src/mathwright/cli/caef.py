"""CAEF commands: ``trace caef``, ``generate caef`` and ``solve``.

    mathwright trace caef "45+67"                      # CAEF trace, one line per state / command line
    mathwright trace caef "123*45" --machines long --mode local
    mathwright generate caef --ops add,sub --digits 1-100 --n 100000 --seed 0 --out caef.jsonl
    mathwright solve "123456789*987654321" --strategy caef --model oracle --mode local
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from mathwright.cli.apps import app, fail, generate_app
from mathwright.eval.solve_expr import STRATEGIES, SolveError, parse_problem

trace_app = typer.Typer(help="Print machine traces (caef).", no_args_is_help=True)
app.add_typer(trace_app, name="trace")

# `mathwright solve --strategy` reads the one registry of expression strategies, eval.solve_expr.STRATEGIES.


def _problem(expr: str):
    try:
        return parse_problem(expr)
    except SolveError as e:
        fail(str(e), code=e.code)


@trace_app.command("caef")
def trace_caef(
    expr: str = typer.Argument(..., help="e.g. '45+67', '52-37', '13*3', '47//15', '352>347'"),
    machines: str = typer.Option("caef", "--machines", help="caef (MUL/DIV by repeated addition) or long (LMUL/LDIV)"),
    mode: str = typer.Option("full", "--mode", help="full (CAEF text) or local (local-view prompt -> command)"),
) -> None:
    """Print the oracle's full trace of EXPR (callee traces inlined after each [CALL] line)."""
    from mathwright.formats import caef as F
    from mathwright.machines.aligner import align
    from mathwright.solve.caef import OracleModel, solve_problems

    p = _problem(expr)
    try:
        plan = align(p, machines)
    except ValueError as e:
        fail(str(e))
    if plan.machine is None:
        typer.echo(plan.answer)
        return
    if plan.machine == "DIV" and abs(p.a) // abs(p.b) > 10_000 or plan.machine == "MUL" and abs(p.b) > 10_000:
        fail("CAEF MUL/DIV take steps proportional to the multiplier/quotient; use --machines long")
    if mode == "full":
        for line in F.trace(plan.machine, plan.a, plan.b):
            typer.echo(line)
    elif mode == "local":
        run = solve_problems([p], OracleModel(), mode="local", machines=machines, keep_trace=True)[0]
        for line in run.trace:  # "<local view> <command>" per model call
            typer.echo(line.rstrip("\n"))
    else:
        fail(f"unknown mode {mode!r}; valid: full, local")


@generate_app.command("caef")
def generate_caef(
    out: Path = typer.Option(..., "--out", help="output .jsonl or .parquet"),
    ops: str = typer.Option("add", "--ops", help="comma list of add,sub,mul,div,eq,gt,lt,reflection,left_mask,lmul,ldiv,muld,subx"),
    digits: str = typer.Option("1-100", "--digits", help="operand length range, e.g. 1-100 or 5"),
    n: int = typer.Option(10_000, "--n", min=1, help="number of step pairs (records)"),
    seed: int = typer.Option(42, "--seed"),
    mode: str = typer.Option("full", "--mode", help="full (CAEF text) or local (local-view steps)"),
    variant: str = typer.Option("caef", "--variant", help="caef: the reference's composer prompts; fixed: real callee halt lines"),
    keep: int = typer.Option(7, "--keep", min=3, help="step pairs kept per sequence"),
    workers: int = typer.Option(1, "--workers", min=1),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
    fresh: bool = typer.Option(False, "--fresh", help="discard an interrupted run's finished shards instead of reusing them"),
) -> None:
    """Generate CAEF step pairs (balanced operand-length classes; every record checked against the oracle)."""
    from mathwright.data.caef import CaefDataConfig, run
    from mathwright.data.generate import GenerationError

    cfg = CaefDataConfig(out=out, ops=tuple(o.strip() for o in ops.split(",") if o.strip()), digits=digits, n=n,
                         seed=seed, mode=mode, variant=variant, keep=keep, workers=workers, progress=progress,
                         fresh=fresh)
    try:
        meta = run(cfg)
    except GenerationError as e:
        fail(str(e))
    typer.echo(f"wrote {meta['files']['all']['records'] if 'all' in meta['files'] else n} records to {out}")


@app.command("solve")
def solve_cmd(
    expr: str = typer.Argument(..., help="e.g. '45+67', '123*456', '47//15', '3<5'"),
    strategy: str = typer.Option("caef", "--strategy", help="caef (machine execution) or direct (one generation)"),
    fmt: str = typer.Option("goat", "--format", help="direct: the model's training format (goat, aligned-scratch, ...)"),
    model: str = typer.Option("oracle", "--model", help="model dir / spec, or 'oracle'"),
    mode: str = typer.Option("local", "--mode", help="caef: full or local"),
    machines: str = typer.Option("long", "--machines", help="caef: long (LMUL/LDIV) or caef (MUL/DIV)"),
    adapters: Optional[str] = typer.Option(None, "--adapters", help="caef: per-machine models, e.g. ADD=runs/add,SUB=runs/sub"),
    show_trace: bool = typer.Option(False, "--trace", help="caef: print every model response first"),
) -> None:
    """Solve one expression; the answer is the last line (True/False, 'q R r' or 'q' for division)."""
    try:
        fn = STRATEGIES.get(strategy)
    except KeyError as e:
        fail(str(e.args[0]))
    if strategy == "caef":
        if mode not in ("full", "local"):
            fail(f"unknown mode {mode!r}; valid: full, local")
        if machines not in ("long", "caef"):
            fail(f"unknown --machines {machines!r}; valid: long, caef")
        run = lambda: fn(expr, model, mode=mode, machines=machines, adapters=adapters,  # noqa: E731
                         show_trace=show_trace, echo=typer.echo)
    else:
        run = lambda: fn(expr, model, fmt=fmt)  # noqa: E731
    try:
        answer = run()
    except SolveError as e:
        fail(str(e), code=e.code)
    typer.echo(answer)
