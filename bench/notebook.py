"""`segment` on the Online Retail workbook beside the naive notebook, in turn, in one run.

Usage::

    python -m bench.notebook [--repeats 5] [--workbook PATH] [--before DIR] [--stages]

Each round runs, in fresh processes and in a rotating order, the naive notebook
(:mod:`bench.naive` with the full silhouette, without t-SNE: the harness's "naive pipeline without
t-SNE") and ``python -m rfm_core segment WORKBOOK -o OUT.csv`` with its defaults; ``--before DIR``
adds the same command run from another checkout (``DIR/rfm_core``, e.g. ``git archive`` of an
older commit), to compare two versions on the same host at the same time. The harness
(:mod:`bench.run`) measures wall time and peak memory from outside; the figures are medians over
the rounds, the ratio is the naive median over ours (and, below it, the median of the ratios of
each round, which a change of load between rounds disturbs less).

The load average is printed at the start and the end: the machine has 2 cores shared with other
work, so compare figures within one run, not across runs. With ``--before``, the labeled CSVs of
both versions are compared byte for byte.

``--stages`` measures instead where the time of ``segment`` goes: each stage of the command,
one after the other in a fresh process (medians over ``--repeats`` processes). The command itself
overlaps the read with the imports (the file is read in a forked process) and runs the k sweep's
stability refits in a second process; the stage list shows both ways of the sweep.

The workbook is the harness's (:mod:`bench.datasets`, made once in ``bench/data/``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
from pathlib import Path

from bench.datasets import all_datasets, ensure
from bench.run import OUT, Run, load_average, machine, measure


def _commands(workbook: Path, before: Path | None) -> dict[str, tuple[list[str], Path | None]]:
    """Name → (command, working directory; None: this checkout)."""
    python = sys.executable
    runs = {
        "naive": (
            [python, "-m", "bench.naive", str(workbook), "-o", str(OUT / "notebook_naive.csv")],
            None,
        ),
        "ours": (_segment(workbook, OUT / "notebook_ours.csv"), None),
    }
    if before is not None:
        runs["before"] = (_segment(workbook, OUT / "notebook_before.csv"), before)
    return runs


def _segment(workbook: Path, output: Path) -> list[str]:
    return [sys.executable, "-m", "rfm_core", "segment", str(workbook.resolve()), "-o", str(output)]


def run_rounds(
    runs: dict[str, tuple[list[str], Path | None]], repeats: int
) -> dict[str, list[Run]]:
    """``repeats`` rounds of every command, the order rotated each round."""
    names = list(runs)
    found: dict[str, list[Run]] = {name: [] for name in names}
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            command, cwd = runs[name]
            run = measure(command) if cwd is None else measure(command, cwd=cwd)
            if run.error:
                raise SystemExit(f"{name} failed: {run.error}")
            found[name].append(run)
            print(
                f"  round {round_ + 1} {name}: {run.wall:.2f} s, {run.peak_mb:,.0f} MB",
                file=sys.stderr,
                flush=True,
            )
    return found


def summary(found: dict[str, list[Run]], loads: tuple[str, str], repeats: int) -> str:
    """Markdown: one row per command, the ratios, the machine and the load."""
    labels = {
        "naive": "naive notebook (openpyxl, pandas, scikit-learn), without t-SNE",
        "ours": "`python -m rfm_core segment` (this checkout)",
        "before": "`python -m rfm_core segment` (`--before` checkout)",
    }
    lines = [
        f"Machine: {machine()}; {repeats} rounds; 1-minute load average {loads[0]} at the start, "
        f"{loads[1]} at the end.",
        "",
        "| run | median s | min s | max s | peak MB |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, runs in found.items():
        walls = [run.wall for run in runs]
        lines.append(
            f"| {labels[name]} | {statistics.median(walls):.2f} | {min(walls):.2f} | "
            f"{max(walls):.2f} | {max(run.peak_mb for run in runs):,.0f} |"
        )
    lines.append("")
    for name in ("ours", "before"):
        if name in found:
            lines.append(f"- naive / {name}: {_ratios(found['naive'], found[name])}")
    return "\n".join(lines)


def _ratios(naive: list[Run], ours: list[Run]) -> str:
    medians = statistics.median(r.wall for r in naive) / statistics.median(r.wall for r in ours)
    paired = statistics.median(a.wall / b.wall for a, b in zip(naive, ours, strict=True))
    return (
        f"**{medians:.1f}×** (ratio of the medians; median of the per-round ratios {paired:.1f}×)"
    )


def same_output(first: Path, second: Path) -> str:
    """Whether two labeled CSVs are byte for byte the same, in words."""
    digests = [hashlib.sha256(path.read_bytes()).hexdigest()[:12] for path in (first, second)]
    if digests[0] == digests[1]:
        return f"- labeled CSVs of ours and before: identical (sha256 {digests[0]}…)"
    return f"- labeled CSVs of ours and before: **differ** ({digests[0]}… vs {digests[1]}…)"


STAGES = {
    "imports: query engine, pandas (customers.pipeline, ibis's DuckDB backend, export)": "engine",
    "imports: scikit-learn side (segments.segmentation)": "sklearn",
    "read the workbook (load_path: zip check, fastexcel, Arrow)": "read",
    "map + parse columns (prepare)": "prepare",
    "clean (Ibis on DuckDB)": "clean",
    "RFM aggregation + scores": "rfm",
    "anomaly detector (isolation forest, reasons)": "anomalies",
    "k sweep, one process (choose_k)": "sweep_1",
    "k sweep, stability refits in a second process (choose_k n_jobs=2)": "sweep_2",
    "final fit, given the sweep (reused) + profiles + names": "final",
    "final fit without the sweep's (k-means refitted) + profiles + names": "refit",
    "labeled CSV + report": "export",
}


def stages_worker(path: str) -> None:
    """Each stage of ``segment`` on ``path`` in turn; print the seconds of each as JSON."""
    import time
    import warnings

    from rfm_core.ingest.io import load_path

    warnings.simplefilter("ignore", UserWarning)
    seconds: dict[str, float] = {}

    def timed(name, work):
        started = time.perf_counter()
        result = work()
        seconds[name] = time.perf_counter() - started
        return result

    def engine_imports():
        import ibis.backends.duckdb  # noqa: F401

        import rfm_core.customers.pipeline
        import rfm_core.outputs.export  # noqa: F401

    timed("engine", engine_imports)
    timed("sklearn", lambda: __import__("rfm_core.segments.segmentation"))
    import ibis

    from rfm_core.customers.pipeline import clean, compute_rfm, prepare
    from rfm_core.outputs.export import labeled_csv, segmentation_report_dict
    from rfm_core.segments import segmentation as seg

    loaded = timed("read", lambda: load_path(path))
    transactions = timed("prepare", lambda: prepare(loaded))
    backend = ibis.duckdb.connect()
    cleaning = timed("clean", lambda: clean(transactions, None, backend=backend))
    table = timed("rfm", lambda: compute_rfm(cleaning, backend=backend)).table
    anomalies = timed("anomalies", lambda: seg.find_anomalies(table, seg.AnomalySettings()))
    settings = seg.SegmentationSettings()
    timed("sweep_1", lambda: seg.choose_k(table, settings, anomalies=anomalies))
    sweep = timed("sweep_2", lambda: seg.choose_k(table, settings, anomalies=anomalies, n_jobs=2))
    result = timed(
        "final",
        lambda: seg.segment_customers(table, settings, anomalies=anomalies, selection=sweep),
    )
    chosen = seg.SegmentationSettings(n_clusters=sweep.recommended_k)
    timed("refit", lambda: seg.segment_customers(table, chosen, anomalies=anomalies))
    timed(
        "export",
        lambda: (
            labeled_csv(seg.labeled_customers(table, result, anomalies)),
            segmentation_report_dict(result, anomalies, None),
        ),
    )
    print(json.dumps({"seconds": seconds, "customers": len(table)}))


def stage_table(runs: list[Run]) -> str:
    """Markdown: median seconds of each stage over the processes."""
    lines = ["| stage (one after the other, fresh process) | median s |", "| --- | ---: |"]
    for label, key in STAGES.items():
        value = statistics.median(run.info["seconds"][key] for run in runs)
        lines.append(f"| {label} | {value:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the rounds and print the summary."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.notebook", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--repeats", type=int, default=5, help="rounds (fresh processes each)")
    parser.add_argument("--workbook", type=Path, help="the .xlsx (default: the harness's)")
    parser.add_argument("--before", type=Path, help="another checkout to time beside this one")
    parser.add_argument("--stages", action="store_true", help="where the time goes, per stage")
    parser.add_argument("--stages-worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stages_worker:
        stages_worker(args.stages_worker)
        return 0
    dataset = all_datasets(args.workbook)[0]
    ensure(dataset)
    OUT.mkdir(parents=True, exist_ok=True)
    load_before = load_average()
    if args.stages:
        command = [sys.executable, "-m", "bench.notebook", "--stages-worker", str(dataset.path)]
        runs = run_rounds({"stages": (command, None)}, args.repeats)["stages"]
        print(f"Machine: {machine()}; 1-minute load average {load_before} at the start, "
              f"{load_average()} at the end; {args.repeats} processes.\n")  # fmt: skip
        print(stage_table(runs))
        return 0
    found = run_rounds(_commands(dataset.path, args.before), args.repeats)
    text = summary(found, (load_before, load_average()), args.repeats)
    if args.before is not None:
        text += "\n" + same_output(OUT / "notebook_ours.csv", OUT / "notebook_before.csv")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
