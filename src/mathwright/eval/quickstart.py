"""The quickstart job: data -> from-scratch training -> evaluation on CPU (``mathwright quickstart``).

The README's main job, end to end in one call (<= 15 minutes on a 2-core CPU; ``smoke`` is a plumbing check
of about a minute that CI runs):

1. generate checked training records (``OUT/data/train.jsonl``) in a format small models learn fast
   (the :data:`PLANS` entry says which format, ops and operand lengths);
2. train a tiny LLaMA from scratch with the shared trainer (``mathwright train``'s code path) from the
   recipe ``configs/quickstart.yaml`` (``configs/quickstart-smoke.yaml``) -> ``OUT/model``;
3. evaluate it (``mathwright eval arith``'s code path) -> ``OUT/eval/`` and print the accuracy table.

Every step resumes after a kill: finished data shards, training checkpoints and predictions are reused.
It lives in ``eval/``, the top library layer, because it drives ``data``, ``train`` and ``eval`` in turn.

    from mathwright.eval.quickstart import QuickstartConfig, run
    run(QuickstartConfig(out=Path("runs/q"), smoke=True))
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from mathwright.io import InputError

REPO_CONFIGS = Path(__file__).resolve().parents[3] / "configs"


@dataclass(frozen=True)
class Plan:
    """What the quickstart generates and evaluates (the recipe YAML says how it trains)."""

    recipe: str  # file name under configs/
    format: str  # formats registry name: decides training text and how outputs are parsed
    ops: tuple[str, ...]
    max_digits: int  # operand lengths drawn uniformly from 1..max_digits, independently
    n_train: int
    suite: str  # eval suite (mathwright.eval.arith_suites.SUITES)
    n_eval: int  # problems per bucket
    seed: int = 0


PLANS: dict[str, Plan] = {
    # aligned8: operands and answer least-significant digit first, zero-padded to 8 digits. In a side-by-side
    # pilot (tiny-1m, batch 64, lr 3e-3) padded8 (operands most-significant first) was still at loss ~1.0
    # after 300 steps while aligned8 passed 0.14 by step 500. Subtraction (sign first) needs longer: it is
    # left to `mathwright train` with more steps.
    "full": Plan("quickstart.yaml", "aligned8", ("add",), 6, 26_000, "quickstart", 100),
    "smoke": Plan("quickstart-smoke.yaml", "aligned8", ("add",), 3, 400, "quickstart-smoke", 6),
}


@dataclass(frozen=True)
class QuickstartConfig:
    """``mathwright quickstart [--smoke] [--out DIR] [--config RECIPE] [key=value ...]``."""

    out: Path = Path("runs/quickstart")  # model/, eval/, data/ go here
    smoke: bool = False                  # the reduced run (PLANS["smoke"])
    config: Optional[Path] = None        # training recipe (default: the plan's, under configs/)
    overrides: tuple[str, ...] = ()      # recipe overrides, e.g. trainer.max_steps=100


def make_records(plan: Plan):  # -> Callable[[Shard], list[dict]]
    """A ``write_dataset`` shard function: seeded problems rendered in ``plan.format``."""
    from mathwright.arith.problem import Problem
    from mathwright.arith.sampling import sample_with_digits
    from mathwright.formats.registry import arith_format

    fmt = arith_format(plan.format)

    def shard(s) -> list[dict]:  # noqa: ANN001 - mathwright.data.shards.Shard
        rng = s.rng()
        out = []
        for _ in range(s.count):
            op = rng.choice(plan.ops)
            a = sample_with_digits(rng, rng.randint(1, plan.max_digits))
            b = sample_with_digits(rng, rng.randint(1, plan.max_digits))
            out.append(fmt.render(Problem(op, a, b)))
        return out

    return shard


def run(cfg: QuickstartConfig, log: Callable[[str], None] = print) -> dict:
    """Run the three steps, reporting progress through ``log``; return ``{"wall_seconds", "metrics",
    "train_summary"}``. The recipe goes through :func:`~mathwright.train.recipe.load_recipe` like
    ``mathwright train``'s, every check before the first file is written; bad input raises ``InputError``."""
    import json

    from mathwright.data.generate import write_dataset
    from mathwright.eval.arith import run_arith_eval
    from mathwright.formats.registry import arith_format
    from mathwright.eval.report import markdown_table
    from mathwright.io import check_output_path
    from mathwright.train.recipe import load_recipe
    from mathwright.train.sft import train

    out = cfg.out
    plan = PLANS["smoke" if cfg.smoke else "full"]
    t0 = time.time()
    recipe = cfg.config or REPO_CONFIGS / plan.recipe
    if not recipe.exists():
        raise InputError(f"recipe {recipe} not found (run from a source checkout, or pass --config)")
    data = out / "data" / "train.jsonl"
    _, tc = load_recipe(recipe, list(cfg.overrides), kind="sft", inputs=True,
                        supplied={"data": [str(data)], "output_dir": str(out)})
    check_output_path(out, directory=True)  # all checked before the first directory is made
    out.mkdir(parents=True, exist_ok=True)

    log(f"[1/3] data: {plan.n_train} {plan.format} records ({', '.join(plan.ops)}, 1-{plan.max_digits} "
        f"digits) -> {data}")
    if not data.exists():
        write_dataset(make_records(plan), plan.n_train, data, seed=plan.seed, shard_size=5_000,
                      check=arith_format(plan.format).check, progress=False, config=plan)

    log(f"[2/3] train: {tc.model} from scratch, recipe {recipe.name} -> {out / 'model'}")
    t1 = time.time()
    final = out / "model"
    if not (final / "config.json").exists():
        final = train(tc)
    train_s = time.time() - t1

    log(f"[3/3] eval: suite {plan.suite}, {plan.n_eval} problems per bucket -> {out / 'eval'}")
    metrics = run_arith_eval(str(final), out / "eval", fmt=plan.format, suite=plan.suite, n=plan.n_eval,
                             seed=plan.seed, batch_size=50, print_table=False)
    wall = time.time() - t0
    summary_path = out / "train_summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    log("")
    log(markdown_table(metrics))
    log(f"\nquickstart done in {wall / 60:.1f} min (training {train_s / 60:.1f} min; "
        f"{summary.get('model', tc.model)}, {summary.get('tokens_seen_this_run') or '?'} tokens seen)")
    return {"wall_seconds": wall, "metrics": metrics, "train_summary": summary}
