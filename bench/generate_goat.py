"""Benchmark: wall time and examples/s to write the full Goat mix (1,746,300 records) to JSONL with
every record checked step by step, against a reference-like baseline run side by side.

    OMP_NUM_THREADS=1 python bench/generate_goat.py                 # full size, workers 2
    python bench/generate_goat.py --n 200000 --no-results           # quick look

Runs (each a fresh process, timed from outside, CPU = user+sys of the process and its workers):
1. the Goat data job, ``mathwright.data.goat.run`` with ``workers=W`` (what ``mathwright generate goat --workers W``
   runs; checking on, JSONL), in a child ``python -c`` that imports it.
2. the same with ``workers=1``.
3. a reference-like baseline written from docs/goat.md (not the reference's code): the notebook's
   procedure -- per-bucket list comprehensions with ``random.randint``, no seed, no checking, one
   ``indent=4`` JSON array dumped, reloaded, given instructions and dumped again.
The figures go to the "Goat data generation" section of docs/RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REFERENCE_S = 37.0  # the reference notebook's best run on this machine (issue 2)


# ------------------------------------------------------------------ reference-like baseline (from the spec)


def _d(n: int) -> int:  # D(n): the spec's inclusive top end
    return random.randint(10 ** (n - 1), 10**n)


def _d1(n: int) -> int:  # D'(n)
    return random.randint(10 ** (n - 1) + 1, 10**n)


def _d2(n: int) -> int:  # D''(n)
    return random.randint(10 ** (n - 1) + 1, 10**n - 1)


def _baseline_records(scale: float) -> list[dict]:
    def k(c: int) -> range:
        return range(max(1, round(c * scale)))

    data: list[dict] = []
    for sym in "+-":
        pairs = [(_d(i), _d(j)) for s in (1, 3, 6, 9, 12) for i in range(s, 16) for j in range(i, 16) for _ in k(1000)]
        random.shuffle(pairs)
        for x, y in pairs:
            if random.random() < 0.5:
                x, y = y, x
            ans = x + y if sym == "+" else x - y
            data.append({"input": f"{x} {sym} {y}", "output": f"{x} {sym} {y} = {ans}", "answer": str(ans)})
    tiers = [(range(2, 5), 4000), (range(5, 8), 8000), (range(8, 12), 12000), (range(12, 17), 16000)]
    pairs = [(random.randint(2, 9), _d1(j)) for js, c in tiers for j in js for _ in k(c)]
    pairs += [(s, _d2(j)) for s in (0, 1, 10) for j in range(2, 16) for _ in k(500)]
    pairs += [(random.randint(1, 9), random.randint(1, 9)) for _ in k(500)]
    random.shuffle(pairs)
    for x, y in pairs:
        if random.random() < 0.1:
            x *= 10 ** random.randint(1, 6)
        if random.random() < 0.5:
            x, y = y, x
        data.append({"input": f"{x} * {y}", "output": f"{x} * {y} = {x * y}", "answer": str(x * y)})
    shapes = [(i, j) for i in range(2, 7) for j in range(i, 13 - i)]
    pairs = [(_d2(i), _d2(j)) for lo in (2, 4, 5) for i, j in shapes if i >= lo for _ in k(10000)]
    pairs += [(_d2(i), _d2(i)) for i in range(3, 7) for _ in k(10000)]
    random.shuffle(pairs)
    for x, y in pairs:
        if random.random() < 0.5:
            x, y = y, x
        q, ans = f"{x} * {y}", x * y
        big, small = max(x, y), min(x, y)
        if str(big).rstrip("0")[1:] == "" or str(small).rstrip("0")[1:] == "":
            out = f"{q} = {ans}"
        else:
            s = str(small)
            terms = [int(c + "0" * (len(s) - i - 1)) for i, c in enumerate(s) if c != "0"]
            prods = [big * t for t in terms]
            chain = [q, f"{big} * ({' + '.join(map(str, terms))})", " + ".join(f"{big} * {t}" for t in terms),
                     " + ".join(map(str, prods))]
            while len(prods) > 1:
                prods = [prods[0] + prods[1]] + prods[2:]
                chain.append(" + ".join(map(str, prods)))
            out = " = ".join(chain)
        data.append({"input": q, "output": out, "answer": str(ans)})
    pairs = [(random.randint(2, 9), _d1(j)) for js, c in [(range(1, 5), 4000)] + tiers[1:] for j in js for _ in k(c)]
    pairs += [(d, _d1(j)) for d in (1, 10) for j in range(1, 17) for _ in k(500)]
    pairs += [(_d1(j), 0) for j in range(1, 17) for _ in k(100)]
    pairs += [(random.randint(1, 10), random.randint(1, 10)) for _ in k(500)]
    pairs += [(0, _d1(j)) for j in range(1, 18) for _ in k(100)]
    random.shuffle(pairs)
    for d, q in pairs:
        r = random.randint(1, d - 1) if d > 1 and random.random() < 0.5 else 0
        if d == 0:
            data.append({"input": f"{q} / 0", "output": f"{q} / 0 is undefined", "answer": "undefined"})
            continue
        a = d * q + r
        ans = f"{q} R {r}" if r else str(q)
        data.append({"input": f"{a} / {d}", "output": f"{a} / {d} = {ans}", "answer": ans})
    pairs = [(_d1(j), _d1(i)) for i in range(2, 7) for j in range(i + 1, i + 7) for _ in k(10000)]
    pairs += [(_d1(j), _d1(i)) for i in range(2, 7) for j in range(2, i + 7) for _ in k(1000)]
    random.shuffle(pairs)
    for a, b in pairs:
        if a > b and random.random() < 0.5:
            a -= a % b
        q, r = divmod(a, b)
        ans = f"{q} R {r}" if r else str(q)
        if q == 0 or a == b:
            out = f"{a} / {b} = {ans}"
        else:
            lines, left, qs = [], a, str(q)
            for i, c in enumerate(qs):
                if c != "0":
                    t = int(c + "0" * (len(qs) - i - 1))
                    lines.append(f"{left} - {b} * {t} = {left} - {b * t} = {left - b * t}")
                    left -= b * t
            out = "\n".join(lines + [f"Therefore, {a} / {b} = {ans}"])
        data.append({"input": f"{a} / {b}", "output": out, "answer": ans})
    return data


def baseline(scale: float, out: str) -> int:
    data = _baseline_records(scale)
    with open(out, "w") as f:
        json.dump(data, f, indent=4)
    with open(out, "rb") as f:
        data = json.load(f)
    templates = ["{input}"] * 100 + ["{input} ="] * 30 + ["What is {input}?"] * 10 + ["Please compute {input}."] * 360
    conv = []
    for rec in data:
        s = rec["input"]
        if random.random() < 0.05:
            s = "the sum of " + s.replace("+", "and")
        if random.random() < 0.5:
            s = s.replace("*", "x")
        if random.random() < 0.1:
            s = s.replace("+", "plus").replace(" x ", " times ").replace("/", "divided by")
        if random.random() < 0.5 and any(c in s for c in "+-*/x"):
            s = s.replace(" ", "")
        conv.append({"instruction": templates[random.randint(1, 500) - 1].format(input=s), **rec})
    with open(out, "w") as f:
        json.dump(conv, f, indent=4)
    return len(conv)


# --------------------------------------------------------------------------------------------- runner


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user+sys of the command and everything it waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


# Children that run one library job each (timed from outside as a fresh process, OMP_NUM_THREADS=1).
GENERATE = """
import sys
from pathlib import Path
from mathwright.data.goat import GoatDataConfig, run
out, n, seed, workers = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
meta = run(GoatDataConfig(out=out, n=n, seed=seed, workers=workers, progress=False))
for info in meta["files"].values():
    ops = ", ".join(f"{k} {v}" for k, v in info["by_op"].items())
    print(f"wrote {info['records']} records to {out} ({ops})")
"""
CHECK = """
import sys
from pathlib import Path
from mathwright.data.check import CheckConfig, run
report = run(CheckConfig(file=Path(sys.argv[1]), workers=int(sys.argv[2])), show=print)
print(report.summary())
sys.exit(1 if report.invalid else 0)
"""


def _sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_746_300)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-single", action="store_true", help="skip the --workers 1 run")
    ap.add_argument("--no-baseline", action="store_true", help="skip the reference-like baseline")
    ap.add_argument("--no-results", action="store_true", help="do not write docs/RESULTS.md")
    ap.add_argument("--baseline-only", metavar="OUT", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.baseline_only:
        print(baseline(args.n / 1_746_300, args.baseline_only))
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench_goat_"))
    rows = []
    runs = [(f"mathwright, {args.workers} workers, checked", args.workers)]
    if not args.no_single:
        runs.append(("mathwright, 1 worker, checked", 1))
    for label, w in runs:
        out = tmp / f"w{w}.jsonl"
        la = load()
        wall, cpu = timed([sys.executable, "-c", GENERATE, str(out), str(args.n), str(args.seed), str(w)])
        size = out.stat().st_size
        rows.append((label, wall, cpu, size, la))
        print(f"{label}: {wall:.1f} s wall, {cpu:.1f} s CPU, {args.n / wall:,.0f} rec/s (load {la})", flush=True)
    digests = {p.name: _sha256(p) for p in tmp.glob("w*.jsonl")}
    identical = len(set(digests.values())) == 1
    # verify the written file once more, from the outside
    wall_c, cpu_c = timed([sys.executable, "-c", CHECK, str(tmp / f"w{args.workers}.jsonl"), str(args.workers)])
    if not args.no_baseline:
        la = load()
        wall, cpu = timed([sys.executable, __file__, "--n", str(args.n), "--baseline-only", str(tmp / "ref.json")])
        rows.append(("reference-like baseline (no checks, indent=4 array x2)", wall, cpu, (tmp / "ref.json").stat().st_size, la))
        print(f"baseline: {wall:.1f} s wall, {cpu:.1f} s CPU (load {la})", flush=True)
    for p in tmp.iterdir():
        p.unlink()
    tmp.rmdir()

    ours = rows[0]
    lines = ["| run | wall s | CPU s | records/s | file MB | load avg (1/5/15 min) at start |", "|---|---|---|---|---|---|"]
    for label, wall, cpu, size, la in rows:
        lines.append(f"| {label} | {wall:.1f} | {cpu:.1f} | {args.n / wall:,.0f} | {size / 1e6:.0f} | {la} |")
    body = [f"Full Goat mix: {args.n:,} records to JSONL, every record checked step by step before writing "
            f"(seed {args.seed}).", "", *lines, ""]
    if not args.no_baseline:
        base = rows[-1]
        body.append(f"- Speed-up over the reference-like baseline in the same run: **{base[1] / ours[1]:.2f}x wall**, "
                    f"{base[2] / ours[2]:.2f}x CPU.")
        est = REFERENCE_S * ours[2] / base[2] / args.workers
        body.append(f"- Estimate for an idle machine (an assumption, not a measurement): if the baseline's CPU matches the "
                    f"reference's {REFERENCE_S:.0f} s, ours needs {REFERENCE_S * ours[2] / base[2]:.1f} CPU-s, i.e. "
                    f"~{est:.1f} s on {args.workers} idle cores = {REFERENCE_S / est:.1f}x the reference.")
    met = REFERENCE_S / ours[1] >= 3
    body.append(f"- Against the issue's reference figure ({REFERENCE_S:.0f} s, unloaded, no checking): "
                f"{REFERENCE_S / ours[1]:.2f}x measured wall (target >= 3x, i.e. <= {REFERENCE_S / 3:.1f} s): "
                f"**target {'met' if met else 'NOT met'} in this run**.")
    body.append(f"- Ideal wall on {args.workers} otherwise idle cores from the measured CPU: ~{ours[2] / args.workers:.1f} s "
                f"(CPU / workers; the parent's concatenation overlaps the workers).")
    if len(rows) > 1 and "1 worker" in rows[1][0]:
        body.append(f"- Parallel speed-up {args.workers} workers vs 1: {rows[1][1] / ours[1]:.2f}x; "
                    f"outputs byte-identical: {identical}.")
    body.append(f"- `mathwright check` re-verified the file: {wall_c:.1f} s wall, {cpu_c:.1f} s CPU.")
    if os.getloadavg()[0] > 1.5:  # only say so when it was true
        body.append("- The machine was shared with other jobs during this run (see the load column), so wall "
                    "times are pessimistic; the CPU column is the better measure of the work done.")
    text = "\n".join(body)
    print(text)
    if not args.no_results:
        from mathwright.eval.results import update_section

        update_section("Goat data generation", text, seed=args.seed)


if __name__ == "__main__":
    main()
