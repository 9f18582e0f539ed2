"""Errors a user can act on.

Every error raised on purpose by :mod:`rfm_core` derives from :class:`RfmError`, and every
subclass is defined here, one per step of the data flow. The UI and the CLI catch only the base
class and show its message; anything else is a bug.
"""

from __future__ import annotations

__all__ = [
    "BacktestError",
    "BundleError",
    "BundleSignatureError",
    "BundleVersionError",
    "CleaningError",
    "ClusteringError",
    "ClvError",
    "DateParseError",
    "EngineUnsupported",
    "LoadError",
    "MappingError",
    "MigrationError",
    "ProfileError",
    "ProjectionError",
    "RfmError",
    "RunNotFound",
    "ScoreBinningError",
    "SegmentDefinitionError",
    "StoreError",
]


class RfmError(ValueError):
    """Base class of every error that should reach the user as a message."""


# -- ingest ------------------------------------------------------------------------------------


class LoadError(RfmError):
    """The file cannot be read as a table (format, encoding, empty, corrupt)."""


class MappingError(RfmError):
    """Columns cannot be mapped to the roles RFM needs, or a mapped column has bad values."""


class DateParseError(MappingError):
    """The date column cannot be interpreted as dates."""


# -- lines -------------------------------------------------------------------------------------


class CleaningError(RfmError):
    """Cleaning rules are invalid or leave nothing to analyse."""


# -- customers ---------------------------------------------------------------------------------


class SegmentDefinitionError(RfmError):
    """Rule-based segment definitions do not cover every score cell exactly once."""


class ScoreBinningError(RfmError):
    """Cut points of the R, F and M scores that cannot be used (count, order, not numbers)."""


class EngineUnsupported(RfmError):
    """The source needs the in-memory parsers (untyped dates or numbers)."""


class MigrationError(RfmError):
    """Dates of a migration that cannot be compared (order, outside the data)."""


class ClvError(RfmError):
    """Lifetime value cannot be computed: dates, too few customers, or a fit that failed."""


# -- segments ----------------------------------------------------------------------------------


class ClusteringError(RfmError):
    """Clustering parameters are invalid or the table is too small for them."""


class BacktestError(RfmError):
    """A backtest cannot be run: a cut date outside the data, or nobody to compare."""


class ProjectionError(RfmError):
    """The customers cannot be projected (too few, not numeric, missing values, bad option)."""


class ProfileError(RfmError):
    """Segment labels, names or options that cannot be profiled."""


# -- outputs -----------------------------------------------------------------------------------


class BundleError(RfmError):
    """A file that is not a readable model bundle: wrong type, truncated or damaged."""


class BundleSignatureError(BundleError):
    """A bundle that is unsigned, altered, or signed by another installation."""


class BundleVersionError(BundleError):
    """A bundle written by a newer schema or with an incompatible scikit-learn."""


class StoreError(RfmError):
    """The run store cannot be reached, is busy beyond the wait, or holds something unreadable."""


class RunNotFound(StoreError):
    """No published run has the id asked for."""
