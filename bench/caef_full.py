"""CAEF full format, learned: a from-scratch tiny LLaMA executes CAEF's own full-state traces, checked in lock-step.

Recommended run (the 2-core machine alone, about 60 min wall in all):

    OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE python bench/caef_full.py --out runs/caef_full \\
        --max-minutes 34 --local-minutes 7 --eval-minutes 16

Budget (estimated, not measured alone): a 1.5-min probe of this configuration (tiny-1m, 0.89M parameters, the
default mix, mean sequence 260 tokens, ~47 step pairs per step) ran at 4,800 tokens/s with the CPU shared (load
3.5; 925-3,400 tokens/s at load 8), so alone expect ~7-9k tokens/s: 34 min = ~15-18M tokens = ~1,300-1,600 steps
= ~60-70k step pairs. Evaluation, if the model were perfect, forwards ~2x the generated tokens (about 18M for the
seven rows at n = 100, 70% of it 10D/5D's 480 calls per problem); a run stops at its first wrong step, so an
imperfect model costs far less. Rows past --eval-minutes are reported as skipped.

Rerunning the same command resumes: full-format training from its last checkpoint (every --ckpt-minutes, atomic),
local-view training restarts only if it had not finished, and finished eval rows are kept (runs/.../eval.json).

What it does
1. Trains one model (``solve/caef_full.py``, the hand-written loop) on the full-format stream: records exactly as
   ``mathwright generate caef --mode full`` makes them (``make_records`` + ``check_record``), for every machine the
   seven operators need with the "long" composers (ADD, SUB + REFLECTION + LEFT_MASK, EQUAL, GREATER_THAN,
   LESS_THAN, LMUL + MULD, LDIV + SUBX); see ``--mix``. Reference CAEF's MUL/DIV loop b or q times
   (a 5-digit multiplier means ~300k composer steps), so 5Dx5D and 10D/5D run through LMUL/LDIV, which
   grow with length; their steps are in the same full format (4-line composer calls, callee halt lines).
   Why the hand loop and not train/sft.py (TRL): the stream is drawn afresh from (seed, step), so a resumed run
   continues the same data without a dataset file and nothing repeats; the cosine schedule runs over the
   wall-time budget (TRL's is over max_steps, unknown before the run); batches are length-bucketed, where TRL's
   CPU packing would let packed sequences attend to each other (its isolation needs flash-attention).
   ``--variant both`` draws composer prompts half with the reference generator's stale callee halt lines
   (caef.md section 10) and half with the real ones the loop feeds at inference; executor records are the same in
   both, and every record is the generator's own, unchanged.
2. Trains the local-view model as bench/caef.py did (``caef_train.local_table`` + ``train_steps``, tiny-100k).
3. Runs ``solve/caef.py``'s loop with the oracle check (``stop_on_error``: a run ends at its first wrong step)
   on fresh problems; per row exact %, steps ok %, model calls, tokens generated; the first failing step's
   machine kind and the field of the state that was wrong; a length-generalisation table.
4. Writes the RESULTS section "CAEF full format, learned" (``--no-results`` for smoke runs).

Decoding of the full-format model is greedy; it is computed by ``DraftVerified`` (the oracle's next step is
scored as a draft in one forward pass and only tokens equal to the model's own argmax are kept), which returns
the model's greedy output token for token; the run checks this against ``model.generate`` on sampled prompts.

Smoke: ``python bench/caef_full.py --out /tmp/cf --max-minutes 0.5 --local-minutes 0.3 --eval-minutes 1 --n 4
--n-len 2 --no-results``. Estimate only: ``--probe-minutes 1.5`` trains that long and prints the projection.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import random
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from mathwright.arith.problem import SYMBOLS, Problem  # noqa: E402
from mathwright.eval.arith_suites import bucket_problems  # noqa: E402
from mathwright.eval.caef_eval import caef_buckets  # noqa: E402
from mathwright.formats import caef as F  # noqa: E402
from mathwright.machines.composers import COMPOSERS  # noqa: E402
from mathwright.solve.caef import CachedModel, solve_problems  # noqa: E402
from mathwright.solve.caef_full import BudgetExceeded, DraftVerified, Mix, train_full  # noqa: E402

SECTION = "CAEF full format, learned"
MAIN = [("add", "10"), ("sub", "10"), ("eq", "10"), ("lt", "10"), ("gt", "10"), ("mul", "5"), ("div", "10x5")]
LEN_DIGITS = (5, 10, 20, 50, 100)
GOALS = {"add": 0.99, "sub": 0.99, "eq": 0.99, "lt": 0.99, "gt": 0.99, "mul": 0.95, "div": 0.95}


def default_mix(k: int) -> str:
    """Executors and composers on 1-k digits; LMUL on 1-6 x 1-6, LDIV dividends 1-k over 1-6-digit divisors.
    Weights favour the machines a 10D/5D or 5Dx5D run calls hundreds of times."""
    return (f"add:1-{k + 1}@2,sub:1-{k}@1,eq:1-{k}@1,gt:1-{k}@1.5,lt:1-{k}@1,reflection:1-{k}@1,"
            f"left_mask:2-{k + 1}@1,lmul:1-6@1,muld:1-6x1@1,ldiv:1-{k}x1-6@2,subx:1-7x1-6@1.5")


# ------------------------------------------------------------------------------------------ diagnosis
def _field(line: str, pos: int, line_no: int, composer_call: bool) -> str:
    """Name the field of a CAEF line that contains character ``pos``."""
    if composer_call and line_no >= 3:
        return "callee q0 " + ("state" if line_no == 3 else "command")
    if line.startswith("CMD") or line == F.HALT_LINE or line_no % 2 == 0:
        return "command line"
    head = line.split(", ", 2)
    if pos < len(head[0]):
        return "machine name"
    if len(head) > 1 and pos < len(head[0]) + 2 + len(head[1]):
        return "state (q)"
    start = 0
    for chunk in line.split(" "):
        if start <= pos <= start + len(chunk):
            for tag, name in (("[HEAD1]", "tape 1 / [HEAD1]"), ("[HEAD2]", "tape 2 / [HEAD2]"), ("[HEAD]", "tape / [HEAD]"),
                              ("[C]", "carry [C]"), ("[COUNT]", "[COUNT]"), ("[REM]", "[REM]"), ("[QD]", "[QD]"),
                              ("[OUTPUT]", "output [OUTPUT]")):
                if tag in chunk:
                    return name
            return "result / register value"
        start += len(chunk) + 1
    return "line end (extra or missing text)"


def diagnose(prompt: str, resp: str) -> dict:
    """Where a model's response first departs from the oracle's: machine, kind, line, field."""
    machine = prompt.split(",", 1)[0]
    kind = "composer" if machine in COMPOSERS else "executor"
    try:
        want = F.oracle_response(prompt)
    except (ValueError, KeyError, IndexError) as e:
        return {"machine": machine, "kind": kind, "field": f"prompt not understood by the oracle ({e})"}
    if resp.rstrip("\n") == want.rstrip("\n"):
        return {"machine": machine, "kind": kind, "field": "none (equals the oracle's response)"}
    n = next((i for i, (a, b) in enumerate(zip(want, resp)) if a != b), min(len(want), len(resp)))
    lines_before = want[:n].count("\n")
    line = want.split("\n")[lines_before] if lines_before < want.count("\n") else ""
    col = n - (want.rfind("\n", 0, n) + 1)
    call = len(want.rstrip("\n").split("\n")) == 4
    return {"machine": machine, "kind": kind, "line": lines_before + 1,
            "field": _field(line, col, lines_before + 1, call),
            "want": want[max(0, n - 12):n + 12], "got": resp[max(0, n - 12):n + 12]}


# ------------------------------------------------------------------------------------------ evaluation
def problems(op: str, shape: str, n: int, seed: int):
    b = caef_buckets(op, shape)[0]
    probs = bucket_problems(b, n, seed + 1000)  # seeds unused by training (its stream is string-seeded)
    if op == "eq":  # as CAEF's test sets and bench/caef.py: half the pairs equal, so the scan runs the full length
        probs = [Problem("eq", p.a, p.a) if i % 2 == 0 else p for i, p in enumerate(probs)]
    return b.label, probs


def run_row(model, op: str, shape: str, n: int, seed: int) -> dict:
    label, probs = problems(op, shape, n, seed)
    t0, c0 = time.time(), time.process_time()
    runs = solve_problems(probs, model, mode="full" if isinstance(model, DraftVerified) else "local",
                          machines="long", check=True, batch_size=max(n, 1), stop_on_error=True)
    ok = sum(r.ok["executor"][0] + r.ok["composer"][0] for r in runs)
    tot = sum(r.ok["executor"][1] + r.ok["composer"][1] for r in runs)
    causes: dict[str, int] = {}
    examples = []
    for r in runs:
        if r.correct:
            continue
        if r.first_error is None:
            key = "aligner (rule-based): all steps ok, answer wrong" if r.error is None else f"loop: {r.error[:80]}"
        elif isinstance(model, DraftVerified):
            prompt, resp = r.first_error.split(": ", 1)[1].rsplit(" -> ", 1)
            d = diagnose(ast.literal_eval(prompt), ast.literal_eval(resp))
            key = f"{d['kind']} {d['machine']}: {d['field']}"
            if len(examples) < 3:
                examples.append(d)
        else:
            key = "local view, machine " + r.first_error.split(": ", 1)[1].split(" ", 1)[0].strip("'\"")
        causes[key] = causes.get(key, 0) + 1
    return {"label": label, "op": op, "shape": shape, "n": n, "exact": sum(r.correct for r in runs) / max(n, 1),
            "steps_ok": ok / max(tot, 1), "calls": sum(r.steps for r in runs) / max(n, 1),
            "tokens": sum(r.chars for r in runs) / max(n, 1), "wall": time.time() - t0,
            "cpu": time.process_time() - c0, "causes": causes, "examples": examples}


def oracle_cost(op: str, shape: str, seed: int, n: int = 5) -> dict:
    """Calls and tokens per problem of a perfect full-format model (what a correct run would cost)."""
    from mathwright.solve.caef import OracleModel

    _, probs = problems(op, shape, n, seed)
    runs = solve_problems(probs, OracleModel(), mode="full", machines="long")
    return {"calls": sum(r.steps for r in runs) / n, "tokens": sum(r.chars for r in runs) / n}


def agreement(dv: DraftVerified, seed: int, k: int = 12) -> dict:
    """DraftVerified vs ``model.generate`` (token-by-token greedy) on step prompts of a few oracle runs."""
    from mathwright.models.base import GenerationConfig
    from mathwright.models.hf import HFModel
    from mathwright.solve.caef import OracleModel

    prompts = []
    for op, shape in (("add", "10"), ("sub", "5"), ("mul", "3"), ("div", "6x3")):
        _, probs = problems(op, shape, 1, seed + 7)
        run = solve_problems(probs, OracleModel(), mode="full", machines="long", keep_trace=True)[0]
        rng = random.Random(f"{seed}|agree|{op}")
        q0 = "\n".join(F.q0_lines(run.plan.machine, run.plan.a, run.plan.b)) + "\n"
        steps = [q0] + [t for t in run.trace if t.count("\n") == 2 and F.HALT_LINE not in t]
        prompts += rng.sample(steps, min(k // 4, len(steps)))
    cfg = GenerationConfig(max_new_tokens=max(len(p) for p in prompts) + 300, batch_size=len(prompts))
    saved, dv.fallback_tokens = dv.fallback_tokens, None  # compare whole responses
    a = [o[0] for o in dv.generate(prompts, cfg)]
    dv.fallback_tokens = saved
    b = [o[0] for o in HFModel(dv.model, dv.tok).generate(prompts, cfg)]
    return {"n": len(prompts), "identical": sum(x == y for x, y in zip(a, b))}


# ------------------------------------------------------------------------------------------ phases
def train_local(out: Path, minutes: float, seed: int, threads: int) -> dict:
    rep_path = out / "local" / "train_report.json"
    if rep_path.exists():
        return json.loads(rep_path.read_text())
    from dataclasses import asdict

    from mathwright.solve.caef_train import local_table, train_steps

    c0, t0 = time.process_time(), time.time()
    table = local_table(["add", "sub", "mul", "div", "eq", "lt", "gt"], digits=(1, 8), n=300, seed=seed)
    rep = asdict(train_steps(list(table), out / "local" / "model", preset="tiny-100k", minutes=minutes,
                             batch_size=128, seed=seed, threads=threads))
    rep.update(cpu_seconds=time.process_time() - c0, wall_seconds=time.time() - t0)
    rep_path.write_text(json.dumps(rep, indent=1) + "\n")
    return rep


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="runs/caef_full")
    ap.add_argument("--max-minutes", type=float, default=34.0, help="full-format training budget (wall, training only)")
    ap.add_argument("--local-minutes", type=float, default=7.0, help="local-view training budget")
    ap.add_argument("--eval-minutes", type=float, default=16.0, help="evaluation budget; rows past it are skipped")
    ap.add_argument("--probe-minutes", type=float, default=None, help="only train this long and print the projection")
    ap.add_argument("--train-digits", type=int, default=12, help="k: executors and SUB trained on 1-k digits")
    ap.add_argument("--mix", default=None, help="op:LA[xLB][@W],... (default: see default_mix)")
    ap.add_argument("--variant", default="both", choices=("caef", "fixed", "both"))
    ap.add_argument("--preset", default="tiny-1m")
    ap.add_argument("--fields", default="{}", help="LlamaConfig fields over the preset, JSON")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--cmd-weight", type=float, default=1.0,
                    help="loss weight of command-line tokens (bench/caef_full_probe.py; 1 = plain mean)")
    ap.add_argument("--tokenizer", default="char", choices=("char", "caef"),
                    help="char: one token per character; caef: the format's markers and |d cells as whole tokens")
    ap.add_argument("--batch-tokens", type=int, default=12_288)
    ap.add_argument("--ckpt-minutes", type=float, default=3.0)
    ap.add_argument("--n", type=int, default=100, help="problems per main row")
    ap.add_argument("--n-len", type=int, default=30, help="problems per length-generalisation cell")
    ap.add_argument("--len-ops", default="add,sub,eq,lt,gt")
    ap.add_argument("--fallback-tokens", type=int, default=48,
                    help="decode a step that departs from the oracle this far past the departure (the run stops there)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-bf16", action="store_true")
    ap.add_argument("--no-results", action="store_true")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    load0, wall0 = os.getloadavg(), time.time()
    try:
        mix = Mix.parse(args.mix or default_mix(args.train_digits))
        fields = json.loads(args.fields)
    except ValueError as e:
        print(f"caef_full: {e}", file=sys.stderr)
        sys.exit(2)
    log = lambda s: print(s, flush=True)  # noqa: E731
    minutes = args.probe_minutes if args.probe_minutes else args.max_minutes
    model, tok, st = train_full(mix, out / ("probe" if args.probe_minutes else "full"), preset=args.preset,
                                fields=fields, minutes=minutes, batch_tokens=args.batch_tokens, lr=args.lr,
                                seed=args.seed, threads=args.threads, bf16=not args.no_bf16,
                                variant=args.variant, ckpt_minutes=args.ckpt_minutes, cmd_weight=args.cmd_weight,
                                tokenizer=args.tokenizer, log=log)
    if args.probe_minutes:
        rate = st.tokens / st.train_seconds
        print(f"probe: {st.step} steps, {st.tokens:,} tokens in {st.train_seconds / 60:.1f} min = {rate:,.0f} tok/s "
              f"(load {os.getloadavg()[0]:.1f}); at this rate {args.max_minutes:g} min = {rate * args.max_minutes * 60 / 1e6:.1f}M "
              f"tokens, {st.step * args.max_minutes / (st.train_seconds / 60):,.0f} steps, loss now {st.loss:.3f}")
        return
    local = None if args.local_minutes <= 0 else train_local(out, args.local_minutes, args.seed, args.threads)
    model.set_attn_implementation("sdpa")
    dv = DraftVerified(model, tok, fallback_tokens=args.fallback_tokens)
    res_path = out / "eval.json"
    res = json.loads(res_path.read_text()) if res_path.exists() else {}
    lmodel = None
    if local is not None:
        from mathwright.models.hf import load

        lmodel = CachedModel(load(str(out / "local" / "model"), dtype="float32"))
    cells = [(op, s, args.n) for op, s in MAIN] + \
        [(op, str(d), args.n_len) for d in LEN_DIGITS if d != 10 for op in args.len_ops.split(",") if op]
    if "agreement" not in res:
        res["agreement"] = agreement(dv, args.seed)
        log(f"draft-verified vs model.generate: {res['agreement']}")
    t_eval, res["skipped"] = time.time(), []
    dv.deadline = t_eval + args.eval_minutes * 60
    for op, shape, n in cells:
        for kind, m in (("full", dv), ("local", lmodel)):
            key = f"{kind}:{op}:{shape}:{n}"
            if m is None or key in res:
                continue
            if time.time() - t_eval > args.eval_minutes * 60:
                res["skipped"].append(key)
                continue
            try:
                r = run_row(m, op, shape, n, args.seed)
            except BudgetExceeded:
                res["skipped"].append(key + " (budget ran out inside it)")
                continue
            if kind == "full":
                r["oracle"] = oracle_cost(op, shape, args.seed)
            res[key] = r
            log(f"{kind} {r['label']} n={n}: exact {100 * r['exact']:.1f}% steps {100 * r['steps_ok']:.2f}% "
                f"calls {r['calls']:.0f} tokens {r['tokens']:,.0f} ({r['wall']:.0f} s) causes {r['causes']}")
            tmp = res_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(res, indent=1))
            os.replace(tmp, res_path)
    res["dv_stats"] = dv.stats
    summary = json.loads((out / "full" / "train_summary.json").read_text())
    body = report(res, summary, local, args, load0, os.getloadavg(), time.time() - wall0,
                  resource.getrusage(resource.RUSAGE_SELF))
    print(body)
    if not args.no_results:
        from mathwright.eval.results import update_section

        update_section(SECTION, body, seed=args.seed, command="OMP_NUM_THREADS=2 python " + " ".join(sys.argv))


def report(res: dict, s: dict, local: dict | None, args, load0, load1, wall: float, ru) -> str:
    tps = s["tokens"] / max(s["train_seconds"], 1e-9)
    cw = (f" (command-line tokens weighted {s['cmd_weight']:g}x, loss figures the plain mean)"
          if s.get("cmd_weight", 1.0) != 1.0 else "")
    tk = {"char": "char (1 token per character)", "caef": "caef (the format's markers, moves, machine and state names "
          "and |d tape cells as whole tokens, the rest per character)"}[s.get("tokenizer", "char")]
    lines = [
        f"Full-format model: tiny LLaMA from scratch ({s['params']:,} parameters, preset {s['preset']}"
        f"{', ' + json.dumps(s['fields']) if s['fields'] else ''}), {tk} tokenizer, trained by the hand loop in "
        f"`solve/caef_full.py` for **{s['train_seconds'] / 60:.1f} min wall / {s['cpu_seconds'] / 60:.1f} CPU-min**, "
        f"{s['step']:,} steps of ~{s['pairs_per_batch']} step pairs ({s['tokens'] / 1e6:.1f}M tokens, "
        f"{tps:,.0f} tokens/s, padding {1 - s['tokens'] / max(s['padded'], 1):.1%}, loss at the end {s['loss']:.4f}) "
        f"on a fresh stream of `mathwright generate caef --mode full` records (variant {s['variant']}), loss on the "
        f"response only{cw}, bf16 autocast, {args.threads} threads. Mix: `{args.mix or default_mix(args.train_digits)}`.",
        "",
        "Loop: `solve/caef.py` (full mode, the \"long\" composers LMUL/LDIV for x and /, whose steps grow with operand "
        "length; reference MUL/DIV loop b or q times) with the lock-step oracle check; a run ends at its first "
        "wrong step. Greedy decoding computed by draft verification (see the bench docstring); on "
        f"{res['agreement']['n']} sampled step prompts it gave {res['agreement']['identical']}/{res['agreement']['n']} "
        "responses identical to `model.generate`. Problems are fresh (seeded apart from the training stream); "
        "half of the == pairs are equal. Tokens / problem = characters generated (one token each under the char "
        "tokenizer).",
        "",
        "| TASK | n | exact % | steps ok % | model calls / problem | tokens / problem | local-view exact % | "
        "local calls / problem | local tokens / problem | goal |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    fails = []
    for op, shape in MAIN:
        f, lo = res.get(f"full:{op}:{shape}:{args.n}"), res.get(f"local:{op}:{shape}:{args.n}")
        label = caef_buckets(op, shape)[0].label
        if f is None:
            lines.append(f"| {label} | – | skipped (eval budget) | | | | | | | >= {100 * GOALS[op]:.0f}% |")
            continue
        met = "met" if f["exact"] >= GOALS[op] else "not met"
        lo_s = (f"{100 * lo['exact']:.1f} | {lo['calls']:.0f} | {lo['tokens']:,.0f}") if lo else "– | – | –"
        lines.append(f"| {label} | {f['n']} | {100 * f['exact']:.1f} | {100 * f['steps_ok']:.2f} | {f['calls']:.0f} | "
                     f"{f['tokens']:,.0f} | {lo_s} | >= {100 * GOALS[op]:.0f}%: {met} |")
        if f["causes"]:
            fails.append(f"- {label}: " + "; ".join(f"{k} ({v})" for k, v in sorted(f["causes"].items(), key=lambda kv: -kv[1])))
    lines += ["", "A correct full-format run costs (oracle-counted, 5 problems): " + ", ".join(
        f"{caef_buckets(op, sh)[0].label} {res[f'full:{op}:{sh}:{args.n}']['oracle']['calls']:.0f} calls / "
        f"{res[f'full:{op}:{sh}:{args.n}']['oracle']['tokens']:,.0f} tokens"
        for op, sh in MAIN if f"full:{op}:{sh}:{args.n}" in res) + "."]
    lines += ["", "First wrong step per failed problem (machine kind, machine, field of the state that differed "
              "from the oracle; the aligners are rule-based here):", ""] + (fails or ["- none"])
    ex = [e for op, sh in MAIN for e in res.get(f"full:{op}:{sh}:{args.n}", {}).get("examples", [])][:3]
    for e in ex:
        lines.append(f"  - e.g. {e['machine']} line {e.get('line')}: want `…{e.get('want', '')!s}…` got `…{e.get('got', '')!s}…`"
                     .replace("\n", "⏎"))
    k = args.train_digits
    lines += ["", f"### Length generalisation (full format; trained on 1-{k} digits; exact %, n = {args.n_len} per cell, "
              f"10 digits from the rows above, n = {args.n})", "",
              "| TASK | " + " | ".join(f"{d} digits" for d in LEN_DIGITS) + " |", "|---|" + "---:|" * len(LEN_DIGITS)]
    sym = {o: SYMBOLS[o] for o in ("add", "sub", "eq", "lt", "gt")}  # mul/div rows keep the op name
    for op in [o for o in args.len_ops.split(",") if o]:
        cells = []
        for d in LEN_DIGITS:
            r = res.get(f"full:{op}:{d}:{args.n if d == 10 else args.n_len}")
            cells.append("skipped" if r is None else f"{100 * r['exact']:.1f}")
        lines.append(f"| nD{sym.get(op, op)}nD | " + " | ".join(cells) + " |")
    lines += ["", "100-digit cells need up to ~2,100 positions (SUB's composer steps); the model's RoPE context is "
              "set to 4,096, so they fit. Local view at the same lengths:", "",
              "| TASK | " + " | ".join(f"{d} digits" for d in LEN_DIGITS) + " |", "|---|" + "---:|" * len(LEN_DIGITS)]
    for op in [o for o in args.len_ops.split(",") if o]:
        cells = [res.get(f"local:{op}:{d}:{args.n if d == 10 else args.n_len}") for d in LEN_DIGITS]
        lines.append(f"| nD{sym.get(op, op)}nD | " + " | ".join("skipped" if r is None else f"{100 * r['exact']:.1f}"
                                                                 for r in cells) + " |")
    if local:
        lines += ["", f"Local-view model (measured in this run): tiny LLaMA ({local['params']:,} parameters) trained "
                  f"{local['wall_seconds'] / 60:.1f} min wall / {local['cpu_seconds'] / 60:.1f} CPU-min "
                  f"({local['steps']} steps of 128 on {local['distinct']:,} distinct local-view steps of 1-8-digit "
                  f"problems; {100 * local['exact']:.1f}% reproduced exactly under teacher forcing), evaluated "
                  "through a prompt cache (greedy decoding is deterministic, so answers are unchanged)."]
    if res.get("skipped"):
        lines += ["", f"Skipped for the eval budget ({args.eval_minutes:g} min): {', '.join(res['skipped'])}."]
    lines += ["", f"Load average (1 min) {load0[0]:.1f} at the start, {load1[0]:.1f} at the end (2 cores); this "
              f"invocation: {wall / 60:.1f} min wall, {(ru.ru_utime + ru.ru_stime) / 60:.1f} CPU-min (a resumed run "
              "counts only its own part; training CPU time above is summed over resumes)."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
