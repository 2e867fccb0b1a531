"""``mathwright grade BENCH FILE.jsonl [--out GRADED.jsonl]``: grade model outputs against gold answers."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from mathwright.cli.apps import app, fail, generate_app, sandbox_app  # noqa: F401


@app.command("grade")
def grade_cmd(
    bench: str = typer.Argument(..., help="benchmark name, e.g. gsm8k, math, aqua, svamp, deepmind"),
    file: Path = typer.Argument(..., help="JSONL with 'output' (model text) and 'gold' per line"),
    out: Optional[Path] = typer.Option(None, "--out", help="write each line back with a boolean 'correct'"),
) -> None:
    """Grade outputs. Each line needs ``output`` and ``gold`` (a number, a letter, a LaTeX answer or GSM8K's
    full solution); optional ``choices``, ``answer_type`` and (MATH) ``answer_num``. Prints the reference
    scores the set has (MAmmoTH v1's own, lm-eval's, MATH's lenient) and accuracy on the last line.

    Example: ``mathwright grade gsm8k preds.jsonl --out graded.jsonl``
    """
    from mathwright.data.benchmarks import BENCHMARKS
    from mathwright.io import DataError, atomic_write, check_input_file, check_output_path, dumps, read_jsonl
    from mathwright.eval.compat import UNKNOWN
    from mathwright.eval.score import REFERENCE_SCORES, score, summarize

    if bench not in BENCHMARKS:
        fail(BENCHMARKS.unknown_message(bench))
    check_input_file(file)
    if out is not None:
        check_output_path(out)
    graded: list[dict] = []
    try:
        for line, rec in read_jsonl(file):
            if not isinstance(rec.get("output"), str):
                raise DataError(file, line, "missing or non-string 'output'")
            if "gold" not in rec or rec["gold"] is None or isinstance(rec["gold"], (bool, list, dict)):
                raise DataError(file, line, "missing 'gold' (a number or a string)")
            choices = rec.get("choices") or ()
            if not isinstance(choices, (list, tuple)) or not all(isinstance(c, str) for c in choices):
                raise DataError(file, line, "'choices' must be a list of strings")
            atype = rec.get("answer_type")
            if atype is not None and atype not in ("number", "choice", "expression"):
                raise DataError(file, line, f"unknown answer_type {atype!r}")
            try:
                res = score(bench, rec["output"], rec["gold"], atype, tuple(choices), rec.get("answer_num", UNKNOWN))
            except ValueError as e:
                raise DataError(file, line, str(e)) from None
            graded.append({**rec, **res})
    except DataError as e:
        fail(str(e))
    except UnicodeDecodeError as e:
        fail(f"{file}: not UTF-8 text ({e.reason})")
    if not graded:
        fail(f"{file}: no records")
    if out is not None:
        with atomic_write(out) as f:
            for r in graded:
                f.write(dumps(r) + "\n")
    m = summarize(graded)
    for key, label in REFERENCE_SCORES.items():
        if key in m:
            typer.echo(f"{label}: {m[key]:.4f}")
    typer.echo(f"no answer extracted: {m['no_answer']}")
    typer.echo(f"accuracy: {m['accuracy']:.4f} ({m['correct']}/{m['n']})")
