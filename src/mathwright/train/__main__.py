"""``python -m mathwright.train CONFIG.yaml [key=value ...]`` — the same as ``mathwright train``, in a form
launchers accept: ``accelerate launch -m mathwright.train CONFIG`` or ``torchrun --nproc_per_node 2 -m
mathwright.train CONFIG``."""
import sys

from mathwright.cli import main

if __name__ == "__main__":
    sys.argv = ["mathwright", "train", *sys.argv[1:]]
    main()
