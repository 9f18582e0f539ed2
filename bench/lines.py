"""The line-level queries of a data-folder file: cleaned again by each query, or cleaned once.

Usage::

    python -m bench lines [--log PATH] [--modes expressions once] [--skip-migration]
                          [--before FOLDER]

Data: the 13.4-million-line generated retail log of a million customers (:mod:`bench.datasets`
``log_1m_parquet``, ~170 MB of Parquet, made once into ``bench/data/``), or ``--log``.

Each mode runs in a fresh process on DuckDB (:func:`rfm_core.customers.engine.connect`, its
memory cap), as the app does for a file of its data folder, and runs the queries of the
line-level pages one after the other:

* ``expressions`` (before issue 21): every query reads
  :func:`rfm_core.customers.trends.kept_lines_on_engine` /
  :func:`~rfm_core.customers.trends.returned_lines_on_engine`, which clean the raw file again;
* ``once``: :func:`rfm_core.customers.trends.clean_lines_on_engine` first (timed apart: what
  the first line-level page pays), then every query reads its temporary table (one table of the
  kept lines and the removed returns with their reason code; both are filters of it);
* ``two_tables``: the alternative it was measured against: the same table, then a table of the
  kept lines and one of the returns copied from it, and the first one dropped.

Queries: the monthly activity trend (Overview), the breakdowns (new vs returning, countries, top
products net of returns: Overview, each timed apart; in ``once`` mode with the floor beside them,
hand-written DuckDB SQL on the same table of the revenue per month and of the orders of every
customer, the pass each order count needs), the cohorts (Cohorts), the CLV summary of the
purchase days (Lifetime value, Backtest), one customer's orders (the lookup of the Segments page: in
``expressions`` mode as the app does it, that customer's lines read from the file and cleaned
alone), and the migration between the default dates (Movement: two
snapshots, each a cleaning of the lines known at its date, the same in both modes). Wall time of
each, the process's peak resident memory (``wait4``) and its CPU time; the load average before
and after.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "bench" / "data" / "log_1000000_seed1.parquet"
MODES = ("expressions", "once", "two_tables")

QUERIES = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
mode, path, migration = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
from rfm_core.customers.clv import clv_summary
from rfm_core.customers.engine import connect, open_file
from rfm_core.customers.migration import cohort_retention, migrate
from rfm_core.customers.trends import (
    activity_trend, clean_lines_on_engine, kept_lines_on_engine, new_vs_returning,
    returned_lines_on_engine, revenue_by_country, top_products,
)
from rfm_core.lines.cleaning import CleaningRules

rules = CleaningRules()
source, mapping = open_file(path, backend=connect("duckdb"))
backend = source._find_backend()
times = {}

def timed(name, function):
    started = time.perf_counter()
    result = function()
    times[name] = time.perf_counter() - started
    return result

if mode == "once":
    lines = timed("clean once", lambda: clean_lines_on_engine(source, mapping, rules, name="log"))
    kept, returned = lines.kept, lines.returned
elif mode == "two_tables":
    from rfm_core.customers.engine import flagged_lines
    from rfm_core.customers.trends import KEPT_COLUMNS, RETURNED_COLUMNS
    from rfm_core.lines.reasons import KEPT, REASON_CODES, RETURN_REASONS
    codes = [REASON_CODES[reason] for reason in RETURN_REASONS]
    flags = flagged_lines(source, mapping, rules, name="log")
    wanted = flags.filter(flags.reason_code.isin([KEPT, *codes]))

    def two():
        both = backend.create_table("both", wanted.select(*KEPT_COLUMNS, "reason_code"), temp=True)
        kept = both.filter(both.reason_code == KEPT).select(*KEPT_COLUMNS)
        returned = both.filter(both.reason_code.isin(codes)).select(*RETURNED_COLUMNS)
        tables = (backend.create_table("kept", kept, temp=True),
                  backend.create_table("returned", returned, temp=True))
        backend.drop_table("both")
        return tables

    kept, returned = timed("clean once", two)
else:
    kept = kept_lines_on_engine(source, mapping, rules, name="log")
    returned = returned_lines_on_engine(source, mapping, rules, name="log")
trend = timed("activity trend", lambda: activity_trend(kept, backend=backend, freq="month"))
timed("new vs returning", lambda: new_vs_returning(kept, backend=backend))
timed("countries", lambda: revenue_by_country(kept, backend=backend))
timed("top products net of returns", lambda: top_products(kept, backend=backend, n=10,
                                                          returned=returned))
if mode == "once":  # the floor: hand-written SQL of the two passes every order count needs
    sql = backend.con.sql
    table = lines.table_name
    timed("floor: revenue per month (SQL)", lambda: sql(
        f"select date_trunc('month', timestamp)::date, sum(round(amount * 10000)::bigint) "
        f"from {table} where reason_code = 0 group by 1").fetchall())
    timed("floor: orders of every customer (SQL)", lambda: sql(
        f"select count(*) from (select customer_id, coalesce(invoice, timestamp::varchar), "
        f"min(timestamp) from {table} where reason_code = 0 and not is_return group by 1, 2)"
    ).fetchall())
cohorts = timed("cohorts", lambda: cohort_retention(kept, backend=backend))
summary = timed("CLV summary", lambda: clv_summary(kept, backend=backend).table)
customer = str(summary.index[len(summary) // 2])
if mode == "expressions":  # the customer lookup: the customer's lines cleaned alone
    from rfm_core.customers.engine import customer_orders_on_engine
    orders = timed("customer lookup", lambda: customer_orders_on_engine(source, mapping, rules,
                                                                        customer))
else:
    from rfm_core.customers.pipeline import orders_of
    mine = kept.filter(kept.customer_id == customer)
    orders = timed("customer lookup", lambda: orders_of(mine, backend=backend))
if migration:
    moves = timed("migration", lambda: migrate(source, mapping=mapping, name="log", rules=rules))
print(json.dumps({
    "times": times, "revenue": float(trend["revenue"].sum()),
    "cohort_customers": int(cohorts.sizes.sum()), "clv_customers": len(summary),
    "lookup_orders": len(orders), "lookup_amount": float(orders["amount"].sum()),
}))
"""


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def run(mode: str, log: Path, *, migration: bool, code: Path = ROOT) -> dict:
    """One mode in a fresh process (importing ``rfm_core`` from ``code``): the times of its
    queries, its peak memory and CPU time."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(
            [sys.executable, "-c", QUERIES, mode, str(log), "1" if migration else "0"],
            cwd=code, stdout=out, stderr=err, text=True,
        )  # fmt: skip
        _, status, usage = os.wait4(process.pid, 0)  # files, not pipes: nothing blocks the child
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        printed, errors = out.read(), err.read()
    if status != 0:
        raise SystemExit(f"{mode} failed:\n{errors[-3000:]}")
    result = json.loads(printed.strip().splitlines()[-1])
    result.update(
        process_seconds=wall,
        peak_mb=usage.ru_maxrss / 1024,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
    )
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the modes one after the other and print a table of their times."""
    parser = argparse.ArgumentParser(prog="python -m bench lines", description=__doc__)
    parser.add_argument("--log", type=Path, default=LOG)
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--skip-migration", action="store_true")
    parser.add_argument(
        "--before",
        type=Path,
        help="also run each mode on the rfm_core of this folder (e.g. an export of main), first",
    )
    args = parser.parse_args(argv)
    if not args.log.exists():
        raise SystemExit(f"{args.log} is missing: python -m bench.datasets log_1m_parquet")
    print(f"log {args.log.name}; load average before: {_load()}", flush=True)
    results = {}
    runs = [(mode, mode, ROOT) for mode in args.modes]
    if args.before:
        runs = [(f"{mode} (before)", mode, args.before) for mode in args.modes] + runs
    for label, mode, code in runs:
        results[label] = run(mode, args.log, migration=not args.skip_migration, code=code)
        print(f"{label}: {json.dumps(results[label])}; load average: {_load()}", flush=True)
    steps = list(dict.fromkeys(step for result in results.values() for step in result["times"]))
    steps.sort(key=lambda step: step != "clean once")  # what the first line-level page pays
    print("\n| step | " + " | ".join(f"{mode}, s" for mode in results) + " |")
    print("| --- |" + " ---: |" * len(results))
    for step in steps:
        cells = [
            f"{result['times'][step]:.2f}" if step in result["times"] else "—"
            for result in results.values()
        ]
        print(f"| {step} | " + " | ".join(cells) + " |")
    for label, key, form in (
        ("whole process, s", "process_seconds", "{:.1f}"),
        ("CPU, s", "cpu_seconds", "{:.1f}"),
        ("peak RSS, MB", "peak_mb", "{:,.0f}"),
    ):
        cells = [form.format(result[key]) for result in results.values()]
        print(f"| {label} | " + " | ".join(cells) + " |")
    checked = ("revenue", "cohort_customers", "clv_customers", "lookup_orders", "lookup_amount")
    same = {json.dumps([result[key] for key in checked]) for result in results.values()}
    print(f"\nsame {', '.join(checked)} in every mode: {len(same) == 1}")
    print(f"load average after: {_load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
