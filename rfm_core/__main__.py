"""``python -m rfm_core``: the command line."""

from rfm_core.cli import main

raise SystemExit(main(one_shot=True))
