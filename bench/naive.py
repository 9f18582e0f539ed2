"""The straightforward notebook pipeline, as an analyst typically writes it, timed stage by stage.

Usage::

    python -m bench.naive FILE [-o OUT.csv] [--silhouette all|first|none] [--tsne] [--rfm-only]

Read with pandas (``openpyxl`` for workbooks), drop missing customers, cancellations (invoice
numbers starting with ``C``), non-positive quantities and prices and exact duplicates; RFM by
``groupby("CustomerID").agg`` with lambdas; ``log1p`` + ``StandardScaler``; k-means
(``n_init=10``) with the full silhouette for k = 2..10; a Gaussian-mixture sweep k = 2..10 with
BIC/AIC; ``IsolationForest(contamination=0.02)``; the labelled table written to CSV; then, when
asked, scikit-learn's t-SNE on every customer. No step is tuned: this is the baseline.

The last line printed is JSON: seconds per stage (after imports) and counts. The harness
(:mod:`bench.run`) measures the process's wall time and peak memory from outside.

``--silhouette first`` computes the full silhouette for k = 2 only (the cost of one k, to
extrapolate from when all nine are too slow); ``none`` skips it (a million customers: O(n²)
distance computations). The k-means fits run for every k whatever the choice.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.ensemble import IsolationForest
from sklearn.manifold import TSNE
from sklearn.metrics import silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import StandardScaler

K_RANGE = range(2, 11)
SEED = 42


class Stopwatch:
    """Seconds spent per named stage, summed when a stage runs several times."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def run(self, stage: str, work: Callable[..., Any], *args: Any) -> Any:
        """Call ``work(*args)``, add its time to ``stage`` and return its result."""
        started = time.perf_counter()
        result = work(*args)
        self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - started
        return result


def read(path: Path) -> pd.DataFrame:
    """Read the file the way a notebook does."""
    if path.suffix.lower() in (".xlsx", ".xls"):
        return pd.read_excel(path, engine="openpyxl")
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, encoding="ISO-8859-1")


def clean(df: pd.DataFrame) -> pd.DataFrame:
    """Missing customers, cancellations, non-positive quantities and prices, duplicates."""
    df = df.dropna(subset=["CustomerID"])
    df = df[~df["InvoiceNo"].astype(str).str.startswith("C")]
    df = df[(df["Quantity"] > 0) & (df["UnitPrice"] > 0)]
    df = df.drop_duplicates()
    df["InvoiceDate"] = pd.to_datetime(df["InvoiceDate"])
    return df


def rfm_table(df: pd.DataFrame) -> pd.DataFrame:
    """Recency, frequency and monetary per customer, with the usual lambdas."""
    df["TotalPrice"] = df["Quantity"] * df["UnitPrice"]
    snapshot = df["InvoiceDate"].max() + pd.Timedelta(days=1)
    rfm = df.groupby("CustomerID").agg(
        {
            "InvoiceDate": lambda x: (snapshot - x.max()).days,
            "InvoiceNo": lambda x: x.nunique(),
            "TotalPrice": lambda x: x.sum(),
        }
    )
    rfm.columns = ["Recency", "Frequency", "Monetary"]
    return rfm


def kmeans_sweep(x: np.ndarray, watch: Stopwatch, silhouette: str) -> dict[str, Any]:
    """k-means for every k (``n_init=10``) and the full silhouette as asked.

    Returns the best k by silhouette (5 when not every k was scored), its labels and the number
    of silhouettes computed.
    """
    labels, scores = {}, {}
    for k in K_RANGE:
        model = watch.run("kmeans k=2..10", _fit_kmeans, x, k)
        labels[k] = model.labels_
        if silhouette == "all" or (silhouette == "first" and k == K_RANGE[0]):
            scores[k] = watch.run("silhouette", silhouette_score, x, labels[k])
    best = max(scores, key=scores.get) if len(scores) == len(K_RANGE) else 5
    return {"best_k": best, "labels": labels[best], "silhouettes": len(scores)}


def _fit_kmeans(x: np.ndarray, k: int) -> KMeans:
    return KMeans(n_clusters=k, n_init=10, random_state=SEED).fit(x)


def gmm_sweep(x: np.ndarray) -> pd.DataFrame:
    """BIC and AIC of a Gaussian mixture for every k."""
    rows = []
    for k in K_RANGE:
        gmm = GaussianMixture(n_components=k, random_state=SEED).fit(x)
        rows.append({"k": k, "bic": gmm.bic(x), "aic": gmm.aic(x)})
    return pd.DataFrame(rows)


def run(path: Path, output: Path | None, *, silhouette: str, tsne: bool, rfm_only: bool) -> dict:
    """The whole notebook; returns the seconds per stage and a few counts."""
    watch = Stopwatch()
    raw = watch.run("read", read, path)
    kept = watch.run("clean", clean, raw)
    rfm = watch.run("rfm (groupby lambdas)", rfm_table, kept)
    summary: dict[str, Any] = {"rows_in": len(raw), "rows_kept": len(kept), "customers": len(rfm)}
    if rfm_only:
        return {"seconds": watch.seconds, **summary}
    x = watch.run("scale", lambda: StandardScaler().fit_transform(np.log1p(rfm)))
    chosen = kmeans_sweep(x, watch, silhouette)
    watch.run("gmm sweep k=2..10", lambda: gmm_sweep(x))
    flags = watch.run(
        "isolation forest",
        lambda: IsolationForest(contamination=0.02, random_state=SEED).fit_predict(x),
    )
    rfm["Segment"], rfm["Anomaly"] = chosen["labels"], flags == -1
    if output is not None:
        watch.run("write csv", lambda: rfm.to_csv(output))
    if tsne:
        watch.run("t-SNE", lambda: TSNE(n_components=2, random_state=SEED).fit_transform(x))
    summary.update(best_k=chosen["best_k"], silhouettes=chosen["silhouettes"])
    return {"seconds": watch.seconds, **summary}


def main(argv: list[str] | None = None) -> int:
    """Run the notebook on one file and print its stage times as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path)
    parser.add_argument("-o", "--output", type=Path)
    parser.add_argument("--silhouette", choices=("all", "first", "none"), default="all")
    parser.add_argument("--tsne", action="store_true", help="t-SNE on every customer, last")
    parser.add_argument("--rfm-only", action="store_true", help="stop after the RFM table")
    args = parser.parse_args(argv)
    result = run(
        args.input, args.output, silhouette=args.silhouette, tsne=args.tsne, rfm_only=args.rfm_only
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
