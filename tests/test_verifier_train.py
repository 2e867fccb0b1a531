"""The value-head verifier: masks, residual dropout, a toy training run that learns to rank, save/reload, LoRA,
and the config loader."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from mathwright.train.verifier import (Collator, VerifierConfig, ValueHeadModel, add_residual_dropout, encode,
                                       likelihood_features, load_verifier, score, token_logprobs, token_values,
                                       train_verifier)


def toy_rows(n: int, seed: int) -> list[dict]:
    """'a plus b' questions; correct samples add, wrong ones pick another operation (a typical generator
    mistake). Labels come from the final answer, as in the paper."""
    r = random.Random(seed)
    rows = []
    for _ in range(n):
        a, b = r.randint(2, 40), r.randint(2, 40)
        op = r.choice(["+", "+", "-", "*"])
        v = {"+": a + b, "-": a - b, "*": a * b}[op]
        rows.append({"prompt": f"Question: {a} plus {b}?\nAnswer: ", "completion": f"{a} {op} {b} = <<{a}{op}{b}={v}>>{v}\n#### {v}",
                     "correct": op == "+"})
    return rows


def auc(scores: list[float], labels: list[bool]) -> float:
    pos = [s for s, l in zip(scores, labels) if l]
    neg = [s for s, l in zip(scores, labels) if not l]
    return sum((p > q) + 0.5 * (p == q) for p in pos for q in neg) / (len(pos) * len(neg))


def test_collator_masks_token_vs_solution() -> None:
    from mathwright.models.tiny import char_tokenizer

    tok = char_tokenizer()
    ids, pl = encode(tok, "Q: 1+1\nA: ", "2\n#### 2", 64)
    assert ids[0] == tok.bos_token_id and ids[-1] == tok.eos_token_id and pl == 1 + len("Q: 1+1\nA: ")
    feats = [{"input_ids": ids, "prompt_len": pl, "correct": True}, {"input_ids": ids[:-3], "prompt_len": pl, "correct": False}]
    tb = Collator(tok.pad_token_id, "token")(feats)
    sb = Collator(tok.pad_token_id, "solution")(feats)
    n = len(ids)
    assert tb["value_mask"][0].tolist() == [0] * pl + [1] * (n - pl)
    assert sb["value_mask"][0].sum() == 1 and sb["value_mask"][0, n - 1] == 1 and sb["value_mask"][1, n - 4] == 1
    assert tb["value_labels"].tolist() == [1.0, 0.0]
    assert (tb["labels"][0, :pl] == -100).all() and tb["labels"][0, n - 1] == tok.eos_token_id
    assert tb["attention_mask"][1].sum() == n - 3
    # over-long: the prompt start is dropped, the solution kept
    ids2, pl2 = encode(tok, "x" * 100 + "\nA: ", "2\n#### 2", 20)
    assert len(ids2) == 20 and ids2[-1] == tok.eos_token_id and pl2 == 20 - len("2\n#### 2") - 1


def test_residual_dropout_only_in_training() -> None:
    from mathwright.models.tiny import build_tiny

    model, _ = build_tiny("tiny-100k")
    hooks = add_residual_dropout(model, 0.5)
    assert len(hooks) == 2 * model.config.num_hidden_layers
    x = torch.randint(5, 60, (2, 12))
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(x).logits, model(x).logits)
        model.train()
        assert not torch.equal(model(x).logits, model(x).logits)


def test_likelihood_features_by_hand() -> None:
    # vocabulary of 3; row 0: prompt of 2 tokens then 2 solution tokens; row 1: 1 prompt token, 2 solution, 1 pad
    probs = torch.tensor([[[0.5, 0.25, 0.25], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [1 / 3, 1 / 3, 1 / 3]],
                          [[0.5, 0.25, 0.25], [0.5, 0.25, 0.25], [0.7, 0.2, 0.1], [0.5, 0.25, 0.25]]])
    ids = torch.tensor([[0, 0, 1, 2], [2, 1, 0, 0]])
    att = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])
    f = likelihood_features(probs.log(), ids, att, torch.tensor([2, 1]))
    ln = torch.log
    lp0 = [0.0, 0.0, ln(torch.tensor(0.8)).item(), ln(torch.tensor(0.6)).item()]   # token t given t-1's prediction
    lp1 = [0.0, ln(torch.tensor(0.25)).item(), ln(torch.tensor(0.5)).item(), 0.0]    # the pad position counts nothing
    assert f[0, :, 0].tolist() == pytest.approx(lp0, abs=1e-6) and f[1, :, 0].tolist() == pytest.approx(lp1, abs=1e-6)
    assert f[0, :, 1].tolist() == pytest.approx([0, 0, lp0[2], (lp0[2] + lp0[3]) / 2], abs=1e-6)  # running mean
    assert f[1, :, 2].tolist() == pytest.approx([0, lp1[1], lp1[1], lp1[1]], abs=1e-6)           # running min
    assert f[1, 3, 1].item() == pytest.approx((lp1[1] + lp1[2]) / 2, abs=1e-6)


def test_token_logprobs_match_the_lm_loss() -> None:
    from mathwright.models.tiny import build_tiny, char_tokenizer

    torch.manual_seed(0)
    lm, _ = build_tiny("tiny-100k")
    tok = char_tokenizer()
    pr, co = ["Q: 12+7\nA: ", "Q: 3*4\nA: "], ["19\n#### 19", "12\n#### 12"]
    lps = token_logprobs(lm, tok, pr, co, batch_size=1)
    for p, c, lp in zip(pr, co, lps):
        ids, pl = encode(tok, p, c, 64)
        x = torch.tensor([ids])
        labels = x.clone()
        labels[0, :pl] = -100
        with torch.no_grad():
            nll = lm(input_ids=x, labels=labels).loss.item()
        assert len(lp) == len(ids) - pl and -sum(lp) / len(lp) == pytest.approx(nll, rel=1e-4)


@pytest.mark.slow
def test_value_head_learns_to_rank_and_reloads(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    train, held = toy_rows(192, 0), toy_rows(60, 1)
    cfg = VerifierConfig(base="tiny-100k", out=str(tmp_path / "v"), level="token", epochs=4, batch_size=16, lr=3e-3,
                         lm_coef=0.2, residual_dropout=0.1, logging_steps=4, progress=False, seed=0)
    out = train_verifier(cfg, train)
    losses = [float(l.split(",")[1]) for l in (out / "train_log.csv").read_text().splitlines()[1:]]
    assert len(losses) >= 4 and losses[-1] < 0.8 * losses[0]
    for f in ("config.json", "value_head.safetensors", "verifier_config.json", "tokenizer.json"):
        assert (out / f).exists()
    model, tok = load_verifier(out)
    s = score(model, tok, [r["prompt"] for r in held], [r["completion"] for r in held])
    labels = [r["correct"] for r in held]
    assert auc(s, labels) > 0.85  # held-out: correct samples rank above wrong ones
    assert all(0.0 <= v <= 1.0 for v in s)
    model2, tok2 = load_verifier(out)  # reload is deterministic
    s2 = score(model2, tok2, [r["prompt"] for r in held[:8]], [r["completion"] for r in held[:8]], batch_size=3)
    assert s2 == pytest.approx(s[:8], abs=1e-5)
    # per-token values: one after each completion token plus EOS; "last" is the EOS value, "min" the lowest
    pr, co = [r["prompt"] for r in held[:8]], [r["completion"] for r in held[:8]]
    vals = token_values(model, tok, pr, co, batch_size=3)
    assert [len(v) for v in vals] == [len(tok(c, add_special_tokens=False)["input_ids"]) + 1 for c in co]
    assert [v[-1] for v in vals] == pytest.approx(s[:8], abs=1e-5)
    mins = score(model, tok, pr, co, aggregate="min")
    assert mins == pytest.approx([min(v) for v in vals], abs=1e-5) and all(m <= l + 1e-6 for m, l in zip(mins, s))
    assert any(m < l - 1e-3 for m, l in zip(mins, s))  # the aggregate changes something
    with pytest.raises(ValueError, match="aggregate"):
        score(model, tok, pr, co, aggregate="mean")


@pytest.mark.slow
def test_likelihood_feature_verifier_trains_and_reloads(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    train, held = toy_rows(192, 0), toy_rows(40, 1)
    cfg = VerifierConfig(base="tiny-100k", out=str(tmp_path / "v"), level="token", epochs=3, batch_size=16, lr=3e-3,
                         lm_coef=0.2, residual_dropout=0.1, logging_steps=4, progress=False, seed=0,
                         likelihood_features=True)
    out = train_verifier(cfg, train)
    model, tok = load_verifier(out)
    assert model.likelihood is not None and model.likelihood.weight.abs().sum() > 0  # it learned to read them
    pr, co = [r["prompt"] for r in held], [r["completion"] for r in held]
    s = score(model, tok, pr, co)
    assert auc(s, [r["correct"] for r in held]) > 0.85
    # the features move the score: the same weights without them score differently
    plain = ValueHeadModel(model.base, model.level)
    plain.head.load_state_dict(model.head.state_dict())
    assert score(plain, tok, pr[:6], co[:6]) != pytest.approx(s[:6], abs=1e-4)
    assert score(model, tok, pr[:6], co[:6], batch_size=4) == pytest.approx(s[:6], abs=1e-5)  # padding-independent
    ids = torch.tensor([encode(tok, pr[0], co[0], 64)[0]])
    with pytest.raises(ValueError, match="solution_start"):
        model(input_ids=ids)


@pytest.mark.slow
def test_solution_level_and_lora_save_reload(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    rows = toy_rows(32, 2)
    cfg = VerifierConfig(base="tiny-100k", out=str(tmp_path / "l"), level="solution", lora=True, lora_r=4, lora_alpha=8,
                         max_steps=3, batch_size=8, lr=1e-2, progress=False, logging_steps=1)
    out = train_verifier(cfg, rows)
    model, tok = load_verifier(out)
    assert model.level == "solution" and not any("lora" in k for k in model.base.state_dict())
    assert len(score(model, tok, [rows[0]["prompt"]], [rows[0]["completion"]])) == 1
    # the rerank CLI scores a samples file with either aggregate; a bad one is refused before any work
    import json

    from typer.testing import CliRunner

    from mathwright.cli import app

    samples = tmp_path / "s.jsonl"
    samples.write_text("".join(json.dumps({"id": f"p{i}", "question": "2 + 3?", "samples": ["5\n#### 5", "6\n#### 6"],
                                           "preds": ["5", "6"], "correct": [True, False]}) + "\n" for i in range(2)))
    runner = CliRunner()
    outs = {}
    for agg in ("last", "min"):
        r = runner.invoke(app, ["rerank", "--samples", str(samples), "--verifier", str(out), "--out", str(tmp_path / agg),
                                "--aggregate", agg])
        assert r.exit_code == 0, r.output
        outs[agg] = json.loads((tmp_path / agg / "scores.json").read_text())
        assert (tmp_path / agg / "metrics.json").exists()
    assert all(m <= l + 1e-6 for k in outs["min"] for m, l in zip(outs["min"][k], outs["last"][k]))
    r = runner.invoke(app, ["rerank", "--samples", str(samples), "--verifier", str(out), "--out", str(tmp_path / "x"),
                            "--aggregate", "mean"])
    assert r.exit_code != 0 and "aggregate" in r.output and not (tmp_path / "x").exists()


def test_config_yaml_and_errors(tmp_path: Path) -> None:
    from mathwright.data.io import DataError

    p = tmp_path / "v.yaml"
    p.write_text("data: s.jsonl\nlevel: solution\nlm_coef: 0.5\n", encoding="utf-8")
    cfg = VerifierConfig.from_yaml(p, ["lr=1e-4", "lora=true"])
    assert cfg.level == "solution" and cfg.lr == 1e-4 and cfg.lora is True and cfg.lm_coef == 0.5
    with pytest.raises(DataError, match="did you mean"):
        VerifierConfig.from_yaml(p, ["levle=token"])
    with pytest.raises(DataError, match="level"):
        VerifierConfig.from_yaml(p, ["level=step"])
    repo = Path(__file__).resolve().parents[1]
    for recipe in sorted((repo / "configs").glob("verifier-*.yaml")):
        VerifierConfig.from_yaml(recipe)  # shipped recipes parse
