"""Projections and segment profiles on a million customers.

Usage::

    python -m bench.embedding [--customers 1000000] [--repeats 3] [--source log|truth]

The customer table is built once and cached in ``bench/data/`` (not tracked):

``log`` (default)
    :func:`rfm_core.ingest.synthetic.generate_transactions` writes a seeded log (about 13 million
    lines for a million customers), which goes through the real pipeline (Parquet bytes →
    :func:`rfm_core.ingest.io.load_bytes` → :func:`rfm_core.customers.pipeline.run_rfm`): every
    column of the RFM table is the real one. Takes a minute or two and several GB once.
``truth``
    The generator's per-customer truth (recency, frequency, monetary) plus derived extras
    (``avg_order_value = monetary / frequency``; tenure and gaps drawn to fit): seconds.

Segment labels are the planted groups (5 groups + planted anomalies, as integers). Every step
runs in a fresh process that first reads the cached table; its time is the median of
``--repeats`` runs in that process and its memory the peak RSS of the process, printed with the
RSS after reading the table (and, for projections, transforming the features) so that the
step's own share shows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"

STEP = r"""
import json, statistics, sys, time, warnings
import pandas as pd
warnings.simplefilter("ignore")
from rfm_core.segments.embedding import pca_projection, tsne_projection
from rfm_core.segments.features import transformed_features
from rfm_core.segments.profiles import (
    feature_importances,
    profile_segments,
    segment_rules,
    snake_plot_data,
)

def rss_mb():
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over execve from the forking parent
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024

def fft_tsne(features, size):
    # the same sample and settings as tsne_projection, with FFT-interpolated gradients
    from openTSNE import TSNE
    from rfm_core.segments.embedding import sample_customers
    shown = sample_customers(features.index, size=size)
    TSNE(perplexity=30, initialization="pca", neighbors="exact", negative_gradient_method="fft",
         early_exaggeration_iter=100, n_iter=200, random_state=0, n_jobs=1).fit(
        features.loc[shown].to_numpy())
    return None

step, path, repeats, sample_size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
table = pd.read_parquet(path)
labels = table.pop("group")
projected = ("pca2", "pca3", "tsne", "tsne_stratified", "tsne_2_jobs", "tsne_fft")
features = transformed_features(table) if step in projected else None
loaded = rss_mb()
calls = {
    "transform": lambda: transformed_features(table),
    "pca2": lambda: pca_projection(features, n_components=2),
    "pca3": lambda: pca_projection(features, n_components=3),
    "tsne": lambda: tsne_projection(features, sample_size=sample_size),
    "tsne_stratified": lambda: tsne_projection(
        features, sample_size=sample_size, stratify=labels
    ),
    "tsne_2_jobs": lambda: tsne_projection(features, sample_size=sample_size, n_jobs=2),
    "tsne_fft": lambda: fft_tsne(features, sample_size),
    "profile": lambda: profile_segments(table, labels),
    "snake": lambda: snake_plot_data(table, labels),
    "rules": lambda: segment_rules(table, labels),
    "importances": lambda: feature_importances(table, labels),
}
seconds, result = [], None
for _ in range(repeats):
    started = time.perf_counter()
    result = calls[step]()
    seconds.append(time.perf_counter() - started)
extra = {}
if step.startswith("tsne") and result is not None:
    extra = {"shown": result.n_shown, "sampled": result.sampled}
elif step.startswith("pca"):
    extra = {"explained": [round(v, 3) for v in result.explained_variance_ratio]}
elif step == "rules":
    extra = {"accuracy": round(result.accuracy, 3), "sampled": result.sampled,
             "rules": len(result.rules)}
print(json.dumps({"median": statistics.median(seconds), "runs": seconds, "loaded_mb": loaded,
                  "peak_mb": rss_mb(), "customers": len(table), **extra}))
"""

STEPS = {
    "transform": "transformed_features (log-standard, all customers)",
    "pca2": "pca_projection 2D",
    "pca3": "pca_projection 3D",
    "tsne": "tsne_projection (sample 5,000)",
    "tsne_stratified": "tsne_projection (sample 5,000, stratified)",
    "tsne_2_jobs": "tsne_projection (sample 5,000), n_jobs=2",
    "tsne_fft": "openTSNE FFT gradients, same sample/settings",
    "profile": "profile_segments (6 features)",
    "snake": "snake_plot_data",
    "rules": "segment_rules (depth 3, sample 100k)",
    "importances": "feature_importances (sample 50k)",
}


def _table_from_log(n_customers: int):
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from rfm_core.customers.pipeline import run_rfm
    from rfm_core.ingest.io import load_bytes
    from rfm_core.ingest.synthetic import generate_transactions

    log = generate_transactions(n_customers, random_state=0)
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(log.transactions, preserve_index=False), buffer)
    truth = log.customers
    del log
    table = run_rfm(load_bytes(buffer.getvalue(), file_name="log.parquet")).rfm.table
    groups = truth["group"].astype(str)
    groups.index = groups.index.astype("string")
    return table, groups.reindex(table.index)


def _table_from_truth(n_customers: int):
    import numpy as np
    import pandas as pd

    from rfm_core.ingest.synthetic import generate_transactions

    truth = generate_transactions(n_customers, mess=False, random_state=0).customers
    rng = np.random.default_rng(0)
    frequency = truth["frequency"].to_numpy()
    gap = np.where(frequency > 1, rng.uniform(3, 60, len(truth)), np.nan)
    span = np.nan_to_num(gap * (frequency - 1))
    table = pd.DataFrame(
        {
            "recency": truth["recency"].to_numpy(),
            "frequency": frequency,
            "monetary": truth["monetary"].to_numpy(),
            "avg_order_value": (truth["monetary"] / truth["frequency"]).round(2).to_numpy(),
            "tenure_days": (truth["recency"].to_numpy() + span.round()).astype("int64"),
            "mean_days_between_purchases": gap,
        },
        index=pd.Index(truth.index.astype("string"), name="customer_id"),
    )
    return table, truth["group"].astype(str).set_axis(table.index)


def cached_table(n_customers: int, source: str) -> Path:
    """Path of the cached Parquet table (RFM columns + ``group`` as integers), made if needed."""
    path = DATA / f"customers_{source}_{n_customers}.parquet"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    print(f"building {path.name} from the {source} (once)…", file=sys.stderr)
    started = time.perf_counter()
    build = _table_from_log if source == "log" else _table_from_truth
    table, groups = build(n_customers)
    codes = {name: code for code, name in enumerate(sorted(groups.unique()))}
    numeric = table.select_dtypes("number")
    numeric.assign(group=groups.map(codes).astype("int64")).to_parquet(path)
    print(
        f"built in {time.perf_counter() - started:.0f} s; groups {codes}",
        file=sys.stderr,
    )
    return path


def _run_step(step: str, path: Path, repeats: int, sample_size: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", STEP, step, str(path), str(repeats), str(sample_size)],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Run every step and print a table of medians and peak memory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sample-size", type=int, default=5_000)
    parser.add_argument("--source", choices=("log", "truth"), default="log")
    parser.add_argument("--steps", nargs="*", choices=list(STEPS), default=list(STEPS))
    args = parser.parse_args(argv)
    path = cached_table(args.customers, args.source)
    load = os.getloadavg()
    print(
        f"# {args.customers:,} customers (table from the {args.source}, cached {path.name}), "
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"median of {args.repeats} runs per fresh process; load average before: "
        f"{load[0]:.1f}"
    )
    print(f"{'step':<48}{'median s':>9}{'runs s':>22}{'RSS table MB':>14}{'peak MB':>9}  notes")
    for step in args.steps:
        result = _run_step(step, path, args.repeats, args.sample_size)
        notes = {
            k: v
            for k, v in result.items()
            if k not in ("median", "runs", "loaded_mb", "peak_mb", "customers")
        }
        runs = " ".join(f"{s:.2f}" for s in result["runs"])
        print(
            f"{STEPS[step]:<48}{result['median']:>9.2f}{runs:>22}"
            f"{result['loaded_mb']:>14.0f}{result['peak_mb']:>9.0f}  {notes or ''}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
