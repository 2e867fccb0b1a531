"""Issue 20: the format travels with the model. ``generate goat`` records it in the data's metadata, ``train``
records it (and the prompt) in the model directory, and ``eval arith --model M`` needs no ``--format``."""
from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from mathwright.cli import app


def run(args: list[str]):
    return CliRunner().invoke(app, args)


def test_eval_reads_the_format_the_model_was_trained_with(tmp_path: Path) -> None:
    data = tmp_path / "goat.jsonl"
    r = run(["generate", "goat", "--n", "32", "--seed", "0", "--template", "bare", "--out", str(data), "--no-progress"])
    assert r.exit_code == 0, r.output
    assert json.loads(Path(str(data) + ".meta.json").read_text())["format"] == "goat"
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"model: tiny-100k\nmode: scratch\ndata: [{data}]\nmax_length: 96\n"
                      f"output_dir: {tmp_path / 'run'}\ntrainer:\n  learning_rate: 3.0e-3\n  max_steps: 2\n")
    r = run(["train", str(recipe)])
    assert r.exit_code == 0, r.output
    model = tmp_path / "run" / "model"
    r = run(["eval", "arith", "--model", str(model), "--ops", "add", "--digits", "2", "--n", "2",
             "--out", str(tmp_path / "ev")])
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "ev" / "metrics.json").read_text())["format"] == "goat"
    # a model directory that records no format: eval names it and exits 2 instead of guessing
    (model / "mathwright_train.yaml").unlink()
    r = run(["eval", "arith", "--model", str(model), "--ops", "add", "--digits", "2", "--n", "2",
             "--out", str(tmp_path / "ev2")])
    assert r.exit_code == 2 and "format" in r.output and str(model) in r.output.replace("\n", ""), r.output
    r = run(["eval", "arith", "--model", str(model), "--format", "goat", "--ops", "add", "--digits", "2", "--n", "2",
             "--out", str(tmp_path / "ev3")])
    assert r.exit_code == 0, r.output  # the flag still works, and overrides
