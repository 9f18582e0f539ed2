"""``python -m bench``: the one-command harness (:mod:`bench.run`).

``python -m bench NAME [...]`` runs one of the focused benchmarks instead, each reporting its goal
as a ratio measured in the same run: ``floor`` (the ``rfm`` command beside one DuckDB statement),
``notebook`` (``segment`` beside the naive notebook, in turn), ``segments_family`` (the
recommended k on a family of generated logs), ``ingest``, ``clustering``, ``embedding``,
``anomalies``, ``slider``, ``clv``, ``backtest``, ``lines`` (the line-level queries of a
data-folder file, cleaned by each query or once), ``pages`` (every page's first visit in the
browser).
"""

import importlib
import sys

FOCUSED = (
    "floor", "notebook", "segments_family", "ingest", "clustering", "embedding", "anomalies",
    "slider", "clv", "backtest", "lines", "pages",
)  # fmt: skip

if sys.argv[1:2] and sys.argv[1] in FOCUSED:
    module = importlib.import_module(f"bench.{sys.argv[1]}")
    raise SystemExit(module.main(sys.argv[2:]))

from bench.run import main  # noqa: E402

raise SystemExit(main())
