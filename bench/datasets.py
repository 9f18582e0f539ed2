"""The benchmark's datasets, made once and cached in ``bench/data/`` (not tracked).

* ``online_retail``: the real Online Retail workbook (541,909 rows), written once from
  ``../shared/data/online_retail.parquet`` by :func:`bench.ingest.workbook_path`, or a given path.
* ``log_100k_csv`` / ``log_100k_parquet`` / ``log_1m_csv`` / ``log_1m_parquet``: the log of
  :func:`rfm_core.ingest.synthetic.generate_transactions` ``(n, random_state=1)`` for 100,000 and
  1,000,000 customers, written like a shop export: CSV unquoted unless a value needs it, dates
  ``%Y-%m-%d %H:%M``, and the same rows as Parquet.

Building runs in a child process (``python -m bench.datasets NAME``): generating a million
customers peaks at ~3 GB, and the harness must stay small so that the peak memory it reads for
its own children is theirs alone.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
CSV_DATE_FORMAT = "%Y-%m-%d %H:%M"
SYNTHETIC_SEED = 1

__all__ = ["Dataset", "all_datasets", "ensure"]


@dataclass(frozen=True)
class Dataset:
    """One input file of the benchmark.

    Attributes
    ----------
    name : str
        Key used on the command line and in file names.
    label : str
        Column heading of the results table.
    path : Path
    kind : {"xlsx", "csv", "parquet"}
    customers : int or None
        Customers generated (None for the real workbook).
    """

    name: str
    label: str
    path: Path
    kind: str
    customers: int | None = None

    @property
    def large(self) -> bool:
        """Whether this is a million-customer log (skipped by ``--quick``)."""
        return (self.customers or 0) >= 1_000_000


def synthetic_path(customers: int, kind: str) -> Path:
    """Cached file of the generated log of ``customers`` customers (``csv`` or ``parquet``)."""
    return DATA / f"log_{customers}_seed{SYNTHETIC_SEED}.{kind}"


def all_datasets(workbook: str | Path | None = None) -> list[Dataset]:
    """Every dataset of the benchmark, in table order."""
    from bench.ingest import DATA as INGEST_DATA

    book = Path(workbook) if workbook else INGEST_DATA / "online_retail.xlsx"
    datasets = [Dataset("online_retail", "Online Retail .xlsx", book, "xlsx")]
    for customers, short in ((100_000, "100k"), (1_000_000, "1M")):
        for kind, heading in (("csv", "CSV"), ("parquet", "Parquet")):
            datasets.append(
                Dataset(
                    f"log_{short.lower()}_{kind}",
                    f"{short} customers {heading}",
                    synthetic_path(customers, kind),
                    kind,
                    customers,
                )
            )
    return datasets


def ensure(dataset: Dataset) -> None:
    """Make the dataset's file in a child process if it is not there yet."""
    if dataset.path.exists():
        return
    print(f"making {dataset.path.relative_to(ROOT)} (once)…", file=sys.stderr, flush=True)
    argument = "online_retail" if dataset.customers is None else str(dataset.customers)
    subprocess.run([sys.executable, "-m", "bench.datasets", argument], cwd=ROOT, check=True)


def build_synthetic(customers: int) -> None:
    """Generate the log once and write both its CSV and its Parquet file."""
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    from rfm_core.ingest.synthetic import generate_transactions

    started = time.perf_counter()
    log = generate_transactions(customers, random_state=SYNTHETIC_SEED).transactions
    arrow_log = pa.Table.from_pandas(log, preserve_index=False)
    del log
    DATA.mkdir(parents=True, exist_ok=True)
    csv, parquet = synthetic_path(customers, "csv"), synthetic_path(customers, "parquet")
    pq.write_table(arrow_log, _partial(parquet))
    # DuckDB quotes only the values that need it, as a shop's export does
    duckdb.sql(
        f"COPY arrow_log TO '{_partial(csv)}' "
        f"(HEADER, DELIMITER ',', TIMESTAMPFORMAT '{CSV_DATE_FORMAT}')"
    )
    _partial(parquet).rename(parquet)
    _partial(csv).rename(csv)
    sizes = (
        f"CSV {csv.stat().st_size / 1e6:,.0f} MB, Parquet {parquet.stat().st_size / 1e6:,.0f} MB"
    )
    print(
        f"{arrow_log.num_rows:,} rows, {customers:,} customers: {sizes} "
        f"in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )


def _partial(path: Path) -> Path:
    """Where a file is written before it is complete (an interrupted build leaves no cache)."""
    return path.with_name(path.name + ".partial")


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.datasets online_retail|N``: make one dataset."""
    what = (argv if argv is not None else sys.argv[1:])[0]
    if what == "online_retail":
        from bench.ingest import workbook_path

        workbook_path(None)
    else:
        build_synthetic(int(what))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
