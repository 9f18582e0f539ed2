"""Errors a user can act on.

Every error raised on purpose by :mod:`rfm_core` derives from :class:`RfmError`. The UI and the
CLI catch only this base class and show its message; anything else is a bug.
"""

from __future__ import annotations

__all__ = [
    "CleaningError",
    "DateParseError",
    "LoadError",
    "MappingError",
    "RfmError",
    "SegmentDefinitionError",
]


class RfmError(ValueError):
    """Base class of every error that should reach the user as a message."""


class LoadError(RfmError):
    """The file cannot be read as a table (format, encoding, empty, corrupt)."""


class MappingError(RfmError):
    """Columns cannot be mapped to the roles RFM needs, or a mapped column has bad values."""


class DateParseError(MappingError):
    """The date column cannot be interpreted as dates."""


class CleaningError(RfmError):
    """Cleaning rules are invalid or leave nothing to analyse."""


class SegmentDefinitionError(RfmError):
    """Rule-based segment definitions do not cover every score cell exactly once."""
