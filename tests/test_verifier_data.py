"""GSM8K format (render / parse / check), synthetic word problems, sampling labels, example-solution scoring."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from mathwright.data.word_problems import TEMPLATES, generate_word_problems
from mathwright.formats.gsm import annotate, check, is_correct, parse, render, strip_annotations
from mathwright.formats.registry import FORMATS

JANET = ("Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\n"
         "She makes 9 * 2 = $<<9*2=18>>18 every day at the farmer’s market.\n#### 18")


def test_parse_official_rule() -> None:
    assert parse(JANET) == "18"
    assert parse("x\n#### 1,600") == "1600"
    assert parse("x\n#### -3") == "-3"
    assert parse("no marker 18") is None
    assert parse("steps\nA: 42") == "42"  # the example-solutions convention
    assert strip_annotations(JANET).startswith("Janet sells 16 - 3 - 4 = 9 duck")


def test_check_names_the_wrong_step() -> None:
    assert check(JANET, 18).ok
    bad = check(JANET.replace("<<16-3-4=9>>9", "<<16-3-4=8>>8"))
    assert not bad.ok and bad.errors[0].startswith("line 1:") and "= 9, not 8" in bad.errors[0]
    assert not check(JANET, 19).ok  # wrong final vs gold
    assert not check(JANET.replace("#### 18", "")).ok
    assert not check(JANET.replace("=18>>18", "=18>>81")).ok  # visible result must follow (strict)
    assert check("a <<96/3=32.0>>32\n#### 32", strict=False).ok  # float leak of the old calculator
    assert check("a <<2/3=0.67>>0.67\n#### 1", strict=False).ok  # rounded
    assert not check("a <<2/3=0.7>>0.7\n#### 1", strict=True).ok
    assert not check("a <<9**9**9=1>>1\n#### 1", strict=False).ok


def test_registered_and_render() -> None:
    fmt = FORMATS.get("gsm")
    ans = fmt.render(["He pays 3 * 4 = $" + annotate("3*4") + "."], 12)
    assert ans == "He pays 3 * 4 = $<<3*4=12>>12.\n#### 12" and fmt.check(ans, 12).ok and fmt.parse(ans) == "12"


def test_is_correct() -> None:
    assert is_correct("...\n#### 18", JANET)
    assert is_correct("...\n#### 18.0", "18")
    assert not is_correct("...\n#### 17", JANET)
    assert not is_correct("no answer", "18")


def test_real_gsm8k_test_annotations_all_consistent(shared_data: Path) -> None:
    n = bad = 0
    with open(shared_data / "gsm8k" / "test.jsonl", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            c = check(r["answer"], strict=False)
            n += c.annotations
            bad += not c.ok
    assert bad == 0 and n == 4282  # verifiers.md: 27,998 annotations in total (23,716 train)


def test_word_problems_checked_distinct_deterministic() -> None:
    recs = generate_word_problems(400, seed=5)
    assert recs == generate_word_problems(400, seed=5)
    assert recs[:50] == generate_word_problems(50, seed=5)  # a prefix of a larger run
    assert recs != generate_word_problems(400, seed=6)
    assert len({r["question"] for r in recs}) == 400
    assert {r["template"] for r in recs} == set(TEMPLATES)
    assert all(2 <= r["steps"] <= 8 for r in recs)
    assert max(r["steps"] for r in generate_word_problems(1000, seed=0)) >= 7
    for r in recs:
        c = check(r["answer"])
        assert c.ok, (r, c.errors)
        assert c.annotations == r["steps"] and int(parse(r["answer"])) >= 0
    short = generate_word_problems(50, seed=1, templates=["ages"], max_steps=3)
    assert all(r["template"] == "ages" and r["steps"] <= 3 for r in short)
    with pytest.raises(ValueError):
        generate_word_problems(3, templates=["nope"])
    mini = generate_word_problems(200, seed=0, templates=["mini"])  # opt-in short problems for CPU runs
    assert all(r["template"].startswith("mini_") and check(r["answer"]).ok and 2 <= r["steps"] <= 3 for r in mini)
    assert max(len(r["question"]) for r in mini) < 120


def test_cli_byte_identical_and_errors(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mathwright.cli import app

    runner = CliRunner()
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for p in (a, b):
        r = runner.invoke(app, ["generate", "word-problems", "--n", "60", "--seed", "2", "--out", str(p)])
        assert r.exit_code == 0, r.output
    assert a.read_bytes() == b.read_bytes()
    lines = a.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 60 and all(check(json.loads(l)["answer"]).ok for l in lines)
    bad = tmp_path / "bad.jsonl"
    r = runner.invoke(app, ["generate", "word-problems", "--n", "5", "--templates", "shoping", "--out", str(bad)])
    assert r.exit_code == 2 and not bad.exists()


def test_sampling_labels_and_resume(tmp_path: Path) -> None:
    from mathwright.models.base import GenerationConfig
    from mathwright.solve.sampling import flatten, label, sample_problems

    class Echo:
        """Answers ``#### <first number of the question>`` for sample j and a wrong one for odd j."""

        name = "echo"
        calls = 0

        def generate(self, prompts, cfg: GenerationConfig):
            Echo.calls += 1
            out = []
            for p in prompts:
                num = int(p.split("has ")[1].split(" ")[0])
                out.append([f"so\n#### {num if j % 2 == 0 else num + 1}" for j in range(cfg.n)])
            return out

    probs = [{"id": f"p{i}", "question": f"Tom has {i} apples.", "answer": f"x\n#### {i}"} for i in range(5)]
    path = tmp_path / "s.jsonl"
    recs = sample_problems(Echo(), probs[:3], path, n=4, problems_per_batch=2, progress=False, calculator=False)
    assert recs["p1"]["correct"] == [True, False, True, False] and recs["p1"]["preds"] == ["1", "2", "1", "2"]
    calls = Echo.calls
    recs = sample_problems(Echo(), probs, path, n=4, problems_per_batch=2, progress=False, calculator=False)  # resume
    assert Echo.calls == calls + 1 and len(recs) == 5
    assert len(path.read_text().splitlines()) == 5  # no duplicates
    rows = flatten(recs.values())
    assert len(rows) == 20 and rows[0]["prompt"].startswith("Question: Tom has 0")
    assert label(["#### 3", "#### x"], "3") == (["3", None], [True, False])


def test_example_model_solutions_layout(tmp_path: Path) -> None:
    """A hand-made record in the layout of OpenAI's example_model_solutions.jsonl (final line ``A: N``)."""
    from mathwright.eval.verifier_metrics import score_example_solutions

    gt = "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips.\nA: 72"
    recs = [
        {"question": "Natalia sold clips...", "ground_truth": gt,
         "6b_finetuning": {"is_correct": False, "solution": "She sold 48*2 = <<48*2=96>>96.\nA: 96"},
         "6b_verification": {"is_correct": True, "solution": "She sold 48+24 = <<48+24=72>>72.\nA: 72"},
         "175b_finetuning": {"is_correct": True, "solution": "72 clips.\nA: 72.0"},
         "175b_verification": {"is_correct": True, "solution": "In all 1*72 = 72\nA: 72"}},
        {"question": "Weng earns...", "ground_truth": "12/60 = <<12/60=0.2>>0.2\n0.2*50 = <<0.2*50=10>>10\nA: 10",
         "6b_finetuning": {"is_correct": True, "solution": "A: 10"},
         "6b_verification": {"is_correct": False, "solution": "A: 1,0"},  # comma-stripped: 10 -> flag disagrees
         "175b_finetuning": {"is_correct": False, "solution": "no final line"},
         "175b_verification": {"is_correct": True, "solution": "A: 10"}},
    ]
    p = tmp_path / "example_model_solutions.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    s = score_example_solutions(p)
    assert s["6b_finetuning"]["correct"] == 1 and s["6b_finetuning"]["accuracy"] == 0.5
    assert s["175b_verification"]["correct"] == 2 and s["175b_verification"]["agree_with_flag"] == 2
    assert s["175b_finetuning"]["correct"] == 1
    assert s["6b_verification"]["agree_with_flag"] == 1
    assert s["6b_verification"]["published"] == 0.390
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q"}\n', encoding="utf-8")
    from mathwright.data.io import DataError

    with pytest.raises(DataError, match="bad.jsonl:1"):
        score_example_solutions(bad)
