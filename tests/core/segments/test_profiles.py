"""Segment profiles, names, actions, rules and crosswalks against hand computations and the
planted groups of the synthetic generator."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from rfm_core.customers.pipeline import run_rfm
from rfm_core.customers.rfm import DEFAULT_SEGMENTS, SegmentRule, score_edges
from rfm_core.customers.scores import ScoreBinning, rescore
from rfm_core.errors import RfmError
from rfm_core.ingest.io import load_bytes
from rfm_core.ingest.synthetic import generate_bgnbd_transactions, generate_transactions
from rfm_core.segments.profiles import (
    ACTION_COLUMNS,
    ProfileError,
    SegmentRules,
    crosswalk,
    default_actions,
    feature_importances,
    name_segments,
    profile_segments,
    rename_segments,
    segment_rules,
    snake_plot_data,
)
from rfm_core.segments.segmentation import SegmentationSettings, segment_customers

NAN = math.nan
PLANTED_GROUPS = ("at_risk", "champions", "lost", "loyal", "new")


def customers(rows: dict[str, tuple]) -> pd.DataFrame:
    """``{id: (recency, frequency, monetary, avg_order_value, tenure_days, mean_gap)}``."""
    columns = [
        "recency", "frequency", "monetary", "avg_order_value", "tenure_days",
        "mean_days_between_purchases",
    ]  # fmt: skip
    table = pd.DataFrame(list(rows.values()), columns=columns)
    table.index = pd.Index(list(rows), dtype="string", name="customer_id")
    return table.astype(
        {"recency": "int64", "frequency": "int64", "tenure_days": "int64", "monetary": "float64"}
    )


# six customers: two in segment 0, three in segment 1, one noise (−1)
HAND = customers(
    {
        "c1": (10, 5, 500.0, 100.0, 200, 47.5),
        "c2": (20, 3, 300.0, 100.0, 120, 50.0),
        "c3": (100, 1, 50.0, 50.0, 100, NAN),
        "c4": (200, 2, 80.0, 40.0, 260, 60.0),
        "c5": (300, 1, 20.0, 20.0, 300, NAN),
        "c6": (5, 40, 10_000.0, 250.0, 365, 9.0),
    }
)
# deliberately not in table order
HAND_LABELS = pd.Series({"c6": -1, "c3": 1, "c1": 0, "c5": 1, "c2": 0, "c4": 1})


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, pd.Series]:
    """The real RFM table of a generated log of 2,000 customers and each one's planted group."""
    log = generate_transactions(2_000, random_state=11)
    data = log.transactions.to_csv(index=False).encode()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = run_rfm(load_bytes(data, file_name="log.csv")).rfm.table
    groups = log.customers["group"].astype(str)
    groups.index = groups.index.astype("string")
    return table, groups.reindex(table.index)


@pytest.fixture(scope="module")
def planted_normal(planted) -> tuple[pd.DataFrame, pd.Series]:
    """The same without the planted anomalies: the five latent groups only."""
    table, groups = planted
    normal = (groups != "anomaly").to_numpy()
    return table[normal], groups[normal]


# -- profiles ----------------------------------------------------------------------------------


def test_profile_of_a_hand_table():
    before = HAND.copy()
    profile = profile_segments(HAND, HAND_LABELS)
    total = 500 + 300 + 50 + 80 + 20 + 10_000  # 10,950
    want = pd.DataFrame(
        {
            "customers": [2, 3, 1],
            "share_customers": [2 / 6, 3 / 6, 1 / 6],
            "revenue": [800.0, 150.0, 10_000.0],
            "share_revenue": [800 / total, 150 / total, 10_000 / total],
            "mean_recency": [15.0, 200.0, 5.0],
            "median_recency": [15.0, 200.0, 5.0],
            "mean_frequency": [4.0, 4 / 3, 40.0],
            "median_frequency": [4.0, 1.0, 40.0],
            "mean_monetary": [400.0, 50.0, 10_000.0],
            "median_monetary": [400.0, 50.0, 10_000.0],
            "mean_avg_order_value": [100.0, 110 / 3, 250.0],
            "median_avg_order_value": [100.0, 40.0, 250.0],
            "mean_tenure_days": [160.0, 220.0, 365.0],
            "median_tenure_days": [160.0, 260.0, 365.0],
            # one-order customers have no gap: segment 1's gap is c4's alone
            "mean_mean_days_between_purchases": [48.75, 60.0, 9.0],
            "median_mean_days_between_purchases": [48.75, 60.0, 9.0],
        },
        index=pd.Index([0, 1, -1], name="segment"),
    )
    pd.testing.assert_frame_equal(profile, want, check_index_type=False)
    pd.testing.assert_frame_equal(HAND, before)


def test_profile_of_chosen_features_and_text_labels():
    labels = pd.Series(["b", "a", "b", "a", "a", "b"], index=HAND.index)
    profile = profile_segments(HAND, labels, features=("frequency",))
    assert list(profile.index) == ["a", "b"]
    assert list(profile.columns) == [
        "customers", "share_customers", "revenue", "share_revenue",
        "mean_frequency", "median_frequency",
    ]  # fmt: skip
    # a = c2, c4, c5 → frequencies 3, 2, 1; b = c1, c3, c6 → 5, 1, 40
    assert profile.loc["a", "mean_frequency"] == 2.0
    assert profile.loc["b", "median_frequency"] == 5.0
    assert profile["share_customers"].sum() == pytest.approx(1.0)
    assert profile["share_revenue"].sum() == pytest.approx(1.0)


def test_profile_shares_are_zero_without_revenue():
    table = HAND.assign(monetary=0.0)
    assert (profile_segments(table, HAND_LABELS)["share_revenue"] == 0).all()


def test_snake_plot_values_by_hand():
    # recency 2 4 4 4 5 5 7 9: mean 5, population std 2, so z = −1.5 −.5 −.5 −.5 0 0 1 2;
    # frequency and monetary are z-scored on log1p, so expm1 of those numbers gives the same z
    z_source = np.array([2.0, 4, 4, 4, 5, 5, 7, 9])
    table = pd.DataFrame(
        {
            "recency": z_source,
            "frequency": np.expm1(z_source),
            "monetary": np.expm1(z_source[::-1]),
        },
        index=pd.Index([f"c{i}" for i in range(8)], name="customer_id"),
    )
    labels = pd.Series(["A"] * 4 + ["B"] * 4, index=table.index)
    want = pd.DataFrame(
        {
            "segment": ["A", "A", "A", "B", "B", "B"],
            "feature": ["recency", "frequency", "monetary"] * 2,
            # A: (−1.5 −.5 −.5 −.5) / 4 = −.75; B: (0 + 0 + 1 + 2) / 4 = .75; monetary reversed
            "value": [-0.75, -0.75, 0.75, 0.75, 0.75, -0.75],
        }
    )
    pd.testing.assert_frame_equal(snake_plot_data(table, labels), want)


def test_snake_plot_of_a_constant_feature_is_zero():
    table = HAND.assign(recency=7)
    data = snake_plot_data(table, HAND_LABELS, features=("recency",))
    assert list(data["segment"]) == [0, 1, -1]
    assert (data["value"] == 0).all()


# -- names -------------------------------------------------------------------------------------


def median_rule(table: pd.DataFrame, members: pd.Series) -> tuple[int, int, int]:
    """R, F and M score of a group's median customer, counted by hand from the definition:
    ``1 + ⌊5 × customers with a strictly worse value / n⌋`` (recency: lower is better)."""
    n = len(table)
    scores = []
    for feature, better_low in (("recency", True), ("frequency", False), ("monetary", False)):
        median = table.loc[members, feature].median()
        worse = (table[feature] > median) if better_low else (table[feature] < median)
        scores.append(1 + math.floor(5 * int(worse.sum()) / n))
    return tuple(scores)


def rule_of(scores: tuple[int, int, int]) -> str:
    r, f, m = scores
    found = [
        rule.name
        for rule in DEFAULT_SEGMENTS
        if rule.r[0] <= r <= rule.r[1]
        and rule.f[0] <= f <= rule.f[1]
        and rule.m[0] <= m <= rule.m[1]
    ]
    assert len(found) == 1
    return found[0]


def test_planted_groups_are_named_after_the_rule_segment_of_their_median_customer(planted_normal):
    table, groups = planted_normal
    names = name_segments(profile_segments(table, groups), score_edges(table))
    for group in PLANTED_GROUPS:
        want = rule_of(median_rule(table, groups[groups == group].index))
        assert names[group] == f"Cluster {group} · {want}"
    # the planted groups that look like their rule segment keep its name; the "at risk" group's
    # median customer (151 days, 6 orders) has R 3 and F 5: by the rules, Loyal, not At Risk
    assert names["champions"] == "Cluster champions · Champions"
    assert names["lost"] == "Cluster lost · Lost"
    assert names["loyal"] == "Cluster loyal · Loyal"
    assert names["at_risk"] == "Cluster at_risk · Loyal"


def cdnow_shaped_table(n: int = 3_000) -> pd.DataFrame:
    """A log of the shape of CDNOW (most customers buy once), with CDNOW's column names."""
    log = generate_bgnbd_transactions(
        n, r=0.243, alpha=4.414, a=0.793, b=2.426, p=6.25, q=3.74, v=15.44, random_state=8
    ).transactions
    frame = pd.DataFrame(
        {
            "Customer": log["CustomerID"],
            "Order Date": log["InvoiceDate"].dt.strftime("%Y-%m-%d"),
            "Items": log["Quantity"],
            "Sales ($)": log["UnitPrice"],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = frame.to_csv(index=False).encode()
        return run_rfm(load_bytes(data, file_name="cdnow.csv")).rfm.table


@pytest.mark.parametrize("binning", [ScoreBinning(), ScoreBinning(recency=(30, 90, 180, 365))])
def test_clusters_of_a_cdnow_shaped_log_carry_the_rule_name_of_their_medians(binning):
    table = cdnow_shaped_table()
    assert (table["frequency"] == 1).mean() > 0.45  # about half the customers buy once
    scoring = rescore(table, binning)
    settings = SegmentationSettings(n_clusters=5, exclude_anomalies=False)
    result = segment_customers(scoring.table, settings, edges=scoring.edges)
    rule_names = set(scoring.table["rfm_segment"].unique()) | {r.name for r in DEFAULT_SEGMENTS}
    for label, name in result.names.items():
        members = result.labels[result.labels == label].index
        prefix, borrowed = name.split(" · ")
        assert prefix == f"Cluster {label}" and name not in rule_names
        # the medians, scored with the same cut points, satisfy the rule named
        medians = scoring.table.loc[members, ["recency", "frequency", "monetary"]].median()
        if binning == ScoreBinning():
            r, f, m = median_rule(scoring.table, members)
        else:  # recency by its fixed cut points; F and M as the whole table ranks them
            r = 1 + int((medians["recency"] <= np.array([30, 90, 180, 365])).sum())
            f, m = median_rule(scoring.table, members)[1:]
        assert borrowed == rule_of((r, f, m)), (label, medians)
    # renaming for other rules reaches the same names as fitting with them
    again = segment_customers(table, settings).with_rule_names(DEFAULT_SEGMENTS, scoring.edges)
    assert again.names == result.names


def test_planted_anomalies_do_not_change_the_names_of_the_groups(planted, planted_normal):
    table, groups = planted
    names = name_segments(profile_segments(table, groups), score_edges(table))
    normal = name_segments(profile_segments(*planted_normal), score_edges(planted_normal[0]))
    assert {group: names[group] for group in PLANTED_GROUPS} == normal
    assert len(set(names.values())) == 6


def test_planted_tiers_follow_value(planted_normal):
    table, groups = planted_normal
    names = name_segments(profile_segments(table, groups), score_edges(table), scheme="tiers")
    assert sorted(n.split(" · ")[1] for n in names.values()) == sorted(
        ["Platinum", "Gold", "Silver", "Bronze", "Iron"]
    )
    assert names["champions"] == "Cluster champions · Platinum"
    assert names["loyal"] == "Cluster loyal · Gold"
    assert names["lost"] == "Cluster lost · Iron"


def profile_of(rows: dict) -> pd.DataFrame:
    """A profile from ``{segment: (recency, frequency, monetary)}``: means and medians alike."""
    frame = pd.DataFrame(
        list(rows.values()), columns=["mean_recency", "mean_frequency", "mean_monetary"]
    )
    for feature in ("recency", "frequency", "monetary"):
        frame[f"median_{feature}"] = frame[f"mean_{feature}"]
    frame.index = pd.Index(list(rows), name="segment")
    return frame


RFM = ("recency", "frequency", "monetary")
# ten customers: recency 1..10 days, frequency 10..1 orders, monetary 10..100; quantile scores
# pair them up: recency 1–2 → R 5, 3–4 → R 4, …, 9–10 → R 1; frequency 9–10 → F 5, …
TEN = pd.DataFrame(
    {
        "recency": np.arange(1, 11),
        "frequency": np.arange(10, 0, -1),
        "monetary": np.arange(10, 110, 10, dtype="float64"),
    },
    index=pd.Index([f"c{i}" for i in range(1, 11)], name="customer_id"),
)


def test_lifecycle_names_by_hand():
    # cluster 0: c1–c3 → medians recency 2 (R 5), frequency 9 (F 5): Champions
    # cluster 1: c4–c7 → medians 5.5 days, 5.5 orders; 5 of 10 customers have more days
    #   (R 1 + ⌊5·5/10⌋ = 3) and 5 fewer orders (F 3): R 3, F 3 → Need Attention
    # cluster 2: c8–c10 → medians 9 days (R 1), 2 orders (F 1): Lost
    labels = pd.Series([0, 0, 0, 1, 1, 1, 1, 2, 2, 2], index=TEN.index)
    profile = profile_segments(TEN, labels, features=RFM)
    assert name_segments(profile, score_edges(TEN)) == {
        0: "Cluster 0 · Champions",
        1: "Cluster 1 · Need Attention",
        2: "Cluster 2 · Lost",
    }
    # the same clusters, other rules: named after those
    two = (
        SegmentRule("Recent", (4, 5), (1, 5)),
        SegmentRule("Earlier", (1, 3), (1, 5)),
    )
    assert name_segments(profile, score_edges(TEN), segments=two) == {
        0: "Cluster 0 · Recent",
        1: "Cluster 1 · Earlier",
        2: "Cluster 2 · Earlier",
    }
    # other cut points: recency fixed at 1, 2, 3, 6 days (each belonging to the better score),
    # cluster 1's median of 5.5 days is R 2: with F 3, At Risk (R 1–2, F 3–4)
    edges = {**score_edges(TEN), "r_score": (-6.000001, -3.000001, -2.000001, -1.000001)}
    assert name_segments(profile, edges)[1] == "Cluster 1 · At Risk"


def test_a_tier_that_is_a_rule_name_is_checked_too():
    labels = pd.Series([0, 0, 0, 1, 1, 1, 1, 2, 2, 2], index=TEN.index)
    profile = profile_segments(TEN, labels, features=RFM)
    # rules named like tiers: "Gold" is R 3–5, "Silver" the rest
    metals = (SegmentRule("Gold", (3, 5), (1, 5)), SegmentRule("Silver", (1, 2), (1, 5)))
    names = name_segments(profile, score_edges(TEN), scheme="tiers", segments=metals)
    # cluster 0 is the Gold tier and its median customer (R 5) is in the rule Gold: kept;
    # cluster 1 (R 3) is the Silver tier but by the rules Gold: it reads "Silver tier"
    assert names == {
        0: "Cluster 0 · Gold",
        1: "Cluster 1 · Silver tier",
        2: "Cluster 2 · Bronze",
    }


def test_noise_is_unassigned_and_tiers_follow_means():
    profile = profile_of({0: (300, 1.2, 40.0), 1: (1, 9.0, 900.0), -1: (50, 30.0, 1e6)})
    edges = score_edges(TEN)
    assert name_segments(profile, edges) == {
        0: "Cluster 0 · Lost",
        1: "Cluster 1 · Champions",
        -1: "Unassigned",
    }
    assert name_segments(profile, edges, scheme="tiers") == {
        0: "Cluster 0 · Silver",
        1: "Cluster 1 · Gold",
        -1: "Unassigned",
    }


def test_many_segments_get_unique_names_of_the_rules():
    rng = np.random.default_rng(0)
    rows = {
        label: (float(r), float(f), float(m))
        for label, r, f, m in zip(
            range(12),
            rng.uniform(1, 300, 12),
            rng.uniform(1, 30, 12),
            rng.uniform(10, 5_000, 12),
            strict=True,
        )
    }
    profile = profile_of(rows)
    edges = {"r_score": (-200.0, -100.0, -50.0, -10.0), "f_score": (2.0, 5.0, 10.0, 20.0),
             "m_score": (100.0, 500.0, 1_000.0, 2_000.0)}  # fmt: skip
    names = name_segments(profile, edges)
    assert list(names) == list(range(12))
    assert len(set(names.values())) == 12
    rule_names = {rule.name for rule in DEFAULT_SEGMENTS}
    for label, name in names.items():
        prefix, base = name.split(" · ")
        assert prefix == f"Cluster {label}"
        assert base in rule_names
    assert name_segments(profile, edges) == names

    tiers = name_segments(profile.iloc[:7], edges, scheme="tiers")
    # 7 segments over 5 tiers: positions 0..6 → tier ⌊position·5/7⌋
    assert sorted(name.split(" · ")[1] for name in tiers.values()) == sorted(
        ["Platinum", "Platinum", "Gold", "Silver", "Silver", "Bronze", "Iron"]
    )


def test_tiers_of_three_segments_are_gold_silver_bronze():
    profile = profile_of({"a": (100, 3.0, 300.0), "b": (10, 20.0, 5_000.0), "c": (300, 1, 20.0)})
    assert name_segments(profile, score_edges(TEN), scheme="tiers") == {
        "a": "Cluster a · Silver",
        "b": "Cluster b · Gold",
        "c": "Cluster c · Bronze",
    }


@pytest.mark.parametrize(
    ("profile", "scheme", "message"),
    [
        (profile_of({0: (1, 1.0, 1.0)}), "colours", "unknown name scheme 'colours'"),
        (
            profile_of({0: (1, 1.0, 1.0)}).drop(columns="median_monetary"),
            "lifecycle",
            "the profile has no column 'median_monetary'",
        ),
        (
            profile_of({0: (1, 1.0, 1.0)}).drop(columns="mean_monetary"),
            "tiers",
            "the profile has no column 'mean_monetary'",
        ),
        (profile_of({0: (1, 1.0, 1.0), 1: (NAN, 1.0, 1.0)}), "lifecycle", "missing median"),
        (
            profile_of({0: (1, 1.0, 1.0), 1: (NAN, 1.0, 1.0)}).assign(median_recency=1.0),
            "tiers",
            "missing mean",
        ),
    ],
)
def test_name_segments_rejects_bad_input(profile, scheme, message):
    with pytest.raises(ProfileError, match=message):
        name_segments(profile, score_edges(TEN), scheme=scheme)


def test_renaming_segments():
    names = {0: "Champions", 1: "Lost", -1: "Unassigned"}
    renamed = rename_segments(names, {1: "  Sleepers "})
    assert renamed == {0: "Champions", 1: "Sleepers", -1: "Unassigned"}
    assert names[1] == "Lost"
    with pytest.raises(ProfileError, match="segments 0 and 1 are both named 'champions'"):
        rename_segments(names, {1: "champions"})
    with pytest.raises(ProfileError, match="segment 1 needs a non-empty name"):
        rename_segments(names, {1: " "})
    with pytest.raises(ProfileError, match="cannot rename segment 7"):
        rename_segments(names, {7: "Seven"})


# -- actions -----------------------------------------------------------------------------------


def test_default_actions_follow_the_names():
    names = {
        0: "Cluster 0 · Champions", 1: "Cluster 1 · At Risk", 2: "New", 3: "Lost 2",
        4: "My own", 5: "Cluster 5 · Gold tier", -1: "Unassigned",
    }  # fmt: skip
    actions = default_actions(names)
    assert tuple(actions.columns) == ACTION_COLUMNS
    assert list(actions["segment"]) == [0, 1, 2, 3, 4, 5, -1]
    assert list(actions["name"]) == list(names.values())
    by_name = actions.set_index("name")["action"]
    assert "VIP" in by_name["Cluster 0 · Champions"]
    assert "win-back" in by_name["Cluster 1 · At Risk"].lower()
    assert "onboarding" in by_name["New"].lower()
    assert by_name["Lost 2"] == default_actions({0: "Lost"}).loc[0, "action"]
    assert by_name["Cluster 5 · Gold tier"] == default_actions({0: "Gold"}).loc[0, "action"]
    # every rule segment's name has actions of its own
    generic = "Review the profile and test a targeted offer"
    assert generic not in set(default_actions({r.name: r.name for r in DEFAULT_SEGMENTS})["action"])
    assert by_name["My own"] == "Review the profile and test a targeted offer"
    assert actions.notna().all().all()


# -- feature importances ---------------------------------------------------------------------


def informative_frequency(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Segment "A" ⇔ frequency ≥ 6; recency and monetary are noise."""
    rng = np.random.default_rng(seed)
    table = pd.DataFrame(
        {
            "recency": rng.integers(1, 365, n),
            "frequency": rng.integers(1, 11, n),
            "monetary": rng.uniform(10, 1_000, n).round(2),
        },
        index=pd.Index([f"c{i:04d}" for i in range(n)], name="customer_id"),
    )
    labels = pd.Series(np.where(table["frequency"] >= 6, "A", "B"), index=table.index)
    return table, labels


def test_feature_importances_find_the_feature_that_decides():
    table, labels = informative_frequency()
    importance = feature_importances(table, labels, random_state=0)
    assert importance.index[0] == "frequency"
    assert importance["frequency"] > 0.8
    assert importance.sum() == pytest.approx(1.0)
    assert list(importance) == sorted(importance, reverse=True)
    assert importance.index.name == "feature"
    again = feature_importances(table, labels, random_state=0)
    pd.testing.assert_series_equal(importance, again)
    sampled = feature_importances(table, labels, sample_limit=100, n_estimators=20)
    assert sampled.index[0] == "frequency"


def test_planted_recency_and_frequency_matter_most(planted_normal):
    table, groups = planted_normal
    importance = feature_importances(table, groups, n_estimators=30)
    assert importance["monetary"] < max(importance["recency"], importance["frequency"])


# -- rules -------------------------------------------------------------------------------------


def test_rule_sentence_for_an_obvious_tree():
    table, labels = informative_frequency()
    result = segment_rules(table, labels, names={"A": "Champions", "B": "Others"})
    assert isinstance(result, SegmentRules)
    rules = result.rules.set_index("segment")
    assert rules.loc["A", "rule"] == "Frequency ≥ 6 orders → Champions"
    assert rules.loc["B", "rule"] == "Frequency ≤ 5 orders → Others"
    assert rules.loc["A", "customers"] == (table["frequency"] >= 6).sum()
    assert list(rules["precision"]) == [1.0, 1.0] and list(rules["recall"]) == [1.0, 1.0]
    assert result.accuracy == 1.0 and not result.sampled and result.unexplained == ()
    assert result.max_depth == 3


def test_rules_merge_bounds_and_list_several_rules_of_a_segment():
    # A ⇔ frequency ≥ 6 and recency ≤ 30. Frequency splits first (it leaves a pure node of
    # 40 B customers), then recency splits the 25 customers with frequency ≥ 6.
    def block(n, frequencies, recencies, label):
        pairs = zip(np.resize(frequencies, n), np.resize(recencies, n), strict=True)
        return [(label, int(f), int(r)) for f, r in pairs]

    rows = (
        block(20, range(6, 11), range(11, 31), "A")
        + block(5, range(6, 11), range(31, 200, 30), "B")
        + block(20, range(1, 6), range(1, 31), "B")
        + block(20, range(1, 6), range(31, 300, 13), "B")
    )
    table = pd.DataFrame(
        {
            "recency": [r for *_, r in rows],
            "frequency": [f for _, f, _ in rows],
            "monetary": 100.0,
        },
        index=pd.Index([f"c{i:03d}" for i in range(len(rows))], name="customer_id"),
    )
    labels = pd.Series([label for label, *_ in rows], index=table.index)

    result = segment_rules(table, labels)

    want = pd.DataFrame(
        {
            "segment": ["A", "B", "B"],
            "name": ["A", "B", "B"],
            "rule": [
                "Frequency ≥ 6 orders and Recency ≤ 30 days → A",
                "Frequency ≤ 5 orders → B",
                "Frequency ≥ 6 orders and Recency ≥ 31 days → B",
            ],
            "customers": [20, 40, 5],
            "precision": [1.0, 1.0, 1.0],
            "recall": [1.0, 40 / 45, 5 / 45],
        }
    )
    pd.testing.assert_frame_equal(result.rules, want)
    assert result.accuracy == 1.0


def test_a_middle_segment_reads_as_a_range():
    frequency = np.repeat(np.arange(1, 10), 5)  # 1..9 orders, five customers each
    table = pd.DataFrame(
        {"recency": 10, "frequency": frequency, "monetary": 50.0},
        index=pd.Index([f"c{i:02d}" for i in range(45)], name="customer_id"),
    )
    labels = pd.Series(np.where(frequency <= 3, "A", np.where(frequency <= 6, "B", "C")))
    rules = segment_rules(table, labels.set_axis(table.index)).rules.set_index("segment")
    assert rules["rule"].to_dict() == {
        "A": "Frequency ≤ 3 orders → A",
        "B": "Frequency 4–6 orders → B",
        "C": "Frequency ≥ 7 orders → C",
    }
    assert (rules["customers"] == 15).all()


def test_money_thresholds_are_rounded_to_three_significant_digits():
    # A spends ≥ 1,269.12, B ≤ 1,200.00: the tree splits at 1,234.56 → "1,230"
    money = [1_269.12, 1_500.0, 2_000.0, 5_000.0, 100.0, 500.0, 900.0, 1_200.0]
    table = pd.DataFrame(
        {"recency": 10, "frequency": 2, "monetary": money},
        index=pd.Index([f"c{i}" for i in range(8)], name="customer_id"),
    )
    labels = pd.Series([0] * 4 + [1] * 4, index=table.index)
    rules = segment_rules(table, labels).rules.set_index("segment")["rule"]
    assert rules[0] == "Monetary ≥ 1,230 → Segment 0"
    assert rules[1] == "Monetary < 1,230 → Segment 1"


def test_an_upper_bound_at_the_smallest_value_reads_as_equality():
    frequency = [1, 1, 1, 1, 2, 3, 4, 5]
    table = pd.DataFrame(
        {"recency": 10, "frequency": frequency, "monetary": 50.0},
        index=pd.Index([f"c{i}" for i in range(8)], name="customer_id"),
    )
    labels = pd.Series(["one-off"] * 4 + ["repeat"] * 4, index=table.index)
    rules = segment_rules(table, labels).rules.set_index("segment")["rule"]
    assert rules["one-off"] == "Frequency = 1 order → one-off"
    assert rules["repeat"] == "Frequency ≥ 2 orders → repeat"


def test_planted_groups_are_described_by_rules(planted_normal):
    table, groups = planted_normal
    names = name_segments(profile_segments(table, groups), score_edges(table))
    result = segment_rules(table, groups, names=names)
    assert result.unexplained == ()
    assert set(result.rules["segment"]) == set(PLANTED_GROUPS)
    assert result.accuracy > 0.9
    champions = result.rules[result.rules["segment"] == "champions"]
    assert champions["rule"].str.endswith("→ Cluster champions · Champions").all()
    assert champions["rule"].str.contains("Frequency ≥").all()


def test_rules_on_a_sample_are_measured_on_everyone(planted_normal):
    table, groups = planted_normal
    result = segment_rules(table, groups, sample_limit=300)
    assert result.sampled
    assert result.rules["customers"].sum() == len(table)


def test_noise_is_left_out_of_rules_and_importances():
    table, labels = informative_frequency(200)
    labels = labels.where(table["monetary"] < 900, -1).map(lambda v: 0 if v == "A" else v)
    labels = labels.map(lambda v: 1 if v == "B" else v)
    result = segment_rules(table, labels)
    assert -1 not in set(result.rules["segment"])
    assert result.rules["customers"].sum() == int((labels != -1).sum())
    assert set(feature_importances(table, labels, n_estimators=10).index) == {
        "recency", "frequency", "monetary",
    }  # fmt: skip


# -- crosswalk ---------------------------------------------------------------------------------


def test_crosswalk_counts_by_hand():
    index = pd.Index(["a", "b", "c", "d", "e", "f"], name="customer_id")
    rule = pd.Series(["Champions", "Lost", "Champions", "New", "Lost", "Lost"], index=index)
    clusters = pd.Series([0, 1, 0, 1, 1, -1], index=index).iloc[::-1]
    table = crosswalk(rule, clusters)
    want = pd.DataFrame(
        [[2, 0, 0], [0, 1, 0], [0, 2, 1]],
        index=pd.Index(["Champions", "New", "Lost"], name="rfm_segment"),
        columns=pd.Index([0, 1, -1], name="cluster"),
    )
    pd.testing.assert_frame_equal(table, want, check_index_type=False, check_column_type=False)
    shares = crosswalk(rule, clusters, normalize=True)
    assert shares.loc["Lost"].tolist() == [0.0, 2 / 3, 1 / 3]
    assert (shares.sum(axis=1) == 1).all()


def test_crosswalk_keeps_clusters_in_number_order_under_their_names():
    index = pd.Index([f"c{i}" for i in range(12)], name="customer_id")
    rule = pd.Series(["Lost"] * 6 + ["Mine"] * 3 + ["Champions"] * 3, index=index)
    clusters = pd.Series([10, 2, 2, 0, -1, 10, 0, 2, 10, 0, 0, 2], index=index)
    names = {
        0: "Cluster 0 · Lost",
        2: "Cluster 2 · At Risk",
        10: "Cluster 10 · Zz",
        -1: "Unassigned",
    }
    table = crosswalk(rule, clusters, names=names)
    # numbers in numeric order (A–Z would put "Cluster 10" before "Cluster 2"), noise last
    assert list(table.columns) == ["Cluster 0 · Lost", "Cluster 2 · At Risk", "Cluster 10 · Zz",
                                   "Unassigned"]  # fmt: skip
    # rule order, names outside it after them
    assert list(table.index) == ["Champions", "Lost", "Mine"]
    assert list(crosswalk(rule, clusters, order=["Mine", "Lost"]).index) == [
        "Mine", "Lost", "Champions",
    ]  # fmt: skip
    assert table.loc["Lost"].tolist() == [1, 2, 2, 1]


# -- input checks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (HAND_LABELS.drop("c3"), "5 values for 6 customers"),
        (HAND_LABELS.rename({"c3": "zz"}), "name customer 'zz', who is not in the table"),
        (HAND_LABELS.astype(float).where(HAND_LABELS.index != "c2"), "missing for 1 customers"),
        (HAND_LABELS.to_list(), "labels must be a pandas Series, got list"),
    ],
)
def test_labels_must_match_the_table(labels, message):
    for call in (profile_segments, snake_plot_data, segment_rules, feature_importances):
        with pytest.raises(ProfileError, match=message):
            call(HAND, labels)


def test_clear_errors_for_options_and_degenerate_segments():
    with pytest.raises(ProfileError, match="the customer table has no column 'basket'"):
        profile_segments(HAND, HAND_LABELS, features=("basket",))
    with pytest.raises(ProfileError, match="max_depth must be a whole number from 1 to 6"):
        segment_rules(HAND, HAND_LABELS, max_depth=9)
    one = pd.Series(0, index=HAND.index)
    with pytest.raises(ProfileError, match="needed to tell them apart, got 1"):
        segment_rules(HAND, one)
    with pytest.raises(ProfileError, match="at least two segments"):
        feature_importances(HAND, one.where(HAND.index != "c1", -1))
    with pytest.raises(ProfileError, match="sample_limit must be a whole number ≥ 2 or None"):
        segment_rules(HAND, HAND_LABELS, sample_limit=1)
    with pytest.raises(ProfileError, match="n_estimators must be a whole number ≥ 1, got 0"):
        feature_importances(HAND, HAND_LABELS, n_estimators=0)
    with pytest.raises(ProfileError, match="unknown feature 'basket'"):
        segment_rules(HAND, HAND_LABELS, features=("recency", "basket"))
    with pytest.raises(RfmError, match="clusters must give one value per customer"):
        crosswalk(pd.Series(["Lost"] * 6, index=HAND.index), HAND_LABELS.iloc[:3])
