"""One command, one table: every stage of ours and of a naive notebook on every dataset.

Usage::

    python -m bench [--repeats 5] [--quick] [--naive-log-repeats 1] [--workbook PATH]
                    [--datasets NAME ...] [--write-results] [--from-raw bench/out/last_run.json]

Datasets (:mod:`bench.datasets`, cached in ``bench/data/``): the Online Retail workbook and the
generated logs of 100,000 and 1,000,000 customers as CSV and Parquet (``--quick`` skips the
million). Every measurement is a fresh process; the harness reads its wall time and its peak
resident memory from ``wait4``. Linux carries the parent's peak over ``exec`` into the child's
``ru_maxrss``, so the harness imports nothing heavy (~16 MB) and builds datasets in children.

Our stages
    ``load + clean + RFM``: seconds inside the process after its imports: the workbook through
    the in-memory path (``load_path`` + ``run_rfm``), the logs through DuckDB (``scan_file`` +
    ``rfm_on_engine``). ``rfm`` and ``segment`` CLI: wall time of ``python -m rfm_core …`` with
    its defaults (``--engine duckdb`` on the million-customer logs). ``t-SNE view``:
    ``tsne_projection`` of a 5,000-customer sample of the transformed features, after start-up,
    on the RFM table the first stage wrote.
Naive
    :mod:`bench.naive` in a fresh process, ``--repeats`` times on the workbook and
    ``--naive-log-repeats`` times on each log. Its modelling stages run on the CSV logs only
    (Parquet: read + clean + RFM); the full silhouette runs for one k on 100k customers (the
    other eight are extrapolated, marked ≈) and not at all on a million (O(n²)).

Each cell is ``median seconds (peak MB)``, MB = 2^20 bytes, the peak being the largest of the
repeats. ``--write-results`` puts the table, the machine and the command into ``bench/RESULTS.md``
between ``<!-- bench:run -->`` and ``<!-- /bench:run -->``. The raw runs are saved in
``bench/out/last_run.json``; ``--from-raw FILE`` prints (and writes) their table again without
measuring anything.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.datasets import DATA, ROOT, Dataset, all_datasets, ensure

OUT = ROOT / "bench" / "out"
RESULTS = ROOT / "bench" / "RESULTS.md"
RAW = OUT / "last_run.json"
MARKERS = ("<!-- bench:run -->", "<!-- /bench:run -->")
TSNE_SAMPLE = 5_000
RFM_ROW = "**load + clean + RFM**, after start-up (ours)"
SEGMENT_ROW = "**`segment` CLI, wall** (ours; recommended k, anomalies)"
SEGMENT_RATIO_ROW = "ratio naive / `segment`"
TSNE_ROW = "**t-SNE view** (ours, openTSNE, 5,000 sample), after start-up"
NAIVE_STAGES = {
    "read": "naive · read (openpyxl / read_csv / read_parquet)",
    "clean": "naive · clean (dropna, C-invoices, > 0, drop_duplicates)",
    "rfm (groupby lambdas)": "naive · RFM, groupby with lambdas",
    "kmeans k=2..10": "naive · k-means n_init=10, k = 2..10",
    "gmm sweep k=2..10": "naive · GMM sweep k = 2..10, BIC/AIC",
    "isolation forest": "naive · IsolationForest",
}


# --- measuring ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One finished process: wall seconds, peak RSS and the JSON of its last line, if any."""

    wall: float
    peak_mb: float
    info: dict
    error: str = ""


@dataclass
class Measure:
    """Repeated runs of one stage on one dataset."""

    runs: list[Run] = field(default_factory=list)

    @property
    def failed(self) -> str:
        """The first error, or ``""``."""
        return next((run.error for run in self.runs if run.error), "")

    def median(self, value: Callable[[Run], float]) -> float:
        """Median of ``value`` over the runs."""
        return statistics.median(value(run) for run in self.runs)

    @property
    def peak_mb(self) -> float:
        """Largest peak RSS of the runs."""
        return max(run.peak_mb for run in self.runs)


def measure(command: list[str], *, cwd: Path = ROOT) -> Run:
    """Run ``command`` in ``cwd``; wall time from start to exit, peak RSS from ``wait4``."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    peak_mb = usage.ru_maxrss / 1024
    if process.returncode != 0:
        last = (stderr.strip().splitlines() or ["(no output)"])[-1]
        return Run(wall, peak_mb, {}, f"exit {process.returncode}: {last}")
    lines = stdout.strip().splitlines()
    info = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    return Run(wall, peak_mb, info)


def repeat(command: list[str], times: int, label: str) -> Measure:
    """Run ``command`` ``times`` times (stopping at the first failure) and log each run."""
    result = Measure()
    for _ in range(times):
        run = measure(command)
        result.runs.append(run)
        inner = run.info.get("seconds")
        shown = f"{inner:.2f} s inside, " if isinstance(inner, float) else ""
        shown = run.error or f"{shown}{run.peak_mb:,.0f} MB"
        print(f"  {label}: wall {run.wall:.2f} s; {shown}", file=sys.stderr, flush=True)
        if run.error:
            break
    return result


# --- the stages --------------------------------------------------------------------------------


def rfm_table_path(dataset: Dataset) -> Path:
    """Where the RFM stage leaves the per-customer table for the t-SNE stage."""
    return DATA / f"rfm_{dataset.name}.parquet"


def _worker(stage: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "bench.run", "--worker", stage, *args]


def _cli(command: str, dataset: Dataset) -> list[str]:
    engine = ["--engine", "duckdb"] if dataset.large else []
    output = str(OUT / f"{command}_{dataset.name}.csv")
    return [sys.executable, "-m", "rfm_core", command, str(dataset.path), *engine, "-o", output]


def naive_command(dataset: Dataset) -> list[str]:
    """The naive notebook's options for this dataset (see the module docstring)."""
    command = [sys.executable, "-m", "bench.naive", str(dataset.path)]
    command += ["-o", str(OUT / f"naive_{dataset.name}.csv")]
    if dataset.kind == "parquet":
        return [*command, "--rfm-only"]
    if dataset.customers is None:
        return [*command, "--silhouette", "all", "--tsne"]
    return [*command, "--silhouette", "none" if dataset.large else "first"]


def shows_tsne(dataset: Dataset) -> bool:
    """Parquet logs hold the same customers as their CSV twin: one t-SNE per size suffices."""
    return dataset.kind != "parquet"


def run_dataset(dataset: Dataset, args: argparse.Namespace) -> dict[str, Measure]:
    """Every stage on one dataset; keyed by stage name."""
    ensure(dataset)
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"{dataset.label} ({dataset.path.name})", file=sys.stderr, flush=True)
    found = {
        "rfm": repeat(
            _worker("rfm", str(dataset.path), str(rfm_table_path(dataset))), args.repeats, "rfm"
        ),
        "rfm_cli": repeat(_cli("rfm", dataset), args.repeats, "rfm CLI"),
        "segment_cli": repeat(_cli("segment", dataset), args.repeats, "segment CLI"),
    }
    if shows_tsne(dataset) and not found["rfm"].failed:
        found["tsne"] = repeat(
            _worker("tsne", str(rfm_table_path(dataset))), args.repeats, "t-SNE view"
        )
    naive_repeats = args.repeats if dataset.customers is None else args.naive_log_repeats
    found["naive"] = repeat(naive_command(dataset), naive_repeats, "naive")
    return found


# --- the workers (run in the measured child processes) ------------------------------------------


def worker_rfm(path: str, table_out: str) -> None:
    """Load, clean and aggregate; print the seconds after imports; save the table once."""
    import warnings

    from rfm_core.customers.engine import connect, rfm_on_engine, scan_file
    from rfm_core.customers.pipeline import run_rfm
    from rfm_core.ingest.io import load_path

    warnings.simplefilter("ignore", UserWarning)
    started = time.perf_counter()
    if Path(path).suffix.lower() in (".csv", ".parquet"):
        source = scan_file(path, backend=connect("duckdb"))
        table, engine = rfm_on_engine(source, name=Path(path).name).rfm.table, "duckdb"
    else:
        table, engine = run_rfm(load_path(path)).rfm.table, "memory"
    seconds = time.perf_counter() - started
    if not Path(table_out).exists():
        table.to_parquet(table_out)
    print(json.dumps({"seconds": seconds, "customers": len(table), "engine": engine}))


def worker_tsne(table_path: str) -> None:
    """t-SNE view of a 5,000-customer sample; print the seconds of ``tsne_projection``."""
    import pandas as pd

    from rfm_core.segments.embedding import tsne_projection
    from rfm_core.segments.features import transformed_features

    features = transformed_features(pd.read_parquet(table_path))
    started = time.perf_counter()
    shown = tsne_projection(features, sample_size=TSNE_SAMPLE).n_shown
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "shown": shown, "customers": len(features)}))


WORKERS = {"rfm": worker_rfm, "tsne": worker_tsne}


# --- the table ---------------------------------------------------------------------------------

Results = dict[str, dict[str, Measure]]  # dataset name → stage → runs


def _seconds(run: Run) -> float:
    return run.info["seconds"]


def _wall(run: Run) -> float:
    return run.wall


def _naive_part(*stages: str) -> Callable[[Run], float]:
    return lambda run: sum(run.info["seconds"].get(stage, 0.0) for stage in stages)


def _naive_tsne(run: Run) -> float:
    return run.info["seconds"]["t-SNE"]


def _naive_without_tsne(run: Run) -> float:
    """Wall time of the naive process less its t-SNE (the last stage)."""
    return run.wall - run.info["seconds"].get("t-SNE", 0.0)


@dataclass(frozen=True)
class Cell:
    """A value (seconds or ratio; None when not measured), its text, a qualifier ('', '≈' or
    '≥') and the peak memory in MB when it was measured."""

    value: float | None
    text: str
    qualifier: str = ""
    peak_mb: float | None = None


def _fmt(seconds: float) -> str:
    """Three significant figures or so: 1.23, 12.3, 123."""
    decimals = 2 if seconds < 10 else 1 if seconds < 100 else 0
    return f"{seconds:,.{decimals}f}"


def timed(measure_: Measure | None, value: Callable[[Run], float], *, peak: bool = True) -> Cell:
    """Median cell with the peak memory, or why there is none."""
    if measure_ is None:
        return Cell(None, "—")
    if measure_.failed:
        return Cell(None, f"failed ({measure_.failed[:60]})")
    seconds = measure_.median(value)
    memory = f" ({measure_.peak_mb:,.0f})" if peak else ""
    return Cell(seconds, _fmt(seconds) + memory, peak_mb=measure_.peak_mb)


def ratio(naive: Cell, ours: Cell) -> Cell:
    """``naive / ours`` with the naive cell's qualifier."""
    if naive.value is None or ours.value is None or ours.value == 0:
        return Cell(None, "—")
    value = naive.value / ours.value
    shown = f"{value:,.1f}×" if value < 10 else f"{value:,.0f}×"
    return Cell(value, f"{naive.qualifier} {shown}".strip(), naive.qualifier)


def silhouette_cell(naive: Measure | None, one_k_at_100k: float | None, customers: int) -> Cell:
    """Full silhouette over k = 2..10: measured, extrapolated from one k, or infeasible."""
    computed = _silhouettes(naive)
    if computed == 9:
        return timed(naive, _naive_part("silhouette"), peak=False)
    if computed == 1:
        one_k = naive.median(_naive_part("silhouette"))
        return Cell(one_k * 9, f"{_fmt(one_k)} for k=2 → ≈ {_fmt(one_k * 9)}", "≈")
    if computed == 0 and customers >= 1_000_000:
        if one_k_at_100k is None:
            return Cell(None, "infeasible, O(n²)")
        guess = one_k_at_100k * (customers / 100_000) ** 2 * 9
        return Cell(None, f"infeasible, O(n²): ≈ {guess / 3600:,.0f} h")
    return Cell(None, "—")


def naive_total_cell(naive: Measure | None) -> Cell:
    """Naive wall time without t-SNE; ≈ with the eight silhouettes not run, ≥ without any."""
    computed = _silhouettes(naive)
    if computed is None:
        return Cell(None, "—")
    wall = naive.median(_naive_without_tsne)
    peak = f" ({naive.peak_mb:,.0f})"
    if computed == 1:
        total = wall + 8 * naive.median(_naive_part("silhouette"))
        return Cell(total, f"≈ {_fmt(total)}{peak}", "≈")
    if computed == 0:
        return Cell(wall, f"≥ {_fmt(wall)}{peak}", "≥")
    return Cell(wall, _fmt(wall) + peak)


def _silhouettes(naive: Measure | None) -> int | None:
    """How many full silhouettes the naive run computed (None: no modelling ran)."""
    if naive is None or naive.failed:
        return None
    return naive.runs[0].info.get("silhouettes")


def build_rows(datasets: list[Dataset], results: Results) -> list[tuple[str, list[Cell]]]:
    """The rows of the table, one list of cells per row in dataset order."""
    one_k = _one_silhouette_at_100k(datasets, results)
    rows: dict[str, list[Cell]] = {}
    for dataset in datasets:
        found = results[dataset.name]
        naive = found.get("naive")
        ours_rfm = timed(found.get("rfm"), _seconds)
        naive_rfm = _naive_rfm_cell(naive)
        silhouette = silhouette_cell(naive, one_k, dataset.customers or 0)
        naive_total = naive_total_cell(naive)
        segment = timed(found.get("segment_cli"), _wall)
        tsne = timed(found.get("tsne"), _seconds) if shows_tsne(dataset) else Cell(None, "= CSV")
        naive_tsne = _naive_tsne_cell(naive, dataset)
        cells = {
            "input: lines, customers, file size": _input_cell(dataset, naive),
            RFM_ROW: ours_rfm,
            "naive load + clean + RFM, after imports": naive_rfm,
            "ratio naive / ours": ratio(naive_rfm, ours_rfm),
            "`rfm` CLI, wall (ours)": timed(found.get("rfm_cli"), _wall),
            SEGMENT_ROW: segment,
            "naive pipeline without t-SNE, wall": naive_total,
            SEGMENT_RATIO_ROW: ratio(naive_total, segment),
            TSNE_ROW: tsne,
            "naive scikit-learn t-SNE, all customers": naive_tsne,
            "ratio naive / ours (t-SNE)": ratio(naive_tsne, tsne),
        }
        for stage, label in NAIVE_STAGES.items():
            cells[label] = _naive_stage_cell(naive, stage)
        cells["naive · full silhouette, k = 2..10"] = silhouette
        for label, cell in cells.items():
            rows.setdefault(label, []).append(cell)
    return list(rows.items())


def _input_cell(dataset: Dataset, naive: Measure | None) -> Cell:
    """Lines and customers (as the naive run counted them) and the size of the file."""
    size = f"{dataset.path.stat().st_size / 1e6:,.0f} MB" if dataset.path.exists() else "?"
    if naive is None or naive.failed:
        return Cell(None, size)
    info = naive.runs[0].info
    return Cell(None, f"{info['rows_in']:,} lines, {info['customers']:,} customers, {size}")


def _naive_rfm_cell(naive: Measure | None) -> Cell:
    return timed(naive, _naive_part("read", "clean", "rfm (groupby lambdas)"), peak=False)


def _naive_tsne_cell(naive: Measure | None, dataset: Dataset) -> Cell:
    if dataset.customers is None:
        return timed(naive, _naive_tsne, peak=False)
    if dataset.kind == "parquet":
        return Cell(None, "—")
    return Cell(None, "not run (hours)" if dataset.large else "not run")


def _naive_stage_cell(naive: Measure | None, stage: str) -> Cell:
    if naive is None or naive.failed or stage not in naive.runs[0].info["seconds"]:
        return Cell(None, "—")
    return timed(naive, _naive_part(stage), peak=False)


def _one_silhouette_at_100k(datasets: list[Dataset], results: Results) -> float | None:
    """Seconds of the full silhouette for one k on 100,000 customers, if measured in this run."""
    for dataset in datasets:
        naive = results[dataset.name].get("naive")
        if dataset.customers == 100_000 and _silhouettes(naive) == 1:
            return naive.median(_naive_part("silhouette"))
    return None


# --- targets -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bound:
    """One limit of the issue on the figure of a row: seconds, MB (``memory``) or a ratio."""

    row: str
    limit: float
    unit: str = "s"
    memory: bool = False

    def figure(self, cell: Cell) -> float | None:
        """The checked value of ``cell``."""
        return cell.peak_mb if self.memory else cell.value

    def text(self, value: float) -> str:
        """The figure with its unit."""
        if self.unit == "×":
            return f"{value:,.1f}×"
        return f"{value:,.0f} MB" if self.memory else f"{value:,.2f} s"

    def holds(self, value: float) -> bool:
        """Ratios must reach the limit; seconds and MB must stay under it."""
        return value >= self.limit if self.unit == "×" else value <= self.limit


@dataclass(frozen=True)
class Target:
    """A goal of the issue on one dataset, shown in the target column of ``row``."""

    row: str
    dataset: str
    text: str
    bounds: tuple[Bound, ...]


TARGETS = [
    Target(RFM_ROW, "online_retail", "OR ≤ 1.5 s", (Bound(RFM_ROW, 1.5),)),
    Target(
        RFM_ROW,
        "log_1m_csv",
        "1M CSV ≤ 3 s and ≤ 3 GB",
        (Bound(RFM_ROW, 3), Bound(RFM_ROW, 3 * 1024, "MB", memory=True)),
    ),
    Target(
        SEGMENT_ROW,
        "online_retail",
        "OR ≤ 5 s and ≥ 10× naive",
        (Bound(SEGMENT_ROW, 5), Bound(SEGMENT_RATIO_ROW, 10, "×")),
    ),
    Target(SEGMENT_ROW, "log_1m_csv", "1M CSV ≤ 40 s", (Bound(SEGMENT_ROW, 40),)),
    Target(TSNE_ROW, "online_retail", "OR ≤ 8 s", (Bound(TSNE_ROW, 8),)),
    Target(TSNE_ROW, "log_100k_csv", "100k ≤ 8 s", (Bound(TSNE_ROW, 8),)),
    Target(TSNE_ROW, "log_1m_csv", "1M ≤ 8 s", (Bound(TSNE_ROW, 8),)),
]


def verdict(target: Target, cells: list[Cell]) -> str:
    """``"goal: met (figures)"``, ``"goal: **NOT met** (figures)"`` or ``"not measured"``."""
    figures = [bound.figure(cell) for bound, cell in zip(target.bounds, cells, strict=True)]
    if any(value is None for value in figures):
        return f"{target.text}: not measured"
    met = all(bound.holds(value) for bound, value in zip(target.bounds, figures, strict=True))
    shown = ", ".join(
        bound.text(value) for bound, value in zip(target.bounds, figures, strict=True)
    )
    return f"{target.text}: {'met' if met else '**NOT met**'} ({shown})"


def target_notes(datasets: list[Dataset], rows: dict[str, list[Cell]]) -> dict[str, str]:
    """Row label → the verdicts of the targets shown on that row, for the datasets measured."""
    names = [dataset.name for dataset in datasets]
    notes: dict[str, list[str]] = {}
    for target in TARGETS:
        if target.dataset in names:
            column = names.index(target.dataset)
            cells = [rows[bound.row][column] for bound in target.bounds]
            notes.setdefault(target.row, []).append(verdict(target, cells))
    return {row: "; ".join(texts) for row, texts in notes.items()}


def markdown_table(datasets: list[Dataset], results: Results) -> str:
    """The results as one markdown table, a target column last."""
    rows = build_rows(datasets, results)
    notes = target_notes(datasets, dict(rows))
    header = ["stage", *(dataset.label for dataset in datasets), "target"]
    lines = ["| " + " | ".join(header) + " |", "| --- |" + " ---: |" * len(datasets) + " --- |"]
    for label, cells in rows:
        texts = [cell.text for cell in cells]
        lines.append("| " + " | ".join([label, *texts, notes.get(label, "")]) + " |")
    return "\n".join(lines)


# --- machine and RESULTS.md ----------------------------------------------------------------------


def machine() -> str:
    """CPU model, cores, RAM, OS, Python and the date."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line),
        platform.processor() or "unknown CPU",
    )
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    kib = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    return (
        f"{model} ({platform.machine()}), {os.cpu_count()} cores, {kib / 2**20:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}; "
        f"{dt.date.today().isoformat()}"
    )


def load_average() -> str:
    """1-minute load average: whether other work shared the machine during the run."""
    return f"{os.getloadavg()[0]:.1f}"


def report(
    table: str, *, command: str, seconds: float, loads: tuple[str, str], repeats: tuple[int, int]
) -> str:
    """The section written to RESULTS.md (and printed)."""
    return "\n".join(
        [
            "## One-command harness: our pipeline beside a naive notebook",
            "",
            f"Machine: {machine()}.",
            f"Command: `{command}`; the whole harness took {seconds / 60:.1f} min "
            f"(1-minute load average {loads[0]} at the start, {loads[1]} at the end; the "
            "harness itself keeps about one of the two cores busy).",
            "",
            f"Each cell: median seconds of {repeats[0]} fresh processes (naive on the generated"
            f" logs: {repeats[1]}), and in parentheses the peak RSS in MB (2^20 "
            "bytes, the largest of the repeats, read with `wait4`). ≈: extrapolated from a "
            "measured part; ≥: the part that could run (the rest is infeasible).",
            "",
            table,
            "",
            NOTES,
        ]
    )


NOTES = """\
- Ours, load + clean + RFM: the workbook through the in-memory path (`load_path` + `run_rfm`),
  the logs through DuckDB (`scan_file` + `rfm_on_engine`), timed after the imports. The CLI rows
  are wall times with defaults, `--engine duckdb` on the million-customer logs.
- Naive (`bench/naive.py`): openpyxl / `read_csv` / `read_parquet`; dropna, `C` invoices,
  quantity and price > 0, `drop_duplicates`; `groupby(...).agg` with lambdas; log1p +
  `StandardScaler`; k-means `n_init=10` with the full silhouette for k = 2..10; GMM sweep with
  BIC/AIC; `IsolationForest(contamination=0.02)`; CSV written; scikit-learn t-SNE last and
  excluded from "without t-SNE". On Parquet only read + clean + RFM runs. On 100k customers the
  full silhouette runs for k = 2 and the other eight are extrapolated (×9); on 1M it is not run:
  the extrapolation (×100 for n², ×9 for k) comes from the 100k measurement of the same run.
- Generated logs: `generate_transactions(n, random_state=1)`, CSV unquoted with
  `%Y-%m-%d %H:%M` dates; the t-SNE view of a Parquet log is the CSV's (same customers).
- Lines and customers in the first row are the naive reader's counts (lines before cleaning,
  customers after it)."""


def write_results(section: str) -> None:
    """Replace (or append) the delimited section of ``bench/RESULTS.md``."""
    start, end = MARKERS
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    block = f"{start}\n{section}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    RESULTS.write_text(text, encoding="utf-8")


# --- command line -------------------------------------------------------------------------------


def parse(argv: list[str] | None) -> argparse.Namespace:
    """Options of ``python -m bench``."""
    names = [dataset.name for dataset in all_datasets()]
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="fresh processes per stage")
    parser.add_argument(
        "--naive-log-repeats", type=int, default=1, help="naive runs per generated log"
    )
    parser.add_argument("--quick", action="store_true", help="skip the 1M-customer logs")
    parser.add_argument("--workbook", help="Online Retail .xlsx (default: made from Parquet)")
    parser.add_argument("--datasets", nargs="+", choices=names, help="only these datasets")
    parser.add_argument("--write-results", action="store_true", help="update bench/RESULTS.md")
    parser.add_argument(
        "--from-raw", type=Path, help=f"print the table of saved runs (e.g. {RAW.name}) instead"
    )
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def measure_all(args: argparse.Namespace) -> dict:
    """Run every stage on the chosen datasets; the raw runs, as saved in ``RAW``."""
    datasets = [
        dataset
        for dataset in all_datasets(args.workbook)
        if (not args.quick or not dataset.large)
        and (not args.datasets or dataset.name in args.datasets)
    ]
    started, load_before = time.perf_counter(), load_average()
    results = {dataset.name: run_dataset(dataset, args) for dataset in datasets}
    return {
        "datasets": [dataset.name for dataset in datasets],
        "workbook": args.workbook,
        "repeats": args.repeats,
        "naive_log_repeats": args.naive_log_repeats,
        "seconds": time.perf_counter() - started,
        "loads": [load_before, load_average()],
        "results": {
            name: {stage: [asdict(run) for run in found.runs] for stage, found in stages.items()}
            for name, stages in results.items()
        },
    }


def render(raw: dict, command: str) -> str:
    """The report section of saved raw runs."""
    by_name = {dataset.name: dataset for dataset in all_datasets(raw["workbook"])}
    datasets = [by_name[name] for name in raw["datasets"]]
    results = {
        name: {stage: Measure([Run(**run) for run in runs]) for stage, runs in stages.items()}
        for name, stages in raw["results"].items()
    }
    return report(
        markdown_table(datasets, results),
        command=command,
        seconds=raw["seconds"],
        loads=tuple(raw["loads"]),
        repeats=(raw["repeats"], raw["naive_log_repeats"]),
    )


def main(argv: list[str] | None = None) -> int:
    """Run the harness; print the table (and write it into RESULTS.md when asked)."""
    args = parse(argv)
    if args.worker:
        WORKERS[args.worker[0]](*args.worker[1:])
        return 0
    if args.from_raw:
        raw = json.loads(args.from_raw.read_text())
    else:
        raw = measure_all(args)
        raw["command"] = " ".join(["python -m bench", *(sys.argv[1:] if argv is None else argv)])
        OUT.mkdir(parents=True, exist_ok=True)
        RAW.write_text(json.dumps(raw, indent=1))
    section = render(raw, raw["command"])
    print(section)
    if args.write_results:
        write_results(section)
        print(f"\nwritten to {RESULTS.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
