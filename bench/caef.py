"""CAEF benchmark: small models trained here from scratch execute the machines, in full and local view.

    python bench/caef.py --local-model runs/caef/local-all --full-model runs/caef/full-add --n 20

Writes the RESULTS section "CAEF" with
- data-generation speed for 1-100-digit addition (every pair checked) vs the reference's quoted figure;
- per bucket (+ - == < > at 5/10/50/100 digits, x at 5/10/20/40, / at 5/10/20/40-digit dividends over
  half-length divisors): exact accuracy, model calls, tokens generated and wall time per problem for the
  local-view model, and tokens per problem of the full CAEF format (oracle-counted) for comparison;
- the full-format model (ADD only) at 5 and 10 digits.
Models are trained by ``mathwright.solve.caef_train`` (see ``--train-*`` to retrain).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from mathwright.arith.problem import Problem  # noqa: E402
from mathwright.eval.caef_eval import caef_buckets  # noqa: E402
from mathwright.eval.arith_suites import bucket_problems  # noqa: E402
from mathwright.solve.caef import CachedModel, OracleModel, solve_problems  # noqa: E402

REFERENCE_PAIRS_PER_S = 1_188_200 / 227  # caef.md section 8: add 1-100, single-threaded CPython (quoted)
SHAPES = {"add": "5,10,50,100", "sub": "5,10,50,100", "eq": "5,10,50,100", "lt": "5,10,50,100",
          "gt": "5,10,50,100", "mul": "5,10,20,40", "div": "5x3,10x5,20x10,40x20"}


def gen_speed(seconds: float = 10.0, seed: int = 0) -> dict:
    """Records (step pairs) per CPU-second of our add 1-100 generator (balanced classes, 7 pairs per sequence),
    unchecked and with every record checked, and their ratio to the reference's quoted pairs/s.

    Timed with ``time.process_time`` (this process's CPU time), so other jobs on the machine do not count
    against it. JSON encoding and writing are not included, although the reference's quoted time includes
    writing its files: the library job (``mathwright.data.caef.run``, what ``mathwright generate caef`` runs)
    runs at a lower rate end to end."""
    from mathwright.formats.caef_data import check_record, make_records

    out: dict = {}
    for check in (False, True):
        rng = random.Random(seed)
        classes = [(i, j) for i in range(1, 101) for j in range(1, 101)]
        order: list = []
        n, t0 = 0, time.process_time()
        while time.process_time() - t0 < seconds:
            if not order:
                order = classes[:]
                rng.shuffle(order)
            la, lb = order.pop()
            recs = make_records("add", la, lb, rng)
            if check:
                for r in recs:
                    problem = check_record(r)
                    if problem is not None:
                        raise RuntimeError(f"generated record failed its check: {problem}")
            n += len(recs)
        rate = n / (time.process_time() - t0)
        key = "checked" if check else "unchecked"
        out[key], out[f"ratio_{key}"] = rate, rate / REFERENCE_PAIRS_PER_S
    out["clock"], out["reference"] = "process_time", REFERENCE_PAIRS_PER_S
    return out


def job_speed(n: int = 200_000, seed: int = 0) -> dict:
    """End to end: the library job ``mathwright.data.caef.run`` (what ``mathwright generate caef --ops add
    --digits 1-100`` runs: sample, check, JSON-encode, write, 1 worker), in this process, timed by its CPU time
    (user + sys of this process and any children), so other jobs on the machine do not count."""
    import resource
    import tempfile

    from mathwright.data.caef import CaefDataConfig, run

    def cpu_now() -> float:
        return sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                   for f in ("ru_utime", "ru_stime"))

    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "caef.jsonl"
        cfg = CaefDataConfig(out=out, ops=("add",), digits="1-100", n=n, seed=seed, workers=1, progress=False)
        before = cpu_now()
        t0 = time.perf_counter()
        run(cfg)
        wall = time.perf_counter() - t0
        cpu = cpu_now() - before
        lines = sum(1 for _ in open(out, encoding="utf-8"))
    return {"records": lines, "cpu_seconds": cpu, "wall_seconds": wall, "per_cpu_second": lines / cpu,
            "ratio": lines / cpu / REFERENCE_PAIRS_PER_S}


def write_gen_results(g: dict, c: dict, args) -> None:
    from mathwright.eval.results import update_section

    body = (
        "CAEF training data for addition with 1-100-digit operands (balanced length classes, at most 7 step pairs "
        "per sequence, exactly as `mathwright generate caef --ops add --digits 1-100`), one process, timed in CPU "
        "seconds (`time.process_time` / the library job's user+sys), so other jobs on the machine do not inflate it. "
        "The reference generator's rate is *quoted* from caef.md section 8 (1,188,200 pairs in about 227 s, "
        f"{REFERENCE_PAIRS_PER_S:,.0f} pairs/s), not re-run here.\n\n"
        "| what | records per CPU-second | vs reference |\n|---|---:|---:|\n"
        f"| sample + render, unchecked | {g['unchecked']:,.0f} | {g['ratio_unchecked']:.1f}x |\n"
        f"| sample + render + every record checked against exact integer arithmetic | **{g['checked']:,.0f}** | "
        f"**{g['ratio_checked']:.1f}x** |\n"
        f"| library job end to end (checked, JSON-encoded, written; {c['records']:,} records, 1 worker) | "
        f"{c['per_cpu_second']:,.0f} | {c['ratio']:.1f}x |\n\n"
        f"Library job wall time {c['wall_seconds']:.1f} s for {c['cpu_seconds']:.1f} CPU-s (1-minute load average "
        f"{os.getloadavg()[0]:.1f} at the end, 2 cores). How: ADD step pairs are rendered straight from the closed "
        "form (after k steps the low k digits of the sum are written and the carry is the sum's digit arithmetic) "
        "for only the kept steps, and each record is checked by an independent integer rebuild of the prompt's "
        "state and the next one (falling back to the stepping oracle), instead of simulating all O(n) steps of an "
        "O(n)-character tape. The 10x target is "
        + ("**met** for generation with checks" if g["ratio_checked"] >= 10 else "**not met**")
        + (" and end to end." if c["ratio"] >= 10 else "; end to end the JSON writer is now the larger cost.") + "\n")
    if not args.no_results:
        update_section("CAEF data generation", body, seed=args.seed,
                       command=f"python bench/caef.py --gen-only --gen-seconds {args.gen_seconds:g}")
    print(body)


def bucket_runs(model, op: str, shape: str, n: int, mode: str, seed: int) -> dict:
    b = caef_buckets(op, shape)[0]
    probs = bucket_problems(b, n, seed)
    if op == "eq":  # as CAEF's test sets: half the pairs equal, so the scan runs the full length
        probs = [Problem("eq", p.a, p.a) if i % 2 == 0 else p for i, p in enumerate(probs)]
    t0 = time.perf_counter()
    runs = solve_problems(probs, model, mode=mode, check=True, batch_size=max(n, 1), stop_on_error=True)
    dt = time.perf_counter() - t0
    steps_ok = sum(r.ok["executor"][0] + r.ok["composer"][0] for r in runs)
    steps_n = sum(r.ok["executor"][1] + r.ok["composer"][1] for r in runs)
    return {"label": b.label, "n": n, "exact": sum(r.correct for r in runs) / n,
            "step_acc": steps_ok / max(steps_n, 1), "calls": sum(r.steps for r in runs) / n,
            "tokens": sum(r.chars for r in runs) / n, "seconds": dt / n,
            "errors": [r.first_error or r.error for r in runs if not r.correct][:2]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--local-model", default="runs/caef/local-all")
    ap.add_argument("--full-model", default="runs/caef/full-add")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--n-full", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gen-seconds", type=float, default=10.0)
    ap.add_argument("--uncached-n", type=int, default=3, help="problems per uncached timing bucket")
    ap.add_argument("--out", default="runs/caef/bench.json")
    ap.add_argument("--no-results", action="store_true")
    ap.add_argument("--gen-only", action="store_true", help="only the data-generation speed (section 'CAEF data generation')")
    args = ap.parse_args()
    if args.gen_only:
        write_gen_results(gen_speed(args.gen_seconds, args.seed), job_speed(seed=args.seed), args)
        return

    from mathwright.models.hf import load

    res: dict = {"gen": gen_speed(args.gen_seconds, args.seed)}
    print("generation", res["gen"], flush=True)
    local_train = json.load(open(Path(args.local_model) / "train_report.json"))
    base = load(args.local_model, dtype="float32")
    cached = CachedModel(base)
    res["local"], res["full_tokens"] = {}, {}
    for op, shapes in SHAPES.items():
        for shape in shapes.split(","):
            r = bucket_runs(cached, op, shape, args.n, "local", args.seed)
            o = bucket_runs(OracleModel(), op, shape, min(args.n, 5), "full", args.seed)
            res["local"][f"{op}:{shape}"], res["full_tokens"][f"{op}:{shape}"] = r, o["tokens"]
            print(op, shape, r, "full-format tokens", o["tokens"], flush=True)
    res["distinct_model_calls"] = cached.model_calls
    res["uncached"] = {}
    for op, shape in [("add", "10"), ("add", "100"), ("mul", "5"), ("div", "10x5")]:
        r = bucket_runs(base, op, shape, args.uncached_n, "local", args.seed + 1)
        res["uncached"][f"{op}:{shape}"] = r
        print("uncached", op, shape, r, flush=True)
    full_train = None
    if Path(args.full_model, "train_report.json").exists():
        full_train = json.load(open(Path(args.full_model) / "train_report.json"))
        fm = load(args.full_model, dtype="float32")
        res["full"] = {s: bucket_runs(fm, "add", s, args.n_full, "full", args.seed) for s in ("3", "5")}
        print("full", res["full"], flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    json.dump(res, open(args.out, "w"), indent=1)
    if not args.no_results:
        write_results(res, local_train, full_train, args)


def write_results(res: dict, lt: dict, ft: dict | None, args) -> None:
    from mathwright.eval.results import update_section

    g = res["gen"]
    runs = [f"{r['checked']:,.0f}/{r['unchecked']:,.0f}" for r in res.get("gen_runs", [g])]
    lines = [
        "Machines, formats and the execution loop: `mathwright.machines`, `formats/caef.py`, `formats/local.py`, "
        "`solve/caef.py`. Every model step is checked in lock-step against the oracle machine. **The CPU (2 cores) "
        "was shared with 7 other helpers' jobs during training and timing; wall times are inflated and noisy.**",
        "",
        "### Data generation (add, 1-100 digits, 7 pairs per sequence, balanced length classes)",
        "",
        f"- ours, 1 process: **{g['checked']:,.0f} pairs/s with every pair checked against the oracle**, "
        f"{g['unchecked']:,.0f} pairs/s unchecked (best of {len(runs)} 10-s runs on the loaded CPU; "
        f"runs checked/unchecked: {'; '.join(runs)})",
        f"- reference generator: {REFERENCE_PAIRS_PER_S:,.0f} pairs/s (1,188,200 pairs in about 227 s, *quoted* from "
        f"caef.md section 8, not re-run here) -> ratio {g['checked'] / REFERENCE_PAIRS_PER_S:.2f}x checked, "
        f"{g['unchecked'] / REFERENCE_PAIRS_PER_S:.2f}x unchecked (see the section \"CAEF data generation\" "
        "for the current generator: `--gen-only`).",
        "",
        "### Local-view model (all machines, one model; the operator tag selects the machine)",
        "",
        f"- tiny LLaMA from scratch ({lt['params']:,} parameters), trained {lt['seconds'] / 60:.1f} min, "
        f"{lt['steps']} steps of 128 on the {lt['distinct']:,} distinct local-view steps met on 1-8-digit problems; "
        f"{100 * lt['exact']:.1f}% of them reproduced exactly at the end (teacher forcing). This was the second "
        "attempt: a first run with a 0.9M-parameter model (tiny-1m) managed only 251 steps in 25 min on the loaded "
        "CPU and reproduced 42% of the table, so total training time spent was about 52 min.",
        "- Rows: exact = final answer exact match; steps = model steps equal to the oracle's; calls and tokens = "
        "model calls and generated tokens (char tokenizer: 1 char = 1 token) per problem; full-CAEF tokens = what "
        "the full format would generate for the same problems (oracle-counted, 5 problems).",
        f"- Timing uses a prompt->response cache (greedy decoding is deterministic, so answers are identical); "
        f"the whole benchmark needed only {res['distinct_model_calls']:,} distinct model calls. Uncached timings below.",
        "",
        "| task | n | exact % | steps ok % | model calls | tokens (local) | tokens (full CAEF) | s/problem (cached) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for k, r in res["local"].items():
        lines.append(f"| {r['label']} | {r['n']} | {100 * r['exact']:.1f} | {100 * r['step_acc']:.2f} | {r['calls']:.0f} | "
                     f"{r['tokens']:,.0f} | {res['full_tokens'][k]:,.0f} | {r['seconds']:.3f} |")
    lines += ["", "Uncached (every step a batched `model.generate`):", "",
              "| task | n | exact % | model calls | s/problem |", "|---|---:|---:|---:|---:|"]
    for r in res["uncached"].values():
        lines.append(f"| {r['label']} | {r['n']} | {100 * r['exact']:.1f} | {r['calls']:.0f} | {r['seconds']:.2f} |")
    if ft and "full" in res:
        lines += ["", "### Full CAEF format model (ADD only)", "",
                  f"- tiny LLaMA ({ft['params']:,} parameters) trained {ft['seconds'] / 60:.1f} min ({ft['steps']} steps "
                  f"of 32) on {ft['distinct']:,} full-format ADD step pairs of 1-5-digit problems; "
                  f"{100 * ft['exact']:.1f}% of a 1,024-pair sample reproduced exactly.", "",
                  "| task | n | exact % | steps ok % | model calls | tokens | s/problem |", "|---|---:|---:|---:|---:|---:|---:|"]
        for r in res["full"].values():
            lines.append(f"| {r['label']} | {r['n']} | {100 * r['exact']:.1f} | {100 * r['step_acc']:.2f} | "
                         f"{r['calls']:.0f} | {r['tokens']:,.0f} | {r['seconds']:.2f} |")
    lines += ["", "Targets (issue 4): >= 99% exact on 100-digit + - == < > and on 20x20 x and 40/20 /, trained on this "
              "CPU within 1 hour; see the rows above (n per bucket is small, so 100% means 'no error in n')."]
    update_section("CAEF", "\n".join(lines), seed=args.seed,
                   command="OMP_NUM_THREADS=1 python bench/caef.py --n 50 --n-full 10 --gen-seconds 10")


if __name__ == "__main__":
    main()
