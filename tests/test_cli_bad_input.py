"""Bad input to any command (issue 15, issue 22 items 4, 5, 7): exit 2, one ``error:`` line naming the input and
what is wrong, no traceback, nothing written. One test per class of bad input, parametrised over the commands
that read or write that kind of thing; everything runs in-process through the real CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import invoke_in
from mathwright.cli import app

REPO = Path(__file__).resolve().parents[1]
QUICK = str(REPO / "configs" / "quickstart.yaml")
VERIFIER = str(REPO / "configs" / "verifier-token.yaml")
runner = CliRunner()


def bad(args: list[str], needle: str, *, cwd: Path, absent: tuple[str, ...] = ()) -> str:
    """Run the CLI in ``cwd``; assert the bad-input contract and return the error line."""
    res = invoke_in(cwd, args)
    out = res.output
    assert res.exit_code == 2, f"{args}: exit {res.exit_code}\n{out}\n{res.exception!r}"
    assert isinstance(res.exception, SystemExit), f"{args}: raised {res.exception!r}"
    assert "Traceback" not in out, out
    errors = [ln for ln in out.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, f"{args}: expected one error line, got:\n{out}"
    assert needle in errors[0], f"{args}: {needle!r} not in {errors[0]!r}"
    for name in absent:
        assert not (cwd / name).exists(), f"{args}: left {name} behind"
    return errors[0]


@pytest.fixture()
def d(tmp_path: Path) -> Path:
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("x\n")
    (tmp_path / "empty.jsonl").write_text("")
    (tmp_path / "empty.yaml").write_text("\n")
    (tmp_path / "line2.jsonl").write_text('{"output": "4", "gold": "4"}\nnot json\n')
    (tmp_path / "wrong.jsonl").write_text('{"x": 1}\n')
    (tmp_path / "g.jsonl").write_text('{"output": "The answer is 4", "gold": "4"}\n')
    return tmp_path


# What each command reads: its arguments with FILE standing for the input under test.
READERS = {
    "check": ["check", "FILE"],
    "grade": ["grade", "gsm8k", "FILE"],
    "rerank": ["rerank", "--samples", "FILE", "--out", "r"],
    "score-examples": ["score-examples", "FILE"],
    "validate": ["validate", "FILE"],
    "train": ["train", "FILE", "output_dir=t"],
    "train-verifier": ["train-verifier", "FILE", "out=v"],
    "sandbox run": ["sandbox", "run", "FILE"],
    "quickstart --config": ["quickstart", "--config", "FILE", "--out", "q"],
}
OUTPUTS = ("r", "t", "v", "q", "o.jsonl")


def _with(args: list[str], file: str) -> list[str]:
    return [file if a == "FILE" else a for a in args]


@pytest.mark.parametrize("cmd", list(READERS))
def test_missing_file(d: Path, cmd: str) -> None:
    bad(_with(READERS[cmd], "nope.jsonl"), "nope.jsonl", cwd=d, absent=OUTPUTS)


@pytest.mark.parametrize("cmd", list(READERS))
def test_directory_instead_of_file(d: Path, cmd: str) -> None:
    line = bad(_with(READERS[cmd], "adir"), "adir", cwd=d, absent=OUTPUTS)
    assert "no such file" not in line  # it exists: say what it is (issue 15: check DIR said "no such file")


@pytest.mark.parametrize("cmd", ["check", "grade", "rerank", "score-examples", "validate", "train", "train-verifier",
                                 "quickstart --config"])
def test_empty_file(d: Path, cmd: str) -> None:
    name = "empty.yaml" if cmd in ("validate", "train", "train-verifier", "quickstart --config") else "empty.jsonl"
    line = bad(_with(READERS[cmd], name), name, cwd=d, absent=OUTPUTS)
    assert "empty" in line or "no records" in line


@pytest.mark.parametrize("cmd", ["check", "grade", "rerank", "score-examples"])
def test_malformed_line_names_file_and_line(d: Path, cmd: str) -> None:
    if cmd == "check":  # the exact contract from issue 15: not an invalid record (exit 1) but unreadable input
        bad(_with(READERS[cmd], "line2.jsonl"), "line2.jsonl:2: not JSON", cwd=d)
        return
    (d / "line2.jsonl").write_text("not json\n")  # line 1 only: other commands check fields of line 1 first
    bad(_with(READERS[cmd], "line2.jsonl"), "line2.jsonl:1: not JSON", cwd=d, absent=OUTPUTS)


def test_malformed_yaml_and_binary(d: Path) -> None:
    (d / "r.yaml").write_text("model: tiny-1m\ntrainer: [oops\n")
    bad(["validate", "r.yaml"], "r.yaml:", cwd=d)
    (d / "b.jsonl").write_bytes(b'{"a": 1}\n\xff\xfe\n')
    bad(["check", "b.jsonl"], "b.jsonl:2: not UTF-8", cwd=d)


@pytest.mark.parametrize("args,needle", [
    (["grade", "gsm8k", "wrong.jsonl", "--out", "o.jsonl"], "wrong.jsonl:1: missing or non-string 'output'"),
    (["rerank", "--samples", "wrong.jsonl", "--out", "r"], "wrong.jsonl:1: missing field 'id'"),
    (["score-examples", "wrong.jsonl"], "wrong.jsonl:1: missing 'ground_truth'"),
    (["train", QUICK, "data=[wrong.jsonl]", "output_dir=t"], "wrong.jsonl:1: record has no field 'instruction'"),
    (["solve", "1+1", "--adapters", "ADD=adir", "--model", "tiny-100k"], "ADD=adir"),
])
def test_wrong_field(d: Path, args: list[str], needle: str) -> None:
    bad(args, needle, cwd=d, absent=OUTPUTS)


def test_rerank_mismatched_list_lengths(d: Path) -> None:
    rec = {"id": "a", "question": "q", "samples": ["x", "y"], "preds": ["1"], "correct": [True, False]}
    (d / "s.jsonl").write_text(json.dumps(rec) + "\n")
    line = bad(["rerank", "--samples", "s.jsonl", "--out", "r"], "s.jsonl:1", cwd=d, absent=("r",))
    assert "preds 1" in line


@pytest.mark.parametrize("args,needle", [
    (["eval", "arith", "--model", "no-such-model", "--out", "e", "--n", "1"], "no model at no-such-model"),
    (["eval", "gsm8k", "--model", "no-such-model", "--out", "e"], "no model at no-such-model"),
    (["eval", "arith", "--model", "adir", "--out", "e"], "no model at adir"),
    (["eval", "arith", "--model", "tiny-100k", "--out", "e", "--suite", "bogus"], "bogus"),
    (["solve", "12+3", "--model", "no-such-model"], "no model at no-such-model"),
    (["check", "g.jsonl", "--format", "bogus"], "bogus"),
    (["grade", "gsm9k", "g.jsonl"], "gsm9k"),
    (["generate", "caef", "--ops", "bogus", "--n", "2", "--out", "o.jsonl"], "bogus"),
    (["ls", "bogus"], "bogus"),
    (["bogus-command"], "bogus-command"),
    (["validate", QUICK, "model=tiny-1mm"], "tiny-1mm"),
    (["validate", QUICK, "mode=bogus"], "bogus"),
    (["validate", QUICK, "trainer.lr_scheduler_type=cosinee"], "cosinee"),
    (["validate", QUICK, "trainer.no_such_key=1"], "no_such_key"),
    # validate and train-verifier load through one load_recipe: the same field, the same allowed values
    (["validate", VERIFIER, "level=bogus"], "level must be 'token' or 'solution', got 'bogus'"),
    (["train-verifier", VERIFIER, "level=bogus", "out=v"], "level must be 'token' or 'solution', got 'bogus'"),
    (["validate", VERIFIER, "value_loss=l1"], "value_loss must be 'bce' or 'mse', got 'l1'"),
    (["train-verifier", VERIFIER, "value_loss=l1", "out=v"], "value_loss must be 'bce' or 'mse', got 'l1'"),
    (["train", QUICK, "model=tiny-1mm", "output_dir=t"], "tiny-1mm"),
])
def test_unknown_name(d: Path, args: list[str], needle: str) -> None:
    bad(args, needle, cwd=d, absent=("e", "t", "v", "o.jsonl"))


def test_hub_id_in_local_cache_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants as c

    from mathwright.data.io import InputError
    from mathwright.models.hf import check_spec

    monkeypatch.setattr(c, "HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(InputError, match="no model at org/some-model"):
        check_spec("org/some-model")
    (tmp_path / "models--org--some-model" / "snapshots").mkdir(parents=True)
    check_spec("org/some-model")  # cached: transformers loads it offline
    check_spec("tiny-100k")


@pytest.mark.parametrize("args,needle", [
    ([QUICK, "trainer.max_steps=abc"], "trainer.max_steps"),
    (["lr.yaml"], "lr.yaml:3: 'trainer.learning_rate' must be float"),
    ([QUICK, "max_length=0"], "max_length"),
    ([QUICK, "trainer.max_steps=-5"], "trainer.max_steps"),
    ([QUICK, "trainer.per_device_train_batch_size=0"], "per_device_train_batch_size"),
    ([QUICK, "lora.dropout=1.5"], "lora.dropout"),
    ([VERIFIER, "lr=-1"], "'lr' must be > 0"),
])
@pytest.mark.parametrize("cmd", ["validate", "train"])
def test_bad_number(d: Path, cmd: str, args: list[str], needle: str) -> None:
    (d / "lr.yaml").write_text('model: tiny-1m\ntrainer:\n  learning_rate: "fast"\n')
    if cmd == "train" and args[0] == VERIFIER:
        cmd = "train-verifier"
    out = ["output_dir=t"] if cmd == "train" else ["out=v"] if cmd == "train-verifier" else []
    bad([cmd, *args, *out], needle, cwd=d, absent=("t", "v"))


@pytest.mark.parametrize("args,needle", [
    (["generate", "goat", "--n", "abc", "--out", "o.jsonl"], "--n"),
    (["sandbox", "run", "afile", "--timeout", "-1"], "--timeout"),
    (["trace", "caef", "12+"], "12+"),
])
def test_bad_number_in_options(d: Path, args: list[str], needle: str) -> None:
    bad(args, needle, cwd=d, absent=("o.jsonl",))


@pytest.mark.parametrize("args,needle", [
    (["generate", "goat", "--n", "5", "--out", "afile/x.jsonl", "--no-progress"], "afile"),
    (["generate", "caef", "--n", "5", "--out", "afile/x.jsonl", "--no-progress"], "afile"),
    (["generate", "word-problems", "--n", "5", "--out", "afile/x.jsonl"], "afile"),
    (["generate", "word-problems", "--n", "5", "--out", "adir"], "adir"),
    (["generate", "mathinstruct", "--sources", "arith", "--n-arith", "2", "--out", "afile/x.jsonl"], "afile"),
    (["grade", "gsm8k", "g.jsonl", "--out", "adir"], "adir"),  # issue 22: grade --out EXISTING_DIR
    (["grade", "gsm8k", "g.jsonl", "--out", "afile/o.jsonl"], "afile"),
    (["rerank", "--samples", "g.jsonl", "--out", "afile"], "afile"),
    (["eval", "arith", "--model", "tiny-100k", "--out", "afile/e", "--n", "1"], "afile"),
    (["quickstart", "--smoke", "--out", "afile/q"], "afile"),
])
def test_unwritable_output(d: Path, args: list[str], needle: str) -> None:
    bad(args, needle, cwd=d)
    assert sorted(p.name for p in d.iterdir()) == sorted(["adir", "afile", "empty.jsonl", "empty.yaml", "line2.jsonl",
                                                          "wrong.jsonl", "g.jsonl"])
    assert list((d / "adir").iterdir()) == []


@pytest.mark.skipif(not Path("/sys").is_dir(), reason="no /sys")
def test_output_under_sys(d: Path) -> None:
    bad(["generate", "goat", "--n", "5", "--out", "/sys/mathwright-x.jsonl", "--no-progress"], "/sys/", cwd=d)
    bad(["generate", "word-problems", "--n", "5", "--out", "/sys/mathwright-x.jsonl"], "/sys/mathwright-x.jsonl", cwd=d)


def test_failed_eval_leaves_nothing(d: Path) -> None:
    bad(["eval", "arith", "--model", "no-such-model", "--out", "e", "--n", "1"], "no model at no-such-model", cwd=d)
    assert not (d / "e").exists()  # was: eval_config.json and an empty predictions.jsonl

    from mathwright.data.io import RecordLog

    with RecordLog(d / "p.jsonl"):
        pass  # a run that fails before its first record
    assert not (d / "p.jsonl").exists()


def test_error_text_is_not_eaten_by_markup(d: Path) -> None:
    """Issue 22: 'set data: [path.jsonl, ...]' printed as 'set data: ' (rich read the brackets as a tag)."""
    line = bad(["train", QUICK, "data=[]", "output_dir=t"], "no training data", cwd=d, absent=("t",))
    assert "[path.jsonl, ...]" in line
    (d / "[x].jsonl").write_text("")
    assert "[x].jsonl" in bad(["check", "[x].jsonl"], "no records", cwd=d)


def test_written_files_get_the_umask_mode(tmp_path: Path) -> None:
    """Issue 22: metrics.json / report.md / eval_config.json came out 0600 (mkstemp) beside 0644 files."""
    from mathwright.data.io import atomic_write, write_json

    old = os.umask(0o022)
    try:
        write_json(tmp_path / "metrics.json", {"a": 1})
        with atomic_write(tmp_path / "report.md") as f:
            f.write("x\n")
        (tmp_path / "plain.txt").write_text("x")
        modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
        assert modes == {"metrics.json": 0o644, "report.md": 0o644, "plain.txt": 0o644}
        os.chmod(tmp_path / "report.md", 0o640)  # a file's own mode survives a rewrite
        with atomic_write(tmp_path / "report.md") as f:
            f.write("y\n")
        assert (tmp_path / "report.md").stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)


def test_version() -> None:
    from mathwright import __version__

    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.strip() == f"mathwright {__version__}"


def test_truncation_is_counted_like_trl() -> None:
    """Issue 22 item 5: records past max_length are counted (train warns and records truncated_records)."""
    from mathwright.models.tiny import char_tokenizer
    from mathwright.train.sft import count_too_long

    tok = char_tokenizer()
    prompts, completions = ["12+3\nAnswer: ", "1+1\nAnswer: "], ["15", "2"]
    lengths = [len(tok(p + c)["input_ids"]) + 1 for p, c in zip(prompts, completions)]  # + EOS
    assert count_too_long(tok, prompts, completions, max(lengths)) == (0, max(lengths))
    assert count_too_long(tok, prompts, completions, min(lengths)) == (1, max(lengths))
    assert count_too_long(tok, prompts, completions, min(lengths) - 1) == (2, max(lengths))


def test_console_script_one_line_no_traceback(tmp_path: Path) -> None:
    """The real entry point (not CliRunner): exit status 2 and a single stderr line."""
    r = subprocess.run([sys.executable, "-m", "mathwright", "eval", "arith", "--model", "no-such-model", "--out",
                        str(tmp_path / "e")], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().splitlines() == ["error: no model at no-such-model (no such file or directory, and no hub "
                                             "id of that name in the local Hugging Face cache; nothing is downloaded)"]
    assert not (tmp_path / "e").exists()
