"""Customer lifetime value: the summary, both likelihoods, the fits and the predictions.

Published figures (Fader, Hardie & Lee 2005, on the CDNOW sample of 2,357 customers, 39 weeks of
calibration): BG/NBD r 0.243, α 4.414, a 0.793, b 2.426, log-likelihood −9,582.4;
Gamma-Gamma p 6.25, q 3.74, γ 15.44; E[Y(39) | x 2, t_x 30.43, T 38.86] = 1.226. The CDNOW sample
is read from the files the ``Lifetimes`` package ships (requirements-dev.txt; its code is never
imported).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
import math
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import integrate, special

from rfm_core.customers.clv import (
    NOTE_LAST_DAY,
    NOTE_NO_CALIBRATION,
    NOTE_NO_PURCHASE_DAY,
    BgNbdFit,
    ClvError,
    GammaGammaFit,
    bgnbd_log_likelihood,
    clv_by_segment,
    clv_summary,
    customer_lifetime_value,
    expected_average_value,
    expected_purchases,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
    predict_clv,
    probability_alive,
    spend_frequency_correlation,
)
from rfm_core.customers.engine import connect, open_file
from rfm_core.customers.pipeline import run_rfm
from rfm_core.customers.trends import kept_lines_on_engine
from rfm_core.ingest.io import load_bytes
from rfm_core.ingest.synthetic import TRANSACTION_COLUMNS, generate_bgnbd_transactions
from rfm_core.lines.cleaning import CleaningRules

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")

CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "p": 6.25, "q": 3.74, "v": 15.44}
CDNOW_BGNBD = BgNbdFit(0.243, 4.414, 0.793, 2.426, -9582.4, 2357, True, "published")
CALIBRATION_END = dt.date(1997, 9, 30)  # 39 weeks from 1997-01-01: days 0 … 272
HOLDOUT_END = dt.date(1998, 6, 30)  # 78 weeks

# Day by day, amounts: a (2024-01-01 10 + 5 on one day, 01-08 20, 01-15 30), b (01-03 7 only),
# c (01-02 4, returned the same day: with returns netted, the day is worth 0), d (01-20 9 and
# 01-25 11: after a calibration end of 01-15 only in the holdout), e (01-15 12: on the last
# calibration day), f (01-05 3, 01-12 6, 01-12 return −6: the second day nets to 0)
LOG = """\
InvoiceNo,InvoiceDate,CustomerID,Quantity,UnitPrice
1,2024-01-01 09:00,a,1,10.00
2,2024-01-01 17:00,a,1,5.00
3,2024-01-08 12:00,a,2,10.00
4,2024-01-15 12:00,a,3,10.00
5,2024-01-03 12:00,b,1,7.00
6,2024-01-02 12:00,c,1,4.00
C7,2024-01-02 15:00,c,-1,4.00
8,2024-01-20 12:00,d,1,9.00
9,2024-01-25 12:00,d,1,11.00
10,2024-01-15 08:00,e,4,3.00
11,2024-01-05 12:00,f,1,3.00
12,2024-01-12 12:00,f,1,6.00
C13,2024-01-12 15:00,f,-1,6.00
"""


def lines_of(text: str, *, returns: str = "drop"):
    result = run_rfm(
        load_bytes(text.encode("utf-8"), file_name="log.csv"),
        rules=CleaningRules(returns=returns),
    )
    return result


# everyone buys every week and is still buying: no dropout in sight
REGULAR = "customer,date,amount\n" + "".join(
    f"{c},{dt.date(2024, 1, 1) + dt.timedelta(weeks=w)},10\n"
    for c in range(30)
    for w in range(c % 10 + 2)
)


def parquet_result(frame: pd.DataFrame):
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    return run_rfm(load_bytes(buffer.getvalue(), file_name="log.parquet"))


def summary_frame(rows: list[tuple[int, float, float]], m: list[float] | None = None):
    x, t_x, T = zip(*rows, strict=True)
    frame = pd.DataFrame(
        {"x": pd.array(x, dtype="Int64"), "t_x": t_x, "T": T},
        index=pd.Index([f"c{i}" for i in range(len(rows))], name="customer_id"),
    )
    if m is not None:
        frame["m"] = m
    return frame


# -- the summary -------------------------------------------------------------------------------


def test_summary_follows_the_definitions():
    lines = lines_of(LOG, returns="net").lines
    summary = clv_summary(
        lines, calibration_end=dt.date(2024, 1, 15), holdout_end=dt.date(2024, 1, 31)
    )
    table = summary.table
    assert summary.holdout_weeks == pytest.approx(16 / 7)
    assert list(table.index) == ["a", "b", "d", "e", "f"]  # c's only day was returned: no day > 0
    a = table.loc["a"]
    assert (a["n_days"], a["x"], a["t_x"], a["T"]) == (3, 2, 2.0, 15 / 7)
    assert a["m"] == 25.0  # (20 + 30) / 2: the first day (15) is left out
    assert a["value"] == 65.0
    f = table.loc["f"]
    assert (f["x"], f["t_x"], f["T"]) == (0, 0.0, 11 / 7)  # 01-12 nets to 0: not a purchase day
    assert math.isnan(f["m"])
    e = table.loc["e"]
    assert (e["x"], e["T"]) == (0, 1 / 7)  # end of the calibration day
    d = table.loc["d"]
    assert (d["n_days"], pd.isna(d["x"]), d["actual_purchases"], d["actual_value"]) == (
        0,
        True,
        2,
        20.0,
    )
    assert table["actual_purchases"].tolist() == [0, 0, 2, 0, 0]
    assert list(summary.calibration.index) == ["a", "b", "e", "f"]
    # without a holdout, later customers are still listed: they are not described
    later = clv_summary(lines, calibration_end=dt.date(2024, 1, 15)).table
    assert (later.loc["d", "n_days"], pd.isna(later.loc["d", "x"])) == (0, True)
    assert "actual_purchases" not in later


def test_summary_without_calibration_end_uses_the_last_purchase_day():
    summary = clv_summary(lines_of(LOG).lines)
    assert summary.calibration_end == dt.date(2024, 1, 25)
    assert summary.holdout_end is None and "actual_purchases" not in summary.table
    assert summary.table.loc["d", "x"] == 1
    assert summary.table.loc["d", "T"] == 6 / 7  # 01-20 to the end of 01-25


def test_summary_refuses_a_holdout_without_or_before_the_calibration_end():
    lines = lines_of(LOG).lines
    with pytest.raises(ClvError, match="needs a calibration end"):
        clv_summary(lines, holdout_end=dt.date(2024, 1, 20))
    with pytest.raises(ClvError, match="must be after the calibration end"):
        clv_summary(lines, calibration_end=dt.date(2024, 1, 20), holdout_end=dt.date(2024, 1, 20))
    with pytest.raises(ClvError, match="no customer has a purchase day"):
        clv_summary(lines, calibration_end=dt.date(2023, 12, 31))


def test_summary_on_an_engine_equals_the_one_in_memory(tmp_path):
    log = generate_bgnbd_transactions(300, **CDNOW, random_state=3)
    path = tmp_path / "log.csv"
    log.transactions.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M")
    options = {"calibration_end": CALIBRATION_END, "holdout_end": HOLDOUT_END}
    memory = clv_summary(parquet_result(log.transactions).lines, **options)
    backend = connect("duckdb")
    source, mapping = open_file(path, backend=backend)
    kept = kept_lines_on_engine(source, mapping, name="log.csv")
    engine = clv_summary(kept, backend=backend, **options)
    pd.testing.assert_frame_equal(engine.table, memory.table)


def test_summary_equals_a_day_by_day_count_with_pandas():
    log = generate_bgnbd_transactions(2000, **CDNOW, random_state=5)
    summary = clv_summary(
        parquet_result(log.transactions).lines,
        calibration_end=CALIBRATION_END,
        holdout_end=HOLDOUT_END,
    ).table
    lines = log.transactions
    days = (
        lines.assign(day=lines["InvoiceDate"].dt.normalize(), value=lines["UnitPrice"])
        .groupby(["CustomerID", "day"], as_index=False)["value"]
        .sum()
    )
    calibration = days[days["day"] <= pd.Timestamp(CALIBRATION_END)]
    per = calibration.groupby("CustomerID")
    first, last = per["day"].min(), per["day"].max()
    expected_x = per.size() - 1
    repeat_value = (
        per["value"].sum() - calibration.sort_values("day").groupby("CustomerID")["value"].first()
    )
    described = summary[summary["n_days"] > 0]
    assert described["x"].astype(int).to_dict() == expected_x.to_dict()
    np.testing.assert_allclose(described["t_x"], ((last - first).dt.days / 7).to_numpy())
    end = pd.Timestamp(CALIBRATION_END) + pd.Timedelta(days=1)
    np.testing.assert_allclose(described["T"], ((end - first).dt.days / 7).to_numpy())
    m = (repeat_value / expected_x).where(expected_x > 0)
    np.testing.assert_allclose(described["m"], m.to_numpy(), atol=1e-4)
    holdout = days[days["day"] > pd.Timestamp(CALIBRATION_END)].groupby("CustomerID").size()
    assert summary["actual_purchases"][summary["actual_purchases"] > 0].to_dict() == (
        holdout.to_dict()
    )


# -- BG/NBD ------------------------------------------------------------------------------------


def test_likelihood_of_hand_computed_cases():
    # x = 0: L = (α / (α + T))^r = (2 / 4)^0.5
    assert bgnbd_log_likelihood(summary_frame([(0, 0.0, 2.0)]), r=0.5, alpha=2, a=0.8, b=1.5) == (
        pytest.approx(0.5 * math.log(0.5), rel=1e-12)
    )
    # x = 1, t_x = 1, T = 2, r = α = a = b = 1: Γ(2)/Γ(1) · B(1, 2)/B(1, 1) · (3^-2 + 1 · 2^-2)
    value = bgnbd_log_likelihood(summary_frame([(1, 1.0, 2.0)]), r=1, alpha=1, a=1, b=1)
    assert value == pytest.approx(math.log(0.5 * (1 / 9 + 1 / 4)), rel=1e-12)


def test_likelihood_equals_the_integral_over_rate_and_dropout():
    r, alpha, a, b = 0.7, 3.0, 1.3, 2.2
    x, t_x, T = 3, 10.0, 14.0

    def individual(p: float, lam: float) -> float:
        stay = (1 - p) ** x * lam**x * math.exp(-lam * T)
        gone = p * (1 - p) ** (x - 1) * lam**x * math.exp(-lam * t_x)
        density = math.exp(
            r * math.log(alpha) + (r - 1) * math.log(lam) - alpha * lam - math.lgamma(r)
        ) * math.exp((a - 1) * math.log(p) + (b - 1) * math.log1p(-p) - special.betaln(a, b))
        return (stay + gone) * density

    integral, _ = integrate.dblquad(individual, 0, 50, 0, 1, epsrel=1e-10)
    value = bgnbd_log_likelihood(summary_frame([(x, t_x, T)]), r=r, alpha=alpha, a=a, b=b)
    assert value == pytest.approx(math.log(integral), rel=1e-7)


def test_probability_alive_is_one_without_repeat_and_monotone():
    fit = CDNOW_BGNBD
    assert probability_alive([0, 0], [0, 0], [1 / 7, 30], fit=fit).tolist() == [1.0, 1.0]
    # hand value: x = 1, t_x = 1, T = 2, r = α = a = b = 1: 1 / (1 + (3/2)^2)
    unit = BgNbdFit(1, 1, 1, 1, 0, 1, True, "")
    assert probability_alive([1], [1], [2], fit=unit)[0] == pytest.approx(1 / 3.25)
    recent = probability_alive([3] * 5, [5, 10, 20, 30, 35], [35] * 5, fit=fit)
    assert (np.diff(recent) > 0).all()  # a later last purchase: more likely alive
    waiting = probability_alive([3] * 4, [5] * 4, [10, 20, 30, 40], fit=fit)
    assert (np.diff(waiting) < 0).all()  # longer silence: less likely alive


def test_expected_purchases_reproduce_the_paper_and_are_monotone():
    # Fader, Hardie & Lee (2005): 1.226 purchases in 39 weeks for x 2, t_x 30.43, T 38.86
    assert expected_purchases(39, [2], [30.43], [38.86], fit=CDNOW_BGNBD)[0] == pytest.approx(
        1.226, abs=5e-4
    )
    horizons = [expected_purchases(t, [2], [30], [38], fit=CDNOW_BGNBD)[0] for t in (1, 4, 12)]
    assert np.all(np.diff(horizons) > 0)
    assert expected_purchases(0, [2], [30], [38], fit=CDNOW_BGNBD)[0] == 0
    more = expected_purchases(12, [1, 3, 6, 12], [37] * 4, [38] * 4, fit=CDNOW_BGNBD)
    assert (np.diff(more) > 0).all()  # recent buyers: more purchases, more to come


@pytest.mark.parametrize(
    ("r", "alpha", "a", "b", "x", "T", "t"),
    [
        (0.243, 4.414, 0.793, 2.426, 2, 38.86, 39),
        (0.05, 0.05, 0.2, 0.3, 500, 78, 520),  # scipy's hyp2f1: NaN
        (0.05, 0.05, 0.2, 0.3, 100, 5, 12),  # scipy's hyp2f1 after Pfaff: inf
        (20, 0.5, 30, 100, 10, 5, 52),  # scipy's hyp2f1: −33.9 for 4.79
        (2, 4, 1.0, 2, 3, 20, 12),  # a = 1: 0/0 in the closed form
        (0.3, 1, 0.5, 0.4, 0, 1 / 7, 104),  # a + b < 1: C < 0
    ],
)
def test_expectation_of_an_alive_customer_equals_the_beta_integral(r, alpha, a, b, x, T, t):
    """E[Y(t) | alive] = E_p[(1 − (1 + p t/(α+T))^-(r+x)) / p] with p ~ Beta(a, b + x)."""
    shape, scale, b_post = r + x, alpha + T, b + x

    def integrand(p: float) -> float:
        rest = -math.expm1(-shape * math.log1p(p * t / scale))
        log_density = (a - 2) * math.log(p) + (b_post - 1) * math.log1p(-p)
        return rest * math.exp(log_density - special.betaln(a, b_post))

    points = sorted({min(0.5, a / (a + b_post)), min(0.5, scale / (shape * t))})
    reference, _ = integrate.quad(integrand, 0, 1, points=points, limit=500, epsrel=1e-11)
    fit = BgNbdFit(r, alpha, a, b, 0, 1, True, "")
    alive = probability_alive([x], [T / 2 if x else 0], [T], fit=fit)[0]
    value = expected_purchases(t, [x], [T / 2 if x else 0], [T], fit=fit)[0] / alive
    assert value == pytest.approx(reference, rel=1e-8)


def test_fit_refuses_data_without_repeat_purchases():
    with pytest.raises(ClvError, match="none of the 3 customers bought on a second day"):
        fit_bgnbd(summary_frame([(0, 0, 5), (0, 0, 3), (0, 0, 1)]))
    with pytest.raises(ClvError, match="impossible x, t_x, T"):
        fit_bgnbd(summary_frame([(2, 6, 5)]))


def test_a_fit_that_fails_says_why():
    # everyone buys every week and is still buying: no dropout in sight, a/b runs to 0
    rows = [(n, float(n), float(n) + 0.5) for n in range(1, 40)] * 5
    fit = fit_bgnbd(summary_frame(rows))
    assert not fit.converged
    assert fit.message == "the log-likelihood is flat or curved upwards at the optimum"
    assert fit.a < 1e-5 and fit.r > 1e5  # no dropout, one purchase rate: Poisson, not BG/NBD
    with pytest.raises(ClvError, match=r"the BG/NBD fit failed: r = .* ran to the edge of"):
        customer_lifetime_value(lines_of(REGULAR).lines)


def test_a_doubtful_fit_predicts_when_asked_and_says_why():
    value = customer_lifetime_value(lines_of(REGULAR).lines, doubtful_fits=True)
    assert [w.split(" (")[0] for w in value.warnings] == [
        "the BG/NBD fit did not converge",
        "the Gamma-Gamma fit did not converge",  # every purchase is worth 10: no spread
    ]
    assert "ran to the edge of the range searched" in value.warnings[0]
    assert value.warnings[0].endswith("its predictions come from the best parameters found")
    rows = value.customers
    assert rows["clv"].notna().all() and np.isfinite(rows["clv"]).all()
    # everyone started on 01-01; the longer they kept buying weekly, the likelier still alive
    by_x = rows.groupby("x")["p_alive"].first()
    assert by_x.is_monotonic_increasing and by_x.iloc[0] < 0.01 and by_x.iloc[-1] > 0.8
    assert rows["expected_avg_value"].to_numpy() == pytest.approx(10.0)


# -- Gamma-Gamma -------------------------------------------------------------------------------


def test_gamma_gamma_likelihood_and_expectation_by_hand():
    # x = 1, m = 2, p = q = v = 1: Γ(2)/(Γ(1)Γ(1)) · 1 · 2^0 · 1 / 3^2
    frame = summary_frame([(1, 1.0, 2.0)], m=[2.0])
    assert gamma_gamma_log_likelihood(frame, p=1, q=1, v=1) == pytest.approx(math.log(1 / 9))
    fit = GammaGammaFit(6.25, 3.74, 15.44, 0, 1, True, "")
    # the population mean for x = 0, a weighted mean of it and m otherwise
    assert expected_average_value([0], [np.nan], fit=fit)[0] == pytest.approx(15.44 * 6.25 / 2.74)
    value = expected_average_value([4], [50.0], fit=fit)[0]
    assert value == pytest.approx((15.44 + 200) * 6.25 / (25 + 2.74))
    assert 15.44 * 6.25 / 2.74 < value < 50


# -- the CDNOW sample (Fader, Hardie & Lee 2005) ------------------------------------------------


@pytest.fixture(scope="module")
def cdnow_files() -> Path:
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the Lifetimes package (requirements-dev.txt) ships the CDNOW sample")
    return Path(spec.submodule_search_locations[0]) / "datasets"


def test_fit_reproduces_the_published_cdnow_estimates(cdnow_files):
    published = pd.read_csv(cdnow_files / "cdnow_customers_summary_with_transactions.csv")
    frame = pd.DataFrame(
        {
            "x": pd.array(published["x"], dtype="Int64"),
            "t_x": published["t_x"],
            "T": published["T"],
            "m": published["zbar"].where(published["x"] > 0),
        }
    )
    bgnbd = fit_bgnbd(frame)
    assert bgnbd.converged, bgnbd.message
    assert bgnbd.n_customers == 2357
    assert bgnbd.log_likelihood == pytest.approx(-9582.4, abs=0.05)
    for name in ("r", "alpha", "a", "b"):
        assert getattr(bgnbd, name) == pytest.approx(CDNOW[name], abs=6e-4), name
    spend = fit_gamma_gamma(frame)
    assert spend.converged, spend.message
    assert spend.n_customers == 946
    assert (round(spend.p, 2), round(spend.q, 2), round(spend.v, 1)) == (6.25, 3.74, 15.4)
    assert spend_frequency_correlation(frame) == pytest.approx(0.11, abs=0.005)


def test_the_cdnow_log_through_the_pipeline(cdnow_files):
    raw = pd.read_csv(
        cdnow_files / "CDNOW_sample.txt", sep=r"\s+", header=None,
        names=["master", "customer", "date", "cds", "amount"], dtype=str,
    )  # fmt: skip
    csv = raw[["customer", "date", "amount"]].to_csv(index=False)
    result = run_rfm(load_bytes(csv.encode("utf-8"), file_name="cdnow.csv"))
    value = customer_lifetime_value(
        result.lines, customers=result.rfm.table.index, calibration_end=CALIBRATION_END,
        holdout_end=HOLDOUT_END,
    )  # fmt: skip
    # T counts to the end of 1997-09-30 (the paper: to its start) and 8 customers whose every
    # purchase is worth 0 are removed by cleaning; the estimates stay within 0.2 SE
    for name in ("r", "alpha", "a", "b"):
        gap = abs(getattr(value.bgnbd, name) - CDNOW[name])
        assert gap < 0.2 * value.bgnbd.standard_errors[name], name
    for name in ("p", "q", "v"):
        gap = abs(getattr(value.gamma_gamma, name) - CDNOW[name])
        assert gap < 0.2 * value.gamma_gamma.standard_errors[name], name
    assert len(value.customers) == result.rfm.n_customers == 2349
    # the forecast of the holdout, by the closed form (scipy's hyp2f1 is accurate here)
    table, fit, t = value.summary.table, value.bgnbd, 39
    x, t_x, T = table["x"].astype(float), table["t_x"], table["T"]
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    z = t / (alpha + T + t)
    alive = (
        (a + b + x - 1)
        / (a - 1)
        * (
            1
            - ((alpha + T) / (alpha + T + t)) ** (r + x)
            * special.hyp2f1(r + x, b + x, a + b + x - 1, z)
        )
    )
    odds = np.where(x > 0, a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0)
    assert value.holdout["expected_purchases"] == pytest.approx((alive / (1 + odds)).sum())
    assert value.holdout["actual_purchases"] == 1882


# -- recovery of planted parameters ------------------------------------------------------------


def continuous_summary(transactions: pd.DataFrame, weeks: float = 39.0) -> pd.DataFrame:
    """x, t_x, T and m from the exact purchase times (weeks), as the models define them."""
    start = pd.Timestamp("1997-01-01")
    week = (transactions["InvoiceDate"] - start).dt.total_seconds() / (7 * 86400)
    frame = pd.DataFrame(
        {"customer": transactions["CustomerID"], "week": week, "value": transactions["UnitPrice"]}
    )
    frame = frame[frame["week"] < weeks].sort_values(["customer", "week"])
    per = frame.groupby("customer")
    x = per.size() - 1
    repeat = per["value"].sum() - per["value"].first()
    return pd.DataFrame(
        {
            "x": pd.array(x, dtype="Int64"),
            "t_x": per["week"].max() - per["week"].min(),
            "T": weeks - per["week"].min(),
            "m": (repeat / x).where(x > 0),
        }
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fits_recover_the_planted_cdnow_parameters(seed):
    """20,000 customers with CDNOW's parameters; exact purchase times.

    Each estimate lies within 3 of its standard errors (from the Hessian) of the planted value:
    the estimator is consistent and asymptotically normal, so a gap beyond 3 SE has a chance of
    0.3 % per parameter. At this size the SEs are 2 % (r), 3 % (α), 7–11 % (a), 8–15 % (b),
    6–8 % (p), 2.5 % (q) and 8–9 % (v) of the values.
    """
    log = generate_bgnbd_transactions(20_000, **CDNOW, random_state=seed)
    summary = continuous_summary(log.transactions)
    for fit in (fit_bgnbd(summary), fit_gamma_gamma(summary)):
        assert fit.converged, fit.message
        for name, value in fit.params.items():
            assert abs(value - CDNOW[name]) < 3 * fit.standard_errors[name], (name, value)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_pipeline_recovers_them_at_the_size_of_the_cdnow_sample(seed):
    """2,357 customers through the pipeline: purchase days, T to the end of the day.

    Counting days instead of purchases merges the same-day purchases of the fastest buyers
    (about 1 % of the repeat purchases), which lifts α by about 6 % — 0.7 of its SE at this
    size, 2 SE at 20,000: within 3 SE here.
    """
    log = generate_bgnbd_transactions(2357, **CDNOW, random_state=seed)
    result = parquet_result(log.transactions)
    summary = clv_summary(result.lines, calibration_end=CALIBRATION_END).table
    for fit in (fit_bgnbd(summary), fit_gamma_gamma(summary)):
        assert fit.converged, fit.message
        for name, value in fit.params.items():
            assert abs(value - CDNOW[name]) < 3 * fit.standard_errors[name], (name, value)


def test_generator_is_seeded_and_shaped_like_the_cdnow_log():
    first = generate_bgnbd_transactions(500, **CDNOW, random_state=4)
    second = generate_bgnbd_transactions(500, **CDNOW, random_state=4)
    pd.testing.assert_frame_equal(first.transactions, second.transactions)
    lines = first.transactions
    assert list(lines.columns) == list(TRANSACTION_COLUMNS)
    assert lines["InvoiceDate"].is_monotonic_increasing
    assert lines["InvoiceNo"].is_unique and (lines["Quantity"] == 1).all()
    assert (lines["UnitPrice"] >= 0.01).all()
    assert lines["InvoiceDate"].max() < pd.Timestamp("1998-07-01")
    truth = first.customers
    assert len(truth) == 500 and truth["first_purchase"].max() < pd.Timestamp("1997-03-26")
    repeats = lines.groupby("CustomerID").size() - 1
    assert repeats.to_dict() == truth["repeat_purchases"].to_dict()
    with pytest.raises(ValueError, match="alpha must be a positive number"):
        generate_bgnbd_transactions(10, **{**CDNOW, "alpha": 0})
    with pytest.raises(ValueError, match="acquisition_weeks"):
        generate_bgnbd_transactions(10, **CDNOW, acquisition_weeks=100)


# -- predictions, notes and segments -----------------------------------------------------------


@pytest.fixture(scope="module")
def generated():
    """A CDNOW-shaped log of 3,000 customers through the pipeline."""
    log = generate_bgnbd_transactions(3000, **CDNOW, random_state=11)
    return parquet_result(log.transactions)


def test_clv_is_margin_times_value_times_purchases(generated):
    value = customer_lifetime_value(
        generated.lines, customers=generated.rfm.table.index, calibration_end=CALIBRATION_END,
        holdout_end=HOLDOUT_END, margin=0.3,
    )  # fmt: skip
    rows = value.customers
    assert list(rows.index) == list(generated.rfm.table.index)
    described = rows[rows["clv_note"] == ""]
    np.testing.assert_allclose(
        described["clv"],
        0.3 * described["expected_avg_value"] * described["expected_purchases"],
    )
    assert (described["p_alive"].between(0, 1)).all()
    assert (rows.loc[rows["x"] == 0, "p_alive"] == 1).all()
    assert value.holdout["expected_purchases"] == pytest.approx(
        described["expected_holdout_purchases"].sum()
    )
    assert not value.warnings  # spend and frequency are independent by construction


def test_discounting_lowers_clv_and_vanishes_at_zero(generated):
    summary = clv_summary(generated.lines, calibration_end=CALIBRATION_END)
    bgnbd, spend = fit_bgnbd(summary.table), fit_gamma_gamma(summary.table)
    plain = predict_clv(summary.table, bgnbd, spend, horizon_weeks=52)
    tiny = predict_clv(summary.table, bgnbd, spend, horizon_weeks=52, discount_rate=1e-9)
    discounted = predict_clv(summary.table, bgnbd, spend, horizon_weeks=52, discount_rate=0.1)
    np.testing.assert_allclose(tiny["clv"], plain["clv"], rtol=1e-7)
    assert (discounted["clv"] < plain["clv"]).all()
    # 10 % a year over one year costs between 0 and 10 % of the value
    assert 0.9 < discounted["clv"].sum() / plain["clv"].sum() < 1.0
    with pytest.raises(ClvError, match="discount_rate"):
        predict_clv(summary.table, bgnbd, spend, discount_rate=-0.1)


def test_customers_the_model_cannot_describe_get_a_row_and_a_note():
    log = generate_bgnbd_transactions(3000, **CDNOW, acquisition_weeks=52, random_state=2)
    generated = parquet_result(log.transactions)
    end = CALIBRATION_END  # first purchases run to week 52
    # a customer of the RFM table whose only purchase was returned the same day (returns netted)
    kept = generated.lines.select(["customer_id", "timestamp", "amount"])
    netted = pa.table(
        {
            "customer_id": ["zz", "zz"],
            "timestamp": [dt.datetime(1997, 1, 5, 10), dt.datetime(1997, 1, 5, 12)],
            "amount": [10.0, -10.0],
        }
    ).cast(kept.schema)
    everyone = generated.rfm.table.index.append(pd.Index(["zz"], dtype="string"))
    value = customer_lifetime_value(
        pa.concat_tables([kept, netted]), customers=everyone, calibration_end=end,
        holdout_end=HOLDOUT_END,
    )  # fmt: skip
    rows = value.customers
    assert len(rows) == len(everyone)
    notes = rows["clv_note"]
    assert notes["zz"] == NOTE_NO_PURCHASE_DAY
    firsts = value.summary.table["first_purchase"]
    later = rows.index[notes == NOTE_NO_CALIBRATION]
    assert len(later) > 0 and (firsts[later] > pd.Timestamp(end)).all()
    assert rows.loc[later, "clv"].isna().all() and (rows.loc[later, "actual_purchases"] > 0).all()
    last_day = rows[notes == NOTE_LAST_DAY]
    assert len(last_day) > 0 and (firsts[last_day.index] == pd.Timestamp(end)).all()
    # first seen on the last day: T is one day, the prediction that of a new customer
    assert (last_day["T_weeks"] == 1 / 7).all() and (last_day["p_alive"] == 1).all()
    assert (last_day["expected_purchases"] > 0).all()
    assert (notes[rows["x"].notna() & (rows["T_weeks"] > 1 / 7)] == "").all()


def test_correlated_spend_and_frequency_is_warned_about(generated):
    lines = generated.lines
    # frequent buyers spend more: scale each line by the customer's number of lines
    counts = pd.Series(lines.column("customer_id").to_pandas()).map(
        pd.Series(lines.column("customer_id").to_pandas()).value_counts()
    )
    scaled = lines.set_column(
        lines.schema.get_field_index("amount"),
        "amount",
        pa.array(lines.column("amount").to_numpy() * counts.to_numpy()),
    )
    value = customer_lifetime_value(scaled, calibration_end=CALIBRATION_END)
    assert value.correlation > 0.3
    assert any("spend and frequency are correlated" in w for w in value.warnings)


def test_sums_and_medians_per_segment_or_cluster(generated):
    value = customer_lifetime_value(
        generated.lines, customers=generated.rfm.table.index, calibration_end=CALIBRATION_END,
        holdout_end=HOLDOUT_END,
    )  # fmt: skip
    rows = value.customers
    rule = clv_by_segment(rows, generated.rfm.table["rfm_segment"])
    assert rule["customers"].sum() == len(rows)
    assert rule["clv_sum"].sum() == pytest.approx(rows["clv"].sum())
    assert rule["share_clv"].sum() == pytest.approx(1.0)
    assert rule["actual_purchases_sum"].sum() == rows["actual_purchases"].sum()
    champions = rows["clv"][generated.rfm.table["rfm_segment"] == "Champions"]
    assert rule.loc["Champions", "clv_median"] == pytest.approx(champions.median())
    clusters = pd.Series(np.arange(len(rows)) % 3, index=rows.index)
    by_cluster = clv_by_segment(rows, clusters, order=[2, 0, 1])
    assert list(by_cluster.index) == [2, 0, 1]
    assert by_cluster["customers"].tolist() == [1000, 1000, 1000]
    with pytest.raises(ClvError, match="no segment label"):
        clv_by_segment(rows, clusters.iloc[1:])


def test_it_runs_on_ibis_tables_too(generated):
    kept = ibis.memtable(generated.lines)
    backend = ibis.duckdb.connect()
    table = clv_summary(kept, backend=backend, calibration_end=CALIBRATION_END).table
    pd.testing.assert_frame_equal(
        table, clv_summary(generated.lines, calibration_end=CALIBRATION_END).table
    )
