"""Sandbox throughput: real GSM8K-style PoT programs through the worker pool vs a fresh ``python -c`` each.

The programs are built from GSM8K *train* solutions: each ``<<expr=result>>`` calculator annotation becomes
one assignment, later literals equal to an earlier result become that variable, and the last step is
``ans``, printed — the shape of MAmmoTH's PoT programs. A problem is kept only if its program reproduces
every annotated result and the gold answer. Every ``--sympy-every``-th program instead solves its last
step as an equation with sympy (as PoT programs for algebra do). Both sides run the same programs in
the same run, on the same (shared) machine; answers are checked against the gold on both sides.

    python bench/sandbox.py                   # 50 programs, writes the "Sandbox" section of docs/RESULTS.md
    python bench/sandbox.py --n 20 --no-write # quick look
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("MATHWRIGHT_DATA", REPO.parent / "shared" / "data")) / "gsm8k" / "train.jsonl"
CALC = re.compile(r"<<([^=<>]+)=([^<>]+)>>")
NUM = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")


def _num(text: str) -> Fraction | None:
    try:
        return Fraction(text.replace(",", "").strip())
    except (ValueError, ZeroDivisionError):
        return None


def _program(question: str, answer: str, use_sympy: bool) -> tuple[str, Fraction] | None:
    """A PoT program for one GSM8K solution, or None if its annotations do not replay exactly."""
    gold = _num(answer.split("####")[-1])
    steps = CALC.findall(answer)
    if gold is None or not steps or len(steps) > 8:
        return None
    names: list[tuple[Fraction, str]] = []
    lines = [f"# {question[:100]}"]
    for i, (expr, result) in enumerate(steps, 1):
        expr = expr.replace("x", "*").replace("X", "*").replace("^", "**").strip()
        if not re.fullmatch(r"[\d\s.+\-*/()%]+", expr):
            return None
        want = _num(result)
        try:
            got = eval(compile(expr, "<expr>", "eval"), {"__builtins__": {}})  # trusted dataset text, digits only
        except Exception:
            return None
        if want is None or abs(Fraction(got).limit_denominator(10**6) - want) > Fraction(1, 100):
            return None
        # Literals equal to an earlier result become that variable, as a model writing PoT would name them.
        def sub(m: re.Match[str]) -> str:
            v = _num(m.group(0))
            for value, name in reversed(names):
                if v == value:
                    return name
            return m.group(0)

        var = f"step_{i}"
        lines.append(f"{var} = {NUM.sub(sub, expr)}")
        names.append((want, var))
    if names[-1][0] != gold:
        return None
    last = names[-1][1]
    if use_sympy:
        lines = ["from sympy import Eq, Symbol, solve, nsimplify"] + lines + [
            "x = Symbol('x')", f"ans = solve(Eq(x - nsimplify({last}), 0), x)[0]"]
    else:
        lines.append(f"ans = {last}")
    lines.append("print(ans)")
    return "\n".join(lines) + "\n", gold


def programs(n: int, sympy_every: int) -> list[tuple[str, Fraction, bool]]:
    out: list[tuple[str, Fraction, bool]] = []
    with open(DATA, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            use_sympy = sympy_every > 0 and (len(out) + 1) % sympy_every == 0
            p = _program(rec["question"], rec["answer"], use_sympy)
            if p is not None:
                out.append((p[0], p[1], use_sympy))
            if len(out) == n:
                break
    return out


def _correct(stdout: str, gold: Fraction) -> bool:
    last = stdout.strip().splitlines()[-1] if stdout.strip() else ""
    v = _num(last)
    return v is not None and abs(v - gold) <= Fraction(1, 100)


def run_fresh(code: str, timeout: float) -> tuple[str, float]:
    """One program in a fresh interpreter, the naive way; (stdout, seconds)."""
    t0 = time.perf_counter()
    env = {"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    p = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=timeout, env=env)
    return p.stdout, time.perf_counter() - t0


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50, help="programs (default 50)")
    ap.add_argument("--sympy-every", type=int, default=10, help="every k-th program uses sympy (0: none)")
    ap.add_argument("--rounds", type=int, default=10, help="passes over the programs through the pool")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-write", action="store_true", help="print only; do not touch docs/RESULTS.md")
    args = ap.parse_args()

    from mathwright.sandbox import SandboxPool

    progs = programs(args.n, args.sympy_every)
    groups = {"plain": [p for p in progs if not p[2]], "sympy": [p for p in progs if p[2]], "all": progs,
              "trivial": [("ans = 2 + 2\nprint(ans)\n", Fraction(4), False)] * 20}
    print(f"{len(progs)} programs ({len(groups['sympy'])} with sympy) from {DATA}", flush=True)

    t0 = time.perf_counter()
    pool = SandboxPool(workers=args.workers)
    startup = time.perf_counter() - t0
    rows = []
    with pool:
        pool.map([p[0] for p in progs])  # warm: fork the workers, first sympy use in each
        pool_ok = {}
        pool_seq_lat: dict[str, list[float]] = {}
        pool_rate_par: dict[str, float] = {}
        for name, group in groups.items():
            if not group:
                continue
            codes = [p[0] for p in group]
            lat = []
            for code in codes:  # one stream: per-program latency
                t = time.perf_counter()
                pool.run(code)
                lat.append(time.perf_counter() - t)
            pool_seq_lat[name] = lat
            t = time.perf_counter()
            results = pool.map(codes * args.rounds)
            pool_rate_par[name] = rate(len(results), time.perf_counter() - t)
            pool_ok[name] = sum(r.status == "ok" and _correct(r.stdout, g) for r, (_, g, _) in zip(results, group * args.rounds)) / len(results)
        isolation = pool.isolation

    fresh_seq_lat: dict[str, list[float]] = {}
    fresh_rate_par: dict[str, float] = {}
    fresh_ok = {}
    for name, group in groups.items():
        if not group or name == "all":
            continue
        if name == "trivial":
            group = group[:10]
        outs = [run_fresh(p[0], 120) for p in group]
        fresh_seq_lat[name] = [s for _, s in outs]
        fresh_ok[name] = sum(_correct(o, g) for (o, _), (_, g, _) in zip(outs, group)) / len(group)
        t = time.perf_counter()
        with ThreadPoolExecutor(args.workers) as ex:
            list(ex.map(lambda p: run_fresh(p[0], 120), group))
        fresh_rate_par[name] = rate(len(group), time.perf_counter() - t)
    # "all" for the fresh side: the same programs, so combine the per-group timings.
    fresh_seq_lat["all"] = fresh_seq_lat.get("plain", []) + fresh_seq_lat.get("sympy", [])
    total_par = sum(len(groups[k]) / fresh_rate_par[k] for k in ("plain", "sympy") if k in fresh_rate_par)
    fresh_rate_par["all"] = rate(len(progs), total_par)
    fresh_ok["all"] = sum(fresh_ok[k] * len(groups[k]) for k in ("plain", "sympy") if k in fresh_ok) / len(progs)

    load = os.getloadavg()[0]
    lines = [
        f"{len(progs)} PoT programs built from GSM8K train calculator annotations "
        f"({len(groups['sympy'])} solve their last step with sympy); pool of {args.workers} workers "
        f"(isolation: {isolation}), vs `python -I -c` per program. Throughput: {args.workers} programs at a time "
        f"on both sides (pool: `pool.map`, {args.rounds} passes, pipelined in chunks). Latency: one program at a "
        f"time (`pool.run`), median. Last row: the trivial snippet `ans = 2 + 2` (fresh side: 10 runs).",
        "",
        "| programs | pool programs/s | fresh `python -c` programs/s | speed-up | pool median latency | fresh median latency | correct (pool / fresh) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in ("plain", "sympy", "all", "trivial"):
        if name not in pool_rate_par:
            continue
        pm, fm = statistics.median(pool_seq_lat[name]), statistics.median(fresh_seq_lat[name])
        sp = pool_rate_par[name] / fresh_rate_par[name]
        rows.append((name, sp))
        lines.append(f"| {name} ({len(groups[name])}) | {pool_rate_par[name]:.0f} | {fresh_rate_par[name]:.1f} | "
                     f"**{sp:.0f}×** | {pm * 1000:.1f} ms | {fm * 1000:.0f} ms | "
                     f"{pool_ok[name]:.0%} / {fresh_ok[name]:.0%} |")
    lines += [
        "",
        f"Pool start-up (zygote imports sympy and numpy once, inside bubblewrap): {startup:.1f} s, paid once per "
        f"process. Target ≥ 20× on real PoT programs: "
        + ("met" if all(sp >= 20 for _, sp in rows) else "NOT met for: " + ", ".join(n for n, sp in rows if sp < 20)) + ".",
        f"The machine was shared with other jobs during the run (1-minute load average {load:.1f} on "
        f"{os.cpu_count()} cores), which slows both sides; the ratio is what to read.",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        from mathwright.eval.results import update_section

        update_section("Sandbox", body, seed=0, command="python bench/sandbox.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
