"""Reranking, voting and the N-sample metrics against hand-computed values; the reduced reproduction."""
from __future__ import annotations

import importlib.util
import json
import math
import random
import sys
from itertools import combinations
from pathlib import Path

import pytest

from mathwright.eval.verifier_metrics import coverage_at, evaluate, plot_curves, subset_metric, verifier_at
from mathwright.solve.rerank import best_of_n, majority_vote, top_k_vote, weighted_vote

REPO = Path(__file__).resolve().parents[1]


def _bench():
    """bench/verifier.py as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("bench_verifier", REPO / "bench" / "verifier.py")
    bench = importlib.util.module_from_spec(spec)
    sys.modules["bench_verifier"] = bench  # dataclasses look their module up
    spec.loader.exec_module(bench)
    return bench


def test_selection_by_hand() -> None:
    preds = ["5", "7", "7", "5", "5", None]
    scores = [0.9, 0.8, 0.7, 0.1, 0.2, 0.95]
    assert best_of_n(preds, scores) is None          # the top sample has no readable answer
    assert best_of_n(preds[:5], scores[:5]) == "5"
    assert majority_vote(preds) == "5"               # 3 votes vs 2
    assert top_k_vote(preds, scores, 1) is None      # only the unreadable top sample
    assert top_k_vote(preds, scores, 2) == "5"
    assert top_k_vote(preds, scores, 3) == "5"       # 5 and 7 tie 1-1: higher total score (0.9 vs 0.8)
    assert top_k_vote(preds, scores, 4) == "7"       # 7 twice among the top four
    assert top_k_vote(preds, scores, 6) == "5"       # k = N is the plain vote
    assert weighted_vote(preds, scores) == "7"       # 1.5 vs 1.2
    assert majority_vote(["3", "4", "4", "3"]) == "3"  # tie without scores: first seen
    assert majority_vote([None, None]) is None and best_of_n([], []) is None


def test_coverage_and_verifier_at_exact() -> None:
    # n=4 samples, c=1 correct: test@1 = 1/4, test@2 = 1 - C(3,2)/C(4,2) = 1/2, test@4 = 1
    assert coverage_at(4, 1, 1) == 0.25 and coverage_at(4, 1, 2) == 0.5 and coverage_at(4, 1, 4) == 1.0
    assert coverage_at(4, 0, 4) == 0.0 and coverage_at(5, 4, 2) == 1.0
    correct = [True, False, True, False, False]
    scores = [0.3, 0.9, 0.8, 0.1, 0.5]
    # brute force over all k-subsets
    for k in range(1, 6):
        subs = list(combinations(range(5), k))
        want = sum(correct[max(s, key=lambda j: (scores[j], -j))] for s in subs) / len(subs)
        assert verifier_at(correct, scores, k) == pytest.approx(want)
    assert verifier_at(correct, scores, 5) == 0.0  # the best-scored sample (0.9) is wrong
    assert verifier_at(correct, scores, 1) == pytest.approx(2 / 5)  # = test@1


def test_subset_metric_full_set_and_evaluate() -> None:
    rng = random.Random(0)
    preds = ["1", "2", "2", None]
    correct = [True, False, False, False]
    assert subset_metric(preds, correct, None, 4, lambda a, s: majority_vote(a), 8, rng) == 0.0
    assert subset_metric(preds, correct, [0.9, 0.1, 0.2, 0.0], 4, lambda a, s: top_k_vote(a, s, 1), 8, rng) == 1.0
    probs = [{"id": "a", "preds": preds, "correct": correct},
             {"id": "b", "preds": ["3", "3", "4", "3"], "correct": [True, True, False, True]}]
    scores = {"a": [0.9, 0.1, 0.2, 0.0], "b": [0.2, 0.3, 0.9, 0.1]}
    res = evaluate(probs, scores, ns=(1, 2, 4), topk=(1, 2, 4), draws=16, seed=0)
    c = res["curves"]
    assert c["test"][1] == pytest.approx((0.25 + 0.75) / 2)
    assert c["test"][4] == 1.0
    assert c["vote"][4] == 0.5          # a: '2' wins (wrong); b: '3' wins
    assert c["verifier"][4] == 0.5      # a: top is '1' (right); b: top is '4' (wrong)
    assert res["topk_at_max"][1] == 0.5 and res["topk_at_max"][4] == 0.5
    assert res["topk_at_max"][2] == 0.5  # a: '1','2' tie -> higher score '1' (right); b: '4','3' tie -> '4' (wrong)
    assert all(0.0 <= v <= 1.0 for m in c.values() for v in m.values())
    assert c["test"][1] <= c["test"][2] <= c["test"][4]


def test_plot_curves_png(tmp_path: Path) -> None:
    p = plot_curves({"test": {1: 0.1, 4: 0.4}, "verifier": {1: 0.1, 4: 0.3}}, tmp_path / "c.png", title="t")
    assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_reduced_reproduction_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole bench pipeline at toy sizes: data -> generator from scratch -> samples -> both verifiers ->
    metrics, curves and report (RESULTS.md is not written)."""
    bench = _bench()
    sz = bench.Sizes(**{**bench.asdict(bench.SMOKE), "gen_problems": 16, "gen_batch": 16, "verifier_problems": 3,
                        "test_problems": 3, "samples": 3, "max_new_tokens": 16,
                        "test_temperature": 0.5, "misconception": "mini_gain", "misconception_rate": 0.5})
    summ = bench.run(tmp_path, sz, seed=0, write_results=False)
    m = summ["metrics"]
    assert set(m) == {"token", "solution", "token-min", "gen-logprob"}
    for e in m.values():
        assert e["n_problems"] == 3 and e["n_samples"] == 3
        assert set(e["curves"]) == {"test", "vote", "verifier", "topk_vote", "weighted_vote"}
    assert (tmp_path / "verifier_curves.png").exists() and "test@3" in (tmp_path / "report.md").read_text()
    recs = [json.loads(l) for l in (tmp_path / "samples_test.jsonl").read_text().splitlines()]
    assert len(recs) == 3 and all(len(r["samples"]) == 3 for r in recs)
    assert {r["temperature"] for r in recs} == {0.5}  # held-out samples at their own temperature
    assert {json.loads(l)["temperature"] for l in (tmp_path / "samples_train.jsonl").read_text().splitlines()} == {sz.temperature}
    scores = json.loads((tmp_path / "scores_token.json").read_text())
    assert sorted(scores) == sorted(r["id"] for r in recs)
    assert all(len(v) == 3 and all(0.0 <= x <= 1.0 for x in v) for v in scores.values())
    mins = json.loads((tmp_path / "scores_token-min.json").read_text())  # the same verifier's lowest value
    assert sorted(mins) == sorted(scores) and all(a <= b + 1e-6 for k in mins for a, b in zip(mins[k], scores[k]))
    assert "token-level verifier (min over tokens)" in (tmp_path / "report.md").read_text()
    # the no-verifier baseline: the generator's geometric-mean token probability of each sample
    gl = json.loads((tmp_path / "scores_gen-logprob.json").read_text())
    assert sorted(gl) == sorted(scores) and all(len(v) == 3 and all(0.0 < x <= 1.0 for x in v) for v in gl.values())
    assert "generator likelihood (no verifier), best-of-3" in (tmp_path / "report.md").read_text()
    # the generator trained on its own (misconceived) copy of the problems; the labels use the true golds
    sft = [json.loads(l) for l in (tmp_path / "gen_sft.jsonl").read_text().splitlines()]
    true = [json.loads(l) for l in (tmp_path / "gen_train.jsonl").read_text().splitlines()]
    assert [r["id"] for r in sft] == [r["id"] for r in true] and any(a != b for a, b in zip(sft, true))
    assert "the misconceived template" in (tmp_path / "report.md").read_text() or \
        "mini_gain" not in {json.loads(l)["template"] for l in (tmp_path / "test.jsonl").read_text().splitlines()}

    # more samples per training problem in a new run directory: the old samples kept, the test samples identical
    spec = importlib.util.spec_from_file_location("verifier_more_samples", REPO / "bench" / "verifier_more_samples.py")
    more = importlib.util.module_from_spec(spec)
    sys.modules["verifier_more_samples"] = more  # the worker processes import it by name
    spec.loader.exec_module(more)
    new = tmp_path / "more"
    monkeypatch.setattr(sys, "argv", ["x", "--run", str(tmp_path), "--out", str(new), "--extra", "2"])
    more.main()
    old_tr = [json.loads(l) for l in (tmp_path / "samples_train.jsonl").read_text().splitlines()]
    new_tr = [json.loads(l) for l in (new / "samples_train.jsonl").read_text().splitlines()]
    assert [r["id"] for r in new_tr] == [r["id"] for r in old_tr]
    assert all(len(n["samples"]) == 5 and n["samples"][:3] == o["samples"] and len(n["correct"]) == 5
               for n, o in zip(new_tr, old_tr))
    assert (new / "samples_test.jsonl").read_bytes() == (tmp_path / "samples_test.jsonl").read_bytes()
    summ2 = bench.run(new, bench.Sizes(**{**bench.asdict(sz), "train_samples": 5,
                                          "max_samples_per_problem_for_training": 5}), seed=0, write_results=False)
    assert "3 problems x 5 samples" in (new / "report.md").read_text()
    assert summ2["metrics"]["token"]["n_samples"] == 3


def test_trace_kind_and_failure_breakdown() -> None:
    """The bench's measured description of best-of-N failures, on hand-made traces."""
    bench = _bench()
    q = "Grace has 15 toy cars, gets 12 more and gives away 25. How many are left?"
    good = "Grace has 15 + 12 = <<15+12=27>>27 toy cars.\nNow there are 27 - 25 = <<27-25=2>>2 left.\n#### 2"
    copy = "Grace has 15 + 12 = <<15+12=27>>27 toy cars.\nNow there are 29 - 25 = <<29-25=4>>4 left.\n#### 4"
    slip_ann = "Grace has 15 + 12 = <<15+12=27>>27 toy cars.\nNow there are 27 - 25 = <<27-25=2>>5 left.\n#### 5"
    slip_final = "Grace has 15 + 12 = <<15+12=27>>27 toy cars.\nNow there are 27 - 25 = <<27-25=2>>2 left.\n#### 4"
    wrong_step = "Grace has 15 + 25 = <<15+25=40>>40 toy cars.\nNow there are 40 - 12 = <<40-12=28>>28 left.\n#### 28"
    assert bench.trace_kind(q, good) == "consistent"
    assert bench.trace_kind(q, copy) == "copy"
    assert bench.trace_kind(q, slip_ann) == "slip"
    assert bench.trace_kind(q, slip_final) == "slip"
    assert bench.trace_kind(q, wrong_step) == "consistent"
    assert bench.trace_kind(q, "Grace has 15 + 12 = <<15+12=27>>27") == "no_answer"
    recs = [{"id": "a", "question": q, "samples": [good, copy, slip_ann], "correct": [True, False, False]},
            {"id": "b", "question": q, "samples": [good, copy, slip_ann], "correct": [True, False, False]}]
    fb = bench.failure_breakdown(recs, {"a": [0.9, 0.5, 0.1], "b": [0.2, 0.3, 0.8]})
    assert fb == {"failures": 1, "no_answer": 0, "slip": 1, "copy": 0, "consistent": 0}


def test_answer_size_diagnostics() -> None:
    """The bench's measured answer-size lean of best-of-N picks, on hand-made records."""
    bench = _bench()
    recs = [{"id": "a", "gold": "20", "preds": ["20", "3", "40", None], "correct": [True, False, False, False]},
            {"id": "b", "gold": "5", "preds": ["5", "9", "1", "5"], "correct": [True, False, False, True]}]
    # a: the pick is the wrong "3" (below); b: the pick is the right "5"
    assert bench.smaller_wrong_picks(recs, {"a": [0.5, 0.9, 0.1, 0.2], "b": [0.9, 0.1, 0.2, 0.3]}) == (1, 1, 0.5)
    # b's pick is the wrong "9" (above); wrong numeric samples: 3, 40, 9, 1 -> two below their gold
    assert bench.smaller_wrong_picks(recs, {"a": [0.9, 0.1, 0.1, 0.2], "b": [0.1, 0.9, 0.2, 0.3]}) == (0, 1, 0.5)
    by = bench.correct_rate_by_answer(recs)
    assert by["0-9"] == (5, 0.4) and by["10-29"] == (1, 1.0) and by["30-99"] == (1, 0.0)


def test_balance_rows() -> None:
    """Balanced verifier training: per problem as many correct as wrong rows, the first of each kind; a problem
    with one kind is dropped."""
    bench = _bench()
    rows = [{"problem": p, "id": f"{p}#{i}", "correct": c}
            for p, cs in (("a", [1, 1, 0, 1, 0]), ("b", [1, 1, 1]), ("c", [0, 1, 0, 0])) for i, c in enumerate(cs)]
    kept = [r["id"] for r in bench.balance_rows(rows)]
    assert kept == ["a#0", "a#1", "a#2", "a#4", "c#0", "c#1"]


def test_misconceive_and_misconceived() -> None:
    """The misconceived generator's training data: the last step's operation swapped and recomputed (a checked,
    self-consistent trace), in a seeded share of one template's problems, the rest untouched."""
    bench = _bench()
    from mathwright.formats.gsm import check, parse

    gain = "Rosa has 29 + 11 = <<29+11=40>>40 tickets.\nNow there are 40 - 5 = <<40-5=35>>35 left.\n#### 35"
    assert bench.misconceive(gain) == ("Rosa has 29 + 11 = <<29+11=40>>40 tickets.\n"
                                       "Now there are 40 + 5 = <<40+5=45>>45 left.\n#### 45")
    change = "They cost 3 * 7 = $<<3*7=21>>21.\nThe change is 50 - 21 = $<<50-21=29>>29.\n#### 29"
    assert bench.misconceive(change).splitlines()[1:] == ["The change is 50 + 21 = $<<50+21=71>>71.", "#### 71"]
    share = "Sam has 2 * 9 = <<2*9=18>>18 b.\nEach friend gets 18 / 3 = <<18/3=6>>6.\n#### 6"
    m = bench.misconceive(share)
    assert parse(m) == "54" and check(m, strict=True).ok and m.splitlines()[0] == share.splitlines()[0]
    from mathwright.data.word_problems import generate_word_problems

    train = generate_word_problems(300, seed=0, templates=["mini_gain", "mini_boxes"], max_steps=4)
    out = bench.misconceived(train, "mini_gain", 0.6, seed=0)
    changed = [a for a, b in zip(train, out) if a["answer"] != b["answer"]]
    n_gain = sum(r["template"] == "mini_gain" for r in train)
    assert all(r["template"] == "mini_gain" for r in changed) and 0.45 < len(changed) / n_gain < 0.75
    assert [r["id"] for r in out] == [r["id"] for r in train] and all(check(r["answer"], strict=True).ok for r in out)
    # each record's draw depends on the seed and its id only: any subset gets the same records changed
    assert bench.misconceived(train[50:], "mini_gain", 0.6, seed=0) == out[50:]
    assert bench.misconceived(train, "mini_gain", 0.6, seed=1) != out
    with pytest.raises(ValueError, match="mini_ages"):
        bench.misconceived(train, "mini_ages", 0.5, seed=0)


def test_by_template() -> None:
    bench = _bench()
    recs = [{"id": "a", "preds": ["1", "2", "2"], "correct": [True, False, False]},   # vote wrong, verifier right
            {"id": "b", "preds": ["7", "7", "8"], "correct": [True, True, False]},
            {"id": "c", "preds": ["3", None, "4"], "correct": [False, False, True]}]
    res = bench.by_template(recs, {"a": "g", "b": "g", "c": "h"},
                            {"v": {"a": [0.9, 0.1, 0.2], "b": [0.1, 0.2, 0.9], "c": [0.1, 0.9, 0.5]}}, k=2)
    # a: top-2 = "1", "2" (tie: the higher total score, "1"); b: top-2 = "8", "7" -> "8" wins its tie (0.9)
    assert res["g"] == {"n": 2, "test@1": pytest.approx(0.5), "vote": 0.5, "v": 0.5, "v top-k": 0.5}
    assert res["h"] == {"n": 1, "test@1": pytest.approx(1 / 3), "vote": 0.0, "v": 0.0, "v top-k": 1.0}
