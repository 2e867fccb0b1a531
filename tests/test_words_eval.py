"""Strategies and the resumable word-problem evaluation (scripted model + fake runner; tiny HF model e2e)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pytest

from mathwright.data.benchmarks import load_benchmark
from mathwright.eval.words import run_word_eval
from mathwright.models.base import GenerationConfig
from mathwright.solve.prompts import POT_TRIGGER, PROMPTS, extract_program
from mathwright.eval.score import GRADER
from mathwright.solve.strategies import STRATEGIES, solve


@dataclass
class Result:
    status: str
    stdout: str = ""
    error: str | None = None
    answer: str | None = None
    seconds: float = 0.0
    limit: str | None = None


class FakeRunner:
    """Stands in for the sandbox pool: it never executes code, it only recognises ``print(<int>)``."""

    def __init__(self) -> None:
        self.codes: list[str] = []

    def map(self, codes: Sequence[str]) -> list[Result]:
        self.codes += list(codes)
        out = []
        for c in codes:
            if c.strip().startswith("print(") and c.strip()[6:-1].isdigit():
                out.append(Result("ok", c.strip()[6:-1] + "\n"))
            elif "ans =" in c:
                out.append(Result("ok", "", answer=c.split("ans =")[1].split()[0]))
            else:
                out.append(Result("error", "", "SyntaxError: invalid syntax"))
        return out


class Scripted:
    """A model whose completions depend on the mode and on the gold answer hidden in a lookup."""

    name = "scripted"

    def __init__(self, golds: dict[str, str], pot_ok: bool = True, fail_after: int | None = None) -> None:
        self.golds, self.pot_ok, self.calls, self.fail_after = golds, pot_ok, 0, fail_after

    def generate(self, prompts: Sequence[str], cfg: GenerationConfig) -> list[list[str]]:
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise KeyboardInterrupt("simulated kill")
        outs = []
        for p in prompts:
            q = p.rsplit("### Instruction:\n", 1)[1].split("\n\n### Response")[0]
            gold = next((g for k, g in self.golds.items() if q.startswith(k)), "0")
            if POT_TRIGGER in q:
                outs.append([f"print({gold})" if self.pot_ok else "the program is below"] * cfg.n)
            else:
                # vote: 2 of 3 samples right
                outs.append([f"So the answer is {gold}.\n### Instruction:\nThe answer is 999" if i % 3 != 2
                             else "The answer is 1." for i in range(cfg.n)])
        return outs


@pytest.fixture()
def gsm(shared_data: Path):
    return load_benchmark("gsm8k", limit=5, seed=3, root=shared_data)


def _model(problems, **kw) -> Scripted:
    return Scripted({p.question[:60]: p.gold for p in problems}, **kw)


def test_strategies(gsm) -> None:
    tpl, cfg = PROMPTS.get("alpaca"), GenerationConfig(max_new_tokens=8)
    runner = FakeRunner()
    cot = solve(STRATEGIES.get("cot"), gsm, _model(gsm), tpl, cfg, grader=GRADER)
    assert all(r["correct"] and r["answered_by"] == "cot" for r in cot)      # run-on "999" was cut
    pot = solve(STRATEGIES.get("pot"), gsm, _model(gsm), tpl, cfg, runner, grader=GRADER)
    assert all(r["correct"] and r["samples"][0]["status"] == "ok" for r in pot)
    assert runner.codes == [f"print({p.gold})\n" for p in gsm]
    bad = solve(STRATEGIES.get("pot"), gsm, _model(gsm, pot_ok=False), tpl, cfg, runner, grader=GRADER)
    assert not any(r["correct"] for r in bad) and all(r["pred"] is None for r in bad)
    hyb = solve(STRATEGIES.get("hybrid"), gsm, _model(gsm, pot_ok=False), tpl, cfg, runner, grader=GRADER)
    assert all(r["correct"] and r["answered_by"] == "cot" for r in hyb)
    assert hyb[0]["samples"][0]["fallback_from"] == "error" and "pot" in hyb[0]["samples"][0]
    vote = solve(STRATEGIES.get("vote").with_samples(3), gsm, _model(gsm), tpl, cfg, grader=GRADER)
    assert all(r["correct"] and len(r["samples"]) == 3 for r in vote)
    with pytest.raises(ValueError, match="sandbox"):
        solve(STRATEGIES.get("pot"), gsm, _model(gsm), tpl, cfg, None, grader=GRADER)


def test_program_extraction() -> None:
    assert extract_program("```python\nans = 3\n```\nok") == "ans = 3\n"
    assert extract_program("x = 1\nprint(x)\n```\n\nQ: next") == "x = 1\nprint(x)\n"
    p = PROMPTS.get("fewshot").render("Tom has 3 apples.", "pot")
    assert p.endswith("Q: Tom has 3 apples. Let's write a program.\nA:\n```python\n") and p.count("print(ans)") == 8


def test_eval_writes_and_resumes(gsm, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATHWRIGHT_DATA", str(shared_data))
    golds = {p.question[:60]: p.gold for b in ("gsm8k", "svamp") for p in load_benchmark(b, limit=5, seed=3)}
    kw = dict(strategy="hybrid", limit=5, prompt="alpaca", seed=3, batch_size=2, chunk=2, runner=FakeRunner(),
              progress=False)
    full = run_word_eval(["gsm8k", "svamp"], Scripted(golds, pot_ok=False), tmp_path / "a", **kw)
    # interrupted run: the model dies on its 3rd call; the rerun completes without duplicates
    with pytest.raises(KeyboardInterrupt):
        run_word_eval(["gsm8k", "svamp"], Scripted(golds, pot_ok=False, fail_after=2), tmp_path / "b", **kw)
    partial = (tmp_path / "b" / "predictions.jsonl").read_text().splitlines()
    assert 0 < len(partial) < 10
    with open(tmp_path / "b" / "predictions.jsonl", "a") as f:
        f.write('{"id": "gsm8k/torn')  # a torn last line from the kill
    again = run_word_eval(["gsm8k", "svamp"], Scripted(golds, pot_ok=False), tmp_path / "b", **kw)
    ids = [json.loads(x)["id"] for x in (tmp_path / "b" / "predictions.jsonl").read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 10
    assert again["benchmarks"] == {**again["benchmarks"], **{}}
    for b in ("gsm8k", "svamp"):
        assert again["benchmarks"][b]["accuracy"] == full["benchmarks"][b]["accuracy"] == 1.0
        assert again["benchmarks"][b]["fallbacks"] == 5
    assert json.loads((tmp_path / "a" / "metrics.json").read_text())["benchmarks"]["gsm8k"]["n"] == 5
    assert "| gsm8k | 5 | 100.0% |" in (tmp_path / "a" / "report.md").read_text()
    with pytest.raises(ValueError, match="different settings"):
        run_word_eval(["gsm8k"], Scripted(golds), tmp_path / "b", **{**kw, "strategy": "cot"})


@pytest.mark.slow
def test_e2e_tiny_model_every_strategy(shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tiny random HF model through every strategy (programs in the real sandbox): the pipeline runs,
    writes its files, and a rerun of a finished run regenerates nothing."""
    monkeypatch.setenv("MATHWRIGHT_DATA", str(shared_data))
    from mathwright.models.base import load_model
    from mathwright.sandbox import STATUSES, Limits, SandboxPool

    model = load_model("tiny-100k")
    # the shared-prefix KV cache gives the same greedy text as encoding every prompt whole
    from mathwright.solve.prefix_cache import PrefixCachedModel

    prefix = "Q: 1+1\nA: 2\n\nQ: 2+5\nA: 7\n\n"
    prompts = [prefix + "Q: 3+4\nA:", prefix + "Q: 12+30\nA:", "Q: 9+9\nA:"]
    cfg = GenerationConfig(max_new_tokens=5, stop=("Q:",), batch_size=4)
    assert PrefixCachedModel(model, [prefix]).generate(prompts, cfg) == model.generate(prompts, cfg)
    with SandboxPool(limits=Limits(), workers=1) as pool:
        for strat in ("cot", "pot", "hybrid", "vote"):
            out = tmp_path / strat
            kw = dict(strategy=strat, n_samples=2 if strat == "vote" else None, limit=2, prompt="alpaca", seed=0,
                      batch_size=4, max_new_tokens=4, runner=pool, progress=False)
            m = run_word_eval(["gsm8k", "aqua"], model, out, **kw)
            assert {f.name for f in out.iterdir()} >= {"predictions.jsonl", "metrics.json", "report.md", "config.json"}
            assert m["benchmarks"]["gsm8k"]["n"] == m["benchmarks"]["aqua"]["n"] == 2
            recs = [json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()]
            assert len(recs) == 4 and all(isinstance(r["correct"], bool) for r in recs)
            for r in recs:
                for smp in r["samples"]:
                    if strat == "pot":  # every program went through the sandbox and has a verdict
                        assert smp["status"] in STATUSES and (smp["status"] == "ok" or smp["pred"] is None)
                    if strat == "hybrid":  # CoT answers exactly where the program gave no answer
                        assert (smp["mode"] == "cot") == ("fallback_from" in smp)
                        assert smp["mode"] == "cot" or smp["pred"] is not None
            before = (out / "predictions.jsonl").read_text()
            run_word_eval(["gsm8k", "aqua"], model, out, **kw)  # all done: nothing is regenerated
            assert (out / "predictions.jsonl").read_text() == before


def test_prompt_templates() -> None:
    class Tok:
        chat_template = "x"

        def apply_chat_template(self, msgs, tokenize, add_generation_prompt):
            assert not tokenize and add_generation_prompt
            return f"<user>{msgs[0]['content']}</user><model>"

    class M:
        name, tokenizer = "m", Tok()

    chat = PROMPTS.get("chat")
    assert chat.render("What is 2+3?", "pot", M()).startswith("<user>What is 2+3? Let's write a program.")
    with pytest.raises(ValueError, match="no chat template"):
        chat.render("q", "cot", object())
    mc = PROMPTS.get("alpaca").render("Pick one. Answer Choices: (A) 1 (B) 2", "cot", None, "choice")
    assert mc.endswith("### Response: Let's solve the multi-choice question step by step.\n")
    assert PROMPTS.get("alpaca").stops("cot") == ("USER:", "USER", "ASSISTANT:", "ASSISTANT", "### Instruction:",
                                                  "### Instruction", "Response:", "Response")  # MAmmoTH's eight
    assert PROMPTS.get("fewshot").stops("pot")[0] == "```"
