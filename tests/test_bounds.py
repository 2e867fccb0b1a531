"""Size-like inputs are bounded before they eat the machine (issue 22, item 2): each huge input exits 2
with one line naming the limit, quickly, under a 2 GB address-space limit, and writes nothing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

LIMIT = 2 << 30  # bytes of address space

_RUN = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from mathwright.cli import main
sys.argv = ["mathwright", *{args!r}]
main()
"""


def limited(*args: str, cwd: Path, timeout: float = 60) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``mathwright ARGS`` in a subprocess under the address-space limit; (result, seconds)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MATHWRIGHT_NO_PROGRESS": "1"}
    t0 = time.time()
    r = subprocess.run([sys.executable, "-c", _RUN.format(limit=LIMIT, args=list(args))], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=timeout)
    return r, time.time() - t0


def refused(r: subprocess.CompletedProcess, *words: str, only_line: bool = True) -> str:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr[-2000:])
    assert "Traceback" not in r.stderr and "MemoryError" not in r.stderr, r.stderr[-2000:]
    line = r.stderr.strip() if only_line else r.stderr.strip().splitlines()[-1]  # after a model's load messages
    assert line.startswith("error:") and "\n" not in line, line
    for w in words:
        assert w in line, line
    return line


@pytest.mark.parametrize("args, words", [
    (["generate", "caef", "--n", "5", "--digits", "1-100000"], ["1-100000", "at most 1000 digits"]),
    (["generate", "caef", "--n", "5", "--digits", "1000-1001"], ["at most 1000 digits"]),
    (["generate", "caef", "--n", "100000000000000", "--digits", "1-5"], ["shards", "at most 1000000"]),
    (["generate", "caef", "--n", "5", "--workers", "100000"], ["--workers 100000", "at most"]),
    (["generate", "goat", "--n", "100000000000000", "--no-progress"], ["shards", "at most 1000000"]),
    (["generate", "goat", "--n", "10", "--workers", "100000", "--no-progress"], ["--workers 100000"]),
    (["eval", "arith", "--model", "unused", "--digits", "1-100000"], ["400000 buckets", "at most 10000"]),
    (["eval", "arith", "--model", "unused", "--ops", "add", "--digits", "1-100000x1-100000"], ["10000000000 buckets"]),
    (["eval", "arith", "--model", "unused", "--ops", "add", "--digits", "1000001"], ["at most 100000 digits"]),
    (["eval", "arith", "--model", "unused", "--ops", "add", "--digits", "1-100", "--n", "100000"],
     ["problems; at most 1000000"]),
    (["eval", "arith", "--model", "oracle", "--format", "caef", "--digits", "1-100000000"], ["at most 1000 digits"]),
    (["eval", "arith", "--model", "oracle", "--format", "caef", "--digits", "1-900,1-900,1-900,1-900,1-900,1-900,"
      "1-900,1-900,1-900,1-900,1-900,1-900", "--ops", "add"], ["10800 buckets"]),
    (["eval", "gsm8k", "--model", "unused", "--n-samples", "0"], ["--n-samples", "between 1 and 1,024", "got 0"]),
    (["eval", "gsm8k", "--model", "unused", "--n-samples", "100000000"], ["--n-samples", "got 100000000"]),
    (["eval", "gsm8k", "--model", "unused", "--limit", "0"], ["--limit must be at least 1", "got 0"]),
    (["eval", "svamp", "--model", "unused", "--batch-size", "0"], ["--batch-size", "got 0"]),
    (["eval", "gsm8k", "--model", "unused", "--max-new-tokens", "-3"], ["--max-new-tokens", "got -3"]),
])
def test_huge_inputs_exit_2_quickly_under_a_memory_limit(tmp_path: Path, args: list[str], words: list[str]) -> None:
    out = tmp_path / ("x.jsonl" if args[0] == "generate" else "ev")
    (tmp_path / "unused").mkdir()  # looks like a model directory; never loaded
    (tmp_path / "unused" / "config.json").write_text("{}")
    r, seconds = limited(*args, "--out", str(out), cwd=tmp_path)
    refused(r, *words)
    assert seconds < 15, seconds  # mostly interpreter start-up; the check itself is arithmetic
    assert sorted(p.name for p in tmp_path.iterdir()) == ["unused"]  # nothing written


def test_a_wide_caef_range_is_sampled_lazily(tmp_path: Path) -> None:
    """1-1000 digits of 13 ops is 13 million classes: generated without the table, every record checked."""
    out = tmp_path / "wide.jsonl"
    ops = "add,sub,eq,gt,lt,reflection,left_mask,muld,subx,mul,div"
    r, seconds = limited("generate", "caef", "--n", "20", "--digits", "1-1000", "--ops", ops, "--seed", "3",
                         "--out", str(out), "--no-progress", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(recs) == 20 and max(len(x["a"]) for x in recs) > 10
    assert seconds < 30, seconds


def test_small_caef_ranges_keep_their_bytes(tmp_path: Path) -> None:
    """The eager class list (small ranges) is unchanged: the same seed gives the same records as before."""
    from typer.testing import CliRunner

    from mathwright.cli import app

    out = tmp_path / "s.jsonl"
    r = CliRunner().invoke(app, ["generate", "caef", "--n", "30", "--digits", "1-3", "--ops", "add,sub", "--seed", "0",
                                 "--out", str(out), "--no-progress"])
    assert r.exit_code == 0, r.output
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    classes = {(x["op"], len(x["a"]), len(x["b"])) for x in recs}
    assert len(recs) == 30 and len(classes) >= 6  # several (op, la, lb) classes, all within 1-3 digits
    assert all(1 <= la <= 3 and 1 <= lb <= 3 for _, la, lb in classes)


def test_eval_past_the_models_context_is_refused(tmp_path: Path) -> None:
    """``eval arith --digits 100000`` on a 2048-position model exits 2 naming the limit (before generating)."""
    from mathwright.models.tiny import save_tiny

    model = save_tiny(tmp_path / "m", "tiny-100k")
    r, _ = limited("eval", "arith", "--model", str(model), "--format", "goat", "--ops", "add", "--digits", "100000", "--n", "2",
                   "--out", str(tmp_path / "ev"), cwd=tmp_path, timeout=120)
    line = refused(r, "100000D+100000D", "2048-token limit", "lower --digits", only_line=False)
    assert "max_position_embeddings" in line
    assert not (tmp_path / "ev" / "metrics.json").exists()
    # a size that fits is accepted by the same check
    from mathwright.eval.arith import check_context
    from mathwright.formats.registry import arith_format
    from mathwright.eval.arith_suites import grid_buckets
    from mathwright.models.hf import load

    m = load(str(model), dtype="float32")
    check_context(m, arith_format("goat"), grid_buckets("add,mul", "1-8"), 0, None)
    with pytest.raises(ValueError, match="--max-new-tokens 4000, past its 2048-token limit"):
        check_context(m, arith_format("goat"), grid_buckets("add", "4"), 0, 4000)


@pytest.mark.parametrize("args, words", [
    (["generate", "word-problems", "--n", "100000000000"], ["--n 100000000000", "at most 1000000"]),
    (["generate", "mathinstruct", "--n-arith", "100000000000", "--sources", "arith"], ["--n-arith", "at most 1000000"]),
    (["generate", "mathinstruct", "--n-word", "5", "--workers", "100000", "--sources", "word-problems"], ["--workers 100000"]),
])
def test_word_problem_generators_are_bounded(tmp_path: Path, args: list[str], words: list[str]) -> None:
    r, seconds = limited(*args, "--out", str(tmp_path / "w.jsonl"), cwd=tmp_path)
    refused(r, *words)
    assert seconds < 15 and list(tmp_path.iterdir()) == []
