"""``mathwright generate mathinstruct``: hybrid CoT/PoT instruction data (MathInstruct layout)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from mathwright.cli.apps import app, err, fail, generate_app, sandbox_app  # noqa: F401


@generate_app.command("mathinstruct")
def mathinstruct_cmd(
    out: Path = typer.Option(..., "--out", help="output file: .jsonl (JSON Lines) or .json (one array)"),
    sources: str = typer.Option("gsm8k,arith,word-problems", "--sources", help="comma list of gsm8k, arith, word-problems"),
    n_arith: int = typer.Option(1000, "--n-arith", help="Goat arithmetic problems (each gives a CoT and a PoT record)"),
    n_word: int = typer.Option(1000, "--n-word", help="synthetic word problems"),
    n_gsm8k: Optional[int] = typer.Option(None, "--n-gsm8k", help="seeded sample of GSM8K train problems (default: all 7473)"),
    gsm8k: Optional[Path] = typer.Option(None, "--gsm8k", help="GSM8K train JSONL (default: $MATHWRIGHT_DATA or ../shared/data)"),
    seed: int = typer.Option(0, "--seed"),
    calculator: bool = typer.Option(False, "--calculator/--no-calculator", help="keep <<expr=value>> annotations in CoT outputs"),
    comments: bool = typer.Option(False, "--comments/--no-comments", help="a comment with the step's sentence above each PoT line"),
    workers: int = typer.Option(2, "--workers", help="sandbox worker processes (output does not depend on it)"),
) -> None:
    """Build MathInstruct-style data: ``mathwright generate mathinstruct --out mi.jsonl --n-arith 500 --n-word 500``.

    PoT programs are kept only when their sandboxed output equals the gold answer; the yield is printed
    and stored in the ``.meta.json`` sidecar.
    """
    from mathwright.data.mathinstruct import MathInstructConfig, generate_mathinstruct, meta_path, yield_table

    from mathwright.io import check_output_path

    if out.suffix not in (".jsonl", ".json"):
        fail(f"--out must end in .jsonl or .json, got {out.name!r}")
    check_output_path(out)
    try:
        cfg = MathInstructConfig(sources=tuple(s.strip() for s in sources.split(",") if s.strip()),
                                 gsm8k_path=gsm8k, n_gsm8k=n_gsm8k, n_arith=n_arith, n_word=n_word, seed=seed,
                                 calculator=calculator, workers=workers, comments=comments)
    except ValueError as e:
        fail(str(e))
    meta = generate_mathinstruct(cfg, out, log=lambda s: err.print(s, highlight=False, markup=False))
    typer.echo(yield_table(meta))
    typer.echo(f"wrote {meta['records']} records to {out} (yield and counts in {meta_path(out)})")
