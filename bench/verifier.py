"""CPU-scale reproduction of "Training Verifiers to Solve Math Word Problems" (Cobbe et al. 2021).

Pipeline (every stage is skipped when its output exists, so a killed run resumes):
1. synthetic GSM8K-format word problems (``data/word_problems.py``): generator-training, verifier-training
   and held-out test problems (test questions never occur in training);
2. a tiny char-level LLaMA generator trained from scratch for about 2 epochs (``train/sft.py``, TRL);
3. N calculator-augmented samples per verifier-training and test problem at temperature T (resumable);
4. a token-level and a solution-level verifier (value head on the generator, joint LM loss, residual
   dropout 0.2), trained on the training problems' samples labelled by final answer;
5. on held-out problems: test@1, test@N, verifier best-of-N, top-k vote, plain vote, weighted vote, and
   the curves over N (PNG), written to docs/RESULTS.md, section "Verifier". Both verifiers are scored by the
   value at the last token (the paper's); the token-level one also by its lowest value over the solution; the
   generator's own likelihood is the no-verifier baseline.

Options beyond the paper (``--set``): ``likelihood_features=true`` (value heads also read the model's token
log-probs), ``misconception=TEMPLATE misconception_rate=P`` (a generator wrong with confidence on one problem
type: the setting where voting and likelihood fail and a verifier earns its keep), ``balance=true``.

More samples per training problem for a finished run: ``bench/verifier_more_samples.py``.

    python bench/verifier.py                  # the full CPU run (~45 min on a shared 2-core machine)
    python bench/verifier.py --smoke          # seconds; what the tests run
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import shlex
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@dataclass
class Sizes:
    gen_problems: int = 3000       # generator training set (it includes the verifier-training problems)
    verifier_problems: int = 30    # training problems sampled for the verifier
    test_problems: int = 30
    samples: int = 100
    # the short "mini" templates (~70-char questions, ~90-char solutions); empty = the 10 default templates
    templates: list[str] = field(default_factory=lambda: ["mini"])
    max_steps: int = 4             # solution steps per problem (short char-level sequences)
    preset: str = "tiny-1m"
    model_fields: dict = field(default_factory=lambda: dict(hidden_size=96, intermediate_size=256,
                                                            num_hidden_layers=3, num_attention_heads=4))
    gen_epochs: float = 2.0
    gen_lr: float = 3e-3
    gen_batch: int = 16
    temperature: float = 0.8
    test_temperature: float = 0.0  # held-out samples at another temperature (0: the same as ``temperature``)
    max_new_tokens: int = 120
    problems_per_batch: int = 4
    ver_epochs: float = 1.0
    ver_lr: float = 5e-4
    ver_batch: int = 32
    lm_coef: float = 0.5
    residual_dropout: float = 0.2
    max_samples_per_problem_for_training: int = 50  # verifier training rows per problem (CPU budget)
    threads: int = 1
    workers: int = 2               # stages with two independent halves (sampling, the two verifiers) run side by side
    draws: int = 32
    gen_checkpoint: str = ""       # use this checkpoint as the generator instead of training one
    # warm start: copy this trainer checkpoint (an earlier run's OUT/generator/checkpoint-*) into OUT/generator so
    # training continues from its weights, optimizer and step count (on this run's data) instead of from step 0
    gen_init: str = ""
    train_samples: int = 0         # samples per verifier-training problem (0: same as ``samples``)
    balance: bool = False          # train verifiers on as many correct as wrong samples per problem (balance_rows)
    likelihood_features: bool = False  # value heads also read the model's own token log-probs (train/verifier.py)
    # a generator that learned a wrong plan: this share of its training solutions of one template use the wrong
    # operation in their last step (misconceive); the labels and every held-out gold stay right
    misconception: str = ""
    misconception_rate: float = 0.0
    notes: str = ""                # free text appended to the RESULTS section (e.g. earlier attempts' numbers)
    load: str = "shared with 7 other jobs (2 cores)"  # how busy the machine was (the wall times depend on it)


SMOKE = Sizes(gen_problems=40, verifier_problems=6, test_problems=4, samples=4, preset="tiny-100k", model_fields={}, gen_epochs=1.0,
              max_new_tokens=24, ver_epochs=1.0, ver_batch=8, draws=4, workers=1, templates=["mini"], max_steps=4)


def parallel(jobs: list[tuple], workers: int) -> list:
    """Run ``(fn, *args)`` jobs in ``workers`` spawned processes (1: in this process). Each job resumes from
    its own files, so a killed run loses nothing."""
    if workers <= 1 or len(jobs) <= 1:
        return [j[0](*j[1:]) for j in jobs]
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(min(workers, len(jobs))) as pool:
        res = [pool.apply_async(j[0], j[1:]) for j in jobs]
        return [r.get() for r in res]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def make_data(out: Path, sz: Sizes, seed: int) -> tuple[list[dict], list[dict], list[dict]]:
    from mathwright.data.io import atomic_write, dumps, read_jsonl
    from mathwright.data.word_problems import generate_word_problems

    paths = [out / "gen_train.jsonl", out / "test.jsonl"]
    if not all(p.exists() for p in paths):
        tm = sz.templates or None
        train = generate_word_problems(sz.gen_problems, seed=seed, templates=tm, max_steps=sz.max_steps)
        seen = {r["question"] for r in train}
        pool = generate_word_problems(sz.test_problems * 2 + 50, seed=seed + 7919, templates=tm, max_steps=sz.max_steps)
        test = [r for r in pool if r["question"] not in seen][: sz.test_problems]
        for p, recs in zip(paths, (train, test)):
            with atomic_write(p) as f:
                f.writelines(dumps(r) + "\n" for r in recs)
    train = [r for _, r in read_jsonl(paths[0])]
    test = [r for _, r in read_jsonl(paths[1])]
    if sz.misconception and not (out / "gen_sft.jsonl").exists():
        with atomic_write(out / "gen_sft.jsonl") as f:
            f.writelines(dumps(r) + "\n" for r in misconceived(train, sz.misconception, sz.misconception_rate, seed))
    return train, train[: sz.verifier_problems], test


SWAP = {"-": "+", "+": "-", "*": "+", "/": "*"}


def misconceive(answer: str) -> str:
    """The same solution with the wrong operation in its last step (``-`` becomes ``+``, and so on: "gives away"
    read as "gets"), recomputed by the calculator; a fluent, self-consistent trace with a wrong plan. It is checked
    like every generated trace."""
    from mathwright.formats.gsm import ANNOT_RE, annotate, check

    lines = answer.split("\n")
    m = list(ANNOT_RE.finditer(lines[-2]))[-1]
    expr, old = m.group(1), m.group(2)
    op = next(c for c in expr[1:] if c in SWAP)  # the first operator (a leading '-' is a sign)
    new = expr[0] + expr[1:].replace(op, SWAP[op], 1)
    text = lines[-2][: m.start()].replace(f" {op} ", f" {SWAP[op]} ", 1)
    ann = annotate(new)
    lines[-2] = text + ann + lines[-2][m.end() + len(old):]
    lines[-1] = "#### " + ANNOT_RE.search(ann).group(2)
    out = "\n".join(lines)
    res = check(out, strict=True)
    if not res.ok:
        raise ValueError(f"misconceived trace fails its check: {res.errors}")
    return out


def misconceived(train: list[dict], template: str, rate: float, seed: int) -> list[dict]:
    """The generator's training records: a seeded ``rate`` share of ``template``'s solutions misconceived
    (each record's draw depends only on the seed and its id, so the file is the same for any split)."""
    import random

    if template not in {r.get("template") for r in train}:
        raise ValueError(f"misconception: no training problem has template {template!r}")
    return [{**r, "answer": misconceive(r["answer"])}
            if r.get("template") == template and random.Random(f"{seed}:{r['id']}").random() < rate else r
            for r in train]


def train_generator(out: Path, sz: Sizes, seed: int) -> Path:
    from mathwright.train.sft import TrainConfig, train

    final = out / "generator" / "model"
    if sz.gen_checkpoint:
        return Path(sz.gen_checkpoint)
    if (final / "config.json").exists():
        return final
    if sz.gen_init and not any((out / "generator").glob("checkpoint-*")):
        import shutil

        src = Path(sz.gen_init)
        shutil.copytree(src, out / "generator" / src.name)
    data = out / ("gen_sft.jsonl" if sz.misconception else "gen_train.jsonl")
    cfg = TrainConfig(model=sz.preset, mode="scratch", model_fields=dict(sz.model_fields), data=[str(data)],
                      prompt="Question: {question}\nAnswer: ", completion="{answer}", max_length=512, seed=seed,
                      output_dir=str(out / "generator"), threads=sz.threads, resume="auto",
                      trainer=dict(num_train_epochs=sz.gen_epochs, learning_rate=sz.gen_lr,
                                   per_device_train_batch_size=sz.gen_batch, warmup_steps=0.05, logging_steps=10,
                                   save_steps=100, report_to=[], disable_tqdm=True))
    return train(cfg)


def sample(out: Path, gen: Path, problems: list[dict], name: str, sz: Sizes, seed: int) -> list[dict]:
    import torch

    from mathwright.models.hf import load
    from mathwright.solve.sampling import sample_problems

    torch.set_num_threads(sz.threads)
    model = load(str(gen), dtype="float32")
    n = sz.train_samples if name == "train" and sz.train_samples else sz.samples
    recs = sample_problems(model, problems, out / f"samples_{name}.jsonl", n=n,
                           temperature=sz.test_temperature if name.startswith("test") and sz.test_temperature else sz.temperature,
                           max_new_tokens=sz.max_new_tokens, seed=seed, problems_per_batch=sz.problems_per_batch,
                           progress=False)
    return [recs[p["id"]] for p in problems]


def train_one_verifier(out: Path, gen: Path, rows: list[dict], level: str, sz: Sizes, seed: int) -> Path:
    from mathwright.train.verifier import VerifierConfig, train_verifier

    d = out / f"verifier_{level}"
    if not (d / "verifier_config.json").exists():
        t = time.time()
        cfg = VerifierConfig(base=str(gen), out=str(d), level=level, lm_coef=sz.lm_coef,
                             residual_dropout=sz.residual_dropout, likelihood_features=sz.likelihood_features,
                             epochs=sz.ver_epochs, lr=sz.ver_lr,
                             batch_size=sz.ver_batch, seed=seed, threads=sz.threads, progress=False,
                             logging_steps=10)
        train_verifier(cfg, rows)
        (d / "wall_seconds.txt").write_text(f"{time.time() - t:.1f}\n")
    return d


def verifier_rows(train_recs: list[dict], sz: Sizes) -> list[dict]:
    """The verifiers' training rows: the first ``max_samples_per_problem_for_training`` samples of each problem,
    balanced per problem if ``sz.balance``."""
    from mathwright.solve.sampling import flatten

    k = sz.max_samples_per_problem_for_training
    rows = [r for r in flatten(train_recs) if int(r["id"].rsplit("#", 1)[1]) < k]
    return balance_rows(rows) if sz.balance else rows


def train_verifiers(out: Path, gen: Path, train_recs: list[dict], sz: Sizes, seed: int) -> dict[str, Path]:
    rows = verifier_rows(train_recs, sz)
    levels = ("token", "solution")
    dirs = parallel([(train_one_verifier, out, gen, rows, lvl, sz, seed) for lvl in levels], sz.workers)
    return dict(zip(levels, dirs))


def balance_rows(rows: list[dict]) -> list[dict]:
    """Per problem, as many correct as wrong rows (the first of each kind); problems with one kind are dropped.
    Every problem is then half right, so nothing about a problem (its size, its answer's size) predicts the label
    across problems: only what differs between its samples does."""
    by: dict[str, list[list[dict]]] = {}
    for r in rows:
        by.setdefault(r["problem"], [[], []])[bool(r["correct"])].append(r)
    keep = set()
    for wrong, right in by.values():
        n = min(len(wrong), len(right))
        keep.update(id(r) for r in wrong[:n] + right[:n])
    return [r for r in rows if id(r) in keep]


# the ways a sample is scored: the paper's value at the last token for both verifiers, the token-level
# verifier's lowest value after any solution token (the process-reward reading, verifiers.md §4.2), and, as a
# baseline with no verifier at all, the generator's own likelihood of the sample (per token, geometric mean)
SCORINGS = {"token": "token-level verifier", "solution": "solution-level verifier",
            "token-min": "token-level verifier (min over tokens)", "gen-logprob": "generator likelihood (no verifier)"}


def _distinct(recs: list[dict]) -> dict[tuple[str, str], int]:
    """Each distinct (question, sample) once, numbered: identical samples of a problem get identical scores, so
    each is scored once."""
    uniq: dict[tuple[str, str], int] = {}
    for r in recs:
        for s in r["samples"]:
            uniq.setdefault((r["question"], s), len(uniq))
    return uniq


def _per_problem(recs: list[dict], uniq: dict[tuple[str, str], int], vals: list[float]) -> dict[str, list[float]]:
    """``{problem id: [score per sample]}`` from one score per distinct text (:func:`_distinct`)."""
    return {r["id"]: [vals[uniq[(r["question"], s)]] for s in r["samples"]] for r in recs}


def score_tests(out: Path, vdir: Path, test_recs: list[dict], level: str, prefix: str = "scores") -> dict[str, dict[str, list[float]]]:
    """``{scoring: {problem id: [score per sample]}}`` for one verifier: ``level`` (value at the last token) and,
    for the token-level one, also ``token-min``. Each scoring is cached in ``OUT/{prefix}_{scoring}.json``."""
    from mathwright.data.io import write_json
    from mathwright.solve.sampling import PROMPT
    from mathwright.train.verifier import aggregate_values, load_verifier, token_values

    import torch

    keys_out = [level] + (["token-min"] if level == "token" else [])
    paths = {k: out / f"{prefix}_{k}.json" for k in keys_out}
    if not all(p.exists() for p in paths.values()):
        torch.set_num_threads(1)
        model, tok = load_verifier(vdir)
        uniq = _distinct(test_recs)
        vals = token_values(model, tok, [PROMPT.format(question=q) for q, _ in uniq], [c for _, c in uniq], batch_size=64)
        for k, p in paths.items():
            how = "last" if k == level else "min"
            write_json(p, _per_problem(test_recs, uniq, [aggregate_values(v, how) for v in vals]))
    return {k: json.loads(p.read_text()) for k, p in paths.items()}


def score_generator(out: Path, gen: Path, test_recs: list[dict]) -> dict[str, dict[str, list[float]]]:
    """``{"gen-logprob": {problem id: [score per sample]}}``: exp of the generator's mean log-prob of each sample's
    tokens (EOS included; the geometric-mean token probability, in (0, 1] so a score-weighted vote works too),
    the no-verifier baseline; cached in ``OUT/scores_gen-logprob.json``."""
    from mathwright.data.io import write_json
    from mathwright.models.hf import load_pretrained
    from mathwright.solve.sampling import PROMPT
    from mathwright.train.verifier import token_logprobs

    import torch

    p = out / "scores_gen-logprob.json"
    if not p.exists():
        torch.set_num_threads(1)
        lm, tok = load_pretrained(str(gen), dtype="float32")
        uniq = _distinct(test_recs)
        lps = token_logprobs(lm, tok, [PROMPT.format(question=q) for q, _ in uniq], [c for _, c in uniq], batch_size=64)
        write_json(p, _per_problem(test_recs, uniq, [math.exp(sum(v) / len(v)) for v in lps]))
    return {"gen-logprob": json.loads(p.read_text())}


def score_train_subset(out: Path, vdir: Path, train_recs: list[dict], level: str, n: int = 300) -> dict[str, dict[str, list[float]]]:
    """Scores of the first ``n`` verifier-training problems' samples (the fit check: a verifier that ranks its own
    training samples no better than held-out ones is underfitting, not starved of data)."""
    return score_tests(out, vdir, train_recs[:n], level, prefix="scores_train")


def auc_stats(recs: list[dict], scores: dict[str, list[float]]) -> tuple[float, float]:
    """(pooled AUC over all test samples, mean within-problem AUC over problems with both kinds)."""
    def auc(pos: list[float], neg: list[float]) -> float:
        neg_sorted = sorted(neg)
        import bisect

        return sum(bisect.bisect_left(neg_sorted, p) + 0.5 * (bisect.bisect_right(neg_sorted, p) - bisect.bisect_left(neg_sorted, p))
                   for p in pos) / (len(pos) * len(neg))

    P = [s for r in recs for s, c in zip(scores[r["id"]], r["correct"]) if c]
    Q = [s for r in recs for s, c in zip(scores[r["id"]], r["correct"]) if not c]
    pooled = auc(P, Q) if P and Q else float("nan")
    per = []
    for r in recs:
        p = [s for s, c in zip(scores[r["id"]], r["correct"]) if c]
        q = [s for s, c in zip(scores[r["id"]], r["correct"]) if not c]
        if p and q:
            per.append(auc(p, q))
    return pooled, (sum(per) / len(per) if per else float("nan"))


def trace_kind(question: str, sample: str) -> str:
    """What a wrong sample looks like: ``no_answer`` (no readable final answer); ``slip`` (the trace contradicts
    itself: a calculator annotation wrong or not followed by its value, or a final answer that is not the last
    result); ``copy`` (an expression uses a number that is neither in the question nor an earlier result: a
    number copied wrongly); ``consistent`` (every operand comes from the question or an earlier result: a wrong
    number chosen or a wrong step)."""
    from mathwright.formats.gsm import ANNOT_RE, check, parse

    final = parse(sample)
    if final is None:
        return "no_answer"
    anns = list(ANNOT_RE.finditer(sample))
    if not check(sample, strict=True).ok or not anns or final != anns[-1].group(2):
        return "slip"
    known = set(re.findall(r"\d+(?:\.\d+)?", question))
    for m in anns:
        if any(x not in known for x in re.findall(r"\d+(?:\.\d+)?", m.group(1))):
            return "copy"
        known.add(m.group(2))
    return "consistent"


def top_pick(scores: list[float]) -> int:
    """Index of the best-of-all-samples pick (ties: the earlier sample, as in ``verifier_at``)."""
    return max(range(len(scores)), key=lambda i: (scores[i], -i))


def failure_breakdown(recs: list[dict], scores: dict[str, list[float]]) -> dict[str, int]:
    """For the problems where best-of-all-samples (by score) picks a wrong sample: how many, and the
    :func:`trace_kind` of each picked sample."""
    res = {"failures": 0, "no_answer": 0, "slip": 0, "copy": 0, "consistent": 0}
    for r in recs:
        j = top_pick(scores[r["id"]])
        if not r["correct"][j]:
            res["failures"] += 1
            res[trace_kind(r["question"], r["samples"][j])] += 1
    return res


def _num(x: object) -> float | None:
    try:
        return float(str(x))
    except ValueError:
        return None


def smaller_wrong_picks(recs: list[dict], scores: dict[str, list[float]]) -> tuple[int, int, float]:
    """Of the problems where best-of-all-samples picks a wrong sample with a numeric answer: how many picked
    answers are below the gold, how many there are, and the share below the gold among all wrong numeric samples
    (what a pick that ignores answer size would show)."""
    below = n = base_below = base_n = 0
    for r in recs:
        j = top_pick(scores[r["id"]])
        g = _num(r["gold"])
        if g is None:
            continue
        for i, (pr, ok) in enumerate(zip(r["preds"], r["correct"])):
            v = _num(pr)
            if ok or v is None:
                continue
            base_n += 1
            base_below += v < g
            if i == j:
                n += 1
                below += v < g
    return below, n, base_below / base_n if base_n else float("nan")


ANSWER_BINS = ((0, 10), (10, 30), (30, 100))


def correct_rate_by_answer(recs: list[dict]) -> dict[str, tuple[int, float]]:
    """Over all samples: ``{"lo-hi": (samples whose final answer is in [lo, hi), share of them correct)}``."""
    res = {}
    for lo, hi in ANSWER_BINS:
        c = [ok for r in recs for p, ok in zip(r["preds"], r["correct"]) if (v := _num(p)) is not None and lo <= v < hi]
        res[f"{lo}-{hi - 1}"] = (len(c), sum(c) / len(c) if c else float("nan"))
    return res


def by_template(test_recs: list[dict], templates: dict[str, str], scores: dict[str, dict[str, list[float]]],
                k: int = 10) -> dict[str, dict[str, float]]:
    """Per template of the held-out problems, over all samples: ``n``, ``test@1``, plain ``vote``, and for each
    scoring its best-of-all accuracy and (``"<scoring> top-k"``) its vote over the top ``k`` (where one kind of
    problem goes wrong: a misconception shows here)."""
    from mathwright.solve.rerank import majority_vote, top_k_vote

    res: dict[str, dict[str, float]] = {}
    for r in test_recs:
        d = res.setdefault(templates.get(r["id"], "?"), {"n": 0, "test@1": 0.0, "vote": 0.0,
                                                        **{x: 0.0 for s in scores for x in (s, f"{s} top-k")}})
        right = {p: c for p, c in zip(r["preds"], r["correct"]) if p is not None}
        d["n"] += 1
        d["test@1"] += sum(r["correct"]) / len(r["correct"])
        d["vote"] += bool(right.get(majority_vote(r["preds"]), False))
        for s, sc in scores.items():
            d[s] += bool(r["correct"][top_pick(sc[r["id"]])])
            d[f"{s} top-k"] += bool(right.get(top_k_vote(r["preds"], sc[r["id"]], k), False))
    return {t: {key: (v if key == "n" else v / d["n"]) for key, v in d.items()} for t, d in sorted(res.items())}


def fmt(x: float) -> str:
    return f"{100 * x:.1f}%"


def report(out: Path, sz: Sizes, seed: int, train_recs: list[dict], test_recs: list[dict],
           scores: dict[str, dict[str, list[float]]], times: dict[str, float], write_results: bool,
           train_scores: dict[str, dict[str, list[float]]] | None = None, section: str = "Verifier") -> dict:
    from mathwright.eval.verifier_metrics import evaluate, plot_curves, verifier_at

    scores = {k: scores[k] for k in SCORINGS if k in scores}  # table order: the paper's two, then ours
    N = sz.samples
    ns = sorted({k for k in (1, 2, 4, 8, 16, 32, 64, N) if k <= N})
    topk = sorted({k for k in (1, 3, 5, 10, 25, 50, N) if k <= N})
    ev = {lvl: evaluate(test_recs, scores[lvl], ns=ns, topk=topk, draws=sz.draws, seed=seed) for lvl in scores}
    base = next(iter(ev.values()))["curves"]
    curves = {"test@N (coverage)": base["test"], "majority vote": base["vote"]}
    for lvl, e in ev.items():
        curves[f"best-of-N ({SCORINGS[lvl]})"] = e["curves"]["verifier"]
        curves[f"top-10% vote ({SCORINGS[lvl]})"] = e["curves"]["topk_vote"]
    # a variant run written to its own RESULTS section keeps its own curves file beside the main one
    docs_png = "verifier_curves.png" if section == "Verifier" else \
        "verifier_curves_" + "_".join(re.findall(r"[a-z0-9]+", section.lower())[1:]) + ".png"
    png = plot_curves(curves, out / "verifier_curves.png",
                      title=f"{len(test_recs)} held-out synthetic problems, {N} samples each")
    train_acc = sum(sum(r["correct"]) for r in train_recs) / max(1, sum(len(r["correct"]) for r in train_recs))
    summary = {"sizes": asdict(sz), "times_s": times, "train_sample_accuracy": train_acc,
               "metrics": {lvl: e for lvl, e in ev.items()}}
    from mathwright.data.io import write_json

    write_json(out / "metrics.json", summary)
    tok, sol = ev.get("token"), ev.get("solution")
    rows = [
        ("generator alone, test@1 (mean single-sample accuracy)", fmt(base["test"][1])),
        (f"test@{N} (coverage: any of {N} correct; the ceiling)", fmt(base["test"][N])),
        (f"plain majority vote over {N}", fmt(base["vote"][N])),
    ]
    for lvl, e in ev.items():
        c = e["curves"]
        rows.append((f"{SCORINGS[lvl]}, best-of-{N}", fmt(c["verifier"][N])))
        kfix = 10 if 10 in e["topk_at_max"] else max(e["topk_at_max"])
        kbest = max(e["topk_at_max"], key=lambda k: e["topk_at_max"][k])
        rows.append((f"{SCORINGS[lvl]}, vote over the top {kfix} of {N} (k fixed in advance)", fmt(e["topk_at_max"][kfix])))
        rows.append((f"{SCORINGS[lvl]}, vote over the top k of {N}, best k={kbest} (chosen on the test set: optimistic)",
                     fmt(e["topk_at_max"][kbest])))
        rows.append((f"{SCORINGS[lvl]}, score-weighted vote over {N}", fmt(c["weighted_vote"][N])))
    table = "| method (held-out problems) | accuracy |\n|---|---|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)
    curve_hdr = "| N | " + " | ".join(ns_str := [str(n) for n in ns]) + " |\n|---|" + "---|" * len(ns) + "\n"
    curve_rows = []
    for name, c in curves.items():
        curve_rows.append(f"| {name} | " + " | ".join(fmt(c[n]) for n in ns) + " |")
    topk_tbl = ""
    for lvl, e in ev.items():
        topk_tbl += f"| {SCORINGS[lvl]} | " + " | ".join(fmt(e["topk_at_max"][k]) for k in topk) + " |\n"
    topk_tbl = "| top-k vote at N=%d, k = | " % N + " | ".join(map(str, topk)) + " |\n|---|" + "---|" * len(topk) + "\n" + topk_tbl
    gen_sum = {}
    p = out / "generator" / "train_summary.json"
    if p.exists():
        gen_sum = json.loads(p.read_text())
    epochs_done = f"{sz.gen_epochs:g}"
    if sz.gen_checkpoint:  # a checkpoint taken before the planned schedule ended: say how far it got
        st = json.loads((Path(sz.gen_checkpoint) / "trainer_state.json").read_text())
        hist = [h for h in st["log_history"] if "loss" in h]
        epochs_done = f"{st['epoch']:.2f} (checkpoint at step {st['global_step']} of {st['max_steps']}, planned {sz.gen_epochs:g})"
        gen_sum = {"model": gen_sum.get("model", "see sizes"), "final_loss": round(hist[-1]["loss"], 3) if hist else "?"}
    findings = []
    for lvl, sc in scores.items():  # does the verifier separate correct from wrong samples at all?
        a_pool, a_within = auc_stats(test_recs, sc)
        findings.append(f"- {SCORINGS[lvl]}: AUC (correct vs wrong test samples): pooled {a_pool:.3f}, "
                        f"within a problem {a_within:.3f} (0.5 = chance; best-of-N needs the within-problem one)")
    b1 = base["test"][1]
    for lvl, e in ev.items():
        v = e["curves"]["verifier"][N]
        findings.append(f"- {SCORINGS[lvl]} vs generator alone: best-of-{N} {fmt(v)} vs {fmt(b1)} test@1 "
                        f"({'+' if v >= b1 else ''}{100 * (v - b1):.1f} points)"
                        + (" — ahead, but not by the paper's wide margin" if 0 < v - b1 < 0.1 else
                           " — beats it by a wide margin" if v - b1 >= 0.1 else " — does NOT beat it")
                        + f"; plain majority vote at the same N: {fmt(base['vote'][N])}")
    for lvl, e in ev.items():  # where the best-of-N curve turns
        c = e["curves"]["verifier"]
        npk = max(ns, key=lambda n: (c[n], -n))
        if npk < N and c[N] <= c[npk] - 0.02:  # a real turn, not a point of noise
            findings.append(f"- {SCORINGS[lvl]}: best-of-N peaks at N={npk} ({fmt(c[npk])}, vs test@1 {fmt(b1)} and "
                            f"majority vote {fmt(base['vote'][npk])} at that N), then falls to {fmt(c[N])} at N={N}: the more "
                            "samples, the likelier one fools the verifier (the paper's 6B verifier turns down past about "
                            "400 samples; this one much earlier)")
    if tok is not None and sol is not None:
        a, b = tok["curves"]["verifier"][N], sol["curves"]["verifier"][N]
        findings.append(f"- token-level vs solution-level best-of-{N}, both scored at the last token: {fmt(a)} vs {fmt(b)} "
                        f"({'token-level >= solution-level' if a >= b else 'solution-level better here'})")
    for lvl, e in ev.items():
        kk = e["topk_at_max"]
        kf = 10 if 10 in kk else max(kk)
        findings.append(f"- top-k voting ({SCORINGS[lvl]}, k={kf} fixed): {fmt(kk[kf])} vs best-of-{N} "
                        f"{fmt(kk[1])} and plain vote {fmt(kk[max(kk)])}"
                        + (" — helps" if kk[kf] > kk[1] else " — does not help here"))
    for lvl, sc in (train_scores or {}).items():  # fit: the same metrics on the verifier's own training samples
        sub = [r for r in train_recs if r["id"] in sc]
        if not sub:
            continue
        k = min(len(r["correct"]) for r in sub)
        a_pool, a_within = auc_stats(sub, sc)
        held = auc_stats(test_recs, scores[lvl])[1]
        bo = sum(verifier_at(r["correct"][:k], sc[r["id"]][:k], k) for r in sub) / len(sub)
        t1 = sum(sum(r["correct"][:k]) / k for r in sub) / len(sub)
        findings.append(f"- {SCORINGS[lvl]}: fit check on {len(sub)} of its own training problems: AUC pooled {a_pool:.3f}, "
                        f"within a problem {a_within:.3f} (held-out {held:.3f}); best-of-{k} {fmt(bo)} vs their test@1 {fmt(t1)}"
                        + (" — the held-out samples are drawn at another temperature, so this is no test of fit"
                           if sz.test_temperature and sz.test_temperature != sz.temperature else
                           " — within 0.05 of held-out on its own training data: the verifier underfits rather than "
                           "overfits" if abs(a_within - held) < 0.05 else
                           " — better on its training data: it overfits" if a_within >= held + 0.05 else ""))
    for lvl, sc in scores.items():  # measured: what the top-scored sample of a best-of-N failure looks like
        fb = failure_breakdown(test_recs, sc)
        findings.append(f"- {SCORINGS[lvl]}: best-of-{N} picks a wrong sample on {fb['failures']} of {len(test_recs)} problems; "
                        f"those top-scored wrong samples: {fb['no_answer']} without a readable final answer, "
                        f"{fb['slip']} contradicting themselves (an annotation wrong or not followed by its value, or a "
                        f"final answer that is not the last result), {fb['copy']} using a number found neither in the "
                        f"question nor among earlier results (copied wrongly), {fb['consistent']} built only from the "
                        "question's numbers and earlier results (a wrong number chosen or a wrong step)")
    by_ans = correct_rate_by_answer(train_recs)
    for lvl, sc in scores.items():
        below, n, base_rate = smaller_wrong_picks(test_recs, sc)
        if n:
            findings.append(f"- {SCORINGS[lvl]}: {below} of its {n} wrong best-of-{N} picks have a final answer below the gold, "
                            f"against {fmt(base_rate)} of all wrong test samples")
    findings.append("- share of verifier-training samples that are correct, by their final answer: "
                    + ", ".join(f"{k}: {fmt(v)} of {n}" for k, (n, v) in by_ans.items())
                    + " (small answers are likelier right: a cue a value head can use instead of checking the work)")
    npos = sum(sum(r['correct']) for r in train_recs)
    nall = sum(len(r['correct']) for r in train_recs)
    findings.append(f"- verifier training data: {npos} correct and {nall - npos} wrong samples "
                    f"({len(train_recs)} problems x {nall // max(1, len(train_recs))} samples)")
    if tok is not None and base["test"][1] < 0.1:
        findings.append(f"- why: the generator solves {fmt(base['test'][1])} of samples, so the verifiers saw only "
                        f"{sum(sum(r['correct']) for r in train_recs)} correct samples out of "
                        f"{sum(len(r['correct']) for r in train_recs)}; coverage (test@{N} = {fmt(base['test'][N])}) leaves "
                        "plenty for a verifier to find, but a value head this small and this starved of positives barely "
                        "ranks within a problem. More sampled training problems and a stronger generator are the levers; "
                        "the shared CPU did not allow them before the deadline")
    if sz.gen_init:
        st = json.loads((Path(sz.gen_init) / "trainer_state.json").read_text())
        findings.append(f"- generator warm start: training continued from `{sz.gen_init}` (an earlier run of this bench: "
                        f"step {st['global_step']}, epoch {st['epoch']:.2f} on its own {st.get('train_batch_size', '?')}-batch data) "
                        "with its optimizer state; the epochs above count both phases, the data of the second is this run's")
    from mathwright.data.io import read_jsonl

    tmpl_path = out / "test.jsonl"
    templates = {r["id"]: r.get("template", "?") for _, r in read_jsonl(tmpl_path)} if tmpl_path.exists() else {}
    if len(set(templates.values())) > 1:
        for t, d in by_template(test_recs, templates, scores).items():
            findings.append(f"- held-out {t} problems ({d['n']}{', the misconceived template' if t == sz.misconception else ''}): "
                            f"test@1 {fmt(d['test@1'])}, plain vote {fmt(d['vote'])}; best-of-{N} / top-10 vote: "
                            + ", ".join(f"{SCORINGS[k]} {fmt(d[k])} / {fmt(d[k + ' top-k'])}" for k in scores))
    findings.append(f"- {len(test_recs)} test problems: one problem is {100 / len(test_recs):.1f} points, so differences "
                    "of a few points are within noise")
    lik_note = (" Both value heads here also read likelihood features (`likelihood_features`): the model's own log-prob "
                "of each solution token and their running mean and minimum." if sz.likelihood_features else "")
    mis_note = (f" The generator learned a misconception: {fmt(sz.misconception_rate)} of its training solutions of "
                f"{sz.misconception} (drawn per problem) use the wrong operation in their last step (`misconceive`: "
                "a fluent, self-consistent, checked trace with a wrong plan); verifier labels and held-out golds are the "
                "true answers." if sz.misconception else "")
    body = f"""CPU-scale reproduction of Cobbe et al. 2021 on synthetic GSM8K-format problems (`data/word_problems.py`,
{sz.max_steps if sz.max_steps else 8} steps at most{', templates ' + ', '.join(sz.templates) if sz.templates else ', all 10 templates'}).
Generator: a char-level LLaMA ({gen_sum.get('model', sz.preset)}) trained **from scratch** for {epochs_done} epochs on
{sz.gen_problems} problems (final loss {gen_sum.get('final_loss') or float('nan'):.3f}); {N} calculator-augmented samples at T={sz.test_temperature or sz.temperature}
for each held-out problem and {sz.train_samples or N}{f' at T={sz.temperature}' if sz.test_temperature else ''} for each of {len(train_recs)} verifier-training problems (sample accuracy {fmt(train_acc)}) and {len(test_recs)} held-out
problems. Verifiers: value head on the generator's weights, joint LM loss (coef {sz.lm_coef}), residual dropout
{sz.residual_dropout}, {sz.ver_epochs:g} epoch(s) on {len(verifier_rows(train_recs, sz))} samples{' (as many correct as wrong per problem; problems with one kind dropped)' if sz.balance else ''};
token-level = target at every solution token, solution-level = last token only; score = value at the last token
(the paper's); "token-level (min over tokens)" scores the same token-level verifier by its lowest value after any
solution token (the process-reward reading of a value function, verifiers.md §4.2; not the paper's);
"generator likelihood (no verifier)" ranks samples by the generator's own geometric-mean token probability (a
baseline that trains nothing).{lik_note}{mis_note}
Subset metrics (vote, top-k vote) average {sz.draws} seeded random N-subsets; test@N and verifier@N are exact
expectations over N-subsets. Machine: {sz.load}; wall times:
{', '.join(f'{k} {v / 60:.1f} min' for k, v in times.items())}. Earlier attempts: the longer default templates
(~330-character problems) were abandoned (after 1.3 epochs the generator solved 0/24 greedily); all 7 mini templates,
2 epochs on 3000 problems gave a generator with test@1 3.4%, too weak for the verifiers to learn to rank.{(chr(10) + sz.notes) if sz.notes else ''}

{table}

Findings (this run, honest):
{chr(10).join(findings)}

Accuracy vs N (curves: `docs/{docs_png}`, also `{png.name}` in the run directory):

{curve_hdr}{chr(10).join(curve_rows)}

{topk_tbl}
Paper (GSM8K, GPT-3): 6B fine-tune 21.7% → 6B verifier 39.0%; 175B fine-tune 34.7% → 175B verifier 56.3%
(verifiers.md §3.2). Our numbers are on an easy synthetic task with a 0.36M-parameter model and are not comparable
in level, only in direction.
"""
    if write_results:
        import shutil

        from mathwright.eval.results import RESULTS, update_section

        shutil.copyfile(png, RESULTS.parent / docs_png)

        update_section(section, body, seed=seed, command="python " + shlex.join(["bench/verifier.py"] + sys.argv[1:]))
    (out / "report.md").write_text(body, encoding="utf-8")
    return summary


def run(out: str | os.PathLike, sz: Sizes, seed: int = 0, write_results: bool = True, section: str = "Verifier") -> dict:
    import torch

    if sz.threads:
        torch.set_num_threads(sz.threads)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "sizes.json").write_text(json.dumps(asdict(sz), indent=1))
    # stage wall times survive a resume: a stage that is skipped keeps the time it took when it ran
    tpath = out / "times.json"
    times: dict[str, float] = json.loads(tpath.read_text()) if tpath.exists() else {}

    def timed(name: str, done: bool, t0: float) -> None:
        if not done or name not in times:
            times[name] = round(time.time() - t0, 1)
            tpath.write_text(json.dumps(times, indent=1))

    t = time.time()
    _, vtrain, test = make_data(out, sz, seed)
    log(f"data: {sz.gen_problems} generator problems, {len(vtrain)} verifier problems, {len(test)} test problems")
    done = (out / "generator" / "model" / "config.json").exists() or bool(sz.gen_checkpoint)
    gen = train_generator(out, sz, seed)
    timed("generator training", done, t)
    log(f"generator at {gen}")
    t = time.time()
    tparts = (("test_a", len(test) // 2), ("test_b", len(test) - len(test) // 2)) if sz.workers > 1 else (("test", len(test)),)
    done = all((out / f"samples_{k}.jsonl").exists() and len((out / f"samples_{k}.jsonl").read_text().splitlines()) >= n
               for k, n in (("train", len(vtrain)), *tparts))
    if sz.workers > 1:  # the test set is the big half: split it so the worker pool stays busy to the end
        h = len(test) // 2
        parts = parallel([(sample, out, gen, test[:h], "test_a", sz, seed + 1), (sample, out, gen, test[h:], "test_b", sz, seed + 2),
                          (sample, out, gen, vtrain, "train", sz, seed)], sz.workers)
        test_recs, train_recs = parts[0] + parts[1], parts[2]
    else:
        # held-out samples first: a run cut short in the (larger) training half keeps a complete test set and can
        # resume with fewer verifier-training problems (each problem's samples are logged as they finish)
        test_recs, train_recs = parallel([(sample, out, gen, test, "test", sz, seed + 1),
                                          (sample, out, gen, vtrain, "train", sz, seed)], sz.workers)
    timed("sampling", done, t)
    log(f"sampled: train acc {sum(sum(r['correct']) for r in train_recs) / max(1, sum(len(r['correct']) for r in train_recs)):.3f}, "
        f"test acc {sum(sum(r['correct']) for r in test_recs) / (len(test_recs) * sz.samples):.3f}")
    t = time.time()
    done = all((out / f"verifier_{lvl}" / "verifier_config.json").exists() for lvl in ("token", "solution"))
    vdirs = train_verifiers(out, gen, train_recs, sz, seed)
    timed("verifier training (both, " + ("side by side)" if sz.workers > 1 else "one after the other)"), done, t)
    t = time.time()
    done = all((out / f"scores_{k}.json").exists() for k in SCORINGS)
    scores = {k: v for part in parallel([(score_tests, out, d, test_recs, lvl) for lvl, d in vdirs.items()]
                                        + [(score_generator, out, gen, test_recs)], sz.workers)
              for k, v in part.items()}
    train_scores = {k: v for part in parallel([(score_train_subset, out, d, train_recs, lvl) for lvl, d in vdirs.items()],
                                              sz.workers) for k, v in part.items()}
    timed("scoring", done, t)
    log("scored; writing report")
    return report(out, sz, seed, train_recs, test_recs, scores, times, write_results, train_scores, section)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="runs/bench_verifier")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, seconds; does not write RESULTS.md")
    ap.add_argument("--set", nargs="*", default=[], help="override sizes, e.g. --set samples=50 test_problems=40")
    ap.add_argument("--section", default="Verifier",
                    help="RESULTS.md section to write (a variant beside the main one: 'Verifier: <what differs>')")
    a = ap.parse_args()
    sz = SMOKE if a.smoke else Sizes()
    for kv in a.set:
        k, v = kv.split("=", 1)
        cur = getattr(sz, k)
        if isinstance(cur, bool):
            if v.lower() not in ("true", "false", "1", "0"):
                ap.error(f"--set {k}: expected true or false, got {v!r}")
            setattr(sz, k, v.lower() in ("true", "1"))
        else:
            setattr(sz, k, type(cur)(v) if not isinstance(cur, list) else [x for x in v.split(",") if x])
    run(a.out, sz, a.seed, write_results=not a.smoke, section=a.section)
    print((Path(a.out) / "report.md").read_text())


if __name__ == "__main__":
    main()
