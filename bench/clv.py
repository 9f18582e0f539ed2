"""CLV fitting: our maximum-likelihood fit (scipy) beside pymc-marketing's MAP fit.

Usage::

    python -m bench.clv [--customers 25000 1000000] [--pymc-python /tmp/pymcm-venv/bin/python]

pymc-marketing is not a dependency of the project: give the interpreter of a separate
environment where it is installed (``python3 -m venv /tmp/pymcm-venv &&
/tmp/pymcm-venv/bin/pip install pymc-marketing``); without ``--pymc-python`` only our side runs.

Data: :func:`rfm_core.ingest.synthetic.generate_bgnbd_transactions` with the CDNOW parameters
(78 weeks, calibration up to week 39), cached as Parquet in ``bench/data/`` (not tracked). Every
measurement runs in a fresh process:

* import: wall time of importing the fitting code (ours: :mod:`rfm_core.customers.clv`;
  theirs: ``pymc_marketing.clv``), median of ``--repeats`` processes;
* fit: BG/NBD + Gamma-Gamma on the summary (x, t_x, T, m), read from Parquet before the clock
  starts; pymc-marketing builds and compiles its models in this time (its C cache,
  ``~/.pytensor``, is warm after the first run: the first run of all is printed apart);
* lines → fit: the summary from the lines, then the fits. Ours runs the Ibis summary on DuckDB
  over the Parquet file; theirs reads it with pandas and runs ``rfm_summary`` (days, in weeks);
* agreement: the largest relative difference of the seven parameters, theirs with flat priors
  (their MAP is then our maximum likelihood) and with their default priors;
* install size: the files of the distributions pymc-marketing brings that the project's
  environment does not have.
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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "p": 6.25, "q": 3.74, "v": 15.44}
CALIBRATION_END = dt.date(1997, 9, 30)
PARAMETERS = ("r", "alpha", "a", "b", "p", "q", "v")

OURS = r"""
import json, sys, time, datetime as dt, warnings
warnings.simplefilter("ignore")
step, path = sys.argv[1], sys.argv[2]
end = dt.date.fromisoformat(sys.argv[3]) if sys.argv[3:4] != ["-"] and len(sys.argv) > 3 else None
started = time.perf_counter()
import pandas, pyarrow, ibis  # what every step of the project imports anyway
base = time.perf_counter() - started
from rfm_core.customers import clv
imported = time.perf_counter() - started
if step == "import":
    print(json.dumps({"seconds": imported, "marginal": imported - base})); raise SystemExit
import pandas as pd
if step == "fit":
    table = pd.read_parquet(path)
    table["x"] = table["x"].astype("Int64")
    started = time.perf_counter()
else:
    from rfm_core.customers.engine import connect, open_file
    from rfm_core.customers.trends import kept_lines_on_engine
    started = time.perf_counter()
    backend = connect("duckdb")
    source, mapping = open_file(path, backend=backend)
    kept = kept_lines_on_engine(source, mapping, name="log")
    table = clv.clv_summary(kept, backend=backend, calibration_end=end).table
summarised = time.perf_counter() - started
bgnbd, spend = clv.fit_bgnbd(table), clv.fit_gamma_gamma(table)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "summary_seconds": summarised,
                  "params": {**bgnbd.params, **spend.params},
                  "converged": bgnbd.converged and spend.converged,
                  "customers": int(table["x"].notna().sum())}))
"""

THEIRS = r"""
import json, sys, time, warnings, logging
warnings.simplefilter("ignore")
logging.disable(logging.WARNING)
step, path, priors = sys.argv[1], sys.argv[2], sys.argv[3]
started = time.perf_counter()
import pandas, pyarrow
base = time.perf_counter() - started
from pymc_marketing.clv import BetaGeoModel, GammaGammaModel, rfm_summary
imported = time.perf_counter() - started
if step == "import":
    print(json.dumps({"seconds": imported, "marginal": imported - base})); raise SystemExit
import pandas as pd
if step == "fit":
    table = pd.read_parquet(path)
    started = time.perf_counter()
    data = pd.DataFrame({"customer_id": range(len(table)), "frequency": table["x"],
                         "recency": table["t_x"], "T": table["T"], "monetary_value": table["m"]})
else:
    started = time.perf_counter()
    lines = pd.read_parquet(path, columns=["CustomerID", "InvoiceDate", "Quantity", "UnitPrice"])
    lines = lines[lines["InvoiceDate"] < "1997-10-01"]
    lines["value"] = lines["Quantity"] * lines["UnitPrice"]
    data = rfm_summary(lines, "CustomerID", "InvoiceDate", monetary_value_col="value",
                       observation_period_end="1997-10-01", time_unit="D", time_scaler=7)
    data["monetary_value"] = data["monetary_value"].where(data["frequency"] > 0)
summarised = time.perf_counter() - started
config = gconfig = None
if priors == "flat":
    from pymc_extras.prior import Prior
    config = {name: Prior("HalfFlat") for name in ("r", "alpha", "a", "b")}
    gconfig = {name: Prior("HalfFlat") for name in ("p", "q", "v")}
bgnbd = BetaGeoModel(data=data[["customer_id", "frequency", "recency", "T"]], model_config=config)
bgnbd.fit(fit_method="map", progressbar=False)
repeat = data[data["frequency"] > 0]
spend = GammaGammaModel(data=repeat[["customer_id", "frequency", "monetary_value"]],
                        model_config=gconfig)
spend.fit(fit_method="map", progressbar=False)
seconds = time.perf_counter() - started
values = {}
for model, names in ((bgnbd, ("r", "alpha", "a", "b")), (spend, ("p", "q", "v"))):
    posterior = model.idata.posterior
    values.update({name: float(posterior[name].values.ravel()[0]) for name in names})
print(json.dumps({"seconds": seconds, "summary_seconds": summarised, "params": values}))
"""

SIZES = r"""
import json, importlib.metadata as md, os
sizes = {}
for dist in md.distributions():
    total = 0
    for file in dist.files or []:
        path = dist.locate_file(file)
        if os.path.isfile(path):
            total += os.path.getsize(path)
    sizes[dist.metadata["Name"].lower().replace("_", "-")] = total
print(json.dumps(sizes))
"""


def _run(python: str, script: str, *args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [python, "-c", script, *args], cwd=ROOT, env=env, check=True, capture_output=True,
        text=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def _data(customers: int) -> tuple[Path, Path]:
    """Cached log (Parquet) and its summary with our definitions (Parquet)."""
    lines = DATA / f"bgnbd_{customers}.parquet"
    summary = DATA / f"bgnbd_{customers}_summary.parquet"
    if not lines.exists():
        import pyarrow as pa
        import pyarrow.parquet as pq

        from rfm_core.ingest.synthetic import generate_bgnbd_transactions

        DATA.mkdir(parents=True, exist_ok=True)
        log = generate_bgnbd_transactions(customers, **CDNOW, random_state=0)
        pq.write_table(pa.Table.from_pandas(log.transactions, preserve_index=False), lines)
    if not summary.exists():
        from rfm_core.customers.clv import clv_summary
        from rfm_core.customers.engine import connect, open_file
        from rfm_core.customers.trends import kept_lines_on_engine

        backend = connect("duckdb")
        source, mapping = open_file(lines, backend=backend)
        kept = kept_lines_on_engine(source, mapping, name=lines.name)
        table = clv_summary(kept, backend=backend, calibration_end=CALIBRATION_END).table
        table = table[table["x"].notna()][["x", "t_x", "T", "m"]]
        table.astype({"x": "int64"}).to_parquet(summary)
    return lines, summary


def _median_of(python: str, script: str, repeats: int, *args: str) -> dict:
    runs = [_run(python, script, *args) for _ in range(repeats)]
    best = dict(runs[0])
    for key in ("seconds", "marginal"):
        if key in best:
            best[key] = statistics.median(r[key] for r in runs)
    best["runs"] = [r["seconds"] for r in runs]
    return best


def _gap(ours: dict, theirs: dict) -> float:
    return max(abs(theirs[n] - ours[n]) / abs(ours[n]) for n in PARAMETERS)


def _install_mb(pymc_python: str) -> tuple[float, int]:
    theirs = _run(pymc_python, SIZES)
    ours = _run(sys.executable, SIZES)
    added = {name: size for name, size in theirs.items() if name not in ours}
    return sum(added.values()) / 2**20, len(added)


def main(argv: list[str] | None = None) -> int:
    """Measure both fitters on the same data; print times, ratios and agreement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[25_000, 1_000_000])
    parser.add_argument("--pymc-python", help="interpreter of an environment with pymc-marketing")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--retail-log", action="store_true",
        help="also time ours, lines → fit on everything, on the 13.4-million-line log of a "
        "million customers of bench.datasets (made once, ~1.3 GB)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    pymc = args.pymc_python
    load = os.getloadavg()[0]
    print(
        f"# {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"median of {args.repeats} fresh processes per import time; load average before: "
        f"{load:.1f}"
    )
    ours = _median_of(sys.executable, OURS, args.repeats, "import", "-")
    line = f"import: ours {ours['seconds']:.2f} s ({ours['marginal']:.2f} s beyond pandas and ibis)"
    if pymc:
        first = _run(pymc, THEIRS, "import", "-", "default")
        theirs = _median_of(pymc, THEIRS, args.repeats, "import", "-", "default")
        size_mb, packages = _install_mb(pymc)
        ratio = theirs["seconds"] / ours["seconds"]
        line += (
            f", pymc-marketing {theirs['seconds']:.2f} s ({theirs['marginal']:.2f} s beyond "
            f"pandas; {ratio:.1f}×"
            f"; first import {first['seconds']:.1f} s); install: ours +0 MB (scipy is already "
            f"required), pymc-marketing +{size_mb:.0f} MB in {packages} distributions"
        )
    print(line, flush=True)
    for customers in args.customers:
        lines, summary = _data(customers)
        for step, path in (("fit", summary), ("lines", lines)):
            mine = _run(sys.executable, OURS, step, str(path), CALIBRATION_END.isoformat())
            label = "summary → fit" if step == "fit" else "lines → fit"
            text = (
                f"{customers:>9,} customers, {label}: ours {mine['seconds']:.2f} s"
                f" (summary {mine['summary_seconds']:.2f} s, converged {mine['converged']})"
            )
            if pymc:
                flat = _run(pymc, THEIRS, step, str(path), "flat")
                text += (
                    f", pymc-marketing MAP {flat['seconds']:.2f} s (summary "
                    f"{flat['summary_seconds']:.2f} s): {flat['seconds'] / mine['seconds']:.0f}×"
                    f"; largest parameter gap {_gap(mine['params'], flat['params']):.1e} (flat "
                    "priors)"
                )
                if step == "fit":
                    default = _run(pymc, THEIRS, step, str(path), "default")
                    text += f", {_gap(mine['params'], default['params']):.1e} (default priors)"
            print(text, flush=True)
            print(
                "    ours " + ", ".join(f"{n} {mine['params'][n]:.4g}" for n in PARAMETERS),
                flush=True,
            )
    if args.retail_log:
        _retail_log()
    return 0


def _retail_log() -> None:
    from bench.datasets import all_datasets, ensure

    dataset = next(d for d in all_datasets() if d.name == "log_1m_parquet")
    ensure(dataset)
    mine = _run(sys.executable, OURS, "lines", str(dataset.path), "-")
    print(
        f"{mine['customers']:,} customers, the generated retail log of 13.4 million lines, "
        f"lines → fit on everything: ours {mine['seconds']:.2f} s (summary "
        f"{mine['summary_seconds']:.2f} s, converged {mine['converged']})",
        flush=True,
    )
    print("    ours " + ", ".join(f"{n} {mine['params'][n]:.4g}" for n in PARAMETERS))


if __name__ == "__main__":
    start = time.perf_counter()
    code = main()
    print(f"# {time.perf_counter() - start:.0f} s in all")
    raise SystemExit(code)
