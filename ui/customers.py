"""What the RFM page shows of the customers: the ones in the sliders' ranges, the rule segments
and their editable definitions."""

from __future__ import annotations

import pandas as pd

from rfm_core.customers.rfm import (
    DEFAULT_SEGMENTS,
    RangeSelection,
    segment_summary,
    segments_to_frame,
    select_range,
)
from ui.components import MAX_TABLE_ROWS
from ui.formats import column_config
from ui.state import current_segments

__all__ = ["RULE_COLUMNS", "customers_in_range", "rule_segment_summary", "rules_table"]

# the headers of the rule editor in words (its columns are those of every rules table)
RULE_COLUMNS = column_config(segments_to_frame(DEFAULT_SEGMENTS))


def customers_in_range(
    table: pd.DataFrame,
    *,
    recency: tuple[float, float],
    frequency: tuple[float, float],
    monetary: tuple[float, float],
) -> RangeSelection:
    """The customers inside all three ranges; only the :data:`ui.components.MAX_TABLE_ROWS`
    largest are kept as rows to show (:func:`rfm_core.customers.rfm.select_range`)."""
    return select_range(
        table, recency=recency, frequency=frequency, monetary=monetary, top=MAX_TABLE_ROWS
    )


def rule_segment_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per rule segment of this session that has customers, in rule order."""
    return segment_summary(table, current_segments())


def rules_table() -> pd.DataFrame:
    """This session's rule segments as an editable table."""
    return segments_to_frame(current_segments())
