"""Arithmetic eval: metric values computed by hand, suites, output files, resume after a kill."""
from __future__ import annotations

import json

import pytest

from mathwright.arith.problem import parse_expr
from mathwright.data.io import DataError
from mathwright.eval.arith import run_arith_eval
from mathwright.eval.arith_suites import SUITES, bucket_problems, grid_buckets, Bucket
from mathwright.eval.metrics import canonical_answer, digit_match, exact_match, levenshtein
from mathwright.formats import reversed as rev
from mathwright.models.base import GenerationConfig


# -- metrics on hand-made predictions ---------------------------------------------------------------
@pytest.mark.parametrize("pred, gold, em, dm", [
    ("1234", "1234", True, 1.0),
    ("1235", "1234", False, 0.75),            # 1 substitution / 4 chars
    ("134", "1234", False, 0.75),             # 1 deletion
    ("-1234", "1234", False, 0.75),           # 1 insertion (the sign)
    ("98765432", "12", False, 0.0),           # 8 edits / 2 chars -> clipped at 0
    (None, "12", False, 0.0),                 # unparseable output
    ("12 R 3", "12 R 3", True, 1.0),
    ("12", "12 R 3", False, 1 - 4 / 6),        # remainder missing: 4 deletions of "12 R 3"
    ("12 R 0", "12", True, 1.0),              # q R 0 == q
    ("12 R 4", "12", False, 0.0),             # 4 insertions / 2 chars -> clipped at 0
    ("0012", "12", True, 1.0),                # leading zeros are not an error
    ("undefined", "undefined", True, 1.0),
])
def test_exact_and_digit_match_by_hand(pred, gold, em, dm) -> None:
    assert exact_match(pred, gold) is em
    assert digit_match(pred, gold) == pytest.approx(dm)


def test_remainder_rules() -> None:
    # a remainder-free reference means exact division: a non-zero remainder is wrong ...
    assert not exact_match("7 R 1", "7")
    # ... unless the reference is declared truncating
    assert exact_match("7 R 1", "7", remainder="quotient")
    assert digit_match("71 R 1", "72", remainder="quotient") == pytest.approx(0.5)
    with pytest.raises(ValueError, match="remainder rule"):
        exact_match("7", "7", remainder="nope")
    assert canonical_answer("-0") == "0" and levenshtein("", "abc") == 3


# -- suites ------------------------------------------------------------------------------------------
def test_goat_suite_shapes_and_seeding() -> None:
    labels = [b.label for b in SUITES.get("goat").buckets]
    assert labels == ["8D+8D", "16D+8D", "16D+16D", "8D-8D", "16D-16D", "1Dx16D", "4Dx8D", "6Dx6D",
                      "16D/1D", "6D/3D", "12D/6D"]
    b = Bucket("div", 12, 6)
    ps = bucket_problems(b, 20, seed=3)
    assert all(len(str(p.a)) == 12 and len(str(p.b)) == 6 for p in ps)
    assert ps == bucket_problems(b, 20, seed=3) and ps != bucket_problems(b, 20, seed=4)
    with pytest.raises(ValueError, match="valid ops"):
        grid_buckets("add,pow", "1-3")


# -- a fake model: correct (reversed format) on add, silent on sub ---------------------------------
class FakeModel:
    name = "fake"

    def __init__(self, fail_after: int | None = None) -> None:
        self.calls, self.prompts, self.fail_after = 0, 0, fail_after

    def generate(self, prompts, cfg: GenerationConfig):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise KeyboardInterrupt("killed")  # what a kill mid-eval looks like to the log
        self.calls += 1
        self.prompts += len(prompts)
        out = []
        for pr in prompts:
            p = parse_expr(pr.split("\n")[0])
            out.append([rev.render(p)["output"] if p.op == "add" else "?"])
        return out


def test_eval_outputs_and_values(tmp_path) -> None:
    m = run_arith_eval(FakeModel(), tmp_path, fmt="reversed", ops="add,sub", digits="2-3", n=5, seed=1,
                       batch_size=4, print_table=False)
    assert m["exact_match"] == 0.5 and m["digit_match"] == 0.5   # adds all right, subs all unparseable
    assert m["buckets"]["add:3x3"]["exact_match"] == 1.0 and m["buckets"]["sub:2x2"]["digit_match"] == 0.0
    assert m["ops"]["add"]["n"] == 10
    recs = [json.loads(line) for line in open(tmp_path / "predictions.jsonl")]
    assert len(recs) == 20
    for r in recs:
        assert {"prompt", "output", "pred", "answer", "correct", "op", "digits", "id"} <= set(r)
        assert r["correct"] == (r["op"] == "add") and r["prompt"].endswith("\nAnswer: ")
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert 0 <= on_disk["exact_match"] <= 1 and 0 <= on_disk["digit_match"] <= 1
    assert "| 3D+3D | 5 | 100.0 | 100.0 |" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "heatmap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_resume_after_kill(tmp_path) -> None:
    args = dict(fmt="reversed", suite="quickstart", n=6, seed=0, batch_size=5, print_table=False)
    total = len(SUITES.get("quickstart").buckets) * 6
    clean = run_arith_eval(FakeModel(), tmp_path / "clean", **args)
    with pytest.raises(KeyboardInterrupt):
        run_arith_eval(FakeModel(fail_after=3), tmp_path / "killed", **args)
    assert sum(1 for _ in open(tmp_path / "killed" / "predictions.jsonl")) == 15
    second = FakeModel()
    resumed = run_arith_eval(second, tmp_path / "killed", **args)
    assert second.prompts == total - 15                       # only the missing problems were generated
    ids = [json.loads(line)["id"] for line in open(tmp_path / "killed" / "predictions.jsonl")]
    assert len(ids) == len(set(ids)) == total
    assert resumed == clean
    assert (tmp_path / "killed" / "metrics.json").read_bytes() != b""
    # the same directory with a different eval is refused, not silently mixed
    with pytest.raises(DataError, match="resume refused: config seed changed"):
        run_arith_eval(FakeModel(), tmp_path / "killed", **{**args, "seed": 1})
