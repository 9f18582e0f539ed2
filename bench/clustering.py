"""Segmentation at scale: choice of k, every method's fit and stability on 1M customers.

Usage::

    python -m bench.clustering [--repeats 3] [--customers 1000000] [--no-online-retail]

The 1M-customer table is built once from the ground truth of
``generate_transactions(n, anomaly_share=0.02, mess=False, random_state=0)``: its ``customers``
frame already holds each customer's true recency, frequency and monetary (exactly what the RFM
step computes on the clean log), and ``avg_order_value = monetary / frequency`` is derived.
Generating the log costs ~20 s and ~3 GB once; the table is cached in ``bench/data/`` (not
tracked). Each step runs in a fresh process that loads the table (not timed), runs the step
``--repeats`` times and reports the median wall time and the process's peak RSS
(``resource.getrusage``); the RSS of the loaded table alone is printed as a baseline.

The Online Retail part computes the RFM table of ``../shared/data/online_retail.parquet`` and
prints the model-selection table, the recommended k and its reason, and the segments found.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
ONLINE_RETAIL = ROOT.parent / "shared" / "data" / "online_retail.parquet"

# step name → (description, code run on the table ``t``; ``truth`` holds the planted groups)
STEPS: dict[str, tuple[str, str]] = {
    "baseline": ("load the table only", "None"),
    "select_k_kmeans": (
        "select_k, k = 2..10, k-means metrics + silhouette + stability (mixtures=False)",
        "select_k(t, mixtures=False)",
    ),
    "select_k_all": ("select_k, k = 2..10, everything (with GMM AIC/BIC)", "select_k(t)"),
    "fit_kmeans": ("Segmenter kmeans k=5", "Segmenter(method='kmeans', n_clusters=5).fit(t)"),
    "fit_gmm": ("Segmenter gmm k=5", "Segmenter(method='gmm', n_clusters=5).fit(t)"),
    "fit_bgmm": ("Segmenter bgmm ≤10 components", "Segmenter(method='bgmm', n_clusters=10).fit(t)"),
    "fit_dbscan": ("Segmenter dbscan, eps from k-distance", "Segmenter(method='dbscan').fit(t)"),
    "fit_hdbscan": ("Segmenter hdbscan", "Segmenter(method='hdbscan').fit(t)"),
    "fit_ward": (
        "Segmenter agglomerative ward k=5",
        "Segmenter(method='agglomerative', n_clusters=5).fit(t)",
    ),
    "fit_single": (
        "Segmenter agglomerative single k=5",
        "Segmenter(method='agglomerative', linkage='single', n_clusters=5).fit(t)",
    ),
    "stability": (
        "stability of kmeans k=5, 5 runs × 80 %",
        "stability(t, Segmenter(n_clusters=5), n_runs=5)",
    ),
    "k_distance": ("k_distance (min_samples=10)", "k_distance(t)"),
    "dendrogram": ("dendrogram ward (2,000-customer sample)", "dendrogram(t)"),
}


def table_path(n_customers: int) -> Path:
    """Return the cached synthetic table of ``n_customers``, building it once.

    The build runs in its own process: generating the log peaks at ~3 GB, and a child started
    afterwards from a process that large would report that peak as its own.
    """
    path = DATA / f"clustering_{n_customers}.parquet"
    if not path.exists():
        print(f"building {path} from generate_transactions({n_customers:,}) (once)…")
        subprocess.run(
            [sys.executable, "-m", "bench.clustering", "--build", str(n_customers), str(path)],
            cwd=ROOT,
            check=True,
        )
    return path


def build(n_customers: int, path: str) -> None:
    """Write the table: truth recency, frequency, monetary, derived average order, group."""
    from rfm_core.ingest.synthetic import generate_transactions

    truth = generate_transactions(n_customers, mess=False, random_state=0).customers
    table = truth[["recency", "frequency", "monetary", "group"]].copy()
    table["avg_order_value"] = table["monetary"] / table["frequency"]
    table.index = table.index.astype("string").rename("customer_id")
    DATA.mkdir(parents=True, exist_ok=True)
    table.to_parquet(path)


def worker(step: str, path: str, repeats: int) -> None:
    """Run one step ``repeats`` times in this process and print a JSON summary."""
    import pandas as pd
    from sklearn.metrics import adjusted_rand_score

    from rfm_core.segments import clustering

    frame = pd.read_parquet(path)
    truth = frame["group"]
    namespace = {name: getattr(clustering, name) for name in clustering.__all__}
    namespace["t"] = frame.drop(columns="group")
    code = STEPS[step][1]
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seconds, result = [], None
    for _ in range(repeats if step != "baseline" else 1):
        started = time.perf_counter()
        result = eval(code, namespace)
        seconds.append(time.perf_counter() - started)
    summary = {
        "seconds": seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "baseline_rss_mb": baseline / 1024,
        "note": _note(result, truth, adjusted_rand_score),
    }
    print(json.dumps(summary))


def _note(result, truth, ari) -> str:
    if result is None:
        return ""
    if hasattr(result, "recommended_k"):
        return f"recommended k = {result.recommended_k}"
    if hasattr(result, "labels_"):
        sample = "sample" if result.fitted_on_sample_ else "all"
        noise = (result.labels_ < 0).mean()
        return (
            f"fit on {result.sample_size_:,} ({sample}), {result.n_clusters_} clusters, "
            f"noise {noise:.1%}, ARI vs planted {ari(truth, result.labels_):.2f}"
        )
    if hasattr(result, "mean") and hasattr(result, "scores"):
        return f"mean ARI {result.mean:.3f}, min {result.minimum:.3f}"
    if hasattr(result, "suggested_eps"):
        return f"{result.distances.size:,} customers, eps {result.suggested_eps:.3f}"
    if hasattr(result, "linkage_matrix"):
        return f"{len(result.customer_ids):,} leaves"
    return ""


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run_step(step: str, path: Path, repeats: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "bench.clustering", "--worker", step, str(path), str(repeats)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def scale_benchmark(n_customers: int, repeats: int) -> None:
    path = table_path(n_customers)
    print(f"\n## {n_customers:,} customers × 3 features (recency, frequency, monetary)")
    print(f"table: {path.relative_to(ROOT)} (ground truth of generate_transactions, cached)")
    print(f"median of {repeats} runs per step, each step in a fresh process\n")
    print(f"| {'step':<78} | {'median s':>8} | {'peak RSS MB':>11} | note")
    print(f"| {'-' * 78} | {'-' * 8}: | {'-' * 11}: | ---")
    medians = {}
    for step, (description, _) in STEPS.items():
        summary = run_step(step, path, repeats)
        medians[step] = statistics.median(summary["seconds"])
        shown = "" if step == "baseline" else f"{medians[step]:.2f}"
        print(
            f"| {description:<78} | {shown:>8} | {summary['peak_rss_mb']:>11,.0f} | "
            f"{summary['note']}",
            flush=True,
        )
    gmm_part = medians["select_k_all"] - medians["select_k_kmeans"]
    print(f"\nGMM AIC/BIC sweep (difference of the two select_k medians): {gmm_part:.2f} s")


def online_retail() -> None:
    import pandas as pd

    from rfm_core.customers.pipeline import run_rfm
    from rfm_core.ingest.io import load_path
    from rfm_core.segments.clustering import Segmenter, select_k

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        table = run_rfm(load_path(ONLINE_RETAIL)).rfm.table
    started = time.perf_counter()
    selection = select_k(table)
    seconds = time.perf_counter() - started
    print(f"\n## Online Retail: {len(table):,} customers, select_k in {seconds:.2f} s\n")
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print(selection.table.round(3).to_string())
    print(f"\nelbow k: {selection.elbow_k}; recommended k: {selection.recommended_k}")
    print(f"reason: {selection.reason}\n")
    segmenter = Segmenter(n_clusters=selection.recommended_k).fit(table)
    profile = (
        table.assign(cluster=segmenter.labels_)
        .groupby("cluster")
        .agg(
            customers=("recency", "size"),
            recency_median=("recency", "median"),
            frequency_median=("frequency", "median"),
            monetary_median=("monetary", "median"),
        )
    )
    print("k-means segments (0 = most valuable), medians in original units:")
    print(profile.to_string())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--no-online-retail", action="store_true")
    parser.add_argument("--worker", nargs=3, metavar=("STEP", "TABLE", "REPEATS"))
    parser.add_argument("--build", nargs=2, metavar=("CUSTOMERS", "TABLE"))
    args = parser.parse_args(argv)
    if args.build:
        build(int(args.build[0]), args.build[1])
        return 0
    if args.worker:
        step, path, repeats = args.worker
        worker(step, path, int(repeats))
        return 0
    cpus = Path("/proc/cpuinfo").read_text().count("processor")
    print(f"Python {sys.version.split()[0]}; {cpus} CPUs; load average {_load()}")
    scale_benchmark(args.customers, args.repeats)
    if not args.no_online_retail:
        online_retail()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
