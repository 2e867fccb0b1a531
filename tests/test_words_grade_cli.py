"""``mathwright grade``: GSM8K's 1319 test answers graded against themselves give 100%; bad lines exit 2."""
from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from mathwright.cli import app

runner = CliRunner()


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_gsm8k_self_grade_is_100(shared_data: Path, tmp_path: Path) -> None:
    rows = [json.loads(line) for line in (shared_data / "gsm8k" / "test.jsonl").read_text(encoding="utf-8").splitlines()]
    inp = _write(tmp_path / "in.jsonl", [{"output": r["answer"], "gold": r["answer"]} for r in rows])
    res = runner.invoke(app, ["grade", "gsm8k", str(inp), "--out", str(tmp_path / "graded.jsonl")])
    assert res.exit_code == 0, res.output
    lines = res.output.strip().splitlines()
    assert lines[-1] == "accuracy: 1.0000 (1319/1319)"
    assert "strict-match (lm-eval): 1.0000" in res.output and "flexible-extract (lm-eval): 1.0000" in res.output
    graded = [json.loads(x) for x in (tmp_path / "graded.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(graded) == 1319 and all(g["correct"] is True for g in graded)
    assert graded[0]["output"] == rows[0]["answer"]


def test_grade_mixed_and_wrong(tmp_path: Path) -> None:
    inp = _write(tmp_path / "in.jsonl", [
        {"output": "The answer is (B).", "gold": "B"},
        {"output": "The speed is a constant.", "gold": "A"},         # article, not choice A
        {"output": "The answer is 7", "gold": "7.0"},
        {"output": "The answer is [3, 5]", "gold": "[3, 5]"},
    ])
    res = runner.invoke(app, ["grade", "numglue", str(inp)])
    assert res.exit_code == 0, res.output
    assert res.output.strip().splitlines()[-1] == "accuracy: 0.7500 (3/4)"


def test_grade_math_reports_mammoth_and_lenient(tmp_path: Path) -> None:
    # (strict, MAmmoTH v1, lenient): (T, T, T), (F, T, T) rounding, (T, F, T) "$" kept, (T, F, T) no sympy
    inp = _write(tmp_path / "in.jsonl", [{"output": r"\boxed{\frac12}", "gold": "0.5"},
                                         {"output": r"\boxed{2.4}", "gold": "2"},
                                         {"output": r"The answer is $\frac{1}{2}$.", "gold": r"\frac{1}{2}"},
                                         {"output": r"\boxed{\sqrt{2}/2}", "gold": r"\frac{\sqrt{2}}{2}"}])
    res = runner.invoke(app, ["grade", "math", str(inp), "--out", str(tmp_path / "g.jsonl")])
    assert res.exit_code == 0, res.output
    assert "MAmmoTH v1 (compat): 0.5000" in res.output
    assert "lenient (strict, or MAmmoTH's round/4% match): 1.0000" in res.output
    assert res.output.strip().endswith("accuracy: 0.7500 (3/4)")
    graded = [json.loads(x) for x in (tmp_path / "g.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [g["mammoth_pred"] for g in graded] == [r"\frac{1}{2}", "2.4", r"$\frac{1}{2}$", r"\sqrt{2}/2"]


def test_bad_lines_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"output": "4", "gold": "4"}\n{"output": 4, "gold": "4"}\n', encoding="utf-8")
    res = runner.invoke(app, ["grade", "gsm8k", str(bad), "--out", str(tmp_path / "o.jsonl")])
    assert res.exit_code == 2 and "bad.jsonl:2" in res.output and "output" in res.output
    assert not (tmp_path / "o.jsonl").exists()  # nothing half-written
    bad.write_text('{"output": "4"}\n', encoding="utf-8")
    res = runner.invoke(app, ["grade", "gsm8k", str(bad)])
    assert res.exit_code == 2 and "bad.jsonl:1" in res.output
    bad.write_text('{"output": "4", "gold": "4"}\nnot json\n', encoding="utf-8")
    res = runner.invoke(app, ["grade", "gsm8k", str(bad)])
    assert res.exit_code == 2 and "bad.jsonl:2" in res.output and "not JSON" in res.output
    res = runner.invoke(app, ["grade", "gsm9k", str(bad)])
    assert res.exit_code == 2 and "gsm8k" in res.output
