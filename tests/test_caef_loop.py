"""The CAEF execution loop end to end: oracle in both modes, per-machine models, CLI, data, eval."""
from __future__ import annotations

import json
import random

import pytest
from typer.testing import CliRunner

from mathwright.arith.problem import Problem
from mathwright.cli import app
from mathwright.data.io import DataError
from mathwright.models.base import GenerationConfig
from mathwright.solve.caef import OracleModel, solve_problems

runner = CliRunner()


def _problems(seed: int, k: int) -> list[Problem]:
    r = random.Random(seed)
    out = [Problem("sub", 37, 52), Problem("sub", 1000, 1000), Problem("div", 0, 7), Problem("mul", 0, 12345),
           Problem("div", 9, 0), Problem("eq", 77, 77), Problem("lt", -5, -3), Problem("add", -8, 3),
           Problem("div", -7, 2), Problem("mul", -12, 34), Problem("add", 10**99, 10**99 - 1)]
    for op in ("add", "sub", "mul", "div", "eq", "lt", "gt"):
        for _ in range(k):
            big = 30 if op in ("mul", "div") else 100
            a = r.randrange(-10 ** r.randint(1, big), 10 ** r.randint(1, big))
            b = r.randrange(1, 10 ** r.randint(1, big // 2 if op == "div" else big))
            out.append(Problem(op, a, b if r.random() < 0.8 else a))
    return out


@pytest.mark.parametrize("mode", ["local", "full"])
def test_oracle_loop_exact_in_both_modes(mode: str) -> None:
    probs = _problems(1, 3 if mode == "full" else 4)
    runs = solve_problems(probs, OracleModel(), mode=mode, check=True)
    for r in runs:
        assert r.error is None and r.answer == r.plan.problem.answer_text(), (r.plan.problem, r.answer, r.error)
        assert r.ok["executor"][0] == r.ok["executor"][1] and r.ok["composer"][0] == r.ok["composer"][1]
    assert sum(r.ok["composer"][1] for r in runs) > 0


def test_caef_machine_set_runs_mul_and_div_by_repeated_addition() -> None:
    runs = solve_problems([Problem("mul", 13, 3), Problem("div", 47, 15)], OracleModel(), mode="full",
                          machines="caef", check=True)
    assert [r.answer for r in runs] == ["39", "3"]  # CAEF's DIV discards the remainder
    assert [r.ok["composer"][1] for r in runs] == [8, 11]  # 3b - 1 and 3q + 2 composer transitions


class _Counting(OracleModel):
    def __init__(self) -> None:
        self.prompts: list[str] = []

    def generate(self, prompts, cfg):
        self.prompts += list(prompts)
        return super().generate(prompts, cfg)


class _Broken:
    name = "broken"

    def generate(self, prompts, cfg: GenerationConfig):
        return [["C9 W7 q1\n" if p.endswith("=") else "ADD, q1, nonsense\n"] for p in prompts]


@pytest.mark.parametrize("mode", ["local", "full"])
def test_per_machine_models_are_routed_by_machine(mode: str) -> None:
    adders, rest = _Counting(), _Counting()
    runs = solve_problems([Problem("sub", 52, 37), Problem("add", 5, 998)], {"ADD": adders, "*": rest}, mode=mode)
    assert [r.answer for r in runs] == ["15", "1003"]
    assert adders.prompts and all(p.startswith("ADD") for p in adders.prompts)
    assert not any(p.startswith("ADD") for p in rest.prompts) and rest.prompts
    bad = solve_problems([Problem("sub", 52, 37), Problem("gt", 3, 2)], {"ADD": _Broken(), "*": OracleModel()},
                         mode=mode, check=True, max_steps=200)
    assert bad[0].answer != "15" and bad[0].ok["executor"][0] < bad[0].ok["executor"][1]
    assert bad[1].answer == "True"


def test_cli_trace_solve_generate(tmp_path) -> None:
    res = runner.invoke(app, ["trace", "caef", "45+67"])
    assert res.exit_code == 0 and res.output.splitlines()[-2] == "ADD, qH,  |5|4[HEAD1] |7|6[HEAD2] [C]1 |2|1|1"
    for expr, want in [("52-37", "15"), ("37-52", "-15"), ("47//15", "3 R 2"), ("352>347", "True"),
                       ("123456789*987654321", str(123456789 * 987654321))]:
        for mode in ("local", "full"):
            res = runner.invoke(app, ["solve", expr, "--strategy", "caef", "--model", "oracle", "--mode", mode])
            assert res.exit_code == 0 and res.output.splitlines()[-1] == want, (expr, mode, res.output)
    res = runner.invoke(app, ["solve", "1+1", "--strategy", "nope"])
    assert res.exit_code == 2 and "unknown solve strategies" in res.output
    out = tmp_path / "c.jsonl"
    args = ["generate", "caef", "--ops", "add,sub,lt,lmul", "--digits", "1-12", "--n", "300", "--seed", "3",
            "--out", str(out), "--no-progress"]
    assert runner.invoke(app, args).exit_code == 0
    recs = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(recs) == 300 and {r["op"] for r in recs} == {"add", "sub", "lt", "lmul"}
    from mathwright.formats.caef_data import check_record

    assert all(check_record(r) is None for r in recs)
    first = out.read_bytes()
    assert runner.invoke(app, args).exit_code == 0 and out.read_bytes() == first


def test_generated_record_with_a_wrong_line_is_caught() -> None:
    from mathwright.formats.caef_data import check_record, make_records

    rec = make_records("add", 5, 5, random.Random(0))[2]
    assert check_record(rec) is None
    bad = dict(rec, output=rec["output"].replace("[C]0", "[C]1", 1) if "[C]0" in rec["output"]
               else rec["output"].replace("[C]1", "[C]0", 1))
    assert check_record(bad) is not None


def test_eval_caef_writes_metrics_and_resumes(tmp_path) -> None:
    from mathwright.eval.caef_eval import run_caef_eval

    m = run_caef_eval("oracle", tmp_path, ops="add,sub,mul,div,eq,lt,gt", digits="3,9", n=3, mode="local",
                      print_table=False)
    assert m["exact_match"] == m["digit_match"] == m["step_accuracy"] == m["aligner_accuracy"] == 1.0
    assert set(json.load(open(tmp_path / "metrics.json"))) >= {"exact_match", "digit_match", "buckets"}
    assert (tmp_path / "report.md").exists() and len((tmp_path / "predictions.jsonl").read_text().splitlines()) == 42
    same_name = _Broken()
    same_name.name = "oracle"  # a Model object is fingerprinted by its name only
    m2 = run_caef_eval(same_name, tmp_path, ops="add,sub,mul,div,eq,lt,gt", digits="3,9", n=3, mode="local",
                       print_table=False)  # everything is already in predictions.jsonl: nothing re-run
    assert m2["exact_match"] == 1.0
    with pytest.raises(DataError, match='resume refused: config model changed \\("oracle" -> "broken"\\)'):
        run_caef_eval(_Broken(), tmp_path, ops="add,sub,mul,div,eq,lt,gt", digits="3,9", n=3, mode="local",
                      print_table=False)  # another model never reuses these predictions


@pytest.mark.slow
def test_tiny_model_trained_on_local_add_steps_runs_the_loop(tmp_path) -> None:
    """Train a 120k-parameter LLaMA on the local-view ADD step table for a few seconds, then let it add."""
    from mathwright.models.hf import load
    from mathwright.solve.caef_train import local_table, train_steps

    table = local_table(["add"], digits=(1, 6), n=300, seed=0)
    rep = train_steps(list(table), tmp_path / "m", preset="tiny-100k", minutes=1.0, max_steps=150,
                      batch_size=128, lr=1e-2, eval_every=50)
    assert rep.exact >= 0.5, rep  # most of the step table is learned (all of it within ~150 steps)
    model = load(str(tmp_path / "m"), dtype="float32")
    probs = [Problem("add", a, b) for a, b in [(45, 67), (5, 998), (123456, 654321), (99999, 1), (8, 0)]]
    runs = solve_problems(probs, {"*": model}, mode="local", check=True, max_steps=60)
    steps_ok = sum(r.ok["executor"][0] for r in runs) / sum(r.ok["executor"][1] for r in runs)
    assert steps_ok >= 0.5
    for r in runs:  # every run ends in a parseable integer answer or a reported error
        assert (r.answer is not None and r.answer.lstrip("-").isdigit()) or r.error
    if rep.exact == 1.0:
        assert all(r.correct for r in runs), [(r.plan.problem, r.answer, r.first_error) for r in runs]


@pytest.mark.slow
def test_per_machine_lora_adapters_switch_by_machine(tmp_path) -> None:
    """CAEF's setup: one base model, one LoRA adapter per machine, activated by the machine of each prompt."""
    from peft import LoraConfig, get_peft_model

    from mathwright.models.tiny import build_tiny
    from mathwright.solve.caef import AdapterSwitch

    model, tok = build_tiny("tiny-100k", seed=0)
    model.save_pretrained(tmp_path / "base")
    tok.save_pretrained(tmp_path / "base")
    for name in ("ADD", "SUB"):
        m, _ = build_tiny("tiny-100k", seed=0)
        pm = get_peft_model(m, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
        pm.save_pretrained(tmp_path / name)
    sw = AdapterSwitch(str(tmp_path / "base"), {"ADD": str(tmp_path / "ADD"), "SUB": str(tmp_path / "SUB")})
    seen: list[tuple[str, str]] = []
    orig = sw.hf.generate

    def spy(prompts, cfg):
        active = "base" if getattr(sw.peft.base_model, "_disable_adapters", False) else sw.peft.active_adapter
        seen.extend((p.split(maxsplit=1)[0].rstrip(","), str(active)) for p in prompts)
        return orig(prompts, cfg)

    sw.hf.generate = spy
    runs = solve_problems([Problem("sub", 52, 37), Problem("add", 4, 5)], sw.models(), mode="local", max_steps=4)
    assert all(r.steps > 0 for r in runs)
    assert ("ADD", "ADD") in seen and ("SUB", "SUB") in seen
    assert all(active == machine or (active == "base" and machine not in ("ADD", "SUB")) for machine, active in seen)


@pytest.mark.parametrize("fmt,expr", [("goat", "123*45"), ("aligned-scratch6", "123456*654321"),
                                      ("aligned-scratch", "95-107"), ("reversed", "47/15")])
def test_solve_direct_uses_the_format_prompt_stop_and_parser(monkeypatch, fmt, expr) -> None:
    """A fake model that answers only the exact prompt of ``fmt`` with that format's rendering (and runs on
    past the stop string): the CLI must prompt, stop and parse as the format says."""
    import random as _random

    from mathwright.arith.problem import parse_expr
    from mathwright.formats.registry import arith_format
    from mathwright.models import base

    p = parse_expr(expr)
    ad = arith_format(fmt)
    rec = ad.render(p, rng=_random.Random(0))
    junk = "\n999 junk after the answer" if ad.stop else ""  # goat has no stop string: its models end with EOS
    known = {ad.prompt(p): rec["output"] + junk}

    class Fake:
        name = "fake"

        def generate(self, prompts, cfg):
            outs = []
            for q in prompts:
                text = known.get(q, "no idea")[: cfg.max_new_tokens]
                outs.append([base.cut_at_stop(text, cfg.stop)])
            return outs

    monkeypatch.setattr(base, "load_model", lambda spec, **kw: Fake())
    res = runner.invoke(app, ["solve", expr, "--strategy", "direct", "--model", "fake", "--format", fmt])
    assert res.exit_code == 0 and res.output.splitlines()[-1] == p.answer_text(), res.output
    res = runner.invoke(app, ["solve", expr, "--strategy", "direct", "--model", "fake", "--format", "nope"])
    assert res.exit_code == 2 and "unknown format" in res.output
