"""Anomaly detection on a million customers, then the default detector on Online Retail.

Usage::

    python -m bench.anomalies [--customers 1000000] [--repeats 3] [--skip-retail]

The million-customer table is built from the truth of a generated log
(:func:`rfm_core.ingest.synthetic.generate_transactions`, ``mess=False``, 2% planted anomalies):
``recency``, ``frequency`` and ``monetary`` are exactly what the RFM step computes on the clean
log, ``avg_order_value`` is derived. Generating the log takes ~15 s and ~3 GB, so it runs once in
a child process and the table is cached in ``bench/data/`` (not tracked); the peak RSS printed
is this process's, i.e. the anomaly work, not the generator's. Every time is the median of
``--repeats`` runs in this process.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from rfm_core.segments.anomalies import (
    ANOMALY_METHODS,
    AnomalyDetector,
    detect_anomalies,
    detector_agreement,
    explain,
    train_anomaly_classifier,
)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
SHARED_PARQUET = ROOT.parent / "shared" / "data" / "online_retail.parquet"

BUILD = r"""
import sys
from rfm_core.ingest.synthetic import generate_transactions
n, target = int(sys.argv[1]), sys.argv[2]
truth = generate_transactions(n, anomaly_share=0.02, mess=False, random_state=0).customers
truth.to_parquet(target)
"""


def customers_table(n_customers: int) -> tuple[pd.DataFrame, pd.Series, str]:
    """Return the RFM-like table, the planted truth and a note on how the table was built."""
    target = DATA / f"anomalies_truth_{n_customers}.parquet"
    note = f"cached {target.relative_to(ROOT)}"
    if not target.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", BUILD, str(n_customers), str(target)], cwd=ROOT, check=True
        )
        note = f"generated in a child process in {time.perf_counter() - started:.1f} s, cached"
    truth = pd.read_parquet(target)
    table = truth[["recency", "frequency", "monetary"]].copy()
    table.index = table.index.astype("string").rename("customer_id")
    table["avg_order_value"] = (table["monetary"] / table["frequency"]).round(2)
    return table, truth["is_anomaly"].set_axis(table.index), note


def median_seconds(work: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Median wall time of ``repeats`` calls and the last result."""
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def million(n_customers: int, repeats: int) -> None:
    """Time every step on ``n_customers`` generated customers."""
    table, planted, note = customers_table(n_customers)
    print(
        f"## {len(table):,} customers from the truth of generate_transactions "
        f"(recency, frequency, monetary; avg_order_value derived) — {note}"
    )
    print(f"rss after loading: {peak_rss_mb():,.0f} MB")
    print(f"{'step':<44}{'seconds':>9}{'flagged':>10}{'precision':>11}{'recall':>8}")
    flags = {}
    for method in ANOMALY_METHODS:
        seconds, detector = median_seconds(
            lambda method=method: AnomalyDetector(method=method).fit(table), repeats
        )
        flags[method] = detector.flags_
        hits = int((detector.flags_ & planted.to_numpy()).sum())
        print(
            f"{'fit + score, ' + method:<44}{seconds:>9.1f}{detector.flags_.sum():>10,}"
            f"{hits / max(detector.flags_.sum(), 1):>11.3f}{hits / planted.sum():>8.3f}"
        )
    seconds, _ = median_seconds(lambda: explain(table, flags["iforest"]), repeats)
    print(f"{'explain (iforest flags)':<44}{seconds:>9.1f}")
    seconds, _ = median_seconds(lambda: detect_anomalies(table), 1)
    print(f"{'detect_anomalies, default (once)':<44}{seconds:>9.1f}")
    seconds, agreement = median_seconds(lambda: detector_agreement(table), 1)
    print(f"{'detector_agreement, 4 methods (once)':<44}{seconds:>9.1f}")
    print("agreement (Jaccard):")
    print(agreement.pairwise.round(2).to_string())
    print("customers flagged by exactly n methods:", agreement.counts.to_dict())
    seconds, report = median_seconds(lambda: train_anomaly_classifier(table, flags["iforest"]), 1)
    print(f"{'train_anomaly_classifier (once, sample_limit 200k)':<44}{seconds:>9.1f}")
    print(report.metrics.round(4).to_string())
    print(f"peak RSS: {peak_rss_mb():,.0f} MB")


def online_retail() -> None:
    """Default detector on the Online Retail RFM table; the five strangest with reasons."""
    from rfm_core.customers.pipeline import run_rfm
    from rfm_core.ingest.io import load_path

    result = run_rfm(load_path(SHARED_PARQUET))
    table = result.rfm.table
    source = "the RFM table"
    if "cancelled_amount" not in table.columns:
        cancelled = result.cleaning.cancelled.to_pandas().groupby("customer_id")["amount"].sum()
        table = table.assign(cancelled_amount=cancelled.reindex(table.index).fillna(0.0))
        source = "added here from CleaningResult.cancelled (not yet in the RFM table)"
    print(f"\n## Online Retail: {len(table):,} customers; cancelled_amount: {source}")
    found = detect_anomalies(table, currency="£")
    share = found.n_flagged / len(table)
    print(
        f"default detector (iforest, contamination 0.02): {found.n_flagged} flagged ({share:.1%})"
    )
    print("categories:", found.flagged["anomaly_category"].value_counts().to_dict())
    print("five strangest:")
    columns = ["recency", "frequency", "monetary"]
    for customer, row in found.flagged.head(5).iterrows():
        r, f, m = table.loc[customer, columns]
        print(
            f"  {customer}  score {row['anomaly_score']:.3f}  [{row['anomaly_category']}]  "
            f"R={r:.0f} F={f:.0f} M={m:,.2f}\n      {row['anomaly_reason']}"
        )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-retail", action="store_true")
    args = parser.parse_args(argv)
    print(
        f"# anomalies benchmark, {platform.machine()}, Python {platform.python_version()}, "
        f"numpy {np.__version__}, pandas {pd.__version__}"
    )
    million(args.customers, args.repeats)
    if not args.skip_retail:
        online_retail()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
