"""``python -m mathwright ...``: the same command line as the ``mathwright`` script."""
from mathwright.cli import main

main()
