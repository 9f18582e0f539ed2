"""Read an uploaded transaction log into an Arrow table: the entry point of every reader.

Supported inputs
----------------
* ``.csv``, ``.tsv``, ``.txt``: :mod:`rfm_core.ingest.delimited` (delimiter and encoding sniffed,
  every column read as text so that identifiers keep their leading zeros; numbers and dates are
  interpreted later, per mapped column, by :mod:`rfm_core.ingest.schema`).
* ``.xlsx``, ``.xlsm``, ``.xls``: :mod:`rfm_core.ingest.excel` (fastexcel, after the zip-bomb and
  encryption checks). Any sheet can be chosen.
* ``.parquet``: read as is, here.

The server's data folder, whose files are scanned by an engine instead of read here, is listed by
:mod:`rfm_core.ingest.folder`.

Input checks
------------
Every refusal is a :class:`~rfm_core.errors.LoadError` naming the file and saying what to do.
Here: an unsupported suffix, more than :data:`MAX_UPLOAD_BYTES` (the upload limit of
``.streamlit/config.toml``) given to :func:`load_bytes` (:func:`load_path` reads local files of
any size), an empty file, and a table without data rows. The readers add their own (another kind
of file under the suffix, ragged lines, zip bombs, encrypted workbooks...).

The only file access of the package besides :mod:`rfm_core.ingest.folder` and
:mod:`rfm_core.outputs.persistence` lives here.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from rfm_core.errors import LoadError
from rfm_core.ingest.delimited import CSV_SUFFIXES, CsvDialect, read_delimited
from rfm_core.ingest.excel import EXCEL_SUFFIXES, open_workbook, read_workbook
from rfm_core.ingest.formats import first_line, size_text

__all__ = [
    "MAX_UPLOAD_BYTES",
    "PARQUET_SUFFIXES",
    "SUPPORTED_SUFFIXES",
    "LoadedTable",
    "dataset_id",
    "list_sheets",
    "load_bytes",
    "load_path",
]

PARQUET_SUFFIXES = (".parquet", ".pq")
SUPPORTED_SUFFIXES = CSV_SUFFIXES + EXCEL_SUFFIXES + PARQUET_SUFFIXES
MAX_UPLOAD_BYTES = 200 * 2**20
"""Largest file :func:`load_bytes` reads: ``server.maxUploadSize = 200`` (MiB) of the app."""


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
    """Return the SHA-256 hex digest identifying a file's bytes (and sheet).

    Parameters
    ----------
    data : bytes
        The whole file.
    sheet : str, optional
        For workbooks: the sheet read (two sheets of one workbook are two datasets).

    Returns
    -------
    str
        64 hexadecimal digits: the cache key of everything computed from the file.
    """
    digest = hashlib.sha256(data)
    if sheet is not None:
        digest.update(b"\x00sheet\x00" + sheet.encode("utf-8"))
    return digest.hexdigest()


def load_path(path: str | Path, *, sheet: str | int | None = None) -> LoadedTable:
    """Read a file from disk; see :func:`load_bytes`.

    A local file is the user's own: it has no upload limit (the zip-bomb checks still apply).

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    sheet : str or int, optional
        For workbooks: sheet name or 0-based position (default: the first sheet with data).

    Returns
    -------
    LoadedTable
        ``file_name`` is the path's last part.

    Raises
    ------
    LoadError
        No such file, a folder, no permission, or anything :func:`load_bytes` refuses.
    """
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
            f"{file_name}: the file is {size_text(len(data))}, over the upload limit of "
            f"{size_text(max_bytes)}; put larger logs in the server's data folder or use the "
            "command line"
        )
    if not data or not data.lstrip(b"\xef\xbb\xbf").strip():
        raise LoadError(f"{file_name}: the file is empty")
    if suffix in CSV_SUFFIXES:
        table, dialect = read_delimited(data, file_name=file_name)
        loaded = LoadedTable(table, file_name, dataset_id(data), dialect=dialect)
    elif suffix in EXCEL_SUFFIXES:
        table, sheet_name, names = read_workbook(data, file_name=file_name, sheet=sheet)
        loaded = LoadedTable(
            table, file_name, dataset_id(data, sheet=sheet_name), sheet_name, tuple(names)
        )
    else:
        loaded = LoadedTable(_read_parquet(data, file_name), file_name, dataset_id(data))
    if loaded.table.num_columns == 0 or loaded.table.num_rows == 0:
        where = f" on sheet {loaded.sheet!r}" if loaded.sheet is not None else ""
        raise LoadError(f"{file_name}: no data rows found{where} (only a header, or nothing)")
    return loaded


def list_sheets(data: bytes, *, file_name: str) -> list[str]:
    """Return the sheet names of a workbook (empty for other formats).

    Parameters
    ----------
    data : bytes
        The whole file.
    file_name : str
        Its name; the suffix says whether it is a workbook.

    Returns
    -------
    list of str
        The sheets in workbook order; empty for a file that is not a workbook.

    Raises
    ------
    LoadError
        A workbook that cannot be opened (see :func:`rfm_core.ingest.excel.open_workbook`).
    """
    if Path(file_name).suffix.lower() not in EXCEL_SUFFIXES:
        return []
    return list(open_workbook(data, file_name=file_name).sheet_names)


def _read_parquet(data: bytes, file_name: str) -> pa.Table:
    try:
        return pq.read_table(io.BytesIO(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise LoadError(f"{file_name}: not a readable Parquet file ({first_line(exc)})") from exc
