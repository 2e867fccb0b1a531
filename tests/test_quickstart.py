"""``mathwright quickstart --smoke`` end to end: data -> from-scratch training -> eval files."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mathwright.cli import app
from mathwright.eval.arith_suites import SUITES


@pytest.mark.slow
def test_quickstart_smoke_end_to_end(tmp_path) -> None:
    out = tmp_path / "q"
    res = CliRunner().invoke(app, ["quickstart", "--smoke", "--out", str(out)])
    assert res.exit_code == 0, res.output + repr(res.exception)
    # the model is a standard HF checkpoint with its tokenizer
    assert (out / "model" / "config.json").exists() and (out / "model" / "tokenizer.json").exists()
    # every training record passed its format's check and is in the aligned8 layout
    first = json.loads((out / "data" / "train.jsonl").read_text().splitlines()[0])
    assert {"instruction", "output", "input", "answer"} <= set(first) and len(first["instruction"].split()[0]) == 8
    ev = out / "eval"
    for name in ("predictions.jsonl", "metrics.json", "report.md", "heatmap.png"):
        assert (ev / name).stat().st_size > 0, name
    m = json.loads((ev / "metrics.json").read_text())
    assert 0.0 <= m["exact_match"] <= 1.0 and 0.0 <= m["digit_match"] <= 1.0
    for b in m["buckets"].values():
        assert 0.0 <= b["exact_match"] <= 1.0 and 0.0 <= b["digit_match"] <= 1.0
    n_expected = len(SUITES.get("quickstart-smoke").buckets) * m["n_per_bucket"]
    preds = [json.loads(line) for line in (ev / "predictions.jsonl").read_text().splitlines()]
    assert len(preds) == m["n"] == n_expected
    assert all(p["prompt"].endswith("\nAnswer: ") and "output" in p and "pred" in p for p in preds)
    assert "| **all** |" in res.output  # the accuracy table is printed


def test_quickstart_missing_recipe_fails_cleanly(tmp_path) -> None:
    res = CliRunner().invoke(app, ["quickstart", "--smoke", "--out", str(tmp_path / "q"), "--config",
                                   str(tmp_path / "nope.yaml")])
    assert res.exit_code == 2 and "not found" in res.output
