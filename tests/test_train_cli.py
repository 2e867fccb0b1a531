"""``mathwright train``: recipe validation (exit 2 naming file, line and key) and a real 2-process CPU run."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mathwright.cli import app
from mathwright.train.config import ConfigError, load_config
from mathwright.train.sft import TrainConfig

REPO = Path(__file__).resolve().parents[1]
RECIPE = "model: tiny-100k\nmode: scratch\ndata: [{data}]\nmax_length: 64\ntrainer:\n  learning_rate: 3.0e-3\n  max_steps: 4\n"


def run(args: list[str]):
    return CliRunner().invoke(app, args)


@pytest.fixture()
def recipe(tmp_path) -> Path:
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"instruction": f"{i}+1", "output": f"{i} + 1 = {i + 1}"}) + "\n" for i in range(64)))
    path = tmp_path / "r.yaml"
    path.write_text(RECIPE.format(data=data))
    return path


def test_unknown_trainer_key_exits_2_with_did_you_mean(recipe):
    res = run(["train", str(recipe), "trainer.learnin_rate=1e-3"])
    assert res.exit_code == 2
    assert "trainer.learnin_rate" in res.output and "did you mean 'learning_rate'" in res.output


def test_unknown_yaml_key_names_file_and_line(recipe):
    recipe.write_text(recipe.read_text() + "promt: '{x}'\n")
    res = run(["train", str(recipe)])
    assert res.exit_code == 2
    assert f"{recipe}:8" in res.output and "'promt'" in res.output and "did you mean 'prompt'" in res.output


def test_wrong_type_and_bad_mode_exit_2(recipe):
    res = run(["train", str(recipe), "max_length=long"])
    assert res.exit_code == 2 and "'max_length' must be int" in res.output
    res = run(["train", str(recipe), "mode=qlora"])
    assert res.exit_code == 2 and "mode must be one of" in res.output


def test_missing_template_field_names_data_line(tmp_path, recipe):
    res = run(["train", str(recipe), "prompt={question}", f"output_dir={tmp_path / 'o'}"])
    assert res.exit_code == 2 and "d.jsonl:1" in res.output and "'question'" in res.output


def test_overrides_are_typed(recipe):
    from trl import SFTConfig

    cfg = load_config(TrainConfig, recipe, ["trainer.learning_rate=3e-4", "lora.target_modules=[q_proj,v_proj]",
                                            "limit=10", "data=x.jsonl"], passthrough={"trainer": SFTConfig})
    assert cfg.trainer["learning_rate"] == 3e-4 and cfg.trainer["max_steps"] == 4
    assert cfg.lora.target_modules == ["q_proj", "v_proj"] and cfg.lora.r == 64
    assert cfg.limit == 10 and cfg.data == ["x.jsonl"]
    with pytest.raises(ConfigError, match="'lora.r' must be int"):
        load_config(TrainConfig, recipe, ["lora.r=0.5"])


@pytest.mark.slow
def test_two_process_cpu_run(recipe, tmp_path):
    """torchrun starts 2 processes; the Trainer sees world size 2 (gloo DDP), trains and saves once."""
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "mathwright.train", str(recipe),
           f"output_dir={out}", "trainer.logging_steps=2", "trainer.save_steps=4", "trainer.disable_tqdm=true",
           "trainer.report_to=[]"]
    proc = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["world_size"] == 2 and summary["steps"] == 4
    with open(out / "loss.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["step"] for r in rows] == ["2", "4"] and {r["world_size"] for r in rows} == {"2"}
    assert (out / "model" / "model.safetensors").exists() and (out / "checkpoint-4").is_dir()


def test_time_budget_stops_and_saves():
    from transformers import TrainerControl

    from mathwright.train.callbacks import TimeBudget

    cb, control = TimeBudget(minutes=1.0), TrainerControl()
    cb.on_train_begin(None, None, control)
    cb.on_step_end(None, None, control)
    assert not control.should_training_stop
    cb.start -= 61.0
    cb.on_step_end(None, None, control)
    assert control.should_training_stop and control.should_save
