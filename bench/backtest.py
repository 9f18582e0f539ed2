"""Lifetime value and the backtest at a million customers: the two commands, timed step by step.

Usage::

    python -m bench.backtest [--log PATH] [--k auto|N]

Data: the 13.4-million-line generated retail log of a million customers (:mod:`bench.datasets`
``log_1m_parquet``, made once, ~170 MB of Parquet), or ``--log``. Each command runs in a fresh
process on the DuckDB engine, as a scheduled job would:

* the CLV steps alone (a fresh process, DuckDB over the file): the summary of the purchase days
  (:func:`rfm_core.customers.clv.clv_summary`), the BG/NBD fit, the Gamma-Gamma fit, every
  customer's prediction (:func:`rfm_core.customers.clv.predict_clv`);
* ``python -m rfm_core clv LOG --engine duckdb -o clv.csv``: cleaning and RFM, the summary of the
  purchase days, the BG/NBD and Gamma-Gamma fits, every customer's prediction, the CSV;
* ``python -m rfm_core backtest LOG --engine duckdb -o backtest.json`` with the default cut (90
  days before the last purchase) and the default segmentation (k-means, recommended k): each
  step is timed from the moment the command prints it to the next.

Wall time, CPU time (user + system, all threads) and peak resident memory (``wait4``) of each
process. The load average is printed before and after: the machine is shared, and a busy one
stretches the wall times (CPU time much less so).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


CLV_STEPS = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
from rfm_core.customers import clv
from rfm_core.customers.engine import connect, open_file
from rfm_core.customers.trends import kept_lines_on_engine
times = {}
def step(name, started, cpu):
    times[name] = [time.perf_counter() - started, time.process_time() - cpu]
    return time.perf_counter(), time.process_time()
started, cpu = time.perf_counter(), time.process_time()
backend = connect("duckdb")
source, mapping = open_file(sys.argv[1], backend=backend)
table = clv.clv_summary(kept_lines_on_engine(source, mapping, name="log"), backend=backend).table
started, cpu = step("summary", started, cpu)
bgnbd = clv.fit_bgnbd(table)
started, cpu = step("BG/NBD fit", started, cpu)
spend = clv.fit_gamma_gamma(table)
started, cpu = step("Gamma-Gamma fit", started, cpu)
clv.predict_clv(table, bgnbd, spend)
step("predictions (12 weeks)", started, cpu)
print(json.dumps({"times": times, "customers": int(table["x"].notna().sum()),
                  "converged": bgnbd.converged and spend.converged}))
"""


def timed(command: list[str]) -> tuple[float, float, list[tuple[float, str]]]:
    """Run ``command``; its wall time, peak RSS (MB) and each output line with its time."""
    lines: list[tuple[float, str]] = []
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    for line in process.stdout:
        lines.append((time.perf_counter() - started, line.rstrip("\n")))
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n" + "\n".join(t for _, t in lines))
    cpu = usage.ru_utime + usage.ru_stime
    lines.append((wall, f"# cpu {cpu:.1f} s"))
    return wall, usage.ru_maxrss / 1024, lines


def _cpu(lines: list[tuple[float, str]]) -> str:
    return lines[-1][1][2:]


def steps(lines: list[tuple[float, str]], end: float) -> list[tuple[str, float]]:
    """The ``… step`` lines of a backtest and how long each took (to the next line)."""
    marks = [(t, text[2:]) for t, text in lines if text.startswith("… ")]
    return [
        (text, (marks[i + 1][0] if i + 1 < len(marks) else end) - t)
        for i, (t, text) in enumerate(marks)
    ]


def main(argv: list[str] | None = None) -> int:
    """Time ``clv`` and ``backtest`` on the log; print what each step took."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, help="default: bench.datasets log_1m_parquet")
    parser.add_argument("--k", default="auto", help="clusters of the backtest (default auto)")
    args = parser.parse_args(argv)
    if args.log is None:
        from bench.datasets import all_datasets, ensure

        dataset = next(d for d in all_datasets() if d.name == "log_1m_parquet")
        ensure(dataset)
        args.log = dataset.path
    print(
        f"# {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"load average before: {os.getloadavg()[0]:.1f}; {args.log.name}",
        flush=True,
    )
    python = [sys.executable, "-m", "rfm_core"]
    wall, peak, lines = timed([sys.executable, "-c", CLV_STEPS, str(args.log)])
    found = json.loads(lines[-2][1])
    fit = sum(found["times"][name][0] for name in ("BG/NBD fit", "Gamma-Gamma fit"))
    print(
        f"CLV steps, {found['customers']:,} customers (converged {found['converged']}): "
        f"both fits {fit:.1f} s; wall {wall:.1f} s, {_cpu(lines)}, peak {peak:,.0f} MB",
        flush=True,
    )
    for name, (seconds, cpu) in found["times"].items():
        print(f"    {name}: {seconds:.1f} s (cpu {cpu:.1f} s)")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        wall, peak, lines = timed(
            [*python, "clv", str(args.log), "--engine", "duckdb", "-o", str(out / "clv.csv")]
        )
        print(f"clv: wall {wall:.1f} s, {_cpu(lines)}, peak {peak:,.0f} MB", flush=True)
        shown = ("BG/NBD", "Gamma-Gamma", "calibration up to")
        for _, text in lines:
            if text.startswith(shown) or "customers, reference date" in text:
                print(f"    {text}")
        report = out / "backtest.json"
        wall, peak, lines = timed(
            [*python, "backtest", str(args.log), "--engine", "duckdb", "-o", str(report),
             "--k", args.k]
        )  # fmt: skip
        print(f"backtest: wall {wall:.1f} s, {_cpu(lines)}, peak {peak:,.0f} MB", flush=True)
        first_step = next(t for t, text in lines if text.startswith("… "))
        print(f"    cleaning and RFM of the whole log (and start-up): {first_step:.1f} s")
        for text, seconds in steps(lines[:-1], wall):
            print(f"    {text}: {seconds:.1f} s")
        result = json.loads(report.read_text(encoding="utf-8"))
        print(f"    {result['customers']:,} customers on {result['cut']}")
        for row in result["comparison"]:
            print(
                f"    {row['method']}: concordance {row['concordance']:.3f}, ρ "
                f"{row['spearman']:.3f}, purchases predicted {row['predicted_purchases']:,.0f} "
                f"vs made {row['actual_purchases']:,.0f}"
            )
        print(f"    {result['sentence']}")
    print(f"# load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    start = time.perf_counter()
    code = main()
    print(f"# {time.perf_counter() - start:.0f} s in all")
    raise SystemExit(code)
