"""Benchmark: Gemma 3 270M before and after LoRA on hybrid CoT/PoT MathInstruct-style data, on the fixed
seeded 200-problem GSM8K test subset (``load_benchmark("gsm8k", limit=200, seed=0)``, the subset
``bench/word_problems.py`` uses), with CoT, PoT and hybrid decoding -> docs/RESULTS.md section
"MathInstruct (hybrid CoT/PoT) fine-tuning".

    OMP_NUM_THREADS=2 python bench/mathinstruct.py --phase all [--out runs/bench_mathinstruct] [--stop-at 03:45]

Phases (each resumable; ``all`` runs them in order):

- ``data``: ``generate mathinstruct`` on a small, short-sequence slice of GSM8K train plus synthetic word
  problems and Goat arithmetic (PoT kept only when the sandbox prints the gold answer).
- ``base`` / ``tuned``: greedy CoT and PoT completions with MAmmoTH's Alpaca prompt (zero-shot, the training
  prompt) for the first problems of the subset, chunk by chunk into ``generations_TAG.jsonl`` (a RecordLog:
  a killed run resumes); ``--stop-at HH:MM`` (UTC) ends a phase early, so n is "as many as time allowed".
- ``train``: the recipe ``configs/gemma3-270m-mathinstruct-lora.yaml`` on the phase-``data`` file, through
  ``mathwright.train.recipe.run_train`` (the job ``mathwright train`` runs), in this process.
- ``report``: runs every PoT program in the sandbox, scores CoT / PoT / hybrid (PoT, falling back to the CoT
  answer when the program fails or prints no number -- the same rule as the ``hybrid`` strategy, applied to
  the greedy completions already generated) on the problems both models answered, and writes RESULTS.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from mathwright.data.benchmarks import load_benchmark  # noqa: E402
from mathwright.data.io import RecordLog, atomic_write, dumps, read_jsonl, write_json  # noqa: E402

SECTION = "MathInstruct (hybrid CoT/PoT) fine-tuning"
REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "configs" / "gemma3-270m-mathinstruct-lora.yaml"
SUBSET_N, SUBSET_SEED = 200, 0


def subset(n: int) -> list:
    """The first ``n`` problems of the fixed seeded 200-problem GSM8K subset."""
    return load_benchmark("gsm8k", limit=SUBSET_N, seed=SUBSET_SEED)[:n]


def past(stop_at: str | None) -> bool:
    if not stop_at:
        return False
    now = dt.datetime.now(dt.timezone.utc)
    h, m = (int(x) for x in stop_at.split(":"))
    return (now.hour, now.minute) >= (h, m)


# ------------------------------------------------------------------------------------------- data
def phase_data(args: argparse.Namespace) -> Path:
    from mathwright.data.mathinstruct import MathInstructConfig, default_gsm8k_path, generate_mathinstruct, \
        load_gsm8k, yield_table

    out = args.out / "train.jsonl"
    if out.exists():
        print(f"data: {out} exists")
        return out
    # Short GSM8K train problems keep sequences short enough for CPU LoRA (documented in RESULTS).
    import random

    short = [p for _, p in enumerate(load_gsm8k(default_gsm8k_path(), None, 0))
             if len(p["question"]) <= args.max_question_chars and len(p["answer"]) <= args.max_solution_chars]
    keep = sorted(random.Random(args.seed).sample(range(len(short)), min(args.train_gsm8k, len(short))))
    chosen = [short[i] for i in keep]
    src = args.out / "gsm8k_train_short.jsonl"
    with atomic_write(src) as f:
        for p in chosen:
            f.write(dumps(p) + "\n")
    cfg = MathInstructConfig(sources=("gsm8k", "word-problems", "arith"), gsm8k_path=src, n_gsm8k=None,
                             n_word=args.train_word, n_arith=args.train_arith, seed=args.seed)
    meta = generate_mathinstruct(cfg, out, log=print)
    print(yield_table(meta))
    return out


# ------------------------------------------------------------------------------------ generation
def phase_generate(args: argparse.Namespace, tag: str, model_spec: str, n: int | None = None) -> None:
    from mathwright.models.base import GenerationConfig
    from mathwright.models.hf import load
    from mathwright.solve.prompts import PROMPTS

    tpl = PROMPTS.get("alpaca")
    probs = subset(n or args.n)
    # one log per model: two phases may run side by side, and a RecordLog rewrites its file on open
    log = RecordLog(args.out / f"generations_{tag}.jsonl", key="key")
    todo = [p for p in probs if f"{tag}:{p.id}" not in log]
    if not todo:
        print(f"{tag}: all {len(probs)} generated")
        log.close()
        return
    if past(args.stop_at):
        print(f"{tag}: past --stop-at, nothing generated")
        log.close()
        return
    t0 = time.perf_counter()
    model = load(model_spec, dtype=args.gen_dtype, threads=args.threads)
    print(f"{tag}: loaded {model_spec} in {time.perf_counter() - t0:.0f} s; {len(todo)} problems to go", flush=True)
    cfg = GenerationConfig(max_new_tokens=args.max_new_tokens, batch_size=args.batch_size, seed=0)
    for start in range(0, len(todo), args.chunk):
        if past(args.stop_at):
            print(f"{tag}: --stop-at {args.stop_at} reached", flush=True)
            break
        part = todo[start:start + args.chunk]
        t = time.perf_counter()
        cot = model.generate([tpl.render(p.question, "cot") for p in part], GenerationConfig(
            **{**cfg.__dict__, "stop": tpl.stops("cot")}))
        pot = model.generate([tpl.render(p.question, "pot") for p in part], GenerationConfig(
            **{**cfg.__dict__, "stop": tpl.stops("pot")}))
        sec = time.perf_counter() - t
        toks = sum(len(model.tokenizer(o[0])["input_ids"]) for o in cot + pot)
        for p, c, q in zip(part, cot, pot):
            log.append({"key": f"{tag}:{p.id}", "tag": tag, "id": p.id, "cot": c[0], "pot": q[0],
                        "seconds": round(sec / len(part), 2)})
        done = sum(1 for p in probs if f"{tag}:{p.id}" in log)
        print(f"{tag}: {done}/{len(probs)} problems, {sec / len(part):.1f} s/problem, {toks / sec:.0f} tok/s",
              flush=True)
    log.close()


# ----------------------------------------------------------------------------------------- train
def select_short(data: Path, n: int, out: Path) -> Path:
    """The ``n`` shortest problems' records, CoT and PoT together, mixed across sources in proportion
    (CPU budget: the training cost grows with the tokens, and Gemma's 262k-token LM head dominates)."""
    recs = [r for _, r in read_jsonl(data)]
    trig = " Let's write a program."
    groups: dict[str, dict[str, list[dict]]] = {}
    for r in recs:
        base = r["instruction"][: -len(trig)] if r["instruction"].endswith(trig) else r["instruction"]
        groups.setdefault(r["source"].split("/")[-1], {}).setdefault(base, []).append(r)
    total = sum(len(g) for g in groups.values())
    chosen: list[dict] = []
    for src, probs in sorted(groups.items()):
        pairs = [v for v in probs.values() if len(v) == 2]  # problems whose PoT survived the filter
        pairs.sort(key=lambda v: sum(len(r["instruction"]) + len(r["output"]) for r in v))
        k = max(1, round(n / 2 * len(probs) / total))
        chosen += [r for v in pairs[:k] for r in v]
    with atomic_write(out) as f:
        for r in chosen:
            f.write(dumps(r) + "\n")
    print(f"train: {len(chosen)} records selected into {out}")
    return out


def phase_train(args: argparse.Namespace, data: Path) -> Path:
    model_dir = args.out / "lora" / "model"
    if (model_dir / "config.json").exists():
        print(f"train: {model_dir} exists")
        return model_dir
    if args.train_records:
        small = args.out / f"train_{args.train_records}.jsonl"
        data = small if small.exists() else select_short(data, args.train_records, small)
    from mathwright.train.recipe import run_train

    overrides = [f"data=[{data}]", f"output_dir={args.out / 'lora'}", f"threads={args.threads}", *args.train_override]
    if args.max_steps:
        overrides.append(f"trainer.max_steps={args.max_steps}")
    print("train: run_train", RECIPE, " ".join(overrides), flush=True)
    final = run_train(RECIPE, overrides)
    print(f"saved {final}", flush=True)
    return model_dir


# ---------------------------------------------------------------------------------------- report
def score_tag(recs: dict, probs: list, pool) -> dict:
    from mathwright.eval.grading import answers_equal, program_answer
    from mathwright.eval.score import score
    from mathwright.solve.prompts import extract_program

    codes = [extract_program(recs[p.id]["pot"]) for p in probs]
    runs = pool.map([c if c.strip() else "pass" for c in codes])
    rows = []
    for p, code, r in zip(probs, codes, runs):
        c = score("gsm8k", recs[p.id]["cot"], p.gold)
        status = r.status if code.strip() else "no_program"
        pot_pred = program_answer(r.stdout or "", r.answer, "number") if status == "ok" else None
        hyb = pot_pred if pot_pred is not None else c["pred"]
        rows.append({"id": p.id, "cot": bool(c["correct"]), "cot_strict": bool(c.get("strict")),
                     "cot_flexible": bool(c.get("flexible")), "pot": answers_equal(pot_pred, p.gold, "number"),
                     "hybrid": answers_equal(hyb, p.gold, "number"), "status": status,
                     "fallback": pot_pred is None, "seconds": recs[p.id]["seconds"]})
    n = len(rows)
    m = {k: sum(r[k] for r in rows) for k in ("cot", "cot_strict", "cot_flexible", "pot", "hybrid", "fallback")}
    m["n"] = n
    m["program_ok"] = sum(r["status"] == "ok" for r in rows)
    m["seconds_per_problem"] = round(sum(r["seconds"] for r in rows) / n, 1) if n else None
    return m


def phase_report(args: argparse.Namespace) -> dict:
    from mathwright.eval.results import update_section
    from mathwright.sandbox import Limits, SandboxPool

    by: dict[str, dict] = {"base": {}, "tuned": {}}
    for path in sorted(args.out.glob("generations*.jsonl")):
        for _, r in read_jsonl(path):
            by.setdefault(r["tag"], {})[r["id"]] = r
    probs = [p for p in subset(SUBSET_N) if p.id in by["base"] and p.id in by["tuned"]]
    if not probs:
        raise SystemExit("report: no problem has completions from both models yet")
    with SandboxPool(limits=Limits(), workers=2) as pool:
        res = {tag: score_tag(by[tag], probs, pool) for tag in ("base", "tuned")}
    meta = json.loads((args.out / "train.meta.json").read_text())
    summ_path = args.out / "lora" / "train_summary.json"
    summ = json.loads(summ_path.read_text()) if summ_path.exists() else {}
    n = len(probs)
    trained_on = ""
    if args.train_records:
        small = args.out / f"train_{args.train_records}.jsonl"
        k = sum(1 for _ in read_jsonl(small)) if small.exists() else "?"
        trained_on = (f" **LoRA saw only {k} of them**: the shortest problems per source, CoT and PoT record "
                      f"of each (`--train-records {args.train_records}`), because CPU time was the limit.")
    overrides = f" with `{' '.join(args.train_override)}`" if args.train_override else ""
    if args.max_steps:
        overrides += f", `trainer.max_steps={args.max_steps}`"

    def pct(k: int) -> str:
        return f"{100 * k / n:.1f}% ({k}/{n})"

    rows = ["| model | CoT | PoT | hybrid | programs run ok | hybrid fell back to CoT | s/problem (CoT+PoT gen) |",
            "|---|---|---|---|---|---|---|"]
    for tag, label in (("base", "Gemma 3 270M base"), ("tuned", "+ LoRA on hybrid data")):
        m = res[tag]
        rows.append(f"| {label} | {pct(m['cot'])} | {pct(m['pot'])} | {pct(m['hybrid'])} | {m['program_ok']}/{n} "
                    f"| {m['fallback']}/{n} | {m['seconds_per_problem']} |")
    t = meta["total"]
    src = meta["sources"]
    data_lines = ", ".join(f"{k}: {v['problems']} problems -> {v['cot_kept']} CoT + {v['pot_kept']} PoT "
                           f"(PoT yield {100 * v['pot_yield']:.1f}%)" for k, v in src.items())
    body = f"""
Gemma 3 270M (Q4_K_M GGUF, dequantised) on the **first {n} problems** of the fixed seeded 200-problem
GSM8K test subset (`load_benchmark("gsm8k", limit=200, seed=0)`, as in "Word problems"), greedy, MAmmoTH's
Alpaca prompt zero-shot for both models (the training prompt), max {args.max_new_tokens} new tokens. PoT
programs run in the sandbox; hybrid = the PoT answer, else the CoT answer (MAmmoTH's fallback rule).
CoT accuracy is mathwright's value-based grader; lm-eval strict / flexible CoT for base and tuned:
{pct(res['base']['cot_strict'])} / {pct(res['base']['cot_flexible'])} and
{pct(res['tuned']['cot_strict'])} / {pct(res['tuned']['cot_flexible'])}.

{chr(10).join(rows)}

**Training data** (`mathwright generate mathinstruct`, seed {args.seed}): {meta['records']} records from {data_lines}.
GSM8K problems were restricted to short ones (question <= {args.max_question_chars} chars, solution <=
{args.max_solution_chars} chars) to keep CPU sequences short.{trained_on}

**Training** (`{RECIPE.relative_to(REPO)}`{overrides}): LoRA r=16 on all attention and MLP projections,
{summ.get('steps', '?')} steps, final loss {summ.get('final_loss', '?')}, {summ.get('wall_seconds', '?')} s wall,
{summ.get('tokens_per_second', '?')} tokens/s.

1-minute load average at the report: {os.getloadavg()[0]:.1f} on 2 cores. Decoding in {args.gen_dtype}. With
n = {n}, one problem is {100 / n:.1f} points. This is a CPU-scale run of the recipe on a 270M base model, not a
reproduction of MAmmoTH's numbers (MAmmoTH-7B hybrid GSM8K: 53.6%).
"""
    if args.full_yield:
        body += "\n" + args.full_yield
    write_json(args.out / "results.json", {"n": n, "results": res, "data": meta["total"], "train": summ})
    if not args.no_results:
        update_section(SECTION, body, seed=args.seed, command="python bench/mathinstruct.py " + " ".join(sys.argv[1:]))
    print(body)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--phase", default="all", choices=["all", "data", "base", "train", "tuned", "report"])
    ap.add_argument("--out", type=Path, default=REPO / "runs" / "bench_mathinstruct")
    ap.add_argument("--n", type=int, default=200, help="problems of the 200-problem subset to evaluate (a prefix)")
    ap.add_argument("--stop-at", default=None, help="UTC HH:MM after which generation phases stop")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--chunk", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=192)
    ap.add_argument("--gen-dtype", default="bf16", help="decoding dtype (bf16: ~2x faster on CPUs with native bf16)")
    ap.add_argument("--train-gsm8k", type=int, default=200)
    ap.add_argument("--train-word", type=int, default=40)
    ap.add_argument("--train-arith", type=int, default=30)
    ap.add_argument("--max-question-chars", type=int, default=260)
    ap.add_argument("--max-solution-chars", type=int, default=260)
    ap.add_argument("--max-steps", type=int, default=None, help="cap LoRA steps (default: one epoch)")
    ap.add_argument("--train-records", type=int, default=None, help="train on this many shortest records only")
    ap.add_argument("--train-override", nargs="*", default=[], help="extra key=value overrides for the recipe")
    ap.add_argument("--full-yield", default=None, help="extra markdown line about the full-train-set yield")
    ap.add_argument("--no-results", action="store_true")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    import torch

    torch.set_num_threads(args.threads)
    if args.phase in ("all", "data"):
        data = phase_data(args)
    if args.phase in ("all", "base"):
        phase_generate(args, "base", "gemma3-270m")
    if args.phase in ("all", "train"):
        phase_train(args, args.out / "train.jsonl")
    if args.phase in ("all", "tuned"):
        phase_generate(args, "tuned", str(args.out / "lora" / "model"))
    if args.phase in ("all", "report"):
        phase_report(args)


if __name__ == "__main__":
    main()
