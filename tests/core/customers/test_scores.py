"""Score binnings against hand-computed scores: quantiles as before, fixed cut points, natural
breaks (exact, checked against every partition), the cut points in words, segment changes."""

from __future__ import annotations

import itertools
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from rfm_core.customers.pipeline import run_rfm
from rfm_core.customers.rfm import (
    DEFAULT_SEGMENTS,
    SegmentRule,
    assign_segments,
    score_edges,
    segments_from_frame,
    segments_to_frame,
)
from rfm_core.customers.scores import (
    QUANTILES,
    ScoreBinning,
    compare_segments,
    cut_points,
    describe_scores,
    natural_breaks,
    rescore,
)
from rfm_core.errors import ScoreBinningError, SegmentDefinitionError
from rfm_core.ingest.io import load_bytes
from rfm_core.ingest.synthetic import generate_transactions

SCORES = ["r_score", "f_score", "m_score"]


def customers(recency, frequency, monetary) -> pd.DataFrame:
    """An RFM table of the given values (ids c0, c1, …); scores filled by :func:`rescore`."""
    return pd.DataFrame(
        {
            "recency": np.asarray(recency, dtype="int64"),
            "frequency": np.asarray(frequency, dtype="int64"),
            "monetary": np.asarray(monetary, dtype="float64"),
        },
        index=pd.Index([f"c{i}" for i in range(len(recency))], name="customer_id", dtype="string"),
    )


@pytest.fixture(scope="module")
def generated() -> pd.DataFrame:
    log = generate_transactions(1_500, random_state=4).transactions
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_rfm(load_bytes(log.to_csv(index=False).encode(), file_name="g.csv")).rfm.table


# -- quantiles ---------------------------------------------------------------------------------


def test_the_default_binning_gives_the_pipeline_scores_unchanged(generated):
    scored = rescore(generated)
    pd.testing.assert_frame_equal(scored.table, generated)
    assert scored.edges == score_edges(generated)
    assert scored.binning == QUANTILES == ScoreBinning()
    assert scored.notes == ()


# -- fixed cut points --------------------------------------------------------------------------

# each cut point belongs to the better score: recency 12 → R 5 is "within 12 days"
FIXED = ScoreBinning(
    recency=(12, 32, 71, 179),
    frequency=(2, 3, 4, 7),
    monetary=(249.01, 487.52, 933.27, 1234),
)


def test_fixed_cut_points_by_hand():
    table = customers(
        recency=[1, 12, 13, 32, 33, 71, 72, 179, 180, 400],
        frequency=[1, 2, 3, 4, 6, 7, 1, 1, 2, 9],
        monetary=[249.0, 249.01, 487.51, 487.52, 933.26, 933.27, 1233.99, 1234.0, 0.0, 5e4],
    )
    scored = rescore(table, FIXED)
    assert scored.table["r_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert scored.table["f_score"].tolist() == [1, 2, 3, 4, 4, 5, 1, 1, 2, 5]
    assert scored.table["m_score"].tolist() == [1, 2, 2, 3, 3, 4, 4, 5, 1, 5]
    want = assign_segments(scored.table[SCORES])
    pd.testing.assert_series_equal(scored.table["rfm_segment"], want)
    pd.testing.assert_frame_equal(table, customers(*(table[c] for c in table.columns)))


def test_a_score_without_cut_points_keeps_its_method(generated):
    recency_only = rescore(generated, ScoreBinning(recency=(30, 90, 180, 365)))
    for column in ("f_score", "m_score"):
        pd.testing.assert_series_equal(recency_only.table[column], generated[column])
    assert recency_only.edges["f_score"] == score_edges(generated)["f_score"]
    assert ScoreBinning(recency=(30, 90, 180, 365)).describe() == (
        "fixed cut points for recency; quantiles for frequency and monetary"
    )
    assert ScoreBinning("jenks").describe() == "natural breaks"
    assert FIXED.describe() == "fixed cut points for recency, frequency and monetary"


def test_scores_no_customer_has_are_noted():
    table = customers([1, 2, 3, 4, 5], [1, 1, 1, 1, 1], [5.0, 6.0, 7.0, 8.0, 9.0])
    notes = rescore(table, ScoreBinning(recency=(10, 20, 30, 40))).notes
    assert notes == ("no customer has R 1 or R 2 or R 3 or R 4 with these cut points",)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"method": "kmeans"}, "method: 'kmeans' is not a binning; choose quantile or jenks"),
        ({"recency": [30, 90, 180]}, "recency: 4 cut points are needed .* got 3"),
        (
            {"recency": [365, 180, 90, 30]},
            r"recency: cut points must increase \(R 5 is the most recent: e\.g\. 30, 90, 180, "
            r"365 days\); first bad value 180 after 365",
        ),
        ({"frequency": [2, 3, 3, 10]}, "frequency: .*first bad value 3 after 3"),
        (
            {"monetary": [-1, 2, 3, 4]},
            "monetary: cut points must be numbers of 0 or more, first bad",
        ),
        ({"monetary": [1, 2, "x", 4]}, "monetary: 'x' is not a number"),
        ({"monetary": [1, 2, float("nan"), 4]}, "first bad value nan"),
        ({"monetary": "1, 2, 3, 4"}, "monetary: expected a list of 4 numbers"),
        ({"recncy": [1, 2, 3, 4]}, "unknown field 'recncy'; expected method, recency"),
    ],
)
def test_bad_binnings_name_the_field_and_the_first_bad_value(data, message):
    with pytest.raises(ScoreBinningError, match=message):
        ScoreBinning.from_mapping(data)


def test_a_binning_reads_back_what_it_writes():
    assert ScoreBinning.from_mapping(FIXED.to_dict()) == FIXED
    assert FIXED.to_dict()["recency"] == [12, 32, 71, 179]
    assert ScoreBinning.from_mapping({"method": "jenks"}) == ScoreBinning("jenks")
    assert ScoreBinning.from_mapping({}) == QUANTILES
    # numbers in any form compare equal, so that the app's cache keys do not multiply
    assert ScoreBinning(recency=[30, 90, 180, 365]) == ScoreBinning(recency=(30.0, 90, 180, 365))


# -- natural breaks ----------------------------------------------------------------------------


def within_squares(values: np.ndarray, weights: np.ndarray, ends: list[int]) -> float:
    total, start = 0.0, 0
    for end in ends:
        part, w = values[start:end], weights[start:end]
        total += float((w * (part - np.average(part, weights=w)) ** 2).sum())
        start = end
    return total


def test_natural_breaks_are_the_best_of_every_partition():
    rng = np.random.default_rng(3)
    for _ in range(60):
        raw = rng.gamma(1.0, 10.0, rng.integers(2, 40)).round(0)
        distinct, counts = np.unique(raw, return_counts=True)
        classes = int(rng.integers(2, 6))
        breaks = natural_breaks(raw, classes=classes)
        ends = [int(np.searchsorted(distinct, b, side="right")) for b in breaks] + [len(distinct)]
        got = within_squares(distinct, counts, ends)
        k = min(classes, len(distinct))
        best = min(
            within_squares(distinct, counts, [*cuts, len(distinct)])
            for cuts in itertools.combinations(range(1, len(distinct)), k - 1)
        )
        assert got == pytest.approx(best, abs=1e-9)
        assert len(breaks) == k - 1


def test_natural_breaks_by_hand():
    # five groups far apart are the five classes, on the values and on their log
    values = [1, 2, 3, 20, 21, 22, 100, 101, 102, 500, 501, 2000, 2000]
    assert natural_breaks(values).tolist() == [3.0, 22.0, 102.0, 501.0]
    assert natural_breaks(values, log=True).tolist() == [3.0, 22.0, 102.0, 501.0]
    assert natural_breaks([5, 5, 5, 7]).tolist() == [5.0]  # two distinct values: two classes
    assert natural_breaks([5, 5]).tolist() == []


def test_natural_breaks_score_recency_on_days_and_money_on_its_log():
    table = customers(
        recency=[1, 2, 40, 41, 100, 101, 200, 201, 400, 401],
        frequency=[1, 1, 2, 2, 3, 5, 8, 13, 21, 34],
        monetary=[10.0, 11.0, 12.0, 100.0, 110.0, 1000.0, 1100.0, 1e4, 1.1e4, 1e5],
    )
    # on the amounts themselves the largest customers take three classes of their own
    assert natural_breaks(table["monetary"]).tolist() == [110.0, 1100.0, 10000.0, 11000.0]
    scored = rescore(table, ScoreBinning("jenks"))
    # on log(1 + amount) the decades separate
    assert scored.edges["m_score"] == (12.0, 110.0, 1100.0, 11000.0)
    assert scored.table["m_score"].tolist() == [1, 1, 1, 2, 2, 3, 3, 4, 4, 5]
    # recency on its days: the five pairs; a gap belongs to the better score (as for
    # quantiles, a cut lies just above the best value of the worse class): R 5 within 39 days
    assert scored.table["r_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert cut_points(scored.edges)["recency"] == (39.0, 99.0, 199.0, 399.0)
    # frequency on log(1 + orders): 1 | 2–3 | 5–8 | 13–21 | 34
    assert scored.table["f_score"].tolist() == [1, 1, 2, 2, 2, 3, 3, 4, 4, 5]


def test_natural_breaks_above_the_limit_use_a_seeded_sample(generated, monkeypatch):
    from rfm_core.customers import scores

    monkeypatch.setattr(scores, "JENKS_MAX_VALUES", 200)
    first = rescore(generated, ScoreBinning("jenks"), random_state=1)
    again = rescore(generated, ScoreBinning("jenks"), random_state=1)
    assert first.edges == again.edges
    assert any("monetary were found on a seeded sample of 200 of 1," in n for n in first.notes)


# -- cut points in words -----------------------------------------------------------------------


def test_cut_points_in_words_by_hand():
    table = customers(
        recency=[1, 12, 13, 32, 33, 71, 72, 179, 180, 400],
        frequency=[1, 2, 3, 4, 6, 7, 1, 1, 2, 9],
        monetary=[249.0, 249.01, 487.51, 487.52, 933.26, 933.27, 1233.99, 1234.0, 0.0, 5e4],
    )
    scored = rescore(table, FIXED)
    words = describe_scores(scored.edges, scored.table)
    assert [f"{row.score}: {row.meaning}" for row in words.itertuples()] == [
        "R 5: last purchase within 12 days",
        "R 4: last purchase 13–32 days ago",
        "R 3: last purchase 33–71 days ago",
        "R 2: last purchase 72–179 days ago",
        "R 1: last purchase 180 or more days ago",
        "F 5: 7 or more orders",
        "F 4: 4–6 orders",
        "F 3: 3 orders",
        "F 2: 2 orders",
        "F 1: 1 order",
        "M 5: spent 1,234 or more",
        "M 4: spent 933.27–1,233.99",
        "M 3: spent 487.52–933.26",
        "M 2: spent 249.01–487.51",
        "M 1: spent less than 249.01",
    ]
    assert words["customers"].tolist() == [2, 2, 2, 2, 2, 2, 2, 1, 2, 3, 2, 2, 2, 2, 2]
    assert words["share"].sum() == pytest.approx(3.0)
    # the words read back as the same cut points
    assert ScoreBinning(**cut_points(scored.edges)) == FIXED


def test_quantile_cut_points_in_words_by_hand():
    # ten customers: the k-th smallest values, k = 2, 4, 6, 8, are the edges (score_edges)
    table = customers(
        recency=[1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        frequency=[1, 1, 1, 1, 1, 2, 2, 3, 5, 8],
        monetary=[1.0, 2.5, 3.0, 3.5, 4.0, 9.99, 10.0, 20.0, 30.0, 40.0],
    )
    scored = rescore(table)
    meanings = describe_scores(scored.edges).set_index("score")["meaning"]
    # recency: R ≥ 2 beats the 2 worst (10, 9 days): fewer than 9 days, i.e. within 8
    assert meanings["R 5"] == "last purchase within 2 days"
    assert meanings["R 1"] == "last purchase 9 or more days ago"
    # frequency: ties put 5 customers at 1 order (F 1); 2 orders beat 5 customers: F 3, so
    # F 2 is empty
    assert meanings["F 1"] == "1 order"
    assert meanings["F 2"] == "no customers (two cut points meet)"
    assert meanings["F 3"] == "2 orders"
    assert meanings["F 4"] == "3 orders"
    assert meanings["F 5"] == "4 or more orders"
    assert meanings["M 5"] == "spent 20.01 or more"
    assert meanings["M 2"] == "spent 2.51–3.50"
    assert meanings["M 4"] == "spent 10–20"
    assert scored.table["f_score"].tolist() == [1, 1, 1, 1, 1, 3, 3, 4, 5, 5]


def test_one_value_for_everyone_reads_as_the_middle_score():
    table = customers([5, 5, 5], [1, 1, 1], [9.0, 9.0, 9.0])
    meanings = describe_scores(score_edges(table)).set_index("score")["meaning"]
    assert meanings["R 3"] == "every customer (all have the same recency)"
    assert meanings["R 5"] == "no customers"
    assert cut_points(score_edges(table))["monetary"] == ()


def test_quantile_cut_points_fixed_again_give_the_same_scores(generated):
    edges = score_edges(generated)
    cuts = cut_points(edges)
    assert all(a < b for values in cuts.values() for a, b in itertools.pairwise(values))
    again = rescore(generated, ScoreBinning(**cuts))
    pd.testing.assert_frame_equal(again.table, generated)


# -- what a change does ------------------------------------------------------------------------


def test_segment_changes_by_hand():
    index = pd.Index(["a", "b", "c", "d", "e"], name="customer_id")
    before = pd.Series(["Lost", "Lost", "Loyal", "New", "Lost"], index=index)
    after = pd.Series(["Hibernating", "Lost", "Champions", "New", "Hibernating"], index=index)
    changes = compare_segments(before, after.iloc[::-1])
    assert (changes.customers, changes.changed) == (5, 3)
    assert changes.moves.to_dict("records") == [
        {"segment_from": "Lost", "segment_to": "Hibernating", "customers": 2},
        {"segment_from": "Loyal", "segment_to": "Champions", "customers": 1},
    ]
    assert compare_segments(before, before).changed == 0
    with pytest.raises(ScoreBinningError, match="the same customers"):
        compare_segments(before, after.iloc[:4])


def test_a_binning_change_moves_customers_between_rule_segments(generated):
    scored = rescore(generated, ScoreBinning(recency=(30, 90, 180, 365)))
    changes = compare_segments(generated["rfm_segment"], scored.table["rfm_segment"])
    moved = generated["rfm_segment"] != scored.table["rfm_segment"]
    assert changes.changed == int(moved.sum()) > 0
    assert changes.moves["customers"].sum() == changes.changed
    assert changes.moves["customers"].is_monotonic_decreasing


# -- segment tables from a file ----------------------------------------------------------------


def test_a_segment_table_with_a_fraction_names_the_column_and_the_value():
    frame = segments_to_frame(DEFAULT_SEGMENTS).astype({"f_min": object})
    frame.loc[2, "f_min"] = "2.5"
    message = "segment 'Potential Loyalist': f_min must be a whole number from 1 to 5, got '2.5'"
    with pytest.raises(SegmentDefinitionError, match=re.escape(message)):
        segments_from_frame(frame)
    text = segments_to_frame((SegmentRule("All", (1, 5), (1, 5)),)).astype(str)
    assert segments_from_frame(text) == (SegmentRule("All", (1, 5), (1, 5), (1, 5), ""),)


def test_a_money_range_with_cents_shows_cents_on_both_ends():
    table = customers([1, 2, 3, 4, 5], [1, 1, 1, 1, 1], [5.0, 300.0, 600.0, 2e3, 6e3])
    binning = ScoreBinning(monetary=(203.21, 552.01, 1506.13, 5464.13))
    meanings = describe_scores(rescore(table, binning).edges).set_index("score")["meaning"]
    assert meanings["M 2"] == "spent 203.21–552.00"
    assert meanings["M 5"] == "spent 5,464.13 or more"
    whole = ScoreBinning(monetary=(100, 250, 500, 1000))
    meanings = describe_scores(rescore(table, whole).edges).set_index("score")["meaning"]
    assert meanings["M 3"] == "spent 250.00–499.99"
    assert meanings["M 4"] == "spent 500.00–999.99"
