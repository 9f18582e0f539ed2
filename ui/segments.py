"""What the Segments and Projections pages show of the fitted segments, with this session's
names: profiles, snake plot, crosswalk with the rule segments, labeled customers, explanations
and the colours of the projections."""

from __future__ import annotations

import pandas as pd

from rfm_core.segments.anomalies import AnomalyResult
from rfm_core.segments.profiles import ACTION_COLUMNS, crosswalk, snake_plot_data
from rfm_core.segments.segmentation import SegmentationResult, labeled_customers
from ui.cache import explanations_for
from ui.components import cached, current_segmentation_result
from ui.formats import column_config
from ui.labels import FLAG_LABELS
from ui.state import (
    current_anomaly_settings,
    current_segmentation,
    current_segments,
    segment_renames,
)

__all__ = [
    "EDITOR_COLUMNS",
    "RULE_ORDER",
    "current_explanations",
    "customer_colours",
    "labeled_table",
    "named_profile",
    "names_table",
    "pca_axis_titles",
    "profile_order",
    "rule_crosswalk",
    "segment_names",
    "snake_data",
]

# the headers of the names and actions editors, in words
EDITOR_COLUMNS = column_config(
    pd.DataFrame({"cluster": [0], "segment": [0], **{name: [""] for name in ACTION_COLUMNS[1:]}})
)
# the decision-tree rules: the segment's name, the rule, then how well it holds
RULE_ORDER = ("name", "rule", "customers", "precision", "recall")
# the profile columns a reader needs first; the other means and medians follow
_PROFILE_FIRST = (
    "customers", "share_customers", "revenue", "share_revenue", "median_recency",
    "median_frequency", "median_monetary",
)  # fmt: skip


def profile_order(profile: pd.DataFrame) -> list[str]:
    """The profile's columns, the key ones first (sizes, revenue, the medians of R, F and M)."""
    first = [c for c in _PROFILE_FIRST if c in profile.columns]
    return [*first, *(c for c in profile.columns if c not in first)]


def pca_axis_titles(ratios) -> tuple[str, ...]:
    """``"PC1 (67% of the variance)"``, … for each principal component."""
    return tuple(f"PC{i} ({ratio:.0%} of the variance)" for i, ratio in enumerate(ratios, 1))


def segment_names(segmentation: SegmentationResult) -> dict[int, str]:
    """Name of every segment label, with this session's renames."""
    return segmentation.names_with(segment_renames())


def named_profile(segmentation: SegmentationResult) -> pd.DataFrame:
    """The segments' profile indexed by their names (index name ``segment``)."""
    profile = segmentation.profile.rename(index=segment_names(segmentation))
    profile.index.name = "segment"
    return profile


def names_table(segmentation: SegmentationResult) -> pd.DataFrame:
    """Each segment label (``cluster``) and its name, to edit."""
    names = segment_names(segmentation)
    return pd.DataFrame(
        {"cluster": list(segmentation.names), "name": [names[k] for k in segmentation.names]}
    )


def snake_data(rfm_table: pd.DataFrame, segmentation: SegmentationResult) -> pd.DataFrame:
    """Standardized means per segment (:func:`rfm_core.segments.profiles.snake_plot_data`)."""
    return snake_plot_data(rfm_table, segmentation.labels)


def current_explanations():
    """Feature importances and the decision-tree rules of the segments, with their names (as
    generated for the session's rule segments, and the user's)."""
    names = segment_names(current_segmentation_result())
    return cached(
        explanations_for, current_segmentation(), current_anomaly_settings(),
        tuple(names.items()),
    )  # fmt: skip


def rule_crosswalk(rfm_table: pd.DataFrame, segmentation: SegmentationResult) -> pd.DataFrame:
    """Customers by rule segment (in rule order) and cluster (in cluster order, named)."""
    return crosswalk(
        rfm_table["rfm_segment"], segmentation.labels, names=segment_names(segmentation),
        order=[rule.name for rule in current_segments()],
    )  # fmt: skip


def labeled_table(
    rfm_table: pd.DataFrame,
    segmentation: SegmentationResult | None,
    anomalies: AnomalyResult,
) -> pd.DataFrame:
    """One row per customer: RFM values, segment and its name (when given), anomaly columns."""
    return labeled_customers(rfm_table, segmentation, anomalies, renamed=segment_renames())


def customer_colours(
    rfm_table: pd.DataFrame, segmentation: SegmentationResult, anomalies: AnomalyResult
) -> pd.DataFrame:
    """What the projections colour customers by (named cluster, rule segment, anomaly flag),
    beside their recency, frequency and monetary value for the hover text."""
    return pd.DataFrame(
        {
            "cluster": segmentation.segment_names(segment_renames()),
            "rfm_segment": rfm_table["rfm_segment"],
            "anomaly": anomalies.table["anomaly"].map(FLAG_LABELS),
            "recency": rfm_table["recency"],
            "frequency": rfm_table["frequency"],
            "monetary": rfm_table["monetary"],
        }
    )
