"""One loader for every recipe (issue 20): ``validate``, ``train``, ``train-verifier`` and ``quickstart --config``
load through :func:`mathwright.train.recipe.load_recipe`, so a recipe one of them refuses the others refuse
with the same error line, before anything is written. Fast: every case fails before a model loads."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import invoke_in
from mathwright.cli import app
from mathwright.train.recipe import load_recipe

REPO = Path(__file__).resolve().parents[1]
QUICK = str(REPO / "configs" / "quickstart.yaml")
VERIFIER = str(REPO / "configs" / "verifier-token.yaml")
runner = CliRunner()


def error_line(args: list[str], cwd: Path) -> str:
    """Run the CLI in ``cwd``; assert exit 2, one ``error:`` line and nothing written; return the line."""
    res = invoke_in(cwd, args)
    errors = [ln for ln in res.output.splitlines() if ln.startswith("error:")]
    assert res.exit_code == 2 and len(errors) == 1, f"{args}: exit {res.exit_code}\n{res.output}"
    assert list(cwd.iterdir()) == [], f"{args}: wrote {list(cwd.iterdir())}"
    return errors[0]


@pytest.mark.parametrize("override,needle", [
    ("level=bogus", "level must be 'token' or 'solution', got 'bogus'"),  # validate used to pass it
    ("data=", "no 'data' (a samples JSONL) given"),                       # validate used to accept it
    ("value_loss=l2", "value_loss must be 'bce' or 'mse', got 'l2'"),
    ("lr=-1", "'lr' must be > 0"),
])
def test_validate_and_train_verifier_agree(tmp_path: Path, override: str, needle: str) -> None:
    line = error_line(["validate", VERIFIER, override], tmp_path)
    assert needle in line
    assert error_line(["train-verifier", VERIFIER, override, "out=v"], tmp_path) == line


def test_validate_and_train_agree_on_empty_data(tmp_path: Path) -> None:
    line = error_line(["validate", QUICK, "data=[]"], tmp_path)
    assert "no training data" in line
    assert error_line(["train", QUICK, "data=[]", "output_dir=t"], tmp_path) == line


@pytest.mark.parametrize("override,needle", [
    ("model=tiny-1mm", "tiny-1mm"),   # mode scratch needs a tiny preset
    ("dtype=bogus", "unknown dtype 'bogus'"),
])
def test_quickstart_config_is_checked_as_validate_checks_it(tmp_path: Path, override: str, needle: str) -> None:
    """quickstart --config used to load the recipe without load_recipe's checks (and went on to generate data)."""
    line = error_line(["validate", QUICK, override], tmp_path)
    assert needle in line
    assert error_line(["quickstart", "--config", QUICK, "--out", "q", override], tmp_path) == line
    assert error_line(["train", QUICK, override, "output_dir=t"], tmp_path) == line


def test_a_job_supplies_data_the_recipe_leaves_empty(tmp_path: Path) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text("model: tiny-100k\nmode: scratch\ndata: []\n")
    made = str(tmp_path / "not-yet" / "train.jsonl")  # the job writes it after the checks
    _, cfg = load_recipe(recipe, [], kind="sft", inputs=True, supplied={"data": [made], "output_dir": "x"})
    assert cfg.data == [made] and cfg.output_dir == "x"


@pytest.mark.parametrize("override", ["level=bogus", "levle=token", "epochs=0"])
def test_verifier_config_from_yaml_is_load_recipe(tmp_path: Path, override: str) -> None:
    """VerifierConfig.from_yaml used to be a second YAML parser with its own checks; it is load_recipe now,
    so the API refuses what validate refuses, with the same message."""
    from mathwright.io import DataError
    from mathwright.train.verifier import VerifierConfig

    line = error_line(["validate", VERIFIER, override], tmp_path)
    with pytest.raises(DataError) as e:
        VerifierConfig.from_yaml(VERIFIER, [override])
    assert str(e.value) in line


def test_verifier_recipe_error_names_the_file_line(tmp_path: Path) -> None:
    recipe = tmp_path / "verifier-x.yaml"
    recipe.write_text("data: s.jsonl\nlr: 1e-4\nlevel: bogus\n")  # 1e-4: YAML 1.1 reads a string; still a number
    res = runner.invoke(app, ["validate", str(recipe)])
    assert res.exit_code == 2 and f"{recipe}:3: level must be" in res.output, res.output
