"""Delimited text (``.csv``, ``.tsv``, ``.txt``): sniffing, the header, parsing, line errors.

The delimiter is sniffed among ``,`` ``;`` tab and ``|``, the encoding among UTF-8 (with or
without a byte-order mark), cp1252 and latin-1; UTF-16 text (Excel's "Unicode text") is
transcoded. Every column is read as text so that identifiers keep their leading zeros; numbers and
dates are interpreted later, per mapped column, by :mod:`rfm_core.ingest.schema` (which also
understands decimal commas, guessed here). Lines above the header (a report title) are skipped
when they have at most half as many fields as the rows below.

Refused, with a :class:`~rfm_core.errors.LoadError` naming the file: a file whose first bytes say
it is something else (an image, a PDF, a workbook, Parquet), binary data, a first line with more
than :data:`MAX_COLUMNS` fields, and a line whose number of fields differs from the header's (the
message gives the line number).

The module is called ``delimited`` rather than ``csv`` so that it does not shadow the standard
library's :mod:`csv`, which it uses.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.csv as pacsv

from rfm_core.errors import LoadError
from rfm_core.ingest.formats import first_line, kind_of_file, short_repr, size_text, unique_names

__all__ = [
    "CSV_SUFFIXES",
    "DELIMITERS",
    "ENCODINGS",
    "MAX_COLUMNS",
    "NULL_TOKENS",
    "CsvDialect",
    "read_delimited",
    "sniff_csv",
]

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
DELIMITERS = (",", ";", "\t", "|")
ENCODINGS = ("utf-8", "cp1252", "latin-1")
NULL_TOKENS = ["", "NA", "N/A", "NaN", "nan", "NULL", "null", "None"]
MAX_COLUMNS = 10_000
"""Most fields a header line may have: a transaction log has a handful."""
_SNIFF_BYTES = 1 << 20  # the first MiB decides encoding and delimiter
_SNIFF_LINES = 50
_CONTROL_SHARE = 0.01  # more control characters than this in the sample: not text

# csv's default limit (128 KiB per field) would raise on a long description in the sniffed sample;
# the sample itself is bounded, so the limit only needs to exceed it (process-wide, raised only)
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))


@dataclass(frozen=True)
class CsvDialect:
    """How a delimited text file was read.

    Attributes
    ----------
    delimiter : str
        Field separator.
    encoding : str
        Text encoding (``"utf-8"``, ``"utf-8-sig"`` when a byte-order mark was present,
        ``"cp1252"`` or ``"latin-1"``).
    decimal : str
        Decimal separator guessed from the sample (``"."`` or ``","``); numeric parsing in
        :mod:`rfm_core.ingest.schema` uses it.
    """

    delimiter: str
    encoding: str
    decimal: str


def sniff_csv(sample: bytes) -> CsvDialect:
    """Guess encoding, delimiter and decimal separator from the start of a text file.

    Parameters
    ----------
    sample : bytes
        The first bytes of the file (a MiB is plenty).

    Returns
    -------
    CsvDialect
    """
    encoding = _sniff_encoding(sample)
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    body = sample[3:] if encoding == "utf-8-sig" else sample
    text = body.decode(codec, errors="ignore")
    all_lines = text.splitlines()
    if len(sample) >= _SNIFF_BYTES and len(all_lines) > 1:
        all_lines = all_lines[:-1]  # the last line of a truncated sample may be cut in half
    lines = [line for line in all_lines[:_SNIFF_LINES] if line.strip()]
    delimiter = _sniff_delimiter(lines)
    decimal = _sniff_decimal(lines, delimiter)
    return CsvDialect(delimiter=delimiter, encoding=encoding, decimal=decimal)


def _sniff_encoding(sample: bytes) -> str:
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    for encoding in ENCODINGS:
        # a multi-byte character may be cut at the end of a truncated sample
        whole = sample if len(sample) < _SNIFF_BYTES else sample[:-4]
        try:
            whole.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return "latin-1"  # pragma: no cover - latin-1 decodes any byte


def _field_counts(lines: list[str], delimiter: str) -> list[int]:
    return [len(row) for row in csv.reader(lines, delimiter=delimiter)]


def _sniff_delimiter(lines: list[str]) -> str:
    """Choose the delimiter giving the most fields, consistently across lines.

    The most common number of fields decides, not the first line's: a report title above the
    header has a single field whatever the delimiter.
    """
    best, best_key = ",", (-1, -1)
    for delimiter in DELIMITERS:
        counts = _field_counts(lines, delimiter)
        if not counts:
            continue
        modal = _modal_count(counts)
        if modal < 2:
            continue
        key = (counts.count(modal), modal)
        if key > best_key:
            best, best_key = delimiter, key
    return best


def _modal_count(counts: list[int]) -> int:
    """The most common field count (the larger one on a tie)."""
    tally = Counter(counts)
    return max(tally, key=lambda c: (tally[c], c))


def _sniff_decimal(lines: list[str], delimiter: str) -> str:
    """Return ``","`` when numbers in the sample are written with decimal commas."""
    if delimiter == ",":
        return "."
    comma = dot = 0
    for row in csv.reader(lines[1:], delimiter=delimiter):
        for field in row:
            value = field.strip().lstrip("-+")
            if not value or any(c not in "0123456789.," for c in value):
                continue
            if "," in value and value.rsplit(",", 1)[1].isdigit() and value.count(",") == 1:
                comma += 1
            elif "." in value and "," not in value:
                dot += 1
    return "," if comma > dot else "."


def read_delimited(data: bytes, *, file_name: str) -> tuple[pa.Table, CsvDialect]:
    """Read delimited text into a table of text columns.

    The encoding, delimiter and decimal separator are sniffed from the first MiB
    (:func:`sniff_csv`); UTF-16 text is transcoded first; lines above the header (a title, blank
    lines) are skipped.

    Parameters
    ----------
    data : bytes
        The whole file.
    file_name : str
        Its name, for messages.

    Returns
    -------
    table : pyarrow.Table
        Every column as text, named as in the header (made unique, blanks numbered).
    dialect : CsvDialect
        How the file was read.

    Raises
    ------
    LoadError
        Another kind of file or binary data, undecodable text, a header of more than
        :data:`MAX_COLUMNS` fields, only blank lines, or a line whose number of fields differs
        from the header's (the message gives its number).
    """
    data, utf16 = _from_utf16(data, file_name)
    sample = data[:_SNIFF_BYTES]
    _refuse_non_text(sample, file_name)
    dialect = sniff_csv(sample)
    for encoding in _encodings_to_try(dialect.encoding):
        body = data[3:] if encoding == "utf-8-sig" else data
        try:
            skipped, header = _find_header(body, dialect.delimiter, encoding, file_name)
            table = _parse_csv(body[skipped.offset :], header, dialect.delimiter, encoding)
        except UnicodeDecodeError:
            continue
        except pa.ArrowInvalid as exc:
            if "UTF8" in str(exc) or "utf8" in str(exc).lower():
                continue
            raise LoadError(
                _csv_error_message(
                    body, skipped, header, dialect.delimiter, encoding, exc, file_name
                )
            ) from exc
        return table, CsvDialect(dialect.delimiter, utf16 or encoding, dialect.decimal)
    raise LoadError(
        f"{file_name}: cannot decode the text (tried {', '.join(ENCODINGS)}); save it as UTF-8"
    )


def _from_utf16(data: bytes, file_name: str) -> tuple[bytes, str | None]:
    """Transcode UTF-16 text (Excel's "Unicode text" export) to UTF-8; other data is unchanged."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        head = data[:4096]
        odd, even = head[1::2], head[0::2]
        if len(head) < 4 or max(odd.count(0), even.count(0)) < 0.4 * len(head) / 2:
            return data, None
        # ASCII characters in UTF-16 have a zero byte after (little-endian) or before them
        encoding = "utf-16-le" if odd.count(0) > even.count(0) else "utf-16-be"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise LoadError(
            f"{file_name}: looks like UTF-16 text but cannot be decoded as such "
            f"(byte {exc.start:,}); save it as UTF-8 CSV"
        ) from exc
    return text.lstrip("\ufeff").encode("utf-8"), "utf-16"


def _refuse_non_text(sample: bytes, file_name: str) -> None:
    what = kind_of_file(sample)
    if what is not None:
        hint = {
            "a Parquet file": "rename it to .parquet",
            "a zip archive (an .xlsx workbook is one)": "if it is a workbook, rename it to .xlsx",
            "an Office binary file (an .xls workbook is one)": "if it is a workbook, rename it "
            "to .xls, or save it from Excel as .xlsx or CSV",
        }.get(what, "export the transactions as CSV or Excel")
        raise LoadError(f"{file_name}: this is {what}, not delimited text; {hint}")
    controls = sum(sample.count(bytes([c])) for c in range(32) if c not in (9, 10, 12, 13))
    if b"\x00" in sample or controls > _CONTROL_SHARE * len(sample):
        raise LoadError(
            f"{file_name}: this is a binary file, not delimited text; "
            "export the transactions as CSV or Excel"
        )


def _encodings_to_try(first: str) -> list[str]:
    rest = [e for e in ENCODINGS if e != first and not (first == "utf-8-sig" and e == "utf-8")]
    return [first, *rest]


@dataclass(frozen=True)
class _Skipped:
    """Lines above the header: their number and their length in bytes."""

    lines: int = 0
    offset: int = 0


def _find_header(
    body: bytes, delimiter: str, encoding: str, file_name: str
) -> tuple[_Skipped, list[str]]:
    """Return the lines above the header (blank lines, a title) and the header's fields."""
    codec = "utf-8" if encoding.startswith("utf-8") else encoding
    sample = body[:_SNIFF_BYTES]
    lines = sample.splitlines(keepends=True)  # \n, \r\n or a lone \r, as the CSV reader sees them
    truncated = len(body) > len(sample)
    if truncated and len(lines) == 1:
        n_fields = sample.count(delimiter.encode(codec)) + 1
        raise LoadError(
            f"{file_name}: the first line is longer than {size_text(_SNIFF_BYTES)} and has over "
            f"{n_fields:,} fields (at most {MAX_COLUMNS:,} are read); a transaction log has a "
            "few columns — check that this file is one table with one line per order line"
        )
    if truncated:
        lines = lines[:-1]  # the last line of a truncated sample may be cut in half
    lines = lines[:_SNIFF_LINES]
    rows = [_fields(line.decode(codec).rstrip("\r\n"), delimiter) for line in lines]
    counts = [len(r) if any(f.strip() for f in r) else 0 for r in rows]
    filled = [c for c in counts if c]
    if not filled:
        raise LoadError(f"{file_name}: no data rows found (only blank lines)")
    first = next(i for i, c in enumerate(counts) if c)
    modal = _modal_count(filled)
    header_at = first
    if counts[first] * 2 <= modal:  # a title above the table: the header has the table's width
        header_at = next(i for i, c in enumerate(counts) if c * 2 > modal)
    header = [h.strip() for h in rows[header_at]]
    if len(header) > MAX_COLUMNS:
        raise LoadError(
            f"{file_name}: the header has {len(header):,} fields (at most {MAX_COLUMNS:,} are "
            "read); a transaction log has a few columns — check the separator and that this "
            "file is one table"
        )
    offset = sum(len(line) for line in lines[:header_at])
    return _Skipped(header_at, offset), header


def _fields(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:  # a stray quote or line break: count the fields plainly
        return line.split(delimiter)


def _parse_csv(body: bytes, header: list[str], delimiter: str, encoding: str) -> pa.Table:
    names = unique_names(header)
    parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)
    convert = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in names},
        null_values=NULL_TOKENS,
        strings_can_be_null=True,
    )
    read = pacsv.ReadOptions(
        encoding="utf8" if encoding.startswith("utf-8") else encoding,
        column_names=names,
        skip_rows=1,
        block_size=1 << 24,
    )
    return pacsv.read_csv(io.BytesIO(body), read, parse, convert)


def _csv_error_message(
    body: bytes,
    skipped: _Skipped,
    header: list[str],
    delimiter: str,
    encoding: str,
    exc: pa.ArrowInvalid,
    file_name: str,
) -> str:
    """Say which line breaks the table (pyarrow names no line) and what to check."""
    codec = "utf-8" if encoding.startswith("utf-8") else encoding
    text = body[skipped.offset :].decode(codec, errors="replace")
    shown = {"\t": "tab"}.get(delimiter, repr(delimiter))
    advice = f"check the separator (read as {shown}) and that every quote is closed"
    try:
        found = _first_bad_line(text, skipped, header, delimiter, advice, file_name)
    except csv.Error:
        found = None
    return found or (f"{file_name}: cannot be read as delimited text ({first_line(exc)}); {advice}")


def _first_bad_line(
    text: str, skipped: _Skipped, header: list[str], delimiter: str, advice: str, file_name: str
) -> str | None:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    next(reader, None)
    previous_end = reader.line_num
    for row in reader:
        if row and len(row) != len(header):
            line = skipped.lines + previous_end + 1
            if any("\n" in field or "\r" in field for field in row):
                return (
                    f"{file_name}: a quote opened on line {line:,} is not closed before "
                    f"line {skipped.lines + reader.line_num:,}; {advice}"
                )
            start = delimiter.join(row)
            return (
                f"{file_name}: line {line:,} has {len(row):,} fields but the header has "
                f"{len(header):,} (line starts {short_repr(start)}); {advice}"
            )
        previous_end = reader.line_num
    return None
