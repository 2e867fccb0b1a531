"""`mathwright generate goat` / `mathwright check` end to end, and the generic writer's guarantees:
byte-identical output for any worker count, kill + rerun gives the identical file, bad arguments
exit 2 leaving nothing behind, splits never share a problem, Parquet loads with `datasets`."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mathwright.cli import app
from mathwright.data.generate import GenerationError, write_dataset

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


@pytest.mark.slow
def test_generate_100k_passes_check_and_a_wrong_step_fails(tmp_path: Path) -> None:
    out = tmp_path / "goat.jsonl"
    r = run("generate", "goat", "--n", "100000", "--seed", "1", "--out", str(out), "--workers", "2", "--no-progress")
    assert r.exit_code == 0, r.output
    lines = out.read_text().splitlines()
    assert len(lines) == 100_000
    r = run("check", str(out), "--workers", "2")
    assert r.exit_code == 0, r.output
    assert "100000 records" in r.output and "all valid" in r.output and "mul " in r.output
    meta = json.loads(Path(str(out) + ".meta.json").read_text())
    assert meta["seed"] == 1 and meta["config"]["max_digits"] == 16 and len(meta["shards"]) == 10
    assert meta["files"]["all"]["by_op"] == {k: v for k, v in sorted(meta["files"]["all"]["by_op"].items())}
    # the true trained range is what the data holds
    longest = max(len(x) for ln in lines[:20000] for rec in [json.loads(ln)] if rec["op"] in ("add", "sub")
                  for x in rec["input"].split(" ")[::2])
    assert longest == meta["trained_digits"]["add"]["long_operand_digits"][1] == 16

    bad = tmp_path / "bad.jsonl"
    wrong = {"instruction": "1+1", "input": "1 + 1", "output": "1 + 1 = 3", "answer": "2", "op": "add"}
    cot = json.loads(next(ln for ln in lines if "Therefore" in ln))
    cot["output"] = cot["output"].replace(" R ", " R 1", 1) if " R " in cot["output"] else cot["output"] + "1"
    bad.write_text("\n".join(lines[:3] + [json.dumps(wrong)] + lines[3:6] + [json.dumps(cot)]) + "\n")
    r = run("check", str(bad))
    assert r.exit_code == 1
    assert "line 4: " in r.output and "'1 + 1 = 3' is false" in r.output
    assert "line 8: " in r.output and "2 INVALID" in r.output
    with open(bad, "a") as f:
        f.write("{oops\n")  # a line that is not JSON: unreadable input, exit 2 naming it
    r = run("check", str(bad))
    assert r.exit_code == 2 and f"{bad}:9: not JSON" in r.output


def test_workers_do_not_change_bytes_and_splits_never_share(tmp_path: Path) -> None:
    outs = []
    for w in ("1", "2"):
        out = tmp_path / f"w{w}.jsonl"
        r = run("generate", "goat", "--n", "6000", "--seed", "5", "--out", str(out), "--workers", w,
                "--shard-size", "500", "--split", "train=0.9,valid=0.05,test=0.05", "--no-progress")
        assert r.exit_code == 0, r.output
        outs.append([(tmp_path / f"w{w}.{s}.jsonl").read_bytes() for s in ("train", "valid", "test")])
    assert outs[0] == outs[1]
    inputs = [{json.loads(ln)["input"] for ln in part.decode().splitlines()} for part in outs[0]]
    assert sum(len(b.decode().splitlines()) for b in outs[0]) == 6000
    assert not (inputs[0] & inputs[1]) and not (inputs[0] & inputs[2]) and not (inputs[1] & inputs[2])
    assert 200 < len(outs[0][2].decode().splitlines()) < 400
    meta = json.loads((tmp_path / "w1.jsonl.meta.json").read_text())
    assert set(meta["files"]) == {"train", "valid", "test"} and not (tmp_path / "w1.jsonl").exists()


def test_parquet_loads_with_datasets_and_checks(tmp_path: Path) -> None:
    import datasets

    out = tmp_path / "g.parquet"
    r = run("generate", "goat", "--n", "3000", "--out", str(out), "--no-progress", "--shard-size", "1000")
    assert r.exit_code == 0, r.output
    ds = datasets.load_dataset("parquet", data_files=str(out), split="train")
    assert len(ds) == 3000 and ds.column_names == ["instruction", "input", "output", "answer", "op"]
    assert run("check", str(out)).exit_code == 0


def test_check_reads_goats_own_json_array(tmp_path: Path) -> None:
    recs = [{"instruction": "What is 8x3680553905971056?", "input": "8 * 3680553905971056",
             "output": "8 * 3680553905971056 = 29444431247768448", "answer": "29444431247768448"},
            {"instruction": "19/0=", "input": "19 / 0", "output": "19 / 0 is undefined", "answer": "undefined"},
            {"instruction": "970 / 97", "input": "970 / 97", "output": "970 - 97 * 10 = 970 - 970 = 0\nTherefore, 970 / 97 = 10",
             "answer": "10"}]
    path = tmp_path / "dataset.json"
    path.write_text(json.dumps(recs, indent=4))
    r = run("check", str(path))
    assert r.exit_code == 0 and "3 records (div 2, mul 1)" in r.output, r.output
    recs[2]["answer"] = "1"  # the reference's last-token check would not see a wrong quotient like this
    recs[2]["output"] = recs[2]["output"].replace("= 10", "= 11")
    path.write_text(json.dumps(recs, indent=4))
    r = run("check", str(path))
    assert r.exit_code == 1 and "record 3:" in r.output, r.output


@pytest.mark.parametrize("args,needle", [
    (["--max-digits", "banana"], "expected an integer from 2"),
    (["--buckets", "add,pow"], "valid buckets: add, sub, mul_n1, mul_nm, div_n1, div_nm"),
    (["--split", "train=0.5,test=0.6"], "sum to"),
    (["--split", "train0.5"], "NAME=FRACTION"),
    (["--workers", "0"], "workers"),
])
def test_bad_arguments_exit_2_and_leave_nothing(tmp_path: Path, args: list[str], needle: str) -> None:
    r = run("generate", "goat", "--n", "100", "--out", str(tmp_path / "x.jsonl"), *args)
    assert r.exit_code == 2 and needle in r.output, r.output
    assert list(tmp_path.iterdir()) == []


def test_bad_format_and_unknown_check_format(tmp_path: Path) -> None:
    r = run("generate", "goat", "--n", "10", "--out", str(tmp_path / "x.csv"))
    assert r.exit_code == 2 and "valid: .jsonl, .parquet" in r.output
    (tmp_path / "a.jsonl").write_text("")
    r = run("check", str(tmp_path / "a.jsonl"), "--format", "gaot")
    assert r.exit_code == 2 and "did you mean 'goat'" in r.output
    assert run("check", str(tmp_path / "missing.jsonl")).exit_code == 2


def _squares(shard):
    if shard.index == 3 and os.environ.get("H1_INTERRUPT") == "1":
        raise KeyboardInterrupt  # stands in for a kill between shards
    rng = shard.rng()
    return [{"input": str(k), "output": str(k * k), "op": "sq"} for k in (rng.randrange(10**9) for _ in range(shard.count))]


def test_interrupted_run_resumes_to_identical_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kw = dict(seed=9, shard_size=100, progress=False)
    clean = tmp_path / "clean.jsonl"
    write_dataset(_squares, 1000, clean, **kw)
    out = tmp_path / "r.jsonl"
    monkeypatch.setenv("H1_INTERRUPT", "1")
    with pytest.raises(KeyboardInterrupt):
        write_dataset(_squares, 1000, out, **kw)
    assert not out.exists() and len(list((tmp_path / ".r.jsonl.partial").glob("*.done.json"))) == 3
    monkeypatch.setenv("H1_INTERRUPT", "0")
    write_dataset(_squares, 1000, out, **kw)
    assert out.read_bytes() == clean.read_bytes() and not (tmp_path / ".r.jsonl.partial").exists()


def test_failed_check_aborts_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "f.jsonl"
    with pytest.raises(GenerationError, match=r"record \d+: check failed: odd"):
        write_dataset(_squares, 500, out, seed=1, shard_size=100, progress=False,
                      check=lambda r: "odd" if int(r["input"]) % 2 else None)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_sigkill_midway_then_rerun_gives_identical_file(tmp_path: Path) -> None:
    args = ["--n", "24000", "--seed", "2", "--shard-size", "800", "--no-progress"]
    cmd = [sys.executable, "-c", "from mathwright.cli import main; main()", "generate", "goat"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = tmp_path / "k.jsonl"
    proc = subprocess.Popen(cmd + args + ["--out", str(out)], env=env)
    part = tmp_path / ".k.jsonl.partial"
    deadline = time.time() + 60
    while time.time() < deadline and len(list(part.glob("*.done.json"))) < 5:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()  # never a partial file at the target
    done = len(list(part.glob("*.done.json")))
    assert 5 <= done < 30
    subprocess.run(cmd + args + ["--out", str(out)], env=env, check=True)
    ref = tmp_path / "ref.jsonl"
    subprocess.run(cmd + args + ["--out", str(ref), "--workers", "2"], env=env, check=True)
    assert out.read_bytes() == ref.read_bytes()
