"""Full-format CAEF: a tiny model trained a few steps runs through solve/caef.py, and the lock-step oracle
check catches the wrong step; draft-verified decoding equals token-by-token greedy decoding; training resumes."""
from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import pytest

from mathwright.arith.problem import Problem
from mathwright.models.base import GenerationConfig
from mathwright.solve.caef import OracleModel, solve_problems

torch = pytest.importorskip("torch")
from mathwright.solve.caef_full import DraftVerified, Mix, train_full  # noqa: E402


def _bench():
    spec = importlib.util.spec_from_file_location("bench_caef_full", Path(__file__).parents[1] / "bench" / "caef_full.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("cf")
    logs: list[str] = []
    mix = Mix.parse("add:1-2,eq:1-2")
    kw = dict(preset="tiny-100k", batch_tokens=1024, micro_tokens=1024, threads=1, log=logs.append, log_every=1,
              warmup=1, bf16=False)
    train_full(mix, out, max_steps=3, **kw)
    model, tok, st = train_full(mix, out, max_steps=5, **kw)  # a rerun on the same directory resumes
    return model, tok, st, logs, out


def test_training_resumes_and_records_time(trained):
    model, tok, st, logs, out = trained
    assert any("resumed" in line and "step 3" in line for line in logs)
    assert st.step == 5 and st.tokens > 0 and st.cpu_seconds > 0 and st.train_seconds > 0
    assert (out / "model" / "config.json").exists() and (out / "train_summary.json").exists()
    assert not (out / "ckpt.pt.tmp").exists()


def test_draft_verified_is_greedy_whatever_the_draft(trained):
    from mathwright.formats import caef as F
    from mathwright.models.hf import HFModel

    import copy

    model, tok, *_ = trained
    # an almost untrained model has near-tied logits, where batch shapes alone can flip an argmax; sharpening
    # the head keeps the comparison about the algorithm, not float rounding
    model = copy.deepcopy(model)
    with torch.no_grad():
        model.lm_head.weight.mul_(200.0)
    rng = random.Random(0)
    prompts = ["\n".join(F.q0_lines("ADD", str(rng.randrange(100)), str(rng.randrange(100)))) + "\n" for _ in range(4)]
    cfg = GenerationConfig(max_new_tokens=60, batch_size=4)
    want = [o[0] for o in HFModel(model, tok).generate(prompts, cfg)]

    def bad_draft(p: str) -> str:  # a wrong draft changes only how much one pass confirms, never the output
        return F.oracle_response(p).replace("1", "7")

    for draft in (None, bad_draft, lambda p: want[prompts.index(p)]):
        got = [o[0] for o in DraftVerified(model, tok, draft=draft).generate(prompts, cfg)]
        assert got == want


def test_oracle_check_catches_the_untrained_models_first_step(trained):
    model, tok, *_ = trained
    run = solve_problems([Problem("add", 12, 34)], DraftVerified(model, tok, fallback_tokens=20), mode="full",
                         check=True, stop_on_error=True)[0]
    assert not run.correct and run.first_error.startswith("step 1:")
    assert run.ok["executor"] == [0, 1] and run.error is not None and run.answer is None


class Corrupt(OracleModel):
    """The oracle, except that call ``k`` writes a wrong carry."""

    def __init__(self, k: int) -> None:
        self.k, self.calls = k, 0

    def generate(self, prompts, cfg):
        out = super().generate(prompts, cfg)
        self.calls += 1
        if self.calls == self.k:
            out = [[o[0].replace("[C]1", "[C]0", 1) if "[C]1" in o[0] else o[0].replace("[C]0", "[C]1", 1)] for o in out]
        return out


def test_oracle_check_reports_the_corrupted_step_and_field():
    bench = _bench()
    run = solve_problems([Problem("add", 4567, 1234)], Corrupt(3), mode="full", check=True, stop_on_error=True)[0]
    assert not run.correct and run.first_error.startswith("step 3:")
    assert run.ok["executor"] == [2, 3]
    good = solve_problems([Problem("add", 4567, 1234)], Corrupt(99), mode="full", check=True, stop_on_error=True)[0]
    assert good.correct and good.ok["executor"] == [good.steps, good.steps]
    import ast

    prompt, resp = run.first_error.split(": ", 1)[1].rsplit(" -> ", 1)
    d = bench.diagnose(ast.literal_eval(prompt), ast.literal_eval(resp))
    assert d["kind"] == "executor" and d["machine"] == "ADD" and d["field"] == "carry [C]" and d["line"] == 1


def test_diagnose_names_composer_callee_lines():
    from mathwright.formats import caef as F

    bench = _bench()
    prompt = "\n".join(F.q0_lines("LMUL", "21", "43")) + "\n"
    want = F.oracle_response(prompt)
    lines = want.split("\n")
    bad = "\n".join(lines[:2] + [lines[2].replace("|1", "|5", 1)] + lines[3:])
    d = bench.diagnose(prompt, bad)
    assert d["kind"] == "composer" and d["field"] == "callee q0 state"
    assert bench.diagnose(prompt, want)["field"].startswith("none")
    assert bench.diagnose(prompt, want[:-6])["field"] == "callee q0 command"


def test_mix_rejects_bad_specs():
    with pytest.raises(ValueError, match="bad mix entry"):
        Mix.parse("nope:1-3")
    with pytest.raises(ValueError, match="lengths must be integers"):
        Mix.parse("add:a-b")


def test_cmd_weight_weighs_only_command_lines_and_changes_the_update(tmp_path):
    from mathwright.models.tiny import char_tokenizer
    from mathwright.solve.caef_full import command_chars, encode

    tok = char_tokenizer()
    pairs = Mix.parse("add:3").sample(random.Random(0), 2, "fixed")
    (ids, pl, w), _ = encode(tok, pairs, cmd_weight=7.0)
    resp = pairs[0][1]
    assert len(w) == len(ids) - pl == len(resp) + 1
    on = [c for c, x in zip(resp, command_chars(resp)) if x]
    assert "".join(on).startswith(("CMD", "No command")) and set(w[:-1]) == {1.0, 7.0}
    assert [wi == 7.0 for wi in w[:-1]] == command_chars(resp)
    assert encode(tok, pairs)[0][2] is None  # weight 1: no per-token weights at all
    kw = dict(preset="tiny-100k", batch_tokens=1024, micro_tokens=1024, threads=1, log=lambda s: None, warmup=1,
              bf16=False, max_steps=2)
    m1, _, _ = train_full(Mix.parse("add:1-2"), tmp_path / "a", **kw)
    m7, _, _ = train_full(Mix.parse("add:1-2"), tmp_path / "b", cmd_weight=7.0, **kw)
    diff = sum(float((p - q).abs().sum()) for p, q in zip(m1.parameters(), m7.parameters()))
    assert diff > 0  # same seed, same stream: only the weighting differs


def test_caef_tokenizer_shortens_steps_keeps_text_and_runs_the_loop(tmp_path):
    """``tokenizer="caef"``: markers and |d cells are single tokens, the text round-trips exactly, command-line
    weights follow the token offsets, and a model trained with it reloads from disk and runs the checked loop."""
    from mathwright.models.hf import load
    from mathwright.models.tiny import char_tokenizer
    from mathwright.solve.caef_full import caef_words, command_chars, command_tokens, encode

    tok = char_tokenizer(words=caef_words())
    pairs = Mix.parse("add:4,sub:3,ldiv:4x2").sample(random.Random(1), 12, "both")
    for p, r in pairs:
        ids, cmd = command_tokens(tok, r)
        assert tok.decode(ids) == r and len(ids) < len(r) / 2
        starts = [a for a, _ in tok(r, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]]
        assert cmd == [command_chars(r)[a] for a in starts] and any(cmd) and not all(cmd)
        assert "[HEAD1]" in tok.convert_ids_to_tokens(ids) or "[HEAD]" in tok.convert_ids_to_tokens(ids) or \
            r.startswith(("SUB,", "LDIV,"))
    (x, pl, w), = encode(tok, pairs[:1], cmd_weight=5.0)
    assert len(w) == len(x) - pl and w.count(5.0) == sum(command_tokens(tok, pairs[0][1])[1])
    kw = dict(preset="tiny-100k", batch_tokens=1024, micro_tokens=1024, threads=1, log=lambda s: None, warmup=1,
              bf16=False, max_steps=2, tokenizer="caef")
    train_full(Mix.parse("add:1-2"), tmp_path / "k", **kw)
    m = load(str(tmp_path / "k" / "model"), dtype="float32")
    dv = DraftVerified(m.model, m.tokenizer, fallback_tokens=8)
    runs = solve_problems([Problem("add", 12, 34)], dv, mode="full", check=True, stop_on_error=True)
    assert runs[0].steps >= 1 and len(m.tokenizer) == len(tok)  # the words travel with the saved tokenizer
    with pytest.raises(ValueError, match="unknown tokenizer"):
        train_full(Mix.parse("add:1"), tmp_path / "z", **{**kw, "tokenizer": "bpe"})
