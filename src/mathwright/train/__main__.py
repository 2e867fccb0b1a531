"""``python -m mathwright.train CONFIG.yaml [key=value ...]`` — the same job as ``mathwright train``
(:func:`mathwright.train.recipe.run_train`), in a form launchers accept: ``accelerate launch -m mathwright.train
CONFIG`` or ``torchrun --nproc_per_node 2 -m mathwright.train CONFIG``. Bad input prints one ``error:`` line
and exits 2, as the CLI does."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m mathwright.train", description="Train a model from a recipe.")
    ap.add_argument("config", type=Path, help="recipe YAML (see configs/)")
    ap.add_argument("overrides", nargs="*", default=[], help="dotted key=value overrides, e.g. trainer.learning_rate=3e-3")
    args = ap.parse_args(argv)
    from mathwright.io import InputError
    from mathwright.train.recipe import run_train

    try:
        final = run_train(args.config, args.overrides)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    except OSError as e:  # an unwritable or unreadable path the code did not anticipate
        if e.filename is None:
            raise
        print(f"error: {e.filename}: {e.strerror or e}", file=sys.stderr)
        raise SystemExit(2) from None
    print(f"saved {final}")


if __name__ == "__main__":
    main()
