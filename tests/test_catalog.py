"""`mathwright ls` and `mathwright validate` through the real CLI."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

from mathwright.cli import app

runner = CliRunner()


def test_ls_lists_formats_and_recipes():
    r = runner.invoke(app, ["ls", "formats"])
    assert r.exit_code == 0 and "goat" in r.stdout and "caef" in r.stdout
    r = runner.invoke(app, ["ls", "recipes"])
    assert r.exit_code == 0 and "quickstart.yaml" in r.stdout
    r = runner.invoke(app, ["ls", "fromats"])
    assert r.exit_code == 2


@pytest.mark.parametrize("recipe", sorted((__import__("pathlib").Path(__file__).parents[1] / "configs").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_every_bundled_recipe_validates(recipe):
    r = runner.invoke(app, ["validate", str(recipe)])
    assert r.exit_code == 0, r.output


def test_validate_rejects_unknown_key_with_hint(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: tiny-1m\ntrainer:\n  learnin_rate: 0.001\n")
    r = runner.invoke(app, ["validate", str(bad)])
    assert r.exit_code == 2
    assert "learnin_rate" in r.output and "learning_rate" in r.output
