"""``python -m bench``: the one-command harness (:mod:`bench.run`).

``python -m bench ingest [...]`` runs the older read + clean + RFM benchmark of the workbook
(:mod:`bench.ingest`).
"""

import sys

if sys.argv[1:2] == ["ingest"]:
    from bench.ingest import main

    raise SystemExit(main(sys.argv[2:]))

from bench.run import main

raise SystemExit(main())
