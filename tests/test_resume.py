"""Resume trusts the inputs, not the output directory (issue 22 item 3, issue 15): a killed eval or train
resumes to the same result, and a resume whose settings, data or weights changed exits 2 naming what."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from mathwright.cli import app
from mathwright.data.io import DataError

runner = CliRunner()
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MATHWRIGHT_NO_PROGRESS": "1"}


def cli(*args: str):
    r = runner.invoke(app, list(args))
    return r, r.output + (getattr(r, "stderr", "") if r.stderr_bytes is not None else "")


# ----------------------------------------------------------------------------------------------- eval

_KILLED_EVAL = """
import os, signal, sys
from mathwright.models import hf
real, calls = hf.HFModel.generate, [0]
def generate(self, prompts, cfg):  # SIGKILL ourselves before the third batch: a real kill -9 mid-eval
    if calls[0] == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    calls[0] += 1
    return real(self, prompts, cfg)
hf.HFModel.generate = generate
from mathwright.cli import main
sys.argv = ["mathwright", *{args!r}]
main()
"""


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    from mathwright.models.tiny import save_tiny

    return save_tiny(tmp_path_factory.mktemp("m") / "model", "tiny-100k", seed=0)


def eval_args(model: Path, out: Path) -> list[str]:
    return ["eval", "arith", "--model", str(model), "--format", "goat", "--suite", "quickstart-smoke", "--n", "10",
            "--batch-size", "5", "--out", str(out)]


def test_eval_killed_with_sigkill_resumes_to_identical_predictions(tiny_model: Path, tmp_path: Path) -> None:
    r, text = cli(*eval_args(tiny_model, tmp_path / "clean"))
    assert r.exit_code == 0, text
    clean = (tmp_path / "clean" / "predictions.jsonl").read_bytes()
    assert len(clean.splitlines()) == 20

    killed = tmp_path / "killed"
    p = subprocess.run([sys.executable, "-c", _KILLED_EVAL.format(args=eval_args(tiny_model, killed))], env=ENV,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == -9, p.stderr[-2000:]
    assert len((killed / "predictions.jsonl").read_bytes().splitlines()) == 10  # two batches of 5 were written
    assert not (killed / "metrics.json").exists()

    r, text = cli(*eval_args(tiny_model, killed))
    assert r.exit_code == 0, text
    assert "resuming" in text and "10 of 20 predictions already written" in text
    assert (killed / "predictions.jsonl").read_bytes() == clean  # nothing lost, nothing duplicated
    assert json.loads((killed / "metrics.json").read_text()) == json.loads((tmp_path / "clean" / "metrics.json").read_text())


def test_eval_resume_refused_when_the_weights_changed(tiny_model: Path, tmp_path: Path) -> None:
    import shutil

    from mathwright.models.tiny import save_tiny

    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    out = tmp_path / "ev"
    r, text = cli(*eval_args(model, out))
    assert r.exit_code == 0, text
    before = (out / "predictions.jsonl").read_bytes()
    save_tiny(model, "tiny-100k", seed=1)  # new weights at the same path
    r, text = cli(*eval_args(model, out))
    assert r.exit_code == 2, text
    assert "resume refused" in text and f"file {model / 'model.safetensors'} changed (sha256" in text, text
    assert "--fresh" in text and "Traceback" not in text
    assert (out / "predictions.jsonl").read_bytes() == before  # nothing touched
    # a changed setting is named too
    r, text = cli(*eval_args(tiny_model, out)[:-2], "--seed", "3", "--out", str(out))
    assert r.exit_code == 2 and "config seed changed (0 -> 3)" in text, text
    # --fresh starts over with the new weights
    r, text = cli(*eval_args(model, out), "--fresh")
    assert r.exit_code == 0, text
    assert "resuming" not in text
    fp = json.loads((out / "fingerprint.json").read_text())
    assert fp["kind"] == "eval arith" and fp["files"][str(model / "model.safetensors")].startswith("sha256:")


def test_fingerprint_hash_cache_sees_content_changes(tmp_path: Path) -> None:
    from mathwright.data.fingerprint import HASH_CACHE, file_sha256

    f = tmp_path / "w.bin"
    f.write_bytes(b"a" * 1000)
    first = file_sha256(f, tmp_path)
    assert json.loads((tmp_path / HASH_CACHE).read_text())  # cached by (path, size, mtime_ns)
    st = f.stat()
    f.write_bytes(b"b" * 1000)  # same size; the mtime moves
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    assert file_sha256(f, tmp_path) != first


# ---------------------------------------------------------------------------------------------- train


def write_data(path: Path, seed: int = 0, n: int = 200) -> Path:
    rng = random.Random(seed)
    with open(path, "w") as f:
        for _ in range(n):
            a, b = rng.randint(0, 99), rng.randint(0, 99)
            f.write(json.dumps({"instruction": f"{a}+{b}", "output": f"{a + b}"}) + "\n")
    return path


def recipe(tmp: Path, data: Path, out: Path) -> Path:
    cfg = {"model": "tiny-100k", "mode": "scratch", "data": [str(data)], "max_length": 32, "output_dir": str(out),
           "seed": 0, "threads": 1,
           "trainer": {"max_steps": 8, "save_steps": 4, "logging_steps": 2, "per_device_train_batch_size": 16,
                       "learning_rate": 3e-3, "report_to": [], "disable_tqdm": True, "bf16": False}}
    path = tmp / f"{out.name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


_KILLED_TRAIN = """
import os, signal, sys
from transformers import TrainerCallback
from mathwright.train.recipe import load_train_config
from mathwright.train.sft import train

class KillAfterCheckpoint(TrainerCallback):  # SIGKILL right after checkpoint-4 is on disk
    def on_save(self, args, state, control, **kw):
        if state.global_step == 4:
            os.kill(os.getpid(), signal.SIGKILL)

train(load_train_config({recipe!r}, []), callbacks=[KillAfterCheckpoint()])
"""


def _weights(model_dir: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(model_dir / "model.safetensors"))


@pytest.mark.slow
def test_train_killed_after_a_checkpoint_resumes_to_the_uninterrupted_weights(tmp_path: Path) -> None:
    import torch

    data = write_data(tmp_path / "add.jsonl")
    r, text = cli("train", str(recipe(tmp_path, data, tmp_path / "ref")))
    assert r.exit_code == 0, text
    reference = _weights(tmp_path / "ref" / "model")

    out = tmp_path / "run"
    rec = recipe(tmp_path, data, out)
    p = subprocess.run([sys.executable, "-c", _KILLED_TRAIN.format(recipe=str(rec))], env=ENV, capture_output=True,
                       text=True, timeout=180)
    assert p.returncode == -9, p.stderr[-2000:]
    assert (out / "checkpoint-4").is_dir() and not (out / "model").exists()
    config_before = (out / "config.yaml").read_bytes()

    # a resume with a new learning rate or new data is refused, naming the change; config.yaml is kept
    r, text = cli("train", str(rec), "trainer.learning_rate=1e-3")
    assert r.exit_code == 2, text
    assert "resume refused: config trainer.learning_rate changed (0.003 -> 0.001)" in text and "fresh=true" in text
    saved = data.read_bytes()
    write_data(data, seed=1)
    r, text = cli("train", str(rec))
    assert r.exit_code == 2 and f"file {data} changed (sha256" in text, text
    data.write_bytes(saved)
    assert (out / "config.yaml").read_bytes() == config_before and not (out / "model").exists()

    # the same inputs resume from the checkpoint and end with the uninterrupted run's weights
    r, text = cli("train", str(rec))
    assert r.exit_code == 0, text
    assert f"resuming {out} from checkpoint-4 (4/8 steps)" in text, text
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["resumed_from"].endswith("checkpoint-4") and summary["steps"] == 8
    resumed = _weights(out / "model")
    assert reference.keys() == resumed.keys()
    assert all(torch.allclose(reference[k], resumed[k], atol=1e-6) for k in reference)

    # fresh=true with new settings starts over instead of resuming
    r, text = cli("train", str(rec), "trainer.learning_rate=1e-3", "fresh=true")
    assert r.exit_code == 0, text
    assert "resuming" not in text
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["resumed_from"] is None and summary["steps"] == 8
    assert "learning_rate: 0.001" in (out / "config.yaml").read_text()


def test_a_run_directory_without_a_fingerprint_is_not_resumed(tmp_path: Path) -> None:
    from mathwright.data.fingerprint import check_resume

    with pytest.raises(DataError, match="no fingerprint.json .* use fresh=true"):
        check_resume(tmp_path, {"config": {}}, has_work=True, fresh_hint="fresh=true")
    check_resume(tmp_path, {"config": {}}, has_work=False, fresh_hint="fresh=true")  # nothing to resume: fine


def test_word_eval_resume_refused_when_the_model_files_changed(shared_data: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import mathwright.models.base as base
    from mathwright.eval.words import run_word_eval

    class Says:  # a stand-in for the loaded model: the spec below is a real directory, hashed before loading
        name = "says"

        def generate(self, prompts, cfg):
            return [["The answer is 1."] * max(1, cfg.n) for _ in prompts]

    monkeypatch.setenv("MATHWRIGHT_DATA", str(shared_data))
    monkeypatch.setattr(base, "load_model", lambda spec, **kw: Says())
    model = tmp_path / "m"
    model.mkdir()
    (model / "config.json").write_text('{"v": 1}')
    (model / "model.safetensors").write_bytes(b"weights-1")
    kw = dict(strategy="cot", limit=3, seed=0, batch_size=2, progress=False)
    run_word_eval(["gsm8k"], str(model), tmp_path / "ev", **kw)
    before = (tmp_path / "ev" / "predictions.jsonl").read_bytes()
    (model / "model.safetensors").write_bytes(b"weights-2")
    with pytest.raises(DataError, match=r"resume refused: file .*model\.safetensors changed \(sha256"):
        run_word_eval(["gsm8k"], str(model), tmp_path / "ev", **kw)
    assert (tmp_path / "ev" / "predictions.jsonl").read_bytes() == before
    run_word_eval(["gsm8k"], str(model), tmp_path / "ev", fresh=True, **kw)  # starts over
    fp = json.loads((tmp_path / "ev" / "fingerprint.json").read_text())
    assert fp["kind"] == "eval words" and len(fp["files"]) == 2


def test_generate_resume_is_announced_and_fresh_regenerates_the_same_bytes(tmp_path: Path, capsys) -> None:
    from mathwright.data.generate import write_dataset

    def squares(shard, fail_at=None):
        if shard.index == fail_at:
            raise KeyboardInterrupt("killed")
        rng = shard.rng()
        return [{"input": str(k), "output": str(k * k), "op": "sq"} for k in (rng.randrange(10**6) for _ in range(shard.count))]

    clean = tmp_path / "clean.jsonl"
    write_dataset(squares, 40, clean, seed=1, shard_size=10, progress=False)
    out = tmp_path / "x.jsonl"
    with pytest.raises(KeyboardInterrupt):
        write_dataset(lambda s: squares(s, fail_at=2), 40, out, seed=1, shard_size=10, progress=False)
    assert not out.exists() and (tmp_path / ".x.jsonl.partial").is_dir()
    capsys.readouterr()
    write_dataset(squares, 40, out, seed=1, shard_size=10, progress=False)
    assert f"resuming {out}: 2 of 4 shards already generated" in capsys.readouterr().err
    assert out.read_bytes() == clean.read_bytes()
    with pytest.raises(KeyboardInterrupt):
        write_dataset(lambda s: squares(s, fail_at=3), 40, out, seed=1, shard_size=10, progress=False)
    capsys.readouterr()
    write_dataset(squares, 40, out, seed=1, shard_size=10, progress=False, fresh=True)
    assert "resuming" not in capsys.readouterr().err
    assert out.read_bytes() == clean.read_bytes()


def test_train_max_length_past_the_models_context_is_refused(tmp_path: Path) -> None:
    data = write_data(tmp_path / "add.jsonl", n=20)
    r, text = cli("train", str(recipe(tmp_path, data, tmp_path / "run")), "max_length=4096")
    assert r.exit_code == 2, text
    assert "max_length 4096 exceeds the model's context of 2048 tokens" in text
    assert not (tmp_path / "run" / "model").exists()
