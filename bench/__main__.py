"""``python -m bench``: run every benchmark and print its table."""

from bench.ingest import main

raise SystemExit(main())
