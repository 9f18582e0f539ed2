"""The Upload page and the shared sidebar, driven headlessly with AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rfm_core.customers.pipeline import RfmPipelineResult
from rfm_core.errors import LoadError
from rfm_core.ingest.io import load_bytes
from rfm_core.ingest.schema import ROLES, infer_mapping
from tests.app.apptest_support import (
    DEMO,
    MAPPING_SUBMIT,
    check,
    core,
    frame_with,
    generated_csv,
    generated_log,
    metric,
    new_session,
    sidebar_texts,
    submit,
    upload,
    workbook,
)

# the hand-written logs are tiny: the core rightly warns that ties leave few distinct scores
pytestmark = pytest.mark.filterwarnings("ignore:.*ties leave only:UserWarning")

NONE = "—"  # the mapping form's "no column"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def mapped_message(result: RfmPipelineResult) -> str:
    """The start of the Upload page's success message for ``result``."""
    return f"Mapped: {result.cleaning.n_in:,} lines → {result.rfm.n_customers:,} customers"


def rows_subheader(name: str, data: bytes, sheet: str | None = None) -> str:
    loaded = load_bytes(data, file_name=name, sheet=sheet)
    return f"{name}: {loaded.n_rows:,} rows × {len(loaded.columns)} columns"


def form_mapping(at: AppTest) -> dict[str, str]:
    """The column shown for each role in the mapping form."""
    return {role: at.selectbox(key=f"map_{role}").value for role in ROLES}


def test_opens_on_the_demo_without_upload(app: AppTest) -> None:
    data = DEMO.read_bytes()
    demo = load_bytes(data, file_name=DEMO.name)

    assert sidebar_texts(app) == [f"Demo: {DEMO.name}"]
    assert app.subheader[0].value == rows_subheader(DEMO.name, data)
    preview = frame_with(app, *demo.columns)
    assert list(preview.columns) == demo.columns
    assert 0 < len(preview) <= 20
    detected = infer_mapping(demo).as_dict()
    assert form_mapping(app) == {role: column or NONE for role, column in detected.items()}
    assert app.radio(key="date_order").value == "auto"
    assert app.button(key=MAPPING_SUBMIT).label == "Apply mapping"
    assert not app.error
    assert app.success[0].value.startswith(mapped_message(core(data, DEMO.name)))


def test_an_uploaded_csv_becomes_current(
    app: AppTest, gen_csv: bytes, gen_result: RfmPipelineResult
) -> None:
    check(upload(app, "generated.csv", gen_csv))

    # the sidebar is drawn before the page reads the upload: it must name the new file at once
    assert sidebar_texts(app) == ["generated.csv"]
    assert app.subheader[0].value == rows_subheader("generated.csv", gen_csv)
    assert app.success[0].value.startswith(mapped_message(gen_result))

    check(app.switch_page("pages/rfm.py").run())
    assert sidebar_texts(app) == ["generated.csv"]
    assert metric(app, "Customers") == f"{gen_result.rfm.n_customers:,}"

    check(app.switch_page("pages/upload.py").run())
    check(app.button(key="use_demo").click().run())
    assert sidebar_texts(app) == [f"Demo: {DEMO.name}"]
    assert app.subheader[0].value.startswith(f"{DEMO.name}: ")


def test_unusual_headers_semicolons_and_decimal_commas_are_mapped(app: AppTest) -> None:
    data = (
        b"client_ref;ordered_at;total\n"
        b"C-001;2023-01-05;12,50\n"
        b"C-002;2023-02-06;3,75\n"
        b"C-001;2023-03-07;1.234,00\n"
        b"C-003;2023-03-01;0,99\n"
    )
    expected = core(data, "export.csv")
    assert expected.rfm.table["monetary"].sum() == pytest.approx(1251.24)  # commas understood

    check(upload(app, "export.csv", data))
    shown = form_mapping(app)
    assert shown["customer"] == "client_ref"
    assert shown["date"] == "ordered_at"
    assert shown["amount"] == "total"
    assert not app.error
    assert app.success[0].value.startswith(mapped_message(expected))

    check(app.switch_page("pages/rfm.py").run())
    assert metric(app, "Customers") == "3"
    assert metric(app, "Revenue") == f"{expected.rfm.table['monetary'].sum():,.0f}" == "1,251"


def test_an_undetectable_customer_column_is_chosen_in_the_form(app: AppTest) -> None:
    data = b"who,date,amount\nA1,2023-01-05,12.5\nA2,2023-02-06,3.75\nA1,2023-03-07,4\n"

    check(upload(app, "nocustomer.csv", data))
    assert sidebar_texts(app) == ["nocustomer.csv"]
    errors = [e.value for e in app.error]
    assert len(errors) == 1
    assert "nocustomer.csv" in errors[0]
    assert "customer id" in errors[0]
    assert not app.success
    customer = app.selectbox(key="map_customer")  # the form is still there to fix it
    assert customer.value == NONE
    assert "who" in customer.options

    customer.select("who")
    check(submit(app, MAPPING_SUBMIT))
    assert not app.error
    assert app.selectbox(key="map_customer").value == "who"
    expected = core(data, "nocustomer.csv", mapping={"customer": "who"})
    assert app.success[0].value.startswith(mapped_message(expected))
    assert expected.rfm.n_customers == 2


def test_the_form_follows_the_current_file(app: AppTest, gen_csv: bytes) -> None:
    """A new file shows its own detected mapping, not the choices made for the previous one."""
    check(upload(app, "nocustomer.csv", b"who,date,amount\nA1,2023-01-05,12.5\n"))
    assert app.selectbox(key="map_customer").value == NONE

    check(upload(app, "generated.csv", gen_csv))
    detected = infer_mapping(load_bytes(gen_csv, file_name="generated.csv")).as_dict()
    assert form_mapping(app) == {role: column or NONE for role, column in detected.items()}
    check(submit(app, MAPPING_SUBMIT))  # applying it unchanged keeps a working mapping
    assert not app.error
    assert app.success[0].value.startswith(mapped_message(core(gen_csv, "generated.csv")))


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("binary.csv", bytes(range(256)) * 8),
        ("empty.csv", b""),
        ("header_only.csv", b"customer,date,amount\n"),
        ("broken.xlsx", b"PK\x03\x04 this is not a workbook"),
    ],
    ids=["binary", "empty", "header-only", "broken-xlsx"],
)
def test_a_bad_file_shows_an_error_naming_it(app: AppTest, name: str, data: bytes) -> None:
    with pytest.raises(LoadError) as raised:
        load_bytes(data, file_name=name)

    check(upload(app, name, data))
    errors = [e.value for e in app.error]
    assert errors == [str(raised.value)]
    assert name in errors[0]
    assert sidebar_texts(app) == [f"Demo: {DEMO.name}"]  # the previous file stays current

    check(app.run())
    assert app.subheader[0].value.startswith(f"{DEMO.name}: ")


def test_a_workbook_with_two_sheets_offers_the_sheet(app: AppTest, tmp_path: Path) -> None:
    sheets = {"shop": generated_log(60, seed=3), "web": generated_log(40, seed=4)}
    data = workbook(tmp_path / "orders.xlsx", sheets)

    check(upload(app, "orders.xlsx", data, XLSX))
    sheet = app.selectbox(key="sheet")
    assert sheet.options == ["shop", "web"]
    assert sheet.value == "shop"
    assert sidebar_texts(app) == ["orders.xlsx", "Sheet: shop"]
    assert app.subheader[0].value == rows_subheader("orders.xlsx", data, "shop")
    assert app.success[0].value.startswith(mapped_message(core(data, "orders.xlsx", sheet="shop")))

    check(sheet.select("web").run())
    web = core(data, "orders.xlsx", sheet="web")
    assert app.selectbox(key="sheet").value == "web"
    assert sidebar_texts(app) == ["orders.xlsx", "Sheet: web"]
    assert app.subheader[0].value == rows_subheader("orders.xlsx", data, "web")
    assert app.success[0].value.startswith(mapped_message(web))

    check(app.switch_page("pages/rfm.py").run())
    assert metric(app, "Customers") == f"{web.rfm.n_customers:,}"
    assert metric(app, "Reference date") == web.rfm.reference_date.isoformat()


def test_another_workbook_opens_on_its_first_sheet(app: AppTest, tmp_path: Path) -> None:
    """The sheet chosen in one workbook is not carried over to the next one."""
    first = workbook(
        tmp_path / "first.xlsx", {"shop": generated_log(30, 1), "web": generated_log(20, 2)}
    )
    second = workbook(
        tmp_path / "second.xlsx", {"shop": generated_log(25, 5), "web": generated_log(35, 6)}
    )
    check(upload(app, "first.xlsx", first, XLSX))
    check(app.selectbox(key="sheet").select("web").run())
    assert sidebar_texts(app) == ["first.xlsx", "Sheet: web"]

    check(upload(app, "second.xlsx", second, XLSX))
    assert app.selectbox(key="sheet").value == "shop"
    assert sidebar_texts(app) == ["second.xlsx", "Sheet: shop"]
    assert app.subheader[0].value == rows_subheader("second.xlsx", second, "shop")


def test_the_date_order_of_ambiguous_dates_can_be_chosen(app: AppTest) -> None:
    # every day and month field is at most 12: both orders fit
    data = (
        b"customer,date,amount\nA,01/02/2023,10\nB,03/04/2023,5\nA,05/06/2023,7\nC,02/01/2023,3\n"
    )
    dayfirst = core(data, "ambiguous.csv")
    monthfirst = core(data, "ambiguous.csv", date_order="monthfirst")
    assert dayfirst.transactions.dates.format == "dayfirst"
    assert dayfirst.rfm.reference_date != monthfirst.rfm.reference_date

    check(upload(app, "ambiguous.csv", data))
    assert len(app.warning) == 1
    assert "day first" in app.warning[0].value
    assert "dates read day first" in app.success[0].value
    check(app.switch_page("pages/rfm.py").run())
    assert metric(app, "Reference date") == dayfirst.rfm.reference_date.isoformat()

    check(app.switch_page("pages/upload.py").run())
    assert app.radio(key="date_order").value == "auto"
    app.radio(key="date_order").set_value("monthfirst")
    check(submit(app, MAPPING_SUBMIT))
    assert app.radio(key="date_order").value == "monthfirst"
    assert "month first" in app.warning[0].value
    assert "dates read month first" in app.success[0].value
    check(app.switch_page("pages/rfm.py").run())
    assert metric(app, "Reference date") == monthfirst.rfm.reference_date.isoformat()


def test_a_chosen_mapping_is_shown_again_after_visiting_another_page(app: AppTest) -> None:
    # widgets drawn on one page lose their state while another page runs
    app.selectbox(key="map_product").select(NONE)
    check(submit(app, MAPPING_SUBMIT))
    check(app.switch_page("pages/cleaning.py").run())
    check(app.switch_page("pages/upload.py").run())
    assert app.selectbox(key="map_product").value == NONE
    assert app.selectbox(key="map_customer").value == "CustomerID"


def test_the_same_bytes_under_another_name_are_another_dataset():
    data = generated_csv(40, seed=91)
    at = check(upload(new_session(), "january.csv", data))
    assert at.subheader[0].value.startswith("january.csv:")
    at = check(upload(at, "february.csv", data))
    assert at.subheader[0].value.startswith("february.csv:")  # not the cached first upload
    assert "february.csv" in sidebar_texts(at)
