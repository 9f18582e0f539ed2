"""What the file readers share: the first bytes of each kind of file, and how messages show things.

:mod:`rfm_core.ingest.delimited` and :mod:`rfm_core.ingest.excel` both import this module, and
:mod:`rfm_core.ingest.io` imports them; nothing here imports a reader, so there is no cycle.
"""

from __future__ import annotations

__all__ = [
    "SIGNATURES",
    "first_line",
    "kind_of_file",
    "short_repr",
    "size_text",
    "unique_names",
]

SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"PAR1", "a Parquet file"),
    (b"PK\x03\x04", "a zip archive (an .xlsx workbook is one)"),
    (b"PK\x05\x06", "an empty zip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Office binary file (an .xls workbook is one)"),
)
"""A file's first bytes → what it is; checked so that a renamed file gets a message saying so."""


def kind_of_file(data: bytes) -> str | None:
    """Name the kind of file ``data`` starts like, if it is a known non-text format.

    Parameters
    ----------
    data : bytes
        The file, or at least its first few bytes.

    Returns
    -------
    str or None
        Words such as ``"a PDF document"`` (from :data:`SIGNATURES`), or None for anything else
        (text among others).
    """
    return next((what for magic, what in SIGNATURES if data.startswith(magic)), None)


def size_text(n_bytes: int) -> str:
    """Write a size for a message: MB from one MiB up, bytes below.

    Parameters
    ----------
    n_bytes : int
        A size in bytes.

    Returns
    -------
    str
        E.g. ``"1.5 MB"`` or ``"812 bytes"``.
    """
    return f"{n_bytes / 2**20:,.1f} MB" if n_bytes >= 2**20 else f"{n_bytes:,} bytes"


def short_repr(text: str, limit: int = 60) -> str:
    """Quote a value for a message, cut after ``limit`` characters.

    Parameters
    ----------
    text : str
        The value, as read from the file.
    limit : int
        Most characters shown before an ellipsis.

    Returns
    -------
    str
        The ``repr`` of the (shortened) text: control characters are escaped, never printed raw.
    """
    return repr(text if len(text) <= limit else text[:limit] + "…")


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (at most 200 characters), for a message.

    Parameters
    ----------
    exc : BaseException
        An error raised by a parsing library.

    Returns
    -------
    str
        Its first line, or the exception's type name when the message is empty.
    """
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


def unique_names(header: list[str]) -> list[str]:
    """Name blank columns and suffix repeated names so that every column is addressable.

    Parameters
    ----------
    header : list of str
        Column names as read from the file (blank ones as ``""``).

    Returns
    -------
    list of str
        ``column_<position>`` (1-based) for a blank name, ``<name>.<n>`` for the n-th repeat.
    """
    seen: dict[str, int] = {}
    names = []
    for position, name in enumerate(header, start=1):
        name = name or f"column_{position}"
        count = seen.get(name, 0)
        seen[name] = count + 1
        names.append(name if count == 0 else f"{name}.{count}")
    return names
