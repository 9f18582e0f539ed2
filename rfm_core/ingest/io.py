"""Read an uploaded transaction log into an Arrow table.

Supported inputs
----------------
* ``.csv``, ``.tsv``, ``.txt``: delimiter sniffed among ``,`` ``;`` tab and ``|``; encodings UTF-8,
  UTF-8 with BOM, cp1252 and latin-1. Every column is read as text so that identifiers keep their
  leading zeros; numbers and dates are interpreted later, per mapped column, by
  :mod:`rfm_core.ingest.schema` (which also understands decimal commas).
* ``.xlsx``, ``.xlsm``, ``.xls``: read with fastexcel (Rust calamine), about 15x faster than
  openpyxl on the 541,909-row Online Retail workbook. Any sheet can be chosen.
* ``.parquet``: read as is.

Input checks
------------
Every refusal is a :class:`~rfm_core.errors.LoadError` naming the file and saying what to do:

* more than :data:`MAX_UPLOAD_BYTES` (the upload limit of ``.streamlit/config.toml``) given to
  :func:`load_bytes`; :func:`load_path` reads local files of any size;
* a file whose first bytes say it is something else (an image, a PDF, a zip named ``.csv``, text
  named ``.xlsx``), or binary data named ``.csv``;
* a workbook that unpacks to more than :data:`MAX_UNCOMPRESSED_BYTES` in all, or with a member
  above :data:`_BOMB_MEMBER_BYTES` compressed more than :data:`MAX_COMPRESSION_RATIO` times (a zip
  bomb), or whose members unpack to other sizes than its zip directory says: checked before the
  workbook is parsed, first on the directory, then by unpacking every member with a running count
  (a directory can lie); a password-protected (encrypted) workbook;
* a first line with more than :data:`MAX_COLUMNS` fields; a line whose number of fields differs
  from the header's (the message gives the line number).

Lines above the header (a report title) are skipped when they have at most half as many fields as
the rows below; in a workbook whose first row is mostly blank (a title) the first row filled like
the rows below becomes the header. Without a chosen sheet the first sheet is read, or the first
sheet with data when it is empty.

The only file access of the package besides :mod:`rfm_core.outputs.persistence` lives here.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import struct
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from rfm_core.errors import LoadError

__all__ = [
    "CSV_SUFFIXES",
    "EXCEL_SUFFIXES",
    "FOLDER_SUFFIXES",
    "MAX_COLUMNS",
    "MAX_COMPRESSION_RATIO",
    "MAX_UNCOMPRESSED_BYTES",
    "MAX_UPLOAD_BYTES",
    "PARQUET_SUFFIXES",
    "SUPPORTED_SUFFIXES",
    "CsvDialect",
    "FolderFile",
    "LoadedTable",
    "dataset_id",
    "folder_file",
    "list_folder",
    "list_sheets",
    "load_bytes",
    "load_path",
    "sniff_csv",
]

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
PARQUET_SUFFIXES = (".parquet", ".pq")
SUPPORTED_SUFFIXES = CSV_SUFFIXES + EXCEL_SUFFIXES + PARQUET_SUFFIXES
FOLDER_SUFFIXES = (".csv", ".parquet")  # what an engine scans out of core

DELIMITERS = (",", ";", "\t", "|")
ENCODINGS = ("utf-8", "cp1252", "latin-1")
NULL_TOKENS = ["", "NA", "N/A", "NaN", "nan", "NULL", "null", "None"]
_SNIFF_BYTES = 1 << 20  # the first MiB decides encoding and delimiter
_SNIFF_LINES = 50

MAX_UPLOAD_BYTES = 200 * 2**20
"""Largest file :func:`load_bytes` reads: ``server.maxUploadSize = 200`` (MiB) of the app."""
MAX_UNCOMPRESSED_BYTES = 2**30
"""Largest total size a workbook's zip directory may announce (1 GiB of XML, ~7 million rows)."""
MAX_COMPRESSION_RATIO = 100
"""Largest compression ratio of a workbook member above :data:`_BOMB_MEMBER_BYTES`; real sheets
compress 5 to 30 times, a zip bomb about 1,000 times."""
_BOMB_MEMBER_BYTES = 16 * 2**20
# parts are inflated in steps this large: few enough to leave the GIL alone while the command
# line imports its modules beside the read (1 MiB steps cost a second there), small enough to
# stop a bomb early
_INFLATE_STEP = 32 * 2**20
MAX_COLUMNS = 10_000
"""Most fields a header line may have: a transaction log has a handful."""
_HEADER_SCAN_ROWS = 30  # rows of a workbook searched for the header below a title
_CONTROL_SHARE = 0.01  # more control characters than this in the sample: not text

# a file's first bytes → what it is; checked so that a renamed file gets a message that says so
_SIGNATURES = (
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
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")  # Office's encryption container
_PASSWORD_HINT = (
    "it is password-protected; open it in Excel, remove the password (File › Info › Protect "
    "Workbook) and save it again, or save it as CSV"
)

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


@dataclass(frozen=True)
class LoadedTable:
    """A file read into memory, columns as in the file.

    Attributes
    ----------
    table : pyarrow.Table
        The rows; text columns of CSV files are all strings.
    file_name : str
        Name of the file the rows come from (used in every error message).
    dataset_id : str
        SHA-256 of the file's bytes, plus the sheet for workbooks: the cache key of everything
        computed from this table.
    sheet : str or None
        The sheet read, for workbooks.
    sheet_names : tuple of str
        All sheets of a workbook (empty for other formats).
    dialect : CsvDialect or None
        How a delimited text file was read.
    """

    table: pa.Table
    file_name: str
    dataset_id: str
    sheet: str | None = None
    sheet_names: tuple[str, ...] = ()
    dialect: CsvDialect | None = None

    @property
    def n_rows(self) -> int:
        """Number of data rows (the header excluded)."""
        return self.table.num_rows

    @property
    def columns(self) -> list[str]:
        """Column names as in the file."""
        return list(self.table.column_names)


def dataset_id(data: bytes, *, sheet: str | None = None) -> str:
    """Return the SHA-256 hex digest identifying a file's bytes (and sheet)."""
    digest = hashlib.sha256(data)
    if sheet is not None:
        digest.update(b"\x00sheet\x00" + sheet.encode("utf-8"))
    return digest.hexdigest()


def load_path(path: str | Path, *, sheet: str | int | None = None) -> LoadedTable:
    """Read a file from disk; see :func:`load_bytes`."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise LoadError(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise LoadError(f"{path}: is a folder, not a file") from exc
    except PermissionError as exc:
        raise LoadError(f"{path}: permission denied") from exc
    # a local file is the user's own: no upload limit (the zip-bomb guard still applies)
    return load_bytes(data, file_name=path.name, sheet=sheet, max_bytes=None)


def load_bytes(
    data: bytes,
    *,
    file_name: str,
    sheet: str | int | None = None,
    max_bytes: int | None = MAX_UPLOAD_BYTES,
) -> LoadedTable:
    """Read the bytes of an uploaded file into an Arrow table.

    Parameters
    ----------
    data : bytes
        The whole file.
    file_name : str
        Its name; the suffix chooses the reader.
    sheet : str or int, optional
        For workbooks: sheet name or 0-based position (default: the first sheet with data).
    max_bytes : int or None
        Largest file accepted (default :data:`MAX_UPLOAD_BYTES`); ``None`` for no limit.

    Returns
    -------
    LoadedTable

    Raises
    ------
    LoadError
        Unsupported suffix, a file over ``max_bytes``, empty file, a file of another kind,
        undecodable text, ragged lines, corrupt, encrypted or zip-bomb workbook, missing sheet or
        a table without data rows. The message names the file and says what to do.
    """
    suffix = Path(file_name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(
            f"{file_name}: unsupported file type {suffix or '(no extension)'!r}; "
            f"use one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    if max_bytes is not None and len(data) > max_bytes:
        raise LoadError(
            f"{file_name}: the file is {_size(len(data))}, over the upload limit of "
            f"{_size(max_bytes)}; put larger logs in the server's data folder or use the "
            "command line"
        )
    if not data or not data.lstrip(b"\xef\xbb\xbf").strip():
        raise LoadError(f"{file_name}: the file is empty")
    if suffix in CSV_SUFFIXES:
        table, dialect = _read_csv(data, file_name)
        loaded = LoadedTable(table, file_name, dataset_id(data), dialect=dialect)
    elif suffix in EXCEL_SUFFIXES:
        table, sheet_name, names = _read_excel(data, file_name, sheet)
        loaded = LoadedTable(
            table, file_name, dataset_id(data, sheet=sheet_name), sheet_name, tuple(names)
        )
    else:
        loaded = LoadedTable(_read_parquet(data, file_name), file_name, dataset_id(data))
    if loaded.table.num_columns == 0 or loaded.table.num_rows == 0:
        where = f" on sheet {loaded.sheet!r}" if loaded.sheet is not None else ""
        raise LoadError(f"{file_name}: no data rows found{where} (only a header, or nothing)")
    return loaded


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:,.1f} MB" if n_bytes >= 2**20 else f"{n_bytes:,} bytes"


def _signature(data: bytes) -> str | None:
    """Name the kind of file ``data`` starts like, if it is a known non-text format."""
    return next((what for magic, what in _SIGNATURES if data.startswith(magic)), None)


def list_sheets(data: bytes, *, file_name: str) -> list[str]:
    """Return the sheet names of a workbook (empty for other formats)."""
    if Path(file_name).suffix.lower() not in EXCEL_SUFFIXES:
        return []
    return list(_open_workbook(data, file_name).sheet_names)


# -- CSV ---------------------------------------------------------------------------------------


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


def _read_csv(data: bytes, file_name: str) -> tuple[pa.Table, CsvDialect]:
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
    what = _signature(sample)
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
            f"{file_name}: the first line is longer than {_size(_SNIFF_BYTES)} and has over "
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
    names = _unique_names(header)
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
    return found or (
        f"{file_name}: cannot be read as delimited text ({_first_line(exc)}); {advice}"
    )


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
                f"{len(header):,} (line starts {_short(start)}); {advice}"
            )
        previous_end = reader.line_num
    return None


def _short(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _unique_names(header: list[str]) -> list[str]:
    """Name blank columns and suffix repeated names so that every column is addressable."""
    seen: dict[str, int] = {}
    names = []
    for position, name in enumerate(header, start=1):
        name = name or f"column_{position}"
        count = seen.get(name, 0)
        seen[name] = count + 1
        names.append(name if count == 0 else f"{name}.{count}")
    return names


# -- Excel -------------------------------------------------------------------------------------


def _open_workbook(data: bytes, file_name: str):
    import fastexcel

    _check_workbook_container(data, file_name)
    try:
        return fastexcel.read_excel(data)
    except Exception as exc:  # fastexcel raises its own error hierarchy
        raise LoadError(_workbook_error(file_name, exc)) from exc


def _workbook_error(file_name: str, exc: BaseException) -> str:
    detail = _first_line(exc)
    if "password" in detail.lower() or "encrypt" in detail.lower():
        return f"{file_name}: {_PASSWORD_HINT}"
    return (
        f"{file_name}: not a readable Excel workbook ({detail}); open it in Excel and save it "
        "again as .xlsx, or export the transactions as CSV"
    )


def _check_workbook_container(data: bytes, file_name: str) -> None:
    """Refuse what is not a workbook, an encrypted workbook or a zip bomb, before parsing."""
    if data.startswith(_OLE):
        if _ENCRYPTED_STREAM in data:
            raise LoadError(f"{file_name}: {_PASSWORD_HINT}")
        return  # a binary .xls workbook
    what = _signature(data)
    if what is None or not data.startswith(b"PK"):
        kind = what or "plain text or an unknown format"
        hint = (
            "if it is CSV text, rename it to .csv"
            if what is None
            else ("export the transactions as CSV or Excel")
        )
        raise LoadError(f"{file_name}: not a readable Excel workbook: this is {kind}; {hint}")
    _check_zip_sizes(data, file_name)


def _check_zip_sizes(data: bytes, file_name: str) -> None:
    """Refuse a workbook that would inflate beyond the limits: as announced, then as it is.

    The directory's sizes are checked first (free); then every member is unpacked with a running
    count that stops at the first limit crossed, because the directory can lie and the Excel
    reader unpacks as much as the data holds (~0.3 s for the 23 MB Online Retail workbook).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            _check_sizes(members, [m.file_size for m in members], file_name)
            unpacked = 0
            for member in members:
                size = _unpacked_size(data, member, MAX_UNCOMPRESSED_BYTES - unpacked, file_name)
                _check_sizes([member], [size], file_name, before=unpacked)
                if size != member.file_size:
                    raise LoadError(
                        f"{file_name}: the workbook part {_short(member.filename)} unpacks to "
                        f"{_size(size)} where the workbook's directory says "
                        f"{_size(member.file_size)}; the file is damaged or was altered — open "
                        "it in Excel and save it again"
                    )
                unpacked += size
    except LoadError:
        raise
    except Exception as exc:  # zipfile raises many kinds of error on a damaged archive
        raise LoadError(
            f"{file_name}: not a readable Excel workbook: the file is damaged or incomplete "
            f"({_first_line(exc)}); upload it again, or open it in Excel and save it again"
        ) from exc


def _unpacked_size(data: bytes, member: zipfile.ZipInfo, limit: int, file_name: str) -> int:
    """Bytes a member's compressed data inflates to, counting no further than ``limit`` + a step.

    The whole compressed stream is inflated, as the Excel reader would, not just the number of
    bytes the directory announces (where :mod:`zipfile` stops).
    """
    if member.flag_bits & 0x1:
        raise LoadError(
            f"{file_name}: the workbook part {_short(member.filename)} is encrypted; save the "
            "workbook without a password"
        )
    offset = member.header_offset
    name_length, extra_length = struct.unpack("<HH", data[offset + 26 : offset + 30])
    start = offset + 30 + name_length + extra_length
    packed = memoryview(data)[start : start + member.compress_size]
    if member.compress_type == zipfile.ZIP_STORED:
        return len(packed)
    if member.compress_type != zipfile.ZIP_DEFLATED:
        raise LoadError(
            f"{file_name}: the workbook part {_short(member.filename)} uses a compression Excel "
            "does not write; open the workbook in Excel and save it again"
        )
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as in a zip
    size = len(inflater.decompress(packed, _INFLATE_STEP))
    while size <= limit and not inflater.eof and inflater.unconsumed_tail:
        size += len(inflater.decompress(inflater.unconsumed_tail, _INFLATE_STEP))
    if size <= limit and not inflater.eof:
        size += len(inflater.flush())
    return size


def _check_sizes(
    members: list[zipfile.ZipInfo], sizes: list[int], file_name: str, *, before: int = 0
) -> None:
    total = before + sum(sizes)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise LoadError(
            f"{file_name}: the workbook would unpack to {_size(total)} or more, over the limit "
            f"of {_size(MAX_UNCOMPRESSED_BYTES)}; export the transactions as CSV instead"
        )
    for member, size in zip(members, sizes, strict=True):
        ratio = size / max(member.compress_size, 1)
        if size > _BOMB_MEMBER_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise LoadError(
                f"{file_name}: the workbook part {_short(member.filename)} unpacks "
                f"{ratio:,.0f} times its size ({_size(size)}), more than a real "
                f"sheet ({MAX_COMPRESSION_RATIO} times at most); refused as a possible zip bomb — "
                "export the transactions as CSV instead"
            )


def _read_excel(
    data: bytes, file_name: str, sheet: str | int | None
) -> tuple[pa.Table, str, list[str]]:
    reader = _open_workbook(data, file_name)
    names = list(reader.sheet_names)
    if not names:
        raise LoadError(f"{file_name}: the workbook has no sheets")
    if isinstance(sheet, int) and not 0 <= sheet < len(names):
        raise LoadError(f"{file_name}: there is no sheet number {sheet + 1} (sheets: {names})")
    if isinstance(sheet, str) and sheet not in names:
        raise LoadError(f"{file_name}: there is no sheet {sheet!r} (sheets: {names})")
    if sheet is not None:
        sheet_name = names[sheet] if isinstance(sheet, int) else sheet
        return _read_sheet(reader, sheet_name, file_name), sheet_name, names
    # no sheet asked for: the first sheet, unless it is empty (the data sits on a later sheet);
    # a first sheet with other content stays chosen and the mapping step names the other sheets
    first = _read_sheet(reader, names[0], file_name)
    if _has_table(first):
        return first, names[0], names
    for name in names[1:]:
        table = _read_sheet(reader, name, file_name)
        if _has_table(table):
            return table, name, names
    return first, names[0], names


def _has_table(table: pa.Table) -> bool:
    return table.num_rows > 0 and table.num_columns > 0


def _read_sheet(reader, sheet_name: str, file_name: str) -> pa.Table:
    try:
        # look at every row before choosing a column's type: a column of numeric invoice
        # numbers with a few "C…" cancellations further down must become text, not nulls
        table = _load_sheet(reader, sheet_name, header_row=0)
        header_row = _header_row_below_title(reader, sheet_name, table)
        if header_row:
            table = _load_sheet(reader, sheet_name, header_row=header_row)
    except Exception as exc:
        raise LoadError(
            f"{file_name}: cannot read sheet {sheet_name!r} ({_first_line(exc)}); open the "
            "workbook in Excel and save it again, or export this sheet as CSV"
        ) from exc
    return table.rename_columns(_unique_names([_column_name(c) for c in table.column_names]))


def _load_sheet(reader, sheet_name: str, *, header_row: int) -> pa.Table:
    loaded = reader.load_sheet(sheet_name, header_row=header_row, schema_sample_rows=None)
    return pa.Table.from_batches([loaded.to_arrow()])  # fastexcel returns a RecordBatch


def _column_name(name: object) -> str:
    text = str(name).strip()
    return "" if text.startswith("__UNNAMED__") else text  # numbered like blank CSV headers


def _header_row_below_title(reader, sheet_name: str, table: pa.Table) -> int:
    """Return the row of the real header when the first row is a title (mostly blank cells)."""
    unnamed = sum(str(c).startswith("__UNNAMED__") for c in table.column_names)
    if table.num_columns < 2 or unnamed * 2 < table.num_columns:
        return 0
    top = reader.load_sheet(
        sheet_name, header_row=None, skip_rows=0, n_rows=_HEADER_SCAN_ROWS, dtypes="string"
    ).to_arrow()
    filled = [sum(top.column(i)[r].is_valid for i in range(top.num_columns))
              for r in range(top.num_rows)]  # fmt: skip
    if not filled:
        return 0
    widest = max(filled)
    return next(r for r, n in enumerate(filled) if n * 2 > widest)


# -- Parquet -----------------------------------------------------------------------------------


def _read_parquet(data: bytes, file_name: str) -> pa.Table:
    try:
        return pq.read_table(io.BytesIO(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise LoadError(f"{file_name}: not a readable Parquet file ({_first_line(exc)})") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


@dataclass(frozen=True)
class FolderFile:
    """A file of the server's data folder: name, size and modification time (its identity)."""

    name: str
    size: int
    modified: float

    @property
    def stamp(self) -> str:
        """Changes whenever the file does: the cache key of everything computed from it."""
        return f"{self.name}:{self.size}:{self.modified:.6f}"


def list_folder(folder: str | Path) -> list[FolderFile]:
    """List the CSV and Parquet files directly inside ``folder`` (none if it does not exist).

    Sub-folders, hidden files and symbolic links are left out: only plain files that live in the
    folder itself can be opened (see :func:`folder_file`).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    files = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.is_symlink() or not path.is_file():
            continue
        if path.suffix.lower() in FOLDER_SUFFIXES:
            stat = path.stat()
            files.append(FolderFile(path.name, stat.st_size, stat.st_mtime))
    return files


def folder_file(folder: str | Path, name: str) -> Path:
    """Return the path of the listed file ``name``; anything else is refused.

    A name is accepted only if :func:`list_folder` lists it, so no user-supplied text (``..``,
    absolute paths, links) can reach a file outside the folder.
    """
    for listed in list_folder(folder):
        if listed.name == name:
            return Path(folder) / listed.name
    raise LoadError(f"{name!r} is not a file of the data folder")
