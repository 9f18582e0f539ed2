"""What the RFM page shows of the customers: the ones in the sliders' ranges, how the scores are
cut (in words), what another binning would change, the rule segments and their definitions."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import pandas as pd

from rfm_core.customers.rfm import (
    DEFAULT_SEGMENTS,
    RangeSelection,
    segment_summary,
    segments_to_frame,
    select_range,
)
from rfm_core.customers.scores import (
    QUANTILES,
    SCORE_FEATURES,
    ScoreBinning,
    SegmentChanges,
    compare_segments,
    cut_points,
    describe_scores,
)
from rfm_core.errors import ScoreBinningError
from rfm_core.labels import column_label
from ui.cache import edges_for, scoring_for
from ui.components import MAX_TABLE_ROWS, cached, current_customers, current_pipeline
from ui.formats import column_config, number_column
from ui.state import current_binning, current_segments

__all__ = [
    "RULE_COLUMNS",
    "SCORE_LEVEL_COLUMNS",
    "BinningPreview",
    "binning_choice",
    "binning_from_form",
    "binning_inputs",
    "customers_in_range",
    "preview_binning",
    "rule_segment_summary",
    "rules_table",
    "score_levels",
    "score_warnings",
    "scores_in_words",
]

FIXED = "fixed"  # the form's third choice beside the binning methods: typed cut points
_SEPARATORS = re.compile(r"[,;\s]+")
# the score levels' share is a share of customers (the label map's "share" is one of rows)
SCORE_LEVEL_COLUMNS = {"share": number_column(column_label("share_customers"), "share")}
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


# -- how the scores are cut ------------------------------------------------------------------------


def _current_edges() -> dict:
    return cached(edges_for, current_segments(), current_binning())


def scores_in_words() -> str:
    """How this session cuts the scores, e.g. "quantiles"."""
    return current_binning().describe()


def score_levels() -> pd.DataFrame:
    """Every score level in words with its customers ("R 5", "last purchase within 12 days")."""
    return describe_scores(_current_edges(), current_customers())


def score_warnings() -> tuple[str, ...]:
    """The pipeline's warnings, and what the session's binning adds. The pipeline ranks with
    quantiles: its notes on ties (``"r_score: ties leave …"``) hold for quantiles only."""
    warnings = current_pipeline().rfm.warnings
    binning = current_binning()
    if binning == QUANTILES:
        return warnings
    kept = tuple(w for w in warnings if not w.startswith(("r_score:", "f_score:", "m_score:")))
    return (*kept, *cached(scoring_for, binning, current_segments()).notes)


def binning_choice(binning: ScoreBinning) -> str:
    """The form's choice for a binning: :data:`FIXED` when it has typed cut points."""
    return FIXED if binning.fixed else binning.method


def binning_inputs() -> dict[str, str]:
    """What the cut-point boxes show first: the session's fixed cut points, or else the current
    ones when they increase (ties can make two equal: then nothing)."""
    binning = current_binning()
    current = cut_points(_current_edges())
    shown = {}
    for feature in SCORE_FEATURES:
        values = getattr(binning, feature) or current[feature]
        increasing = len(values) == 4 and all(a < b for a, b in itertools.pairwise(values))
        shown[feature] = ", ".join(f"{v:.12g}" for v in values) if increasing else ""
    return shown


def binning_from_form(choice: str, texts: dict[str, str]) -> ScoreBinning:
    """The binning of the form: a method, or cut points typed as "30, 90, 180, 365" (a score
    left empty keeps quantiles).

    Raises
    ------
    rfm_core.errors.ScoreBinningError
        Text that is not four increasing numbers of 0 or more.
    """
    if choice != FIXED:
        return ScoreBinning(choice)
    cuts = {}
    for feature in SCORE_FEATURES:
        tokens = [t for t in _SEPARATORS.split(texts.get(feature, "").strip()) if t]
        values = []
        for token in tokens:
            try:
                values.append(float(token))
            except ValueError:
                raise ScoreBinningError(f"{feature}: {token!r} is not a number") from None
        cuts[feature] = tuple(values)
    if not any(cuts.values()):
        raise ScoreBinningError("type four cut points for at least one score")
    return ScoreBinning(**cuts)


@dataclass(frozen=True)
class BinningPreview:
    """What a binning would change: the customers moving between rule segments (``changes``),
    its scores in words with their customers (``levels``) and its notes."""

    binning: ScoreBinning
    changes: SegmentChanges
    levels: pd.DataFrame
    notes: tuple[str, ...]


def preview_binning(binning: ScoreBinning) -> BinningPreview:
    """Compare the session's rule segments with those ``binning`` would give."""
    scoring = cached(scoring_for, binning, current_segments())
    changes = compare_segments(current_customers()["rfm_segment"], scoring.table["rfm_segment"])
    return BinningPreview(
        binning, changes, describe_scores(scoring.edges, scoring.table), scoring.notes
    )
