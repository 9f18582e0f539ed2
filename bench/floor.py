"""The DuckDB floor: our whole ``rfm`` command beside one SQL statement, in the same run.

Usage::

    python -m bench.floor [--repeats 5] [--dataset log_1m_csv] [--sample 2000]

The floor is what DuckDB alone needs for the job: one statement that reads the same CSV, drops
exact duplicates by grouping on a 64-bit hash of all columns (no check that the rows of a hash
group are really equal), keeps the purchases (customer id, date, quantity and price > 0, invoice
not starting with ``C``) and aggregates per customer: recency (days from the last purchase to the
day after the last purchase of all), frequency (distinct invoices) and monetary (the sum of
quantity × price, summed in ten-thousandths and rounded to cents as ours is). It counts no removal
reason, trims nothing and keeps every value as DuckDB's sniffer typed it.

Ours is ``python -m rfm_core rfm FILE -o OUT.csv``, the whole command: start-up, imports, column
detection, cleaning with every removal reason counted, exact duplicates removed exactly, RFM,
scores, segments and the CSV written.

Every measurement is a fresh process, the two alternating (which goes first alternates too), so
that load from other work on the machine falls on both. The floor is the statement's own seconds
(measured inside its process, without start-up: the stricter comparison); ours is the command's
wall time. Peak memory is read with ``wait4``. The ratio is ours / floor of the medians; each
pair's own ratio is printed as well. Once per run the floor's RFM values are compared with ours
on a seeded sample of customers, so that the floor is known to compute the same thing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.datasets import Dataset, all_datasets, ensure
from bench.run import OUT, Measure, load_average, measure

# the roles of the generated logs' columns (Online Retail layout)
ROLES = {
    "customer": "CustomerID",
    "invoice": "InvoiceNo",
    "date": "InvoiceDate",
    "quantity": "Quantity",
    "price": "UnitPrice",
}
DEFAULT_DATASET = "log_1m_csv"
RFM_VALUES = ("recency", "frequency", "monetary")


def floor_sql(path: str | Path, columns: list[str], roles: dict[str, str] = ROLES) -> str:
    """The floor statement: hash dedupe, purchases, recency/frequency/monetary per customer.

    Parameters
    ----------
    path : str or Path
        A CSV or Parquet file.
    columns : list of str
        All its columns (the dedupe hashes every one).
    roles : dict
        Column of ``customer, invoice, date, quantity, price``.

    Returns
    -------
    str
        One SQL statement; its result has ``customer_id, recency, frequency, monetary``.
    """
    source = str(path).replace("'", "''")
    reader = "read_parquet" if str(path).lower().endswith(".parquet") else "read_csv"
    every = ", ".join(_quoted(c) for c in columns)
    picked = ", ".join(f"any_value({_quoted(column)}) AS {role}" for role, column in roles.items())
    return f"""
WITH lines AS (
    SELECT {picked} FROM {reader}('{source}') GROUP BY hash({every})
), purchases AS (
    SELECT * FROM lines
    WHERE customer IS NOT NULL AND date IS NOT NULL AND quantity > 0 AND price > 0
      AND NOT starts_with(coalesce(invoice::VARCHAR, ''), 'C')
), customers AS (
    SELECT customer, max(date) AS last_date, count(DISTINCT invoice) AS frequency,
           sum(round(quantity * price * 10000)::BIGINT) AS units
    FROM purchases GROUP BY customer
)
SELECT customer::VARCHAR AS customer_id,
       date_diff('day', last_date::DATE, max(last_date) OVER ()::DATE + 1) AS recency,
       frequency, round(units / 10000, 2) AS monetary
FROM customers
"""


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def worker(path: str, save: str | None) -> None:
    """Run the floor statement in this process; print its seconds (and save its result)."""
    import duckdb

    connection = duckdb.connect()
    columns = [row[0] for row in connection.execute(f"DESCRIBE {_reader_of(path)}").fetchall()]
    statement = floor_sql(path, columns)
    started = time.perf_counter()
    result = connection.execute(statement).to_arrow_table()
    seconds = time.perf_counter() - started
    if save:
        import pyarrow.parquet as pq

        pq.write_table(result, save)
    print(json.dumps({"seconds": seconds, "customers": result.num_rows}))


def _reader_of(path: str) -> str:
    source = path.replace("'", "''")
    reader = "read_parquet" if path.lower().endswith(".parquet") else "read_csv"
    return f"SELECT * FROM {reader}('{source}')"


def floor_command(dataset: Dataset, *, save: Path | None = None) -> list[str]:
    """The command of one floor measurement (``save``: where to write its per-customer table)."""
    command = [sys.executable, "-m", "bench.floor", "--worker", str(dataset.path)]
    return [*command, "--save", str(save)] if save else command


def rfm_command(dataset: Dataset, output: Path) -> list[str]:
    """Our ``rfm`` command with its defaults (DuckDB for a large CSV or Parquet file)."""
    return [sys.executable, "-m", "rfm_core", "rfm", str(dataset.path), "-o", str(output)]


@dataclass(frozen=True)
class Pair:
    """Interleaved measurements of the floor and of our command on one dataset."""

    floor: Measure
    ours: Measure
    floor_table: Path
    ours_table: Path

    @property
    def ratio(self) -> float:
        """Median wall time of ours / median statement seconds of the floor."""
        return self.ours.median(_wall) / self.floor.median(_seconds)

    def pair_ratios(self) -> list[float]:
        """Each repeat's own ratio (ours / the floor measured next to it)."""
        return [
            ours.wall / floor.info["seconds"]
            for floor, ours in zip(self.floor.runs, self.ours.runs, strict=False)
        ]


def _wall(run) -> float:
    return run.wall


def _seconds(run) -> float:
    return run.info["seconds"]


def measure_pair(dataset: Dataset, repeats: int, *, log=print) -> Pair:
    """Measure the floor and our command ``repeats`` times each, alternating; stop on failure."""
    ensure(dataset)
    OUT.mkdir(parents=True, exist_ok=True)
    floor_table = OUT / f"floor_{dataset.name}.parquet"
    ours_table = OUT / f"rfm_{dataset.name}.csv"
    floor, ours = Measure(), Measure()
    for i in range(repeats):
        commands = [
            ("floor", floor, floor_command(dataset, save=floor_table if i == 0 else None)),
            ("rfm CLI", ours, rfm_command(dataset, ours_table)),
        ]
        for label, found, command in commands if i % 2 == 0 else commands[::-1]:
            run = measure(command)
            found.runs.append(run)
            inner = run.info.get("seconds")
            shown = f"statement {inner:.2f} s, " if isinstance(inner, float) else ""
            log(f"  {label}: wall {run.wall:.2f} s; {run.error or shown}{run.peak_mb:,.0f} MB")
            if run.error:
                return Pair(floor, ours, floor_table, ours_table)
    return Pair(floor, ours, floor_table, ours_table)


def compare_tables(ours_csv: Path, floor_parquet: Path, *, sample: int, seed: int = 0) -> dict:
    """Compare the floor's recency, frequency and monetary with ours on a sample of customers.

    Parameters
    ----------
    ours_csv : Path
        The CSV our ``rfm`` command wrote.
    floor_parquet : Path
        The floor's result.
    sample : int
        Customers compared (drawn with ``seed`` from ours).
    seed : int

    Returns
    -------
    dict
        ``customers_ours, customers_floor, compared, equal`` and up to five ``differences``.
    """
    import pandas as pd

    ours = pd.read_csv(ours_csv, dtype={"customer_id": "string"}).set_index("customer_id")
    floor = pd.read_parquet(floor_parquet).set_index("customer_id")
    floor.index = floor.index.astype("string")
    picked = ours.sample(n=min(sample, len(ours)), random_state=seed)
    theirs = floor[list(RFM_VALUES)].add_suffix("_floor")
    joined = picked[list(RFM_VALUES)].join(theirs, how="left")
    same = pd.Series(True, index=joined.index)
    for column in RFM_VALUES:
        same &= joined[column].astype("float64") == joined[f"{column}_floor"].astype("float64")
    differences = joined[~same].head(5).reset_index().to_dict(orient="records")
    return {
        "customers_ours": len(ours),
        "customers_floor": len(floor),
        "compared": len(joined),
        "equal": int(same.sum()),
        "differences": [{k: str(v) for k, v in row.items()} for row in differences],
    }


def summary(dataset: Dataset, pair: Pair, check: dict, loads: tuple[str, str]) -> str:
    """The measured figures as markdown lines."""
    floor_s, ours_s = pair.floor.median(_seconds), pair.ours.median(_wall)
    floor_wall = pair.floor.median(_wall)
    pairs = ", ".join(f"{r:.2f}" for r in pair.pair_ratios())
    return "\n".join(
        [
            f"- {dataset.label} (`{dataset.path.name}`), {len(pair.ours.runs)} pairs, "
            f"1-minute load average {loads[0]} before and {loads[1]} after",
            f"- floor statement: median {floor_s:.2f} s (its process: {floor_wall:.2f} s wall, "
            f"peak {pair.floor.peak_mb:,.0f} MB)",
            f"- `rfm` command: median {ours_s:.2f} s wall, peak {pair.ours.peak_mb:,.0f} MB",
            f"- ratio ours / floor: **{pair.ratio:.2f}×** (each pair: {pairs})",
            f"- floor = ours on {check['equal']:,} of {check['compared']:,} sampled customers "
            f"(customers: ours {check['customers_ours']:,}, floor {check['customers_floor']:,})",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Measure the floor beside our command; print the figures (and JSON as the last line)."""
    names = [dataset.name for dataset in all_datasets() if dataset.kind != "xlsx"]
    parser = argparse.ArgumentParser(
        prog="python -m bench.floor", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--repeats", type=int, default=5, help="pairs of fresh processes")
    parser.add_argument("--dataset", choices=names, default=DEFAULT_DATASET)
    parser.add_argument("--sample", type=int, default=2000, help="customers compared")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--save", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.save)
        return 0
    dataset = next(d for d in all_datasets() if d.name == args.dataset)
    before = load_average()
    pair = measure_pair(dataset, args.repeats, log=lambda text: print(text, file=sys.stderr))
    if pair.floor.failed or pair.ours.failed:
        print(f"failed: {pair.floor.failed or pair.ours.failed}", file=sys.stderr)
        return 1
    check = compare_tables(pair.ours_table, pair.floor_table, sample=args.sample)
    print(summary(dataset, pair, check, (before, load_average())))
    record = {
        "dataset": dataset.name,
        "floor_seconds": [run.info["seconds"] for run in pair.floor.runs],
        "floor_wall": [run.wall for run in pair.floor.runs],
        "ours_wall": [run.wall for run in pair.ours.runs],
        "floor_peak_mb": pair.floor.peak_mb,
        "ours_peak_mb": pair.ours.peak_mb,
        "ratio": pair.ratio,
        "check": check,
        "loads": [before, load_average()],
        "cores": os.cpu_count(),
        "when": time.strftime("%Y-%m-%d %H:%M"),
    }
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
