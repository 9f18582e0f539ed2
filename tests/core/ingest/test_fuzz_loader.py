"""Fuzzing the loader: whatever the bytes, the core succeeds or raises an RfmError, quickly.

Random bytes, random CSV-ish text (delimiters, quotes, encodings, NUL bytes, ragged rows) and
random small zip archives named ``.xlsx`` go through :func:`rfm_core.ingest.io.load_bytes` and, when
they load, through the whole :func:`rfm_core.customers.pipeline.run_rfm`. Any other exception is a
bug.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rfm_core.customers.pipeline import run_rfm
from rfm_core.errors import RfmError
from rfm_core.ingest.io import load_bytes

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

# deadline: a hung parser fails the example instead of eating the CI budget
FUZZ = settings(
    max_examples=40,
    deadline=3000,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def load_and_run(data: bytes, file_name: str) -> None:
    """Load and, if that works, run the pipeline; only RfmError may escape."""
    try:
        loaded = load_bytes(data, file_name=file_name)
    except RfmError as error:
        assert str(error).startswith(f"{file_name}: "), error
        assert "\n" not in str(error)
        return
    assert loaded.n_rows > 0 and loaded.table.num_columns > 0
    try:
        result = run_rfm(loaded)
    except RfmError:
        return
    assert result.cleaning.n_kept > 0
    assert result.rfm.n_customers >= 1


@FUZZ
@given(
    data=st.binary(min_size=1, max_size=2048),
    suffix=st.sampled_from([".csv", ".tsv", ".txt", ".xlsx", ".xls", ".parquet"]),
)
def test_random_bytes(data: bytes, suffix: str) -> None:
    load_and_run(data, f"fuzz{suffix}")


HEADERS = ["customer", "date", "amount", "quantity", "price", "invoice", "Customer ID", "", "x"]
CELLS = st.one_of(
    st.sampled_from(
        [
            "A",
            "b",
            "00123",
            " 7 ",
            "2023-01-02",
            "02/01/2023",
            "20230102",
            "44927",
            "12,5",
            "1.234,50",
            "£3",
            "-1",
            "0",
            "inf",
            "NaN",
            "",
            "C123",
            '"',
            '""',
            'a"b',
            "\x00",
            "é",
            "€",
        ]
    ),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12),
)


@st.composite
def csv_text(draw: st.DrawFn) -> bytes:
    delimiter = draw(st.sampled_from([",", ";", "\t", "|", " "]))
    quote = draw(st.booleans())
    width = draw(st.integers(1, 6))
    header = draw(st.lists(st.sampled_from(HEADERS), min_size=width, max_size=width))
    rows = draw(
        st.lists(st.lists(CELLS, min_size=0, max_size=width + 2), min_size=0, max_size=12)
    )  # ragged on purpose
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))

    def line(cells: list[str]) -> str:
        return delimiter.join(f'"{c}"' if quote else c for c in cells)

    text = newline.join(line(r) for r in [header, *rows]) + draw(st.sampled_from(["", newline]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]))
    return text.encode(encoding, errors="replace")


@FUZZ
@given(data=csv_text(), suffix=st.sampled_from([".csv", ".txt"]))
def test_random_csv_text(data: bytes, suffix: str) -> None:
    load_and_run(data, f"fuzz{suffix}")


@FUZZ
@given(
    customers=st.lists(st.sampled_from(["A", "B", "00123", "", " c "]), min_size=1, max_size=8),
    amounts=st.lists(st.sampled_from(["1", "2.5", "-3", "0", "x", "1e308", "NaN"]), min_size=1),
    dates=st.lists(
        st.sampled_from(["2023-01-02", "31/12/2022", "99999999", "", "now"]), min_size=1
    ),
)
def test_random_valid_looking_logs(
    customers: list[str], amounts: list[str], dates: list[str]
) -> None:
    rows = [
        f"{c},{dates[i % len(dates)]},{amounts[i % len(amounts)]}" for i, c in enumerate(customers)
    ]
    load_and_run(("customer,date,amount\n" + "\n".join(rows) + "\n").encode(), "log.csv")


MEMBERS = [
    "[Content_Types].xml",
    "xl/workbook.xml",
    "xl/worksheets/sheet1.xml",
    "xl/_rels/workbook.xml.rels",
    "_rels/.rels",
    "xl/sharedStrings.xml",
]


@st.composite
def small_zip(draw: st.DrawFn) -> bytes:
    """A zip holding some of an .xlsx's parts with random or plausible contents."""
    names = draw(st.lists(st.sampled_from(MEMBERS), max_size=len(MEMBERS), unique=True))
    bodies = st.one_of(
        st.binary(max_size=200),
        st.sampled_from(
            [
                b"<?xml version='1.0'?><workbook/>",
                b"<worksheet><sheetData/></worksheet>",
                b"<Types/>",
                b"<worksheet><sheetData><row r='1'><c r='A1'><v>1</v></c></row>",
            ]
        ),
    )
    buffer = io.BytesIO()
    method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name in names:
            archive.writestr(name, draw(bodies))
    data = buffer.getvalue()
    if draw(st.booleans()) and data:  # flip a few bytes
        flips = draw(st.lists(st.integers(0, len(data) - 1), max_size=4))
        mutable = bytearray(data)
        for position in flips:
            mutable[position] ^= 0xFF
        data = bytes(mutable)
    return data


@FUZZ
@given(data=small_zip(), suffix=st.sampled_from([".xlsx", ".xlsm"]))
def test_random_small_zips_named_xlsx(data: bytes, suffix: str) -> None:
    load_and_run(data, f"fuzz{suffix}")
