"""The one map from code names to words, number formats and segment colours."""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pandas as pd
import pytest

from rfm_core.config import ANOMALY_METHODS, METHODS
from rfm_core.customers.rfm import DEFAULT_SEGMENTS, segments_to_frame
from rfm_core.ingest.synthetic import generate_transactions
from rfm_core.labels import (
    COLUMN_LABELS,
    DATE_FORMAT_LABELS,
    DETECTOR_LABELS,
    KINDS,
    METHOD_LABELS,
    REASON_LABELS,
    SEGMENT_COLOURS,
    SETTING_LABELS,
    column_kind,
    column_label,
    currency_prefix,
    decimals_for,
    format_money,
    format_share,
    format_value,
    log_tick_text,
    log_ticks,
    lower_first,
    segment_colours,
    with_currency,
)
from rfm_core.lines.cleaning import CleaningRules
from rfm_core.lines.reasons import REASONS
from rfm_core.segments.profiles import TIER_NAMES, UNASSIGNED, cluster_name
from rfm_core.segments.segmentation import (
    AnomalySettings,
    SegmentationSettings,
    labeled_customers,
    segment_customers,
)

SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def test_labels_by_hand():
    assert column_label("share_customers") == "Share of customers"
    assert column_label("recency") == "Recency (days)"
    assert column_label("median_recency") == "Median recency (days)"
    assert column_label("mean_monetary") == "Mean total spend"
    assert column_label("median_frequency") == "Median orders"
    assert column_label("monetary_to") == "To: total spend"
    assert column_label("segment_from") == "From: segment"
    assert column_label("p_cluster_2") == "Probability of segment 2"
    assert column_label("mean_rfm_score") == "Mean RFM score"  # an acronym keeps its case
    assert column_label("some_new_column") == "Some new column"
    assert column_label(None) == ""
    assert column_label(3) == "3"


def test_every_column_the_app_shows_has_words_without_underscores():
    # the columns of every table a run produces: customers, labels, profile, rules
    log = generate_transactions(200, random_state=3).transactions
    from rfm_core.customers.pipeline import run_rfm
    from rfm_core.ingest.io import load_bytes

    table = run_rfm(load_bytes(log.to_csv(index=False).encode(), file_name="x.csv")).rfm.table
    segmentation = segment_customers(
        table, SegmentationSettings(method="gmm", n_clusters=3, exclude_anomalies=False)
    )
    labeled = labeled_customers(table, segmentation, None)
    names = [
        *labeled.columns, labeled.index.name, *segmentation.profile.columns,
        *segments_to_frame(DEFAULT_SEGMENTS).columns,
        *(f"{c}_{when}" for c in ("segment", "recency", "frequency", "monetary", "cluster")
          for when in ("from", "to")),
    ]  # fmt: skip
    for name in names:
        label = column_label(name)
        assert "_" not in label and not SNAKE.search(label), (name, label)
        assert column_kind(name) in KINDS


def test_kinds_by_hand():
    assert column_kind("monetary") == column_kind("revenue") == "money"
    assert column_kind("median_monetary") == column_kind("monetary_to") == "money"
    assert column_kind("share_revenue") == column_kind("p_cluster_0") == "share"
    assert column_kind("recency") == column_kind("median_recency") == "days"
    assert column_kind("frequency") == "count"
    assert column_kind("mean_frequency") == column_kind("mean_r_score") == "ratio"
    assert column_kind("anything else") == "text"


def test_every_reason_method_detector_and_date_format_has_words_in_order():
    assert tuple(REASON_LABELS) == tuple(REASONS)
    assert tuple(METHOD_LABELS) == METHODS
    assert tuple(DETECTOR_LABELS) == ANOMALY_METHODS
    assert set(DATE_FORMAT_LABELS) == {
        "native", "iso", "dayfirst", "monthfirst", "excel_serial", "yyyymmdd", "mixed",
    }  # fmt: skip
    settings = [*dataclasses.fields(CleaningRules), *dataclasses.fields(SegmentationSettings),
                *dataclasses.fields(AnomalySettings)]  # fmt: skip
    assert {f.name for f in settings} <= set(SETTING_LABELS)
    words = [*REASON_LABELS.values(), *SETTING_LABELS.values(), *COLUMN_LABELS.values()]
    assert not [w for w in words if "_" in w]


@pytest.mark.parametrize(
    ("value", "currency", "decimals", "expected"),
    [
        (1234.5, "£", None, "£1,234"),  # 1,000 and more: whole
        (1234.5, "£", 2, "£1,234.50"),
        (359965.4, "", None, "359,965"),
        (12.0, "$", None, "$12.00"),
        (-12.345, "€", None, "-€12.35"),
        (-0.001, "€", None, "€0.00"),  # no "-0.00"
        (5_711_050.0, "CHF", None, "CHF 5,711,050"),
        (float("nan"), "£", None, ""),
        (None, "£", None, ""),
    ],
)
def test_money(value, currency, decimals, expected):
    assert format_money(value, currency=currency, decimals=decimals) == expected


def test_shares_values_and_decimals():
    assert format_share(0.02) == "2.0%" and format_share(0.015) == "1.5%"
    assert format_value(0.123456, "share") == "12.3%"
    assert format_value(1289315, "count") == "1,289,315"
    assert format_value(134.6, "days") == "135"
    assert format_value(2.345, "ratio") == "2.3"
    assert format_share(0.0004) == "<0.1%" and format_share(0.0) == "0.0%"
    assert format_value(True, "flag") == "yes" and format_value(np.bool_(False), "flag") == "no"
    assert format_value(pd.NA, "money") == format_value(pd.NaT, "date") == ""
    assert format_value(float("inf"), "count") == ""
    assert format_value("Champions", "text") == "Champions"
    assert decimals_for("money", [10.0, 20.0, 5000.0]) == 2  # the median decides
    assert decimals_for("money", [10.0, 2000.0, 5000.0]) == 0
    assert decimals_for("statistic", [0.43, 0.5]) == 2
    assert decimals_for("statistic", [12_345.6]) == 0
    assert decimals_for("share") == 1 and decimals_for("days") == 0
    assert (
        currency_prefix(" $ ") == "$"
        and currency_prefix("EUR") == "EUR "
        and not currency_prefix("")
    )
    assert (
        with_currency("Revenue", "£") == "Revenue (£)" and with_currency("Revenue", "") == "Revenue"
    )
    assert lower_first("Total spend") == "total spend" and lower_first("RFM score") == "RFM score"


def test_log_ticks_are_powers_of_ten_only():
    ticks = log_ticks([0.01, 3.0, 245_000.0, 0.0, -5.0, float("nan")])
    assert ticks["tickvals"] == [10.0**e for e in range(-2, 7)]
    assert ticks["ticktext"] == ["0.01", "0.1", "1", "10", "100", "1k", "10k", "100k", "1M"]
    assert log_ticks([7.0])["ticktext"] == ["1", "10"]  # one decade still gets two ticks
    assert log_ticks([0.0, -1.0]) == {"tickvals": [], "ticktext": []}
    assert [log_tick_text(v) for v in (1e6, 1e7, 1e9)] == ["1M", "10M", "1B"]
    assert all(math.log10(v).is_integer() for v in log_ticks([2, 5e4])["tickvals"])


def test_one_colour_per_segment_the_same_on_every_chart():
    rule = [rule.name for rule in DEFAULT_SEGMENTS]
    colours = segment_colours(rule)
    assert len(set(colours.values())) == len(rule)  # every rule segment its own colour
    assert segment_colours(reversed(rule)) == colours  # the order shown does not matter
    # clusters are coloured by their number: two borrowing one rule name still differ
    clusters = [cluster_name(k, "Champions") for k in range(8)] + [UNASSIGNED]
    assert len(set(segment_colours(clusters).values())) == len(clusters)
    assert segment_colours(reversed(clusters)) == segment_colours(clusters)
    assert len(set(segment_colours(TIER_NAMES).values())) == len(TIER_NAMES)
    # a name keeps its colour as a rule segment or a "0: name" label
    assert segment_colours(["0: Champions"])["0: Champions"] == colours["Champions"]
    assert set(SEGMENT_COLOURS) >= set(rule) | {UNASSIGNED} | set(TIER_NAMES)
    # names the map does not know take colours no shown name uses
    mixed = segment_colours(["Champions", "Our best", "Others"])
    assert len(set(mixed.values())) == 3
    assert all(re.fullmatch(r"#[0-9A-Fa-f]{6}", c) for c in mixed.values())


def test_a_share_rounds_as_the_browsers_table_cells_do():
    """Half away from zero on the float's exact value (Intl.NumberFormat), not after a float
    multiplication by 100: a chart label and the table beside it read the same."""
    assert format_share(0.0195) == "1.9%"  # 0.019499999… (Python's "{:.1%}" says 2.0%)
    assert format_share(0.0625) == "6.3%"  # exactly half: away from zero
    assert format_share(-0.0625) == "-6.3%"
    assert format_share(-0.0004) == "0.0%"  # never "-0.0%"
    assert format_share(0.12345, decimals=2) == "12.35%"  # 0.1234500000000000041…
