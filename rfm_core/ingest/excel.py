"""Excel workbooks (``.xlsx``, ``.xlsm``, ``.xls``): the container checks, then fastexcel.

Workbooks are read with fastexcel (Rust calamine), about 15x faster than openpyxl on the
541,909-row Online Retail workbook. Any sheet can be chosen; without a choice the first sheet is
read, or the first sheet with data when it is empty.

Before anything is parsed, :func:`check_workbook_container` refuses, with a
:class:`~rfm_core.errors.LoadError` naming the file: what is not a workbook (text named
``.xlsx``, an image...), a password-protected (encrypted) workbook, and a zip bomb: a workbook
that unpacks to more than :data:`MAX_UNCOMPRESSED_BYTES` in all, or with a part above
:data:`_BOMB_MEMBER_BYTES` compressed more than :data:`MAX_COMPRESSION_RATIO` times, or whose parts
unpack to other sizes than its zip directory says. The directory is checked first, then every part
is unpacked with a running count, because a directory can lie and the Excel reader unpacks
whatever the data holds.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from typing import TYPE_CHECKING

import pyarrow as pa

from rfm_core.errors import LoadError
from rfm_core.ingest.formats import first_line, kind_of_file, short_repr, size_text, unique_names

if TYPE_CHECKING:
    import fastexcel

__all__ = [
    "EXCEL_SUFFIXES",
    "MAX_COMPRESSION_RATIO",
    "MAX_UNCOMPRESSED_BYTES",
    "check_workbook_container",
    "open_workbook",
    "read_workbook",
]

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
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
_HEADER_SCAN_ROWS = 30  # rows of a workbook searched for the header below a title
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")  # Office's encryption container
_PASSWORD_HINT = (
    "it is password-protected; open it in Excel, remove the password (File › Info › Protect "
    "Workbook) and save it again, or save it as CSV"
)


def open_workbook(data: bytes, *, file_name: str) -> fastexcel.ExcelReader:
    """Check a workbook's container (:func:`check_workbook_container`), then open it.

    Parameters
    ----------
    data : bytes
        The whole file.
    file_name : str
        Its name, for messages.

    Returns
    -------
    fastexcel.ExcelReader
        The opened workbook; its sheets are read on demand.

    Raises
    ------
    LoadError
        Not a workbook, password-protected, a zip bomb, damaged, or unreadable by fastexcel.
    """
    import fastexcel

    check_workbook_container(data, file_name=file_name)
    try:
        return fastexcel.read_excel(data)
    except Exception as exc:  # fastexcel raises its own error hierarchy
        raise LoadError(_workbook_error(file_name, exc)) from exc


def _workbook_error(file_name: str, exc: BaseException) -> str:
    detail = first_line(exc)
    if "password" in detail.lower() or "encrypt" in detail.lower():
        return f"{file_name}: {_PASSWORD_HINT}"
    return (
        f"{file_name}: not a readable Excel workbook ({detail}); open it in Excel and save it "
        "again as .xlsx, or export the transactions as CSV"
    )


def check_workbook_container(data: bytes, *, file_name: str) -> None:
    """Refuse what is not a workbook, an encrypted workbook or a zip bomb, before parsing.

    Parameters
    ----------
    data : bytes
        The whole file.
    file_name : str
        Its name, for messages.

    Raises
    ------
    LoadError
        Another kind of file, a password-protected workbook, a zip over
        :data:`MAX_UNCOMPRESSED_BYTES` or with a part compressed more than
        :data:`MAX_COMPRESSION_RATIO` times, parts that unpack to other sizes than the zip's
        directory says, or a damaged archive.
    """
    if data.startswith(_OLE):
        if _ENCRYPTED_STREAM in data:
            raise LoadError(f"{file_name}: {_PASSWORD_HINT}")
        return  # a binary .xls workbook
    what = kind_of_file(data)
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
                        f"{file_name}: the workbook part {short_repr(member.filename)} unpacks to "
                        f"{size_text(size)} where the workbook's directory says "
                        f"{size_text(member.file_size)}; the file is damaged or was altered — "
                        "open it in Excel and save it again"
                    )
                unpacked += size
    except LoadError:
        raise
    except Exception as exc:  # zipfile raises many kinds of error on a damaged archive
        raise LoadError(
            f"{file_name}: not a readable Excel workbook: the file is damaged or incomplete "
            f"({first_line(exc)}); upload it again, or open it in Excel and save it again"
        ) from exc


def _unpacked_size(data: bytes, member: zipfile.ZipInfo, limit: int, file_name: str) -> int:
    """Bytes a member's compressed data inflates to, counting no further than ``limit`` + a step.

    The whole compressed stream is inflated, as the Excel reader would, not just the number of
    bytes the directory announces (where :mod:`zipfile` stops).
    """
    if member.flag_bits & 0x1:
        raise LoadError(
            f"{file_name}: the workbook part {short_repr(member.filename)} is encrypted; save the "
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
            f"{file_name}: the workbook part {short_repr(member.filename)} uses a compression "
            "Excel does not write; open the workbook in Excel and save it again"
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
            f"{file_name}: the workbook would unpack to {size_text(total)} or more, over the limit "
            f"of {size_text(MAX_UNCOMPRESSED_BYTES)}; export the transactions as CSV instead"
        )
    for member, size in zip(members, sizes, strict=True):
        ratio = size / max(member.compress_size, 1)
        if size > _BOMB_MEMBER_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise LoadError(
                f"{file_name}: the workbook part {short_repr(member.filename)} unpacks "
                f"{ratio:,.0f} times its size ({size_text(size)}), more than a real "
                f"sheet ({MAX_COMPRESSION_RATIO} times at most); refused as a possible zip bomb "
                "— export the transactions as CSV instead"
            )


def read_workbook(
    data: bytes, *, file_name: str, sheet: str | int | None = None
) -> tuple[pa.Table, str, list[str]]:
    """Read one sheet of a workbook into a table.

    Without ``sheet`` the first sheet is read, or the first sheet with data when it is empty. A
    first row that is mostly blank (a title) is skipped: the first row filled like the rows below
    becomes the header.

    Parameters
    ----------
    data : bytes
        The whole file.
    file_name : str
        Its name, for messages.
    sheet : str or int, optional
        Sheet name or 0-based position.

    Returns
    -------
    table : pyarrow.Table
        The sheet's rows, columns named as in the header (made unique, blanks numbered).
    sheet_name : str
        The sheet read.
    sheet_names : list of str
        Every sheet of the workbook.

    Raises
    ------
    LoadError
        See :func:`open_workbook`; also a workbook without sheets, a missing sheet, or a sheet
        that cannot be read.
    """
    reader = open_workbook(data, file_name=file_name)
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
            f"{file_name}: cannot read sheet {sheet_name!r} ({first_line(exc)}); open the "
            "workbook in Excel and save it again, or export this sheet as CSV"
        ) from exc
    return table.rename_columns(unique_names([_column_name(c) for c in table.column_names]))


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
