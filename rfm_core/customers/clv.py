"""Customer lifetime value: BG/NBD purchases and Gamma-Gamma spend, by maximum likelihood.

Definitions
-----------
purchase day
    A day (calendar date of the line's timestamp) on which the customer's kept lines add up to a
    positive value. Several invoices on one day are one purchase day; with returns netted
    (``returns="net"``) a return reduces the value of its day, and a day whose value is zero or
    negative is no purchase.
calibration end ``D``
    The last day of the calibration period (included). Only purchase days up to ``D`` enter the
    models. Default: the last purchase day of the lines.
x
    Repeat purchases: the customer's purchase days up to ``D`` minus 1 (the first one).
t_x
    Weeks from the first to the last purchase day up to ``D`` (0 when ``x = 0``).
T
    Weeks from the first purchase day to the end of day ``D``: ``(D + 1 day − first day) / 7``.
    A customer first seen on ``D`` has ``T`` = 1/7.
m
    Mean value of the repeat purchase days (the first day excluded); only for ``x ≥ 1``.
holdout
    With a holdout end ``H`` (after ``D``): ``actual_purchases`` is the number of purchase days
    in ``D + 1 … H`` (both included) and ``actual_value`` their value; its length is
    ``(H − D) / 7`` weeks.

Time is measured in weeks, so ``alpha`` is in weeks.

Models
------
BG/NBD (Fader, Hardie & Lee 2005, *"Counting your customers" the easy way*): while alive, a
customer buys at Poisson rate ``λ ~ Gamma(r, α)``; after every repeat purchase they drop out
with probability ``p ~ Beta(a, b)``. The likelihood of ``(x, t_x, T)`` is

    L = Γ(r+x) α^r / Γ(r) · B(a, b+x) / B(a, b) · [(α+T)^-(r+x) + δ(x>0) a/(b+x−1) (α+t_x)^-(r+x)]

from which follow ``P(alive)`` and the expected number of purchases in the next ``t`` weeks,
``E[Y(t) | x, t_x, T]`` (:func:`probability_alive`, :func:`expected_purchases`). The latter
involves the Gauss hypergeometric function ``2F1(r+x, b+x; a+b+x−1; t/(α+T+t))``; it is summed
here after Pfaff's transformation (DLMF 15.8.1) as a series in ``z = t/(α+T+t)`` whose first two
parameters are small, ``2F1(a+b−1−r, a−1; a+b+x−1; z)``, with the factor ``1/(a−1)`` taken
inside the sum, so that large ``x`` and ``a`` near 1 lose no precision (scipy's ``hyp2f1``
returns infinities or wrong values there).

Gamma-Gamma (Fader, Hardie & Lee 2005, *RFM and CLV: using iso-value curves*): the value of each
repeat purchase day is ``Gamma(p, ν)`` with ``ν ~ Gamma(q, γ)`` (``v`` below is ``γ``); the mean
``m`` of ``x`` of them then has the likelihood

    Γ(px+q) / (Γ(px) Γ(q)) · γ^q m^(px−1) x^(px) / (γ + m x)^(px+q)

and the expected value of the customer's purchases is ``(γ + m x) p / (p x + q − 1)``: a
weighted mean of the population mean ``γ p / (q − 1)`` and the customer's own ``m``. Customers
with ``x = 0`` get the population mean. The model assumes that spend and frequency are
independent; :func:`spend_frequency_correlation` measures it and a warning says when it is not
(|ρ| ≥ :data:`CORRELATION_WARNING`).

CLV
---
``clv = margin × expected_avg_value × Σ_k ΔE[Y(t_k)] / (1 + discount_rate)^(t_k / 52.18)`` over
week ends ``t_k = 1, 2, …, horizon`` (the last one may be shorter): the purchases expected in each
week are discounted to its end at the annual rate. With no discount it is
``margin × expected_avg_value × expected_purchases``.

Both models are fitted by maximum likelihood (L-BFGS-B on the log of the parameters, analytic
gradients; customers with equal ``(x, t_x, T)`` are counted once with a weight). A fit is
*converged* when the optimiser reports convergence, no parameter sits on the edge of its range
and the Hessian of the log-likelihood is negative definite; its standard errors come from that
Hessian.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
from scipy import optimize, special

from rfm_core.errors import ClvError
from rfm_core.lines.aggregate import MONEY_UNITS, money_units

__all__ = [
    "BGNBD_PARAMETERS",
    "CLV_DECIMALS",
    "CORRELATION_WARNING",
    "DAYS_PER_WEEK",
    "GAMMA_GAMMA_PARAMETERS",
    "NOTE_LAST_DAY",
    "NOTE_NOT_SUMMED",
    "NOTE_NO_CALIBRATION",
    "NOTE_NO_PURCHASE_DAY",
    "NOT_IN_RFM",
    "WEEKS_PER_YEAR",
    "BgNbdFit",
    "ClvError",
    "ClvResult",
    "ClvSummary",
    "GammaGammaFit",
    "bgnbd_log_likelihood",
    "clv_by_segment",
    "clv_summary",
    "clv_table",
    "customer_lifetime_value",
    "expected_average_value",
    "expected_purchases",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "gamma_gamma_log_likelihood",
    "predict_clv",
    "probability_alive",
    "purchase_days",
    "spend_frequency_correlation",
]

DAYS_PER_WEEK = 7
WEEKS_PER_YEAR = 365.25 / DAYS_PER_WEEK
CORRELATION_WARNING = 0.3  # |Pearson ρ| between x and m from which Gamma-Gamma is doubtful
BGNBD_PARAMETERS = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMETERS = ("p", "q", "v")
_LOG_BOUND = 18.0  # parameters are fitted as logs within ±this (e^18 ≈ 6.6e7)
_SERIES_TOLERANCE = 1e-14
_SERIES_MAX_TERMS = 200_000

NOTE_NO_CALIBRATION = "first purchase day after the calibration end: not described by the model"
NOTE_NO_PURCHASE_DAY = "no purchase day with a positive value: not described by the model"
NOTE_LAST_DAY = (
    "one purchase day, on the last calibration day: no history yet, so the prediction is that "
    "of a new customer"
)
NOTE_NOT_SUMMED = "the expectation series did not converge"


# -- per-customer summary ----------------------------------------------------------------------


@dataclass(frozen=True)
class ClvSummary:
    """What the models see of each customer (see the module's definitions).

    Attributes
    ----------
    table : pandas.DataFrame
        Index ``customer_id`` (sorted): every customer with a purchase day (up to the holdout
        end, with a holdout). Columns ``first_purchase`` (first purchase day),
        ``last_purchase`` (last purchase day up to ``D``; empty when there is none), ``n_days``
        (purchase days up to ``D``), ``x`` (Int64, empty without purchase day up to ``D``),
        ``t_x``, ``T`` (weeks), ``m`` (mean value of the repeat purchase days, empty for
        ``x = 0``), ``value`` (value of the purchase days up to ``D``) and, with a holdout,
        ``actual_purchases`` (int64) and ``actual_value``.
    calibration_end : datetime.date
    holdout_end : datetime.date or None
    data_end : datetime.date or None
        The last purchase day read (up to the holdout end).
    """

    table: pd.DataFrame
    calibration_end: dt.date
    holdout_end: dt.date | None = None
    data_end: dt.date | None = None

    @property
    def holdout_weeks(self) -> float | None:
        """Length of the holdout period in weeks (None without holdout)."""
        if self.holdout_end is None:
            return None
        return (self.holdout_end - self.calibration_end).days / DAYS_PER_WEEK

    @property
    def calibration(self) -> pd.DataFrame:
        """The customers with a purchase day up to the calibration end (those the models fit)."""
        return self.table[self.table["n_days"] > 0]


def purchase_days(kept: ir.Table) -> ir.Table:
    """Every purchase day of every customer (an Ibis expression).

    Parameters
    ----------
    kept : ibis Table
        Kept lines with ``customer_id, timestamp, amount``
        (:func:`rfm_core.customers.trends.kept_lines` or
        :func:`rfm_core.customers.trends.kept_lines_on_engine`).

    Returns
    -------
    ibis Table
        ``customer_id, day, units``: the days whose lines add up to a positive value, the value
        in whole :data:`rfm_core.lines.aggregate.MONEY_UNITS` (summed exactly).
    """
    days = kept.group_by(customer_id=kept.customer_id, day=kept.timestamp.date()).agg(
        units=money_units(kept.amount).sum()
    )
    return days.filter(days.units > 0)


def _summary_expression(
    days: ir.Table, calibration_end: dt.date | None, holdout_end: dt.date | None
) -> ir.Table:
    calibrated = None
    if calibration_end is not None:
        if holdout_end is not None:
            days = days.filter(days.day <= holdout_end)
        calibrated = days.day <= calibration_end
    columns = {
        "first_purchase": days.day.min(),
        "latest_day": days.day.max(),
        "first_day": days.day.min(where=calibrated),
        "last_purchase": days.day.max(where=calibrated),
        "n_days": days.count(where=calibrated),
        "units": days.units.sum(where=calibrated),
        "first_units": days.units.argmin(days.day, where=calibrated),
    }
    if holdout_end is not None:
        later = days.day > calibration_end
        columns["actual_purchases"] = days.count(where=later)
        columns["actual_units"] = days.units.sum(where=later)
    return days.group_by("customer_id").agg(**columns)


def clv_summary(
    kept: ir.Table | pa.Table,
    *,
    backend: ibis.BaseBackend | None = None,
    calibration_end: dt.date | None = None,
    holdout_end: dt.date | None = None,
) -> ClvSummary:
    """Summarise each customer's purchase days for the models (one Ibis expression).

    Parameters
    ----------
    kept : ibis Table or pyarrow.Table
        Kept lines, ``customer_id, timestamp, amount`` (e.g.
        :attr:`rfm_core.customers.pipeline.RfmPipelineResult.lines`, or
        :func:`rfm_core.customers.trends.kept_lines_on_engine` for a file on an engine).
    backend : ibis backend, optional
        Where the expression runs; default an embedded DuckDB (give the engine's backend for an
        engine table).
    calibration_end : datetime.date, optional
        Last day of the calibration period (included); default the last purchase day.
    holdout_end : datetime.date, optional
        Last day of the holdout period (included), after ``calibration_end``.

    Returns
    -------
    ClvSummary

    Raises
    ------
    ClvError
        When a holdout is asked without a calibration end, ends before it, or no customer has a
        purchase day up to the calibration end.
    """
    if holdout_end is not None:
        if calibration_end is None:
            raise ClvError("a holdout end needs a calibration end")
        if holdout_end <= calibration_end:
            raise ClvError(
                f"the holdout end ({holdout_end}) must be after the calibration end "
                f"({calibration_end})"
            )
    if isinstance(kept, pa.Table):
        kept = ibis.memtable(kept)
    backend = backend or ibis.duckdb.connect()
    expression = _summary_expression(purchase_days(kept), calibration_end, holdout_end)
    frame = backend.to_pyarrow(expression).to_pandas(date_as_object=False)
    if frame.empty:
        raise ClvError("no customer has a purchase day with a positive value")
    data_end = frame["latest_day"].max().date()
    calibration_end = calibration_end or data_end
    table = _summary_table(frame, calibration_end)
    return ClvSummary(table, calibration_end, holdout_end, data_end)


def _summary_table(frame: pd.DataFrame, calibration_end: dt.date) -> pd.DataFrame:
    n_days = frame["n_days"].fillna(0).to_numpy(dtype=np.int64)
    if not (n_days > 0).any():
        raise ClvError(
            f"no customer has a purchase day up to the calibration end {calibration_end}"
        )
    first = frame["first_day"].to_numpy(dtype="datetime64[D]")
    last = frame["last_purchase"].to_numpy(dtype="datetime64[D]")
    end = np.datetime64(calibration_end, "D") + 1
    described = n_days > 0
    units = frame["units"].to_numpy(dtype=np.float64)
    repeat_units = units - frame["first_units"].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(n_days > 1, repeat_units / (n_days - 1) / MONEY_UNITS, np.nan)
    table = pd.DataFrame(
        {
            "first_purchase": frame["first_purchase"].to_numpy(dtype="datetime64[D]"),
            "last_purchase": last,
            "n_days": n_days,
            "x": pd.array(np.where(described, n_days - 1, 0), dtype="Int64"),
            "t_x": (last - first).astype(np.float64) / DAYS_PER_WEEK,
            "T": (end - first).astype(np.float64) / DAYS_PER_WEEK,
            "m": np.round(m, 4),
            "value": np.round(np.nan_to_num(units) / MONEY_UNITS, 2),
        },
        index=pd.Index(frame["customer_id"].astype("string"), name="customer_id"),
    )
    table.loc[~described, "x"] = pd.NA
    if "actual_purchases" in frame:
        table["actual_purchases"] = frame["actual_purchases"].fillna(0).to_numpy(dtype=np.int64)
        actual = frame["actual_units"].fillna(0).to_numpy(dtype=np.float64)
        table["actual_value"] = np.round(actual / MONEY_UNITS, 2)
    return table.sort_index()


def _calibration_arrays(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``x, t_x, T`` of the customers with a purchase day up to the calibration end."""
    missing = [c for c in ("x", "t_x", "T") if c not in table]
    if missing:
        raise ClvError(f"the summary needs columns x, t_x and T; missing: {', '.join(missing)}")
    known = table["x"].notna().to_numpy()
    x = table["x"].to_numpy(dtype=np.float64, na_value=np.nan)[known]
    t_x = table["t_x"].to_numpy(dtype=np.float64)[known]
    T = table["T"].to_numpy(dtype=np.float64)[known]
    bad = ~(
        (x >= 0) & (t_x >= 0) & (t_x <= T) & (T > 0) & (np.floor(x) == x) & ((x > 0) | (t_x == 0))
    )
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ClvError(
            f"{int(bad.sum()):,} customers have impossible x, t_x, T (x must be a whole number "
            f"≥ 0, 0 ≤ t_x ≤ T, T > 0, t_x = 0 when x = 0); first: x={x[first]}, t_x={t_x[first]}, "
            f"T={T[first]}"
        )
    return x, t_x, T


# -- BG/NBD ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BgNbdFit:
    """A fitted BG/NBD model (time in weeks).

    Attributes
    ----------
    r, alpha, a, b : float
        ``λ ~ Gamma(r, alpha)`` (``alpha`` in weeks), dropout ``p ~ Beta(a, b)``.
    log_likelihood : float
        At the optimum, summed over the customers.
    n_customers : int
    converged : bool
        See the module's definition; when False, ``message`` says why.
    message : str
    standard_errors : mapping of str to float
        From the inverse Hessian (empty when it is not negative definite).
    iterations : int
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_customers: int
    converged: bool
    message: str
    standard_errors: Mapping[str, float] = field(default_factory=dict)
    iterations: int = 0

    @property
    def params(self) -> dict[str, float]:
        """``{"r", "alpha", "a", "b"}``."""
        return {name: getattr(self, name) for name in BGNBD_PARAMETERS}


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and the position of each value among them."""
    codes, uniques = pd.factorize(values, sort=True)
    return np.asarray(uniques, dtype=np.float64), codes


def _rows(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of equal-length columns: a representative position of each, and the row
    number of every position (hashing one integer key is ~50× faster than a MultiIndex)."""
    key = np.zeros(columns[0].size, dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(column)
        key = key * len(uniques) + codes
    codes, uniques = pd.factorize(key)
    first = np.full(len(uniques), -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(codes.size - 1, -1, -1)
    return first, codes


@dataclass(frozen=True)
class _BgNbdData:
    """Customers with equal ``(x, t_x, T)`` counted once, with a weight.

    Terms that depend on ``x`` only are summed per distinct ``x`` (few hundred values), and the
    logarithms of ``α + T`` and ``α + t_x`` are taken per distinct time, so that one evaluation
    of the likelihood of a million customers costs a few vector operations.
    """

    x_values: np.ndarray  # distinct x
    x_weights: np.ndarray  # customers per distinct x
    weights: np.ndarray  # customers per distinct (x, t_x, T), repeat buyers (x > 0) first
    x: np.ndarray
    x_code: np.ndarray
    T_values: np.ndarray
    T_code: np.ndarray
    tx_values: np.ndarray
    tx_code: np.ndarray
    n_repeat: int  # rows with x > 0 (the first ones)

    @classmethod
    def of(cls, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> _BgNbdData:
        first, codes = _rows(x, t_x, T)
        counts = np.bincount(codes, minlength=first.size).astype(np.float64)
        order = np.argsort(x[first] == 0, kind="stable")
        gx, gtx, gT = (np.asarray(v, dtype=np.float64)[first[order]] for v in (x, t_x, T))
        weights = counts[order]
        x_values, x_code = _codes(gx)
        T_values, T_code = _codes(gT)
        tx_values, tx_code = _codes(gtx)
        x_weights = np.bincount(x_code, weights=weights, minlength=x_values.size)
        return cls(
            x_values, x_weights, weights, gx, x_code, T_values, T_code, tx_values, tx_code,
            int((gx > 0).sum()),
        )  # fmt: skip


def _bgnbd_terms(params: np.ndarray, data: _BgNbdData) -> tuple[float, np.ndarray]:
    """Log-likelihood (weighted sum) and its gradient with respect to ``r, alpha, a, b``."""
    r, alpha, a, b = params
    xs, xw = data.x_values, data.x_weights
    # the part that depends on x only: log Γ(r+x)α^r/Γ(r) + log B(a, b+x)/B(a, b)
    fixed = (
        special.gammaln(r + xs)
        - special.gammaln(r)
        + r * np.log(alpha)
        + special.gammaln(a + b)
        + special.gammaln(b + xs)
        - special.gammaln(b)
        - special.gammaln(a + b + xs)
    )
    digamma_ab, digamma_abx = special.digamma(a + b), special.digamma(a + b + xs)
    gradient = np.array(
        [
            xw @ (special.digamma(r + xs) - special.digamma(r) + np.log(alpha)),
            xw.sum() * r / alpha,
            xw @ (digamma_ab - digamma_abx),
            xw @ (digamma_ab + special.digamma(b + xs) - special.digamma(b) - digamma_abx),
        ]
    )
    value = float(xw @ fixed)
    # the part that depends on t_x and T: log[(α+T)^-(r+x) + δ(x>0) a/(b+x−1) (α+t_x)^-(r+x)]
    weights, k = data.weights, data.n_repeat
    log_T = np.log(alpha + data.T_values)[data.T_code]
    rx = r + data.x
    u = -rx * log_T
    with np.errstate(divide="ignore", invalid="ignore"):  # b + x − 1 is used for x > 0 only
        log_b = np.log(b + data.x_values - 1)[data.x_code[:k]]
    log_tx = np.log(alpha + data.tx_values)[data.tx_code[:k]]
    v = np.log(a) - log_b - rx[:k] * log_tx
    tail = u.copy()
    tail[:k] = np.logaddexp(u[:k], v)
    share = np.zeros_like(u)  # weight of the "dropped out after t_x" term; 0 for x = 0
    share[:k] = np.exp(v - tail[:k])
    value += float(weights @ tail)
    ws = weights * share
    gradient += np.array(
        [
            -(weights - ws) @ log_T - ws[:k] @ log_tx,
            -((weights - ws) * rx) @ (1 / (alpha + data.T_values))[data.T_code]
            - (ws[:k] * rx[:k]) @ (1 / (alpha + data.tx_values))[data.tx_code[:k]],
            ws.sum() / a,
            -ws[:k] @ np.exp(-log_b),
        ]
    )
    return value, gradient


def bgnbd_log_likelihood(
    summary: pd.DataFrame, *, r: float, alpha: float, a: float, b: float
) -> float:
    """Log-likelihood of BG/NBD parameters, summed over the customers of a summary.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``x, t_x, T`` per customer (:attr:`ClvSummary.table`; rows without ``x`` are skipped).
    r, alpha, a, b : float
        Positive; ``alpha`` in the time unit of ``t_x`` and ``T``.

    Returns
    -------
    float
    """
    x, t_x, T = _calibration_arrays(summary)
    params = np.array([r, alpha, a, b], dtype=np.float64)
    return _bgnbd_terms(params, _BgNbdData.of(x, t_x, T))[0]


@dataclass(frozen=True)
class _Optimum:
    params: np.ndarray
    log_likelihood: float
    converged: bool
    message: str
    standard_errors: np.ndarray | None
    iterations: int


def _maximise(
    terms: Callable[[np.ndarray], tuple[float, np.ndarray]],
    start: np.ndarray,
    names: tuple[str, ...],
    n: float,
    *,
    offset: float = 0.0,
) -> _Optimum:
    """Maximise a log-likelihood over log-parameters; check the optimum (see the module).

    ``offset`` is added to the reported log-likelihood (a constant the optimiser left out).
    """

    def negative_mean(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        value, gradient = terms(params)
        if not np.isfinite(value):
            return math.inf, np.zeros_like(log_params)
        return -value / n, -gradient * params / n

    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(start)
    result = optimize.minimize(
        negative_mean, np.log(start), jac=True, method="L-BFGS-B", bounds=bounds,
        options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9, "maxls": 50},
    )  # fmt: skip
    params = np.exp(result.x)
    log_likelihood = -float(result.fun) * n + offset
    problems = []
    if not result.success:
        problems.append(f"the optimiser stopped: {result.message}")
    at_edge = [name for name, v in zip(names, result.x, strict=True) if abs(v) > _LOG_BOUND - 0.5]
    if at_edge:
        values = ", ".join(f"{name} = {params[names.index(name)]:.3g}" for name in at_edge)
        problems.append(
            f"{values} ran to the edge of the range searched: the data do not pin "
            f"{'it' if len(at_edge) == 1 else 'them'} down"
        )
    errors = None
    if np.isfinite(log_likelihood) and not at_edge:
        hessian = _hessian(lambda lp: negative_mean(lp)[1], result.x) * n
        try:
            covariance = np.linalg.inv(hessian)
            eigenvalues = np.linalg.eigvalsh(hessian)
        except np.linalg.LinAlgError:
            eigenvalues = np.array([0.0])
        if (eigenvalues > 0).all():
            errors = np.sqrt(np.diag(covariance)) * params
        else:
            problems.append("the log-likelihood is flat or curved upwards at the optimum")
    if not np.isfinite(log_likelihood):
        problems.append("the log-likelihood is not finite")
    message = (
        f"converged in {result.nit} iterations (log-likelihood {log_likelihood:,.2f})"
        if not problems
        else "; ".join(problems)
    )
    return _Optimum(params, log_likelihood, not problems, message, errors, int(result.nit))


def _hessian(gradient: Callable[[np.ndarray], np.ndarray], point: np.ndarray) -> np.ndarray:
    """Central differences of an analytic gradient, symmetrised."""
    step = 1e-5
    columns = []
    for i in range(point.size):
        shift = np.zeros_like(point)
        shift[i] = step
        columns.append((gradient(point + shift) - gradient(point - shift)) / (2 * step))
    hessian = np.column_stack(columns)
    return (hessian + hessian.T) / 2


def fit_bgnbd(summary: pd.DataFrame, *, start: Mapping[str, float] | None = None) -> BgNbdFit:
    """Fit the BG/NBD model by maximum likelihood.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``x, t_x, T`` per customer (:attr:`ClvSummary.table`; rows without ``x``, customers
        first seen after the calibration end, are skipped). Time in weeks.
    start : mapping of str to float, optional
        Starting values of ``r, alpha, a, b``; default ``r = a = b = 1`` and ``alpha`` such
        that the mean rate ``r / alpha`` is the mean ``x / T``.

    Returns
    -------
    BgNbdFit
        Check :attr:`BgNbdFit.converged`: the fit is returned, not raised, when it fails.

    Raises
    ------
    ClvError
        When there is no customer, or no customer came back (every ``x = 0``).
    """
    x, t_x, T = _calibration_arrays(summary)
    if x.size == 0:
        raise ClvError("there is no customer to fit the BG/NBD model on")
    if not (x > 0).any():
        raise ClvError(
            f"none of the {x.size:,} customers bought on a second day: the BG/NBD model cannot "
            "tell how often customers buy or drop out"
        )
    rate = max(float(np.mean(x / T)), 1e-6)
    initial = {"r": 1.0, "alpha": 1.0 / rate, "a": 1.0, "b": 1.0, **(start or {})}
    data = _BgNbdData.of(x, t_x, T)
    optimum = _maximise(
        lambda params: _bgnbd_terms(params, data),
        np.array([initial[name] for name in BGNBD_PARAMETERS], dtype=np.float64),
        BGNBD_PARAMETERS,
        float(x.size),
    )
    errors = {} if optimum.standard_errors is None else dict(
        zip(BGNBD_PARAMETERS, map(float, optimum.standard_errors), strict=True)
    )  # fmt: skip
    return BgNbdFit(
        *map(float, optimum.params), log_likelihood=optimum.log_likelihood,
        n_customers=int(x.size), converged=optimum.converged, message=optimum.message,
        standard_errors=errors, iterations=optimum.iterations,
    )  # fmt: skip


def probability_alive(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray, *, fit: BgNbdFit
) -> np.ndarray:
    """P(alive at T | x, t_x, T): 1 / (1 + δ(x>0) a/(b+x−1) ((α+T)/(α+t_x))^(r+x)).

    Parameters
    ----------
    x, t_x, T : array-like
        Repeat purchases and weeks (see the module's definitions).
    fit : BgNbdFit

    Returns
    -------
    numpy.ndarray
        1 for customers with ``x = 0`` (the model lets customers drop out only after a repeat
        purchase).
    """
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    with np.errstate(divide="ignore", invalid="ignore"):
        log_odds = (
            np.log(a) - np.log(b + x - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        )
    return np.where(x > 0, special.expit(-log_odds), 1.0)


def _ratio_expm1(k: float, log_base: np.ndarray) -> np.ndarray:
    """(1 − e^(k·L)) / k, continuous at k = 0 (where it is −L)."""
    if abs(k) < 1e-10:
        return -log_base * (1 + k * log_base / 2)
    return -np.expm1(k * log_base) / k


def _new_customer_series(delta: float, a: float, C: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Σ_{n≥1} (δ)_n (a)_{n−1} z^n / ((C+1)_{n−1} n!), summed until the tail is negligible.

    The terms shrink about as fast as ``z^n``: the values are summed in order of decreasing
    ``z``, so that the ones still being summed are a prefix of the arrays (slices, no copies).
    NaN where the tail is not negligible after :data:`_SERIES_MAX_TERMS` terms.
    """
    order = np.argsort(-z, kind="stable")
    z_sorted, C_sorted = z[order], C[order]
    term = delta * z_sorted
    total = term.copy()
    active = z.size if delta != 0 else 0
    pending = np.ones(active, dtype=bool)
    n = 1
    while active and n < _SERIES_MAX_TERMS:
        zn, step = z_sorted[:active], term[:active]
        ratio = (delta + n) * (a + n - 1) / ((C_sorted[:active] + n) * (n + 1)) * zn
        step *= ratio
        total[:active] += step
        bound = np.maximum(np.abs(ratio), zn)
        with np.errstate(divide="ignore"):
            tail = np.abs(step) * bound / (1 - bound)
        pending = (bound >= 1) | (tail > _SERIES_TOLERANCE * np.abs(total[:active]))
        pending &= step != 0
        active = int(np.flatnonzero(pending)[-1]) + 1 if pending.any() else 0
        n += 1
    total[:active] = np.where(pending[:active], np.nan, total[:active])
    result = np.empty_like(total)
    result[order] = total
    return result


def _purchases_if_alive(t: float, x: np.ndarray, T: np.ndarray, fit: BgNbdFit) -> np.ndarray:
    """E[purchases in (T, T+t] | alive at T, x, T]: the expectation of a customer known alive.

    ``C/(a−1) · [1 − 2F1(r+x, a−1; C; −t/(α+T))]`` with ``C = a+b+x−1``, evaluated after Pfaff's
    transformation (see the module's docstring).
    """
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    beta = alpha + T
    log_rest = -np.log1p(t / beta)  # log(1 − z)
    z = -np.expm1(log_rest)
    C = a + b + x - 1
    series = _new_customer_series(a + b - 1 - r, a, C, z)
    return C * _ratio_expm1(a - 1, log_rest) - np.exp((a - 1) * log_rest) * series


def _expected_by_group(
    times: list[float], x: np.ndarray, T: np.ndarray, fit: BgNbdFit
) -> np.ndarray:
    """``_purchases_if_alive`` at several horizons (rows) for each customer (columns).

    Customers with the same ``x`` and ``T`` share the value: it is computed once per pair.
    """
    first, codes = _rows(x, T)
    values = np.vstack([_purchases_if_alive(t, x[first], T[first], fit) for t in times])
    return values[:, codes]


def expected_purchases(
    t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, *, fit: BgNbdFit
) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: purchase days expected in the ``t`` weeks after the calibration end.

    Parameters
    ----------
    t : float
        Weeks, ≥ 0.
    x, t_x, T : array-like
    fit : BgNbdFit

    Returns
    -------
    numpy.ndarray
        ``P(alive) × E[Y(t) | alive]``; NaN where the series did not converge.
    """
    if not t >= 0:
        raise ClvError(f"the horizon must be at least 0 weeks, got {t}")
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    if t == 0:
        return np.zeros_like(x)
    alive = probability_alive(x, t_x, T, fit=fit)
    return alive * _expected_by_group([t], x, T, fit)[0]


# -- Gamma-Gamma -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GammaGammaFit:
    """A fitted Gamma-Gamma spend model.

    Attributes
    ----------
    p, q, v : float
        Purchase values ``~ Gamma(p, ν)``, ``ν ~ Gamma(q, v)`` (``v`` is the papers' γ, in
        currency units).
    log_likelihood : float
    n_customers : int
        Customers with ``x ≥ 1`` used.
    converged : bool
    message : str
    standard_errors : mapping of str to float
    iterations : int
    """

    p: float
    q: float
    v: float
    log_likelihood: float
    n_customers: int
    converged: bool
    message: str
    standard_errors: Mapping[str, float] = field(default_factory=dict)
    iterations: int = 0

    @property
    def params(self) -> dict[str, float]:
        """``{"p", "q", "v"}``."""
        return {name: getattr(self, name) for name in GAMMA_GAMMA_PARAMETERS}

    @property
    def population_mean(self) -> float:
        """Mean value of a purchase day in the population, ``v p / (q − 1)`` (needs q > 1)."""
        return self.v * self.p / (self.q - 1) if self.q > 1 else math.inf


def _spend_arrays(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``x, m`` of the customers with ``x ≥ 1``."""
    if "m" not in summary:
        raise ClvError("the summary needs a column m (mean value of the repeat purchase days)")
    x = summary["x"].to_numpy(dtype=np.float64, na_value=np.nan)
    m = summary["m"].to_numpy(dtype=np.float64, na_value=np.nan)
    repeat = x >= 1
    bad = repeat & ~(m > 0)
    if bad.any():
        raise ClvError(
            f"{int(bad.sum()):,} customers with x ≥ 1 have no positive m; first: "
            f"{summary.index[np.flatnonzero(bad)[0]]}"
        )
    return x[repeat], m[repeat]


def _gamma_gamma_terms(
    params: np.ndarray, x: np.ndarray, m: np.ndarray, log_m: np.ndarray, log_x: np.ndarray
) -> tuple[float, np.ndarray]:
    p, q, v = params
    px = p * x
    log_total = np.log(v + m * x)
    terms = (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(v)
        + (px - 1) * log_m
        + px * log_x
        - (px + q) * log_total
    )
    digamma_pq = special.digamma(px + q)
    gradient = np.array(
        [
            float(np.dot(x, digamma_pq - special.digamma(px) + log_m + log_x - log_total)),
            float(np.sum(digamma_pq - special.digamma(q) + np.log(v) - log_total)),
            float(np.sum(q / v - (px + q) / (v + m * x))),
        ]
    )
    return float(terms.sum()), gradient


def gamma_gamma_log_likelihood(summary: pd.DataFrame, *, p: float, q: float, v: float) -> float:
    """Log-likelihood of Gamma-Gamma parameters over the customers with ``x ≥ 1``.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``x, m`` per customer (:attr:`ClvSummary.table`).
    p, q, v : float
        Positive.

    Returns
    -------
    float
    """
    x, m = _spend_arrays(summary)
    params = np.array([p, q, v], dtype=np.float64)
    return _gamma_gamma_terms(params, x, m, np.log(m), np.log(x))[0]


def fit_gamma_gamma(
    summary: pd.DataFrame, *, start: Mapping[str, float] | None = None
) -> GammaGammaFit:
    """Fit the Gamma-Gamma spend model by maximum likelihood on the customers with ``x ≥ 1``.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``x, m`` per customer (:attr:`ClvSummary.table`).
    start : mapping of str to float, optional
        Starting values of ``p, q, v``; default ``p = 1, q = 2`` and ``v`` the mean ``m``.

    Returns
    -------
    GammaGammaFit
        Not converged (with the reason) also when ``q ≤ 1``: the population mean spend would be
        infinite.

    Raises
    ------
    ClvError
        With fewer than two customers with ``x ≥ 1``.
    """
    x, m = _spend_arrays(summary)
    if x.size < 2:
        raise ClvError(
            f"{x.size} customer(s) bought on a second day: the Gamma-Gamma spend model needs "
            "at least two"
        )
    scale = float(np.median(m))  # fitted on m / scale: v is then of order 1
    initial = {"p": 1.0, "q": 2.0, "v": float(np.mean(m)), **(start or {})}
    initial["v"] /= scale
    scaled = m / scale
    log_m, log_x = np.log(scaled), np.log(x)
    optimum = _maximise(
        lambda params: _gamma_gamma_terms(params, x, scaled, log_m, log_x),
        np.array([initial[name] for name in GAMMA_GAMMA_PARAMETERS], dtype=np.float64),
        GAMMA_GAMMA_PARAMETERS,
        float(x.size),
        offset=-x.size * math.log(scale),  # the density of m is that of m / scale over scale
    )
    p, q, v = optimum.params
    converged, message = optimum.converged, optimum.message
    if q <= 1:
        converged = False
        message = f"q = {q:.3g} ≤ 1: the model gives the population no finite mean spend; {message}"
    errors = {}
    if optimum.standard_errors is not None:
        errors = dict(zip(GAMMA_GAMMA_PARAMETERS, map(float, optimum.standard_errors), strict=True))
        errors["v"] *= scale
    return GammaGammaFit(
        float(p), float(q), float(v) * scale, log_likelihood=optimum.log_likelihood,
        n_customers=int(x.size), converged=converged, message=message, standard_errors=errors,
        iterations=optimum.iterations,
    )  # fmt: skip


def expected_average_value(x: np.ndarray, m: np.ndarray, *, fit: GammaGammaFit) -> np.ndarray:
    """E[value of a purchase day | x, m] = (v + m x) p / (p x + q − 1).

    Parameters
    ----------
    x : array-like
        Repeat purchase days.
    m : array-like
        Mean value of the repeat purchase days (ignored where ``x = 0``).
    fit : GammaGammaFit

    Returns
    -------
    numpy.ndarray
        The population mean ``v p / (q − 1)`` where ``x = 0``.
    """
    x = np.asarray(x, dtype=np.float64)
    m = np.where(x > 0, np.asarray(m, dtype=np.float64), 0.0)
    return (fit.v + m * x) * fit.p / (fit.p * x + fit.q - 1)


def spend_frequency_correlation(summary: pd.DataFrame) -> float:
    """Pearson correlation of ``x`` and ``m`` over the customers with ``x ≥ 1``.

    Gamma-Gamma assumes none: values of |ρ| from :data:`CORRELATION_WARNING` on make its
    expected values doubtful. NaN with fewer than two such customers or no variation.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``x, m`` per customer.

    Returns
    -------
    float
    """
    x, m = _spend_arrays(summary)
    if x.size < 2 or np.ptp(x) == 0 or np.ptp(m) == 0:
        return math.nan
    return float(np.corrcoef(x, m)[0, 1])


# -- prediction --------------------------------------------------------------------------------


def _week_ends(horizon: float) -> list[float]:
    ends = [float(k) for k in range(1, math.ceil(horizon))]
    return [*ends, float(horizon)]


def predict_clv(
    summary: pd.DataFrame,
    bgnbd: BgNbdFit,
    gamma_gamma: GammaGammaFit,
    *,
    horizon_weeks: float = 12.0,
    margin: float = 1.0,
    discount_rate: float = 0.0,
    holdout_weeks: float | None = None,
) -> pd.DataFrame:
    """Predict each described customer's purchases, value and lifetime value.

    Parameters
    ----------
    summary : pandas.DataFrame
        :attr:`ClvSummary.table` (rows without ``x`` get empty predictions).
    bgnbd : BgNbdFit
    gamma_gamma : GammaGammaFit
    horizon_weeks : float, default 12
        Weeks after the calibration end over which CLV counts purchases.
    margin : float, default 1
        Share of the purchase value that is profit (1: CLV in revenue).
    discount_rate : float, default 0
        Annual rate; each week's expected purchases are discounted to the week's end.
    holdout_weeks : float, optional
        Also predict the purchases of the holdout period (``expected_holdout_purchases``).

    Returns
    -------
    pandas.DataFrame
        The summary's index; ``p_alive``, ``expected_purchases`` (over the horizon),
        ``expected_avg_value``, ``clv`` and, with ``holdout_weeks``,
        ``expected_holdout_purchases``.
    """
    _check_options(horizon_weeks, margin, discount_rate)
    known = summary["x"].notna().to_numpy()
    x = summary["x"].to_numpy(dtype=np.float64, na_value=np.nan)[known]
    t_x = summary["t_x"].to_numpy(dtype=np.float64)[known]
    T = summary["T"].to_numpy(dtype=np.float64)[known]
    m = summary["m"].to_numpy(dtype=np.float64, na_value=np.nan)[known]
    alive = probability_alive(x, t_x, T, fit=bgnbd)
    times = _week_ends(horizon_weeks) if discount_rate > 0 else [float(horizon_weeks)]
    if holdout_weeks is not None:
        times.append(float(holdout_weeks))
    cumulative = alive * _expected_by_group(times, x, T, bgnbd)
    horizon = len(times) - (holdout_weeks is not None)
    purchases = cumulative[horizon - 1]
    value = expected_average_value(x, m, fit=gamma_gamma)
    if discount_rate > 0:
        steps = np.diff(cumulative[:horizon], axis=0, prepend=0.0)
        factors = (1 + discount_rate) ** (-np.asarray(times[:horizon]) / WEEKS_PER_YEAR)
        discounted = factors @ steps
    else:
        discounted = purchases
    columns = {
        "p_alive": alive,
        "expected_purchases": purchases,
        "expected_avg_value": value,
        "clv": margin * value * discounted,
    }
    if holdout_weeks is not None:
        columns["expected_holdout_purchases"] = cumulative[-1]
    predictions = pd.DataFrame(np.nan, index=summary.index, columns=list(columns))
    for name, values in columns.items():
        predictions.loc[known, name] = values
    return predictions


def _check_options(horizon_weeks: float, margin: float, discount_rate: float) -> None:
    if not (math.isfinite(horizon_weeks) and horizon_weeks > 0):
        raise ClvError(f"horizon_weeks must be a positive number of weeks, got {horizon_weeks}")
    if not (math.isfinite(margin) and margin > 0):
        raise ClvError(f"margin must be positive (1 = revenue), got {margin}")
    if not (math.isfinite(discount_rate) and discount_rate >= 0):
        raise ClvError(
            f"discount_rate must be an annual rate ≥ 0 (0.1 = 10 %), got {discount_rate}"
        )


# -- the whole step ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClvResult:
    """Lifetime value of every customer and the models behind it.

    Attributes
    ----------
    customers : pandas.DataFrame
        Index ``customer_id``: every customer given (or of the summary). Columns ``x``,
        ``t_x_weeks``, ``T_weeks``, ``monetary_value`` (``m``), ``p_alive``,
        ``expected_purchases``, ``expected_avg_value``, ``clv``, with a holdout
        ``expected_holdout_purchases``, ``actual_purchases``, ``actual_value``, then
        ``clv_note`` (empty when the model describes the customer).
    summary : ClvSummary
    bgnbd : BgNbdFit
    gamma_gamma : GammaGammaFit
    correlation : float
        :func:`spend_frequency_correlation`.
    horizon_weeks, margin, discount_rate : float
    warnings : tuple of str
    """

    customers: pd.DataFrame
    summary: ClvSummary
    bgnbd: BgNbdFit
    gamma_gamma: GammaGammaFit
    correlation: float
    horizon_weeks: float
    margin: float
    discount_rate: float
    warnings: tuple[str, ...] = ()

    @property
    def holdout(self) -> dict[str, float] | None:
        """Purchases expected and made in the holdout, summed over the calibration customers."""
        if self.summary.holdout_end is None:
            return None
        described = self.customers["x"].notna()
        rows = self.customers[described]
        return {
            "expected_purchases": float(rows["expected_holdout_purchases"].sum()),
            "actual_purchases": int(rows["actual_purchases"].sum()),
        }


def customer_lifetime_value(
    kept: ir.Table | pa.Table,
    *,
    backend: ibis.BaseBackend | None = None,
    customers: pd.Index | None = None,
    calibration_end: dt.date | None = None,
    holdout_end: dt.date | None = None,
    horizon_weeks: float = 12.0,
    margin: float = 1.0,
    discount_rate: float = 0.0,
    doubtful_fits: bool = False,
) -> ClvResult:
    """Summarise, fit both models and predict every customer's lifetime value.

    Parameters
    ----------
    kept : ibis Table or pyarrow.Table
        Kept lines (see :func:`clv_summary`).
    backend : ibis backend, optional
        Where the summary runs (see :func:`clv_summary`).
    customers : pandas.Index, optional
        Customers who must get a row (e.g. the RFM table's index); those the model cannot
        describe get empty predictions and a ``clv_note``.
    calibration_end, holdout_end : datetime.date, optional
        See :func:`clv_summary`; without ``calibration_end`` the models fit on everything.
    horizon_weeks, margin, discount_rate : float
        See :func:`predict_clv`.
    doubtful_fits : bool, default False
        Predict with a fit that did not converge (a parameter ran to the edge of its range, the
        likelihood is flat at the optimum, the optimiser stopped early) from the best parameters
        found, saying why in the warnings. For a backtest, which measures the predictions
        against what happened anyway. A fit without a finite likelihood, or a Gamma-Gamma fit
        with ``q ≤ 1`` (no finite mean spend), is refused all the same.

    Returns
    -------
    ClvResult

    Raises
    ------
    ClvError
        When a model cannot be fitted or its fit did not converge (the message says why).
    """
    _check_options(horizon_weeks, margin, discount_rate)
    summary = clv_summary(
        kept, backend=backend, calibration_end=calibration_end, holdout_end=holdout_end
    )
    table = summary.table
    doubts = []
    bgnbd = fit_bgnbd(table)
    doubts += _accepted("BG/NBD", bgnbd, doubtful=doubtful_fits)
    gamma_gamma = fit_gamma_gamma(table)
    doubts += _accepted("Gamma-Gamma", gamma_gamma, doubtful=doubtful_fits)
    predictions = predict_clv(
        table, bgnbd, gamma_gamma, horizon_weeks=horizon_weeks, margin=margin,
        discount_rate=discount_rate, holdout_weeks=summary.holdout_weeks,
    )  # fmt: skip
    correlation = spend_frequency_correlation(table)
    warnings = doubts
    if abs(correlation) >= CORRELATION_WARNING:
        warnings.append(
            f"spend and frequency are correlated (Pearson ρ = {correlation:.2f} between x and "
            "m over the customers with x ≥ 1): the Gamma-Gamma model assumes they are not, so "
            "expected values are biased"
        )
    if holdout_end is not None and summary.data_end < holdout_end:
        warnings.append(
            f"the last purchase day is {summary.data_end}, before the holdout end "
            f"{holdout_end}: actual purchases may cover less than the holdout"
        )
    rows = _customer_rows(summary, predictions, customers)
    unsummed = int((rows["clv_note"] == NOTE_NOT_SUMMED).sum())
    if unsummed:
        warnings.append(f"{unsummed:,} customers have no expected purchases: {NOTE_NOT_SUMMED}")
    return ClvResult(
        rows, summary, bgnbd, gamma_gamma, correlation, float(horizon_weeks), float(margin),
        float(discount_rate), tuple(warnings),
    )  # fmt: skip


def _accepted(label: str, fit: BgNbdFit | GammaGammaFit, *, doubtful: bool) -> list[str]:
    """Nothing for a converged fit; a warning for a doubtful one that may be used; else raise."""
    if fit.converged:
        return []
    usable = math.isfinite(fit.log_likelihood) and all(
        math.isfinite(v) and v > 0 for v in fit.params.values()
    )
    if isinstance(fit, GammaGammaFit):
        usable = usable and fit.q > 1
    if not (doubtful and usable):
        raise ClvError(f"the {label} fit failed: {fit.message}")
    return [
        f"the {label} fit did not converge ({fit.message}); its predictions come from the best "
        "parameters found"
    ]


def _customer_rows(
    summary: ClvSummary, predictions: pd.DataFrame, customers: pd.Index | None
) -> pd.DataFrame:
    table = summary.table
    rows = pd.DataFrame(
        {
            "x": table["x"],
            "t_x_weeks": table["t_x"],
            "T_weeks": table["T"],
            "monetary_value": table["m"],
            **{name: predictions[name] for name in predictions.columns},
        },
        index=table.index,
    )
    if summary.holdout_end is not None:
        rows["actual_purchases"] = table["actual_purchases"]
        rows["actual_value"] = table["actual_value"]
    notes = pd.Series("", index=table.index, dtype="string")
    notes[table["n_days"].to_numpy() == 0] = NOTE_NO_CALIBRATION
    last_day = (table["n_days"] == 1) & (
        table["first_purchase"] == pd.Timestamp(summary.calibration_end)
    )
    notes[last_day.to_numpy()] = NOTE_LAST_DAY
    unsummed = table["x"].notna().to_numpy() & predictions["expected_purchases"].isna().to_numpy()
    notes[unsummed] = NOTE_NOT_SUMMED
    rows["clv_note"] = notes
    if customers is not None:
        everyone = pd.Index(customers.astype("string"), name="customer_id").union(rows.index)
        rows = rows.reindex(everyone)
        rows["clv_note"] = rows["clv_note"].fillna(NOTE_NO_PURCHASE_DAY)
        if "actual_purchases" in rows:
            rows["actual_purchases"] = rows["actual_purchases"].fillna(0).astype("int64")
            rows["actual_value"] = rows["actual_value"].fillna(0.0)
    rows["x"] = rows["x"].astype("Int64")
    return rows


CLV_DECIMALS = {
    "t_x_weeks": 4, "T_weeks": 4, "monetary_value": 2, "p_alive": 4, "expected_purchases": 4,
    "expected_avg_value": 2, "clv": 2, "expected_holdout_purchases": 4, "actual_value": 2,
}  # fmt: skip
NOT_IN_RFM = "(not in the RFM table)"


def clv_table(customers: pd.DataFrame, rfm_segment: pd.Series) -> pd.DataFrame:
    """The per-customer rows as exported: the rule segment first, rounded, empty notes missing.

    Parameters
    ----------
    customers : pandas.DataFrame
        :attr:`ClvResult.customers`.
    rfm_segment : pandas.Series
        Rule segment per customer (the RFM table's ``rfm_segment``); customers without one get
        :data:`NOT_IN_RFM`.

    Returns
    -------
    pandas.DataFrame
        ``rfm_segment`` then the columns of ``customers`` rounded to :data:`CLV_DECIMALS`;
        ``clv_note`` is missing (an empty CSV field) where the model describes the customer.
    """
    rows = customers.round(CLV_DECIMALS)
    segments = rfm_segment.astype(str).reindex(customers.index).fillna(NOT_IN_RFM)
    rows.insert(0, "rfm_segment", segments)
    rows["clv_note"] = rows["clv_note"].replace("", pd.NA)
    return rows


def clv_by_segment(
    customers: pd.DataFrame, labels: pd.Series, *, order: list[Hashable] | None = None
) -> pd.DataFrame:
    """Sums and medians of lifetime value per segment (rule segments or clusters alike).

    Parameters
    ----------
    customers : pandas.DataFrame
        :attr:`ClvResult.customers`.
    labels : pandas.Series
        Segment of every customer, indexed by ``customer_id`` (e.g. the RFM table's
        ``rfm_segment`` or :attr:`rfm_core.segments.segmentation.SegmentationResult.labels`).
    order : list, optional
        Segments in this order first, the others after them, sorted.

    Returns
    -------
    pandas.DataFrame
        Index ``segment``; ``customers``, ``described`` (customers with a prediction),
        ``clv_sum``, ``clv_median``, ``share_clv``, ``expected_purchases_sum``,
        ``expected_purchases_median``, ``p_alive_median``, ``expected_avg_value_median`` and,
        with a holdout, ``actual_purchases_sum``, ``actual_value_sum``.
    """
    if not isinstance(labels, pd.Series):
        raise ClvError(f"labels must be a pandas Series, got {type(labels).__name__}")
    aligned = labels.reindex(customers.index)
    if aligned.isna().any():
        missing = customers.index[aligned.isna().to_numpy()]
        raise ClvError(f"{len(missing):,} customers have no segment label; first: {missing[0]}")
    grouped = customers.groupby(aligned.to_numpy(), sort=False)
    total = float(customers["clv"].sum())
    frame = pd.DataFrame(
        {
            "customers": grouped.size().astype("int64"),
            "described": grouped["clv"].count().astype("int64"),
            "clv_sum": grouped["clv"].sum(),
            "clv_median": grouped["clv"].median(),
            "expected_purchases_sum": grouped["expected_purchases"].sum(),
            "expected_purchases_median": grouped["expected_purchases"].median(),
            "p_alive_median": grouped["p_alive"].median(),
            "expected_avg_value_median": grouped["expected_avg_value"].median(),
        }
    )
    frame.insert(4, "share_clv", frame["clv_sum"] / total if total else 0.0)
    if "actual_purchases" in customers:
        frame["actual_purchases_sum"] = grouped["actual_purchases"].sum().astype("int64")
        frame["actual_value_sum"] = grouped["actual_value"].sum()
    present = list(frame.index)
    first = [label for label in (order or []) if label in set(present)]
    rest = sorted((label for label in present if label not in set(first)), key=str)
    frame = frame.loc[first + rest]
    frame.index.name = "segment"
    return frame
