"""``mathwright eval TARGET``: ``arith`` (arithmetic suites) or a comma list of word-problem benchmarks."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from mathwright.cli.apps import app, fail
from mathwright.models import check_model


@app.command("eval")
def eval_cmd(
    target: str = typer.Argument(..., help="'arith', or benchmarks such as 'gsm8k,svamp'"),
    model: str = typer.Option(..., "--model", help="model dir, hub id, .gguf, http://host/v1, or 'oracle' (caef)"),
    out: Path = typer.Option(..., "--out", help="output directory"),
    # arithmetic
    format: Optional[str] = typer.Option(None, "--format", help="arith: text format the model was trained on "
                                         "(default: the one its mathwright_train.yaml records)"),
    suite: Optional[str] = typer.Option(None, "--suite", help="arith: named suite, e.g. 'goat'"),
    ops: Optional[str] = typer.Option(None, "--ops", help="arith: ops, e.g. add,sub,mul,div"),
    digits: Optional[str] = typer.Option(None, "--digits", help="arith: operand lengths, e.g. 1-16"),
    n: int = typer.Option(200, "--n", help="arith: problems per bucket"),
    mode: str = typer.Option("full", "--mode", help="arith/caef: full or local"),
    # word problems
    strategy: str = typer.Option("cot", "--strategy", help="word problems: cot | pot | hybrid | vote"),
    n_samples: int = typer.Option(1, "--n-samples", help="word problems: samples per problem (vote)"),
    limit: Optional[int] = typer.Option(None, "--limit", help="word problems: problems per benchmark"),
    prompt: Optional[str] = typer.Option(None, "--prompt", help="word problems: prompt template name"),
    # shared
    seed: int = typer.Option(0, "--seed"),
    batch_size: int = typer.Option(16, "--batch-size"),
    max_new_tokens: Optional[int] = typer.Option(None, "--max-new-tokens"),
    fresh: bool = typer.Option(False, "--fresh", help="discard earlier predictions in --out instead of resuming"),
) -> None:
    """Evaluate a model. Example: ``mathwright eval arith --model runs/q/model --suite goat --n 50 --out runs/q/eval``
    (a model trained by ``mathwright train`` records its format; give ``--format`` for any other)."""
    from mathwright.io import check_output_path

    check_model(model)  # before --out is touched
    check_output_path(out, directory=True)
    if target == "arith":
        from mathwright.eval.arith import run_arith_eval

        try:
            run_arith_eval(model=model, out=out, fmt=format, suite=suite, ops=ops, digits=digits, n=n, mode=mode,
                           seed=seed, batch_size=batch_size, max_new_tokens=max_new_tokens, fresh=fresh)
        except (ValueError, KeyError) as e:  # bad --ops/--digits/--suite/--format, or a foreign --out dir
            fail(str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e))
    else:
        from mathwright.eval.words import run_word_eval

        try:
            run_word_eval(benchmarks=[b for b in target.split(",") if b], model=model, out=out, strategy=strategy,
                          n_samples=n_samples, limit=limit, prompt=prompt, seed=seed, batch_size=batch_size,
                          max_new_tokens=max_new_tokens, fresh=fresh)
        except (KeyError, ValueError) as e:  # unknown benchmark/strategy/prompt, or a changed config on resume
            fail(str(e.args[0]) if e.args else repr(e))
