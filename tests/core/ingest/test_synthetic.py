"""Tests of the synthetic transaction-log generator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from rfm_core.ingest.synthetic import (
    ANOMALIES,
    ANOMALY_GROUP,
    GROUPS,
    LIFECYCLE_GROUPS,
    MESS_RATES,
    TRANSACTION_COLUMNS,
    GroupSpec,
    SyntheticLog,
    generate_transactions,
    lifecycle_groups,
)

START, END = "2023-01-01", "2023-12-31"
RFM = ["recency", "frequency", "monetary"]


@pytest.fixture(scope="module")
def log() -> SyntheticLog:
    return generate_transactions(2000, random_state=7)


def clean_purchases(transactions: pd.DataFrame) -> pd.DataFrame:
    """The standard cleaning, written independently of the generator."""
    kept = transactions[
        transactions["CustomerID"].notna()
        & ~transactions["InvoiceNo"].str.startswith("C")
        & (transactions["Quantity"] > 0)
        & (transactions["UnitPrice"] > 0)
    ]
    return kept.drop_duplicates()


def recompute_rfm(transactions: pd.DataFrame, end: str = END) -> pd.DataFrame:
    clean = clean_purchases(transactions)
    per_customer = clean.assign(amount=clean["Quantity"] * clean["UnitPrice"]).groupby("CustomerID")
    last_day = per_customer["InvoiceDate"].max().dt.normalize()
    day_after_end = pd.Timestamp(end) + pd.Timedelta(days=1)
    return pd.DataFrame(
        {
            "recency": (day_after_end - last_day).dt.days.astype("int64"),
            "frequency": per_customer["InvoiceNo"].nunique().astype("int64"),
            "monetary": per_customer["amount"].sum().round(2),
        }
    ).rename_axis("customer_id")


def log_rfm(customers: pd.DataFrame) -> np.ndarray:
    return np.log1p(customers[RFM].to_numpy(dtype=float))


def test_transaction_columns_and_dtypes(log: SyntheticLog) -> None:
    tx = log.transactions
    assert tuple(tx.columns) == TRANSACTION_COLUMNS
    for column in ("InvoiceNo", "StockCode", "Description", "Country"):
        assert tx[column].dtype == "str", column
    assert tx["CustomerID"].dtype == pd.StringDtype()
    assert tx["Quantity"].dtype == "int64"
    assert tx["UnitPrice"].dtype == "float64"
    assert pd.api.types.is_datetime64_dtype(tx["InvoiceDate"])
    assert (tx["UnitPrice"] == tx["UnitPrice"].round(2)).all()
    assert isinstance(tx.index, pd.RangeIndex)


def test_identifiers_look_like_the_online_retail_file(log: SyntheticLog) -> None:
    tx = log.transactions
    assert tx["InvoiceNo"].str.fullmatch(r"C?\d{6}").all()
    assert tx["CustomerID"].dropna().str.fullmatch(r"\d{5}").all()
    assert tx["StockCode"].str.fullmatch(r"\d{5}[A-Z]?").all()
    assert tx["Country"].value_counts().index[0] == "United Kingdom"
    assert tx["Country"].nunique() > 3
    assert (tx["InvoiceDate"].dt.minute != 0).any()


def test_customer_truth_schema(log: SyntheticLog) -> None:
    customers = log.customers
    assert customers.index.name == "customer_id"
    assert customers.index.dtype == log.transactions["CustomerID"].dtype
    assert customers.index.is_unique
    assert list(customers.columns) == [
        "group",
        "is_anomaly",
        "anomaly_kind",
        "anomaly_feature",
        *RFM,
    ]
    assert customers["is_anomaly"].dtype == bool
    assert customers["recency"].dtype == "int64"
    assert customers["frequency"].dtype == "int64"
    assert customers["monetary"].dtype == "float64"
    normal = customers[~customers["is_anomaly"]]
    assert set(normal["group"]) == set(GROUPS)
    assert (normal["anomaly_kind"] == "").all()
    assert (normal["anomaly_feature"] == "").all()
    assert (customers["frequency"] >= 1).all()
    assert (customers["monetary"] > 0).all()


def test_same_arguments_give_identical_logs() -> None:
    first = generate_transactions(300, random_state=11)
    second = generate_transactions(300, random_state=np.random.default_rng(11))
    pd.testing.assert_frame_equal(first.transactions, second.transactions)
    pd.testing.assert_frame_equal(first.customers, second.customers)
    assert first.mess == second.mess


def test_different_seeds_give_different_logs() -> None:
    first = generate_transactions(300, random_state=1)
    second = generate_transactions(300, random_state=2)
    assert not first.transactions.equals(second.transactions)
    assert not first.customers[RFM].equals(second.customers[RFM])


def test_truth_equals_rfm_recomputed_from_cleaned_transactions(log: SyntheticLog) -> None:
    pd.testing.assert_frame_equal(recompute_rfm(log.transactions), log.customers[RFM])


def test_truth_holds_without_mess_and_on_a_short_period() -> None:
    short = generate_transactions(400, start="2023-03-01", end="2023-03-31", random_state=3)
    pd.testing.assert_frame_equal(
        recompute_rfm(short.transactions, "2023-03-31"), short.customers[RFM]
    )
    tidy = generate_transactions(400, mess=False, random_state=3)
    pd.testing.assert_frame_equal(recompute_rfm(tidy.transactions), tidy.customers[RFM])


@settings(max_examples=25, deadline=None)
@given(
    n_customers=st.integers(1, 150),
    span_days=st.integers(0, 800),
    anomaly_share=st.sampled_from([0.0, 0.02, 0.5]),
    mess=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_truth_matches_transactions_for_any_size_period_and_seed(
    n_customers: int, span_days: int, anomaly_share: float, mess: bool, seed: int
) -> None:
    end = (pd.Timestamp("2022-01-01") + pd.Timedelta(days=span_days)).strftime("%Y-%m-%d")
    log = generate_transactions(
        n_customers,
        anomaly_share=anomaly_share,
        start="2022-01-01",
        end=end,
        mess=mess,
        random_state=seed,
    )
    dates = log.transactions["InvoiceDate"]
    assert dates.min() >= pd.Timestamp("2022-01-01")
    assert dates.max() < pd.Timestamp(end) + pd.Timedelta(days=1)
    assert len(log.customers) == n_customers
    pd.testing.assert_frame_equal(recompute_rfm(log.transactions, end), log.customers[RFM])


def test_mess_counts_match_the_rows(log: SyntheticLog) -> None:
    tx, mess = log.transactions, log.mess
    assert set(mess) == set(MESS_RATES)
    assert tx["CustomerID"].isna().sum() == mess["missing_customer_id"]
    assert tx["InvoiceNo"].str.startswith("C").sum() == mess["cancellations"]
    assert (tx["Quantity"] < 0).sum() == mess["cancellations"]
    assert tx.duplicated().sum() == mess["duplicate_rows"]
    assert (tx["UnitPrice"] == 0).sum() == mess["zero_price"]
    n_purchase_rows = len(clean_purchases(tx))
    for kind, rate in MESS_RATES.items():
        assert mess[kind] == pytest.approx(rate * n_purchase_rows, abs=1), kind
        assert mess[kind] > 0, kind


def test_no_mess_when_disabled() -> None:
    tidy = generate_transactions(400, mess=False, random_state=5)
    assert tidy.mess == dict.fromkeys(MESS_RATES, 0)
    assert len(clean_purchases(tidy.transactions)) == len(tidy.transactions)


def test_cancellations_reverse_an_earlier_purchase_line(log: SyntheticLog) -> None:
    tx = log.transactions
    is_credit = tx["InvoiceNo"].str.startswith("C")
    key = ["CustomerID", "StockCode", "UnitPrice", "Country"]
    purchases = tx[~is_credit].drop_duplicates()
    credits = tx[is_credit].assign(Quantity=-tx["Quantity"])
    matched = credits.merge(purchases, on=[*key, "Quantity"], suffixes=("", "_bought"))
    matched = matched[matched["InvoiceDate"] >= matched["InvoiceDate_bought"]]
    assert set(matched["InvoiceNo"] + matched["StockCode"]) == set(
        credits["InvoiceNo"] + credits["StockCode"]
    )
    assert (tx.loc[is_credit, "CustomerID"].notna()).all()


def test_invoices_have_one_customer_timestamp_and_country(log: SyntheticLog) -> None:
    per_invoice = log.transactions.groupby("InvoiceNo")[
        ["CustomerID", "InvoiceDate", "Country"]
    ].nunique(dropna=False)
    assert (per_invoice == 1).all().all()


def test_invoice_lines_are_distinct_products(log: SyntheticLog) -> None:
    rows = log.transactions.drop_duplicates()
    assert not rows.duplicated(["InvoiceNo", "StockCode"]).any()


def test_dates_lie_within_the_period_and_rows_are_sorted(log: SyntheticLog) -> None:
    dates = log.transactions["InvoiceDate"]
    assert dates.min() >= pd.Timestamp(START)
    assert dates.max() < pd.Timestamp(END) + pd.Timedelta(days=1)
    ordered = log.transactions.sort_values(["InvoiceDate", "InvoiceNo"], kind="stable")
    assert ordered.index.equals(log.transactions.index)


def test_single_day_period_stays_within_the_day() -> None:
    one_day = generate_transactions(200, start="2024-02-29", end="2024-02-29", random_state=4)
    dates = one_day.transactions["InvoiceDate"]
    assert (dates.dt.normalize() == pd.Timestamp("2024-02-29")).all()
    assert (one_day.customers["recency"] == 1).all()


@pytest.mark.parametrize(
    ("n_customers", "share", "expected"),
    [(2000, 0.02, 40), (1000, 0.001, 1), (60, 0.001, 1), (49, 0.001, 0), (500, 0.0, 0)],
)
def test_anomaly_count(n_customers: int, share: float, expected: int) -> None:
    customers = generate_transactions(n_customers, anomaly_share=share, mess=False).customers
    anomalies = customers[customers["is_anomaly"]]
    assert len(anomalies) == expected
    assert (anomalies["group"] == ANOMALY_GROUP).all()


def test_anomaly_kinds_are_allotted_equally(log: SyntheticLog) -> None:
    anomalies = log.customers[log.customers["is_anomaly"]]
    counts = anomalies["anomaly_kind"].value_counts()
    assert set(counts.index) == set(ANOMALIES)
    assert counts.max() - counts.min() <= 1
    expected_feature = anomalies["anomaly_kind"].map({k: a.feature for k, a in ANOMALIES.items()})
    assert (anomalies["anomaly_feature"] == expected_feature).all()


def test_group_shares_follow_the_specs(log: SyntheticLog) -> None:
    normal = log.customers[~log.customers["is_anomaly"]]
    shares = normal["group"].value_counts(normalize=True)
    for name, spec in GROUPS.items():
        assert shares[name] == pytest.approx(spec.share, abs=0.001), name


def test_kmeans_on_log_rfm_recovers_the_groups(log: SyntheticLog) -> None:
    normal = log.customers[~log.customers["is_anomaly"]]
    features = log_rfm(normal)
    standardised = (features - features.mean(axis=0)) / features.std(axis=0)
    labels = KMeans(n_clusters=len(GROUPS), n_init=3, random_state=0).fit_predict(standardised)
    assert adjusted_rand_score(normal["group"], labels) >= 0.9


def test_anomalies_are_robust_outliers_on_their_planted_feature(log: SyntheticLog) -> None:
    features = log_rfm(log.customers)
    median = np.median(features, axis=0)
    mad = np.median(np.abs(features - median), axis=0)
    robust_z = np.abs(features - median) / (1.4826 * mad)
    anomalous = log.customers["is_anomaly"].to_numpy()
    planted = log.customers.loc[anomalous, "anomaly_feature"].map(RFM.index).to_numpy()
    assert (robust_z[anomalous, planted] >= 4).all()


def test_anomaly_kinds_behave_as_described(log: SyntheticLog) -> None:
    customers = log.customers
    kind = customers["anomaly_kind"]
    median_monetary = customers["monetary"].median()
    assert (customers.loc[kind == "bulk_single_order", "frequency"] == 1).all()
    assert (customers.loc[kind == "whale", "monetary"] > 100 * median_monetary).all()
    assert (customers.loc[kind == "machine_like", "frequency"] >= 100).all()


def test_machine_like_customers_order_at_regular_intervals(log: SyntheticLog) -> None:
    machines = log.customers.index[log.customers["anomaly_kind"] == "machine_like"]
    purchases = clean_purchases(log.transactions)
    for customer_id in machines[:3]:
        times = purchases.loc[purchases["CustomerID"] == customer_id, "InvoiceDate"].unique()
        assert pd.Series(np.diff(np.sort(times))).nunique() == 1


def test_more_customers_than_five_digit_ids_get_wider_ids() -> None:
    big = generate_transactions(100_000, anomaly_share=0.0, mess=False, random_state=0)
    ids = big.customers.index
    assert ids.str.len().nunique() == 1
    assert ids.is_unique
    assert ids[0] == "100001"


@pytest.mark.parametrize(
    "arguments",
    [
        {"n_customers": 0},
        {"n_customers": 2.5},
        {"anomaly_share": -0.1},
        {"anomaly_share": 0.6},
        {"start": "2023-06-01", "end": "2023-05-31"},
        {"overlap": -0.1},
        {"overlap": float("nan")},
        {"groups": 0},
        {"groups": 9},
        {"groups": True},
        {"groups": {}},
        {"groups": {ANOMALY_GROUP: GROUPS["new"]}},
    ],
)
def test_invalid_arguments_are_rejected(arguments: dict) -> None:
    with pytest.raises(ValueError):
        generate_transactions(**arguments)


# -- any number of groups, and overlap ----------------------------------------------------------


def test_defaults_are_no_overlap_and_the_five_groups() -> None:
    default = generate_transactions(300, random_state=2)
    explicit = generate_transactions(300, groups=GROUPS, overlap=0.0, random_state=2)
    pd.testing.assert_frame_equal(default.transactions, explicit.transactions)
    pd.testing.assert_frame_equal(default.customers, explicit.customers)


@pytest.mark.parametrize("k", [3, 6, 8])
def test_a_number_of_groups_takes_the_first_lifecycle_groups(k: int) -> None:
    assert list(lifecycle_groups(k)) == list(LIFECYCLE_GROUPS)[:k]
    log = generate_transactions(1000, groups=k, random_state=k)
    normal = log.customers[~log.customers["is_anomaly"]]
    assert set(normal["group"]) == set(list(LIFECYCLE_GROUPS)[:k])
    assert log.customers["is_anomaly"].sum() == 20


def test_any_mapping_of_groups_is_planted() -> None:
    groups = {
        "a": GroupSpec(1.0, (0, 10), (20, 45), (270, 364), 2.0, 30.0, 1.6),
        "b": GroupSpec(3.0, (200, 300), (1, 1), (0, 0), 1.0, 1.0, 1.0),
    }
    log = generate_transactions(400, groups=groups, anomaly_share=0.0, random_state=1)
    shares = log.customers["group"].value_counts(normalize=True)
    assert shares.to_dict() == pytest.approx({"a": 0.25, "b": 0.75})
    b = log.customers[log.customers["group"] == "b"]
    assert (b["frequency"] == 1).all() and (b["recency"] >= 200).all()


@pytest.mark.parametrize("overlap", [0.2, 0.6])
def test_truth_holds_with_overlap(overlap: float) -> None:
    log = generate_transactions(600, groups=7, overlap=overlap, random_state=4)
    pd.testing.assert_frame_equal(recompute_rfm(log.transactions), log.customers[RFM])


def test_overlap_spreads_every_group_in_log_space_but_not_the_anomalies() -> None:
    clear = generate_transactions(3000, groups=6, random_state=5).customers
    spread = generate_transactions(3000, groups=6, overlap=0.4, random_state=5).customers
    assert clear["group"].equals(spread["group"])  # the same customers in the same groups
    normal = ~clear["is_anomaly"].to_numpy()

    def spreads(customers: pd.DataFrame) -> pd.DataFrame:
        logs = pd.DataFrame(log_rfm(customers[normal]), columns=RFM)
        return logs.groupby(customers["group"].to_numpy()[normal]).std()

    wider = spreads(spread) - spreads(clear)
    assert (wider["recency"] > 0.05).all() and (wider["monetary"] > 0.1).all()
    assert (wider["frequency"] > 0.05).sum() >= 4  # one-order groups rarely round to 2 orders
    anomalies = spread.loc[~normal]
    assert (anomalies.loc[anomalies["anomaly_kind"] == "machine_like", "frequency"] >= 100).all()


def test_kmeans_recovery_falls_as_overlap_grows() -> None:
    recovery = []
    for overlap in (0.0, 0.15, 0.4):
        customers = generate_transactions(3000, groups=6, overlap=overlap, random_state=6).customers
        normal = customers[~customers["is_anomaly"]]
        features = log_rfm(normal)
        standardised = (features - features.mean(axis=0)) / features.std(axis=0)
        labels = KMeans(n_clusters=6, n_init=5, random_state=0).fit_predict(standardised)
        recovery.append(adjusted_rand_score(normal["group"], labels))
    assert recovery[0] >= 0.95 and recovery[1] >= 0.85
    assert recovery[0] > recovery[1] > recovery[2]
