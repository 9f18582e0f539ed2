"""Read + clean + RFM of the Online Retail workbook, with the openpyxl read beside it.

Usage::

    python -m bench [--workbook PATH] [--repeats 5] [--naive-repeats 1]

Without ``--workbook`` the ``.xlsx`` is made once from ``../shared/data/online_retail.parquet``
into ``bench/data/`` (not tracked). Every figure is the median of ``--repeats`` runs, each run in
a fresh process so that start-up and imports are counted like a user would feel them.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_PARQUET = ROOT.parent / "shared" / "data" / "online_retail.parquet"
DATA = ROOT / "bench" / "data"

STAGES = r"""
import json, sys, time
t0 = time.perf_counter()
from rfm_core.ingest.io import load_path
from rfm_core.customers.pipeline import prepare
from rfm_core.lines.cleaning import clean
from rfm_core.customers.rfm import compute_rfm
import ibis
t1 = time.perf_counter()
loaded = load_path(sys.argv[1])
t2 = time.perf_counter()
tx = prepare(loaded)
t3 = time.perf_counter()
con = ibis.duckdb.connect()
cleaned = clean(tx, backend=con)
t4 = time.perf_counter()
rfm = compute_rfm(cleaned, backend=con)
t5 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "read": t2 - t1, "map+parse": t3 - t2, "clean": t4 - t3,
                  "rfm": t5 - t4, "read+clean+rfm": t5 - t1, "customers": rfm.n_customers}))
"""

OPENPYXL_READ = r"""
import sys, time
t0 = time.perf_counter()
import pandas as pd
pd.read_excel(sys.argv[1], engine="openpyxl")
print(time.perf_counter() - t0)
"""


def workbook_path(given: str | None) -> Path:
    """Return the workbook to measure, making it from the shared Parquet file if needed."""
    if given:
        return Path(given)
    target = DATA / "online_retail.xlsx"
    if not target.exists():
        import pandas as pd

        DATA.mkdir(parents=True, exist_ok=True)
        print(f"writing {target} from {SHARED_PARQUET} (once, ~1 min)…", file=sys.stderr)
        pd.read_parquet(SHARED_PARQUET).to_excel(target, index=False, engine="openpyxl")
    return target


def _python(code: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, check=True, capture_output=True, text=True
    )
    return done.stdout.strip().splitlines()[-1]


def _cli_seconds(workbook: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "rfm_core", "rfm", str(workbook), "-o", str(DATA / "rfm.csv")],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table of medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workbook")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--naive-repeats", type=int, default=1)
    args = parser.parse_args(argv)
    workbook = workbook_path(args.workbook)
    DATA.mkdir(parents=True, exist_ok=True)

    stages = [json.loads(_python(STAGES, str(workbook))) for _ in range(args.repeats)]
    cli = [_cli_seconds(workbook) for _ in range(args.repeats)]
    naive = [float(_python(OPENPYXL_READ, str(workbook))) for _ in range(args.naive_repeats)]

    print(
        f"# {workbook.name}, {platform.machine()}, {platform.python_version()}, medians of "
        f"{args.repeats} fresh processes (openpyxl: {args.naive_repeats})"
    )
    print(f"{'stage':<28}{'seconds':>10}")
    for stage in ("import", "read", "map+parse", "clean", "rfm", "read+clean+rfm"):
        print(f"{stage:<28}{statistics.median(s[stage] for s in stages):>10.2f}")
    print(f"{'CLI rfm, wall':<28}{statistics.median(cli):>10.2f}")
    print(f"{'openpyxl read alone':<28}{statistics.median(naive):>10.2f}")
    print(f"customers after default cleaning: {stages[0]['customers']:,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
