"""Segments at two dates, the moves between them, cohorts, and the ``migrate`` command."""

from __future__ import annotations

import datetime as dt
import io

import ibis
import numpy as np
import pandas as pd
import pytest

from rfm_core.cli import main
from rfm_core.customers.engine import connect, open_file
from rfm_core.customers.migration import (
    NEW_CUSTOMER,
    cohort_retention,
    data_range,
    default_dates,
    migrate,
    snapshot,
)
from rfm_core.customers.pipeline import prepare, run_rfm
from rfm_core.customers.rfm import DEFAULT_SEGMENTS
from rfm_core.customers.scores import ScoreBinning, rescore
from rfm_core.customers.trends import kept_lines, kept_lines_on_engine
from rfm_core.errors import MigrationError, RfmError
from rfm_core.ingest.io import load_bytes
from rfm_core.ingest.synthetic import generate_transactions
from rfm_core.lines.cleaning import CleaningRules
from rfm_core.segments.clustering import Segmenter
from tests.core.customers.migration_log import (
    DATE_FROM,
    DATE_TO,
    MONETARY_TO,
    MOVED,
    SEGMENT_FROM,
    SEGMENT_TO,
    order_lines,
)

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")


def transactions(text: str):
    return prepare(load_bytes(text.encode("utf-8"), file_name="moves.csv"))


@pytest.fixture(scope="module")
def moves():
    return migrate(transactions(order_lines()), date_from=DATE_FROM, date_to=DATE_TO)


def test_both_snapshots_are_scored_with_the_binning() -> None:
    data = transactions(order_lines())
    fixed = ScoreBinning(recency=(7, 30, 60, 120), frequency=(2, 3, 4, 5))
    moved = migrate(data, date_from=DATE_FROM, date_to=DATE_TO, binning=fixed)
    for date, column in ((DATE_FROM, "segment_from"), (DATE_TO, "segment_to")):
        want = rescore(snapshot(data, date=date).table, fixed).table["rfm_segment"]
        assert moved.customers[column].dropna().to_dict() == want.astype(object).to_dict()
    # a last purchase 90 days before the second date: R 2 (61–120 days) by these cut points
    assert moved.customers.loc["A", "recency_to"] == 90
    assert snapshot(data, date=DATE_TO, binning=fixed).table.loc["A", "r_score"] == 2


# -- the hand-computed migration ---------------------------------------------------------------


def test_segments_at_both_dates_are_the_hand_computed_ones(moves) -> None:
    customers = moves.customers
    assert list(customers.index) == list("ABCDEFG")
    assert customers["segment_from"].dropna().to_dict() == SEGMENT_FROM
    assert customers["segment_to"].to_dict() == SEGMENT_TO
    assert customers["moved"].to_dict() == MOVED
    assert sorted(moves.lapsed.index) == ["A", "D"]
    assert sorted(moves.worse.index) == ["A", "C", "D"]
    assert sorted(moves.new_customers.index) == ["F", "G"]
    assert customers["monetary_to"].to_dict() == MONETARY_TO
    assert customers.loc["A", ["recency_from", "recency_to", "frequency_from"]].tolist() == [
        0, 90, 4
    ]  # fmt: skip
    assert pd.isna(customers.loc["F", "segment_from"])
    assert pd.isna(customers.loc["F", "recency_from"])


def test_transition_matrices(moves) -> None:
    counts, revenue = moves.counts, moves.revenue
    names = [rule.name for rule in DEFAULT_SEGMENTS]
    assert list(counts.index) == [NEW_CUSTOMER, *names]
    assert list(counts.columns) == names
    assert counts.to_numpy().sum() == 7
    assert counts.loc["Champions", "At Risk"] == 1
    assert counts.loc[NEW_CUSTOMER, "Potential Loyalist"] == 1
    assert counts.loc[NEW_CUSTOMER, "About to Sleep"] == 1
    assert revenue.loc["Potential Loyalist", "Loyal"] == 100.0
    assert revenue.loc[NEW_CUSTOMER].sum() == 72.0
    assert revenue.to_numpy().sum() == 245.0
    cells = moves.transitions()
    assert len(cells) == 7
    assert cells.iloc[0].tolist() == [NEW_CUSTOMER, "Potential Loyalist", 1, 22.0]
    assert moves.moved_to("Champions", ["At Risk", "Hibernating", "Lost"]) == 1
    assert moves.moved_to("Champions", ["Champions"]) == 0


def test_the_rank_follows_the_order_of_the_segment_rules() -> None:
    reversed_rules = tuple(reversed(DEFAULT_SEGMENTS))
    moves = migrate(
        transactions(order_lines()), date_from=DATE_FROM, date_to=DATE_TO, segments=reversed_rules
    )
    assert moves.rank == tuple(rule.name for rule in reversed_rules)
    flipped = {"worse": "better", "better": "worse", "new": "new"}
    assert moves.customers["moved"].to_dict() == {k: flipped[v] for k, v in MOVED.items()}


def test_a_snapshot_ignores_later_lines() -> None:
    later = (
        "2001,P1,5,2024-04-01 00:00,1000.0,A,United Kingdom",  # the day after, at midnight
        "2002,P1,1,2024-05-01 15:00,5.0,E,United Kingdom",
        "2003,P1,1,2024-05-02 15:00,8.0,Z,Spain",  # a customer who only exists later
    )
    plain = snapshot(transactions(order_lines()), date=DATE_FROM).table
    with_future = snapshot(transactions(order_lines(later)), date=DATE_FROM).table
    pd.testing.assert_frame_equal(plain, with_future)
    assert plain["rfm_segment"].to_dict() == SEGMENT_FROM
    # the same table as a log cut by hand at the date: nothing after it was read
    cut = "\n".join(
        line for line in order_lines(later).splitlines()
        if "2024-0" not in line or line.split(",")[3][:10] <= DATE_FROM.isoformat()
    )  # fmt: skip
    pd.testing.assert_frame_equal(snapshot(transactions(cut), date=DATE_FROM).table, plain)


def test_the_snapshot_date_is_included() -> None:
    table = snapshot(transactions(order_lines()), date=DATE_FROM).table
    assert table.loc["A", "frequency"] == 4  # the order of 03-31 counts
    assert table.loc["A", "recency"] == 0
    assert snapshot(transactions(order_lines()), date=dt.date(2024, 3, 30)).table.loc[
        "A", "frequency"
    ] == 3  # fmt: skip


def test_default_dates_are_the_last_purchase_and_90_days_before() -> None:
    moves = migrate(transactions(order_lines()))
    assert (moves.date_from, moves.date_to) == (dt.date(2024, 3, 31), dt.date(2024, 6, 29))
    assert default_dates(dt.date(2024, 6, 1), dt.date(2024, 6, 29)) == (
        dt.date(2024, 6, 1), dt.date(2024, 6, 29)
    )  # fmt: skip


@pytest.mark.parametrize(
    ("date_from", "date_to", "message"),
    [
        (DATE_TO, DATE_FROM, "must be before date_to"),
        (DATE_FROM, DATE_FROM, "must be before date_to"),
        (dt.date(2023, 12, 31), DATE_TO, "before the first purchase in the data (2024-01-03)"),
        (DATE_FROM, dt.date(2024, 6, 30), "after the last purchase in the data (2024-06-29)"),
    ],
)
def test_bad_dates_raise_a_clear_error(date_from, date_to, message) -> None:
    with pytest.raises(MigrationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        migrate(transactions(order_lines()), date_from=date_from, date_to=date_to)
    assert issubclass(MigrationError, RfmError)


def test_data_range_of_the_rfm_table() -> None:
    table = run_rfm(load_bytes(order_lines().encode(), file_name="m.csv")).rfm.table
    assert data_range(table) == (dt.date(2024, 1, 3), dt.date(2024, 6, 29))


# -- clusters ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated():
    log = generate_transactions(300, random_state=3).transactions
    return log, load_bytes(log.to_csv(index=False).encode(), file_name="gen.csv")


def test_clusters_are_scored_by_the_same_model_without_refit(generated) -> None:
    _, loaded = generated
    result = run_rfm(loaded)
    segmenter = Segmenter(n_clusters=4, random_state=0).fit(result.rfm.table)
    labels, centers = segmenter.labels_.copy(), segmenter.centers_.copy()
    first, last = data_range(result.rfm.table)
    date_from = last - dt.timedelta(days=120)
    moves = migrate(result.transactions, date_from=date_from, segmenter=segmenter,
                    span=(first, last))  # fmt: skip
    np.testing.assert_array_equal(segmenter.labels_, labels)  # no refit
    pd.testing.assert_frame_equal(segmenter.centers_, centers)
    before = snapshot(result.transactions, date=date_from).table
    after = snapshot(result.transactions, date=last).table
    customers = moves.customers
    expected_from = pd.Series(segmenter.predict(before), index=before.index)
    expected_to = pd.Series(segmenter.predict(after), index=after.index)
    assert customers["cluster_from"].dropna().astype(int).to_dict() == expected_from.to_dict()
    assert customers["cluster_to"].astype(int).to_dict() == expected_to.to_dict()
    assert moves.cluster_counts.to_numpy().sum() == len(customers)
    assert moves.cluster_counts.loc[NEW_CUSTOMER].sum() == customers["cluster_from"].isna().sum()
    worse = customers["cluster_to"] > customers["cluster_from"]
    assert (customers.loc[worse.fillna(False), "cluster_moved"] == "worse").all()
    assert len(moves.transitions(clusters=True)) > 0


def test_without_a_segmenter_there_is_no_cluster_matrix(moves) -> None:
    assert moves.cluster_counts is None
    with pytest.raises(MigrationError, match="without a segmenter"):
        moves.transitions(clusters=True)


# -- engine ------------------------------------------------------------------------------------


def test_the_engine_gives_the_same_migration(generated, tmp_path) -> None:
    log, loaded = generated
    path = tmp_path / "gen.parquet"
    log.to_parquet(path, index=False)
    rules = CleaningRules(returns="net")
    in_memory = migrate(prepare(loaded), rules=rules)
    source, mapping = open_file(path, backend=connect("duckdb"))
    on_engine = migrate(source, mapping=mapping, rules=rules, name=path.name)
    assert (on_engine.date_from, on_engine.date_to) == (in_memory.date_from, in_memory.date_to)
    pd.testing.assert_frame_equal(on_engine.customers, in_memory.customers)
    pd.testing.assert_frame_equal(on_engine.counts, in_memory.counts)


# -- cohorts -----------------------------------------------------------------------------------


def test_cohorts_of_the_tiny_log_are_the_hand_computed_ones() -> None:
    result = run_rfm(load_bytes(order_lines().encode(), file_name="m.csv"))
    cohorts = cohort_retention(kept_lines(result), backend=ibis.duckdb.connect())
    assert list(cohorts.counts.index) == ["2024-01", "2024-02", "2024-04", "2024-06"]
    assert cohorts.sizes.tolist() == [4, 1, 1, 1]
    na = pd.NA
    expected = pd.DataFrame(
        [[4, 2, 2, 1, 2, 2], [1, 0, 0, 0, 0, na], [1, 0, 1, na, na, na], [1, na, na, na, na, na]],
        index=pd.Index(["2024-01", "2024-02", "2024-04", "2024-06"], name="cohort"),
        columns=pd.Index(range(6), name="month"),
        dtype="Int64",
    )
    pd.testing.assert_frame_equal(cohorts.counts, expected)
    assert cohorts.share.loc["2024-01"].tolist() == [1.0, 0.5, 0.5, 0.25, 0.5, 0.5]
    assert cohorts.share.loc["2024-02", 4] == 0.0
    assert np.isnan(cohorts.share.loc["2024-02", 5])  # July is after the end of the data


def test_retention_counts_only_the_cohorts_observed_that_long() -> None:
    result = run_rfm(load_bytes(order_lines().encode(), file_name="m.csv"))
    cohorts = cohort_retention(kept_lines(result), backend=ibis.duckdb.connect())
    # month 1: January 2 of 4, February 0 of 1, April 0 of 1; June has no July in the data
    assert cohorts.retention() == pytest.approx(2 / 6)
    assert cohorts.retention(2) == pytest.approx((2 + 0 + 1) / 6)
    assert cohorts.retention(4) == pytest.approx((2 + 0) / 5)
    assert cohorts.retention(5) == 0.5  # January alone
    assert cohorts.retention(6) is None  # no cohort is observed six months on


def test_cohorts_on_the_engine_equal_those_in_memory(generated, tmp_path) -> None:
    log, loaded = generated
    path = tmp_path / "gen.parquet"
    log.to_parquet(path, index=False)
    result = run_rfm(loaded)
    source, mapping = open_file(path, backend=connect("duckdb"))
    kept = kept_lines_on_engine(source, mapping)
    in_memory = cohort_retention(kept_lines(result), backend=ibis.duckdb.connect())
    on_engine = cohort_retention(kept, backend=source._find_backend())
    pd.testing.assert_frame_equal(on_engine.counts, in_memory.counts)
    pd.testing.assert_frame_equal(on_engine.share, in_memory.share)
    assert in_memory.sizes.sum() == result.rfm.n_customers


# -- command line ------------------------------------------------------------------------------


def test_migrate_command_writes_one_row_per_customer(tmp_path, capsys) -> None:
    path, out = tmp_path / "moves.csv", tmp_path / "transitions.csv"
    path.write_text(order_lines(), encoding="utf-8")
    status = main(["migrate", str(path), "--from", "2024-03-31", "--to", "2024-06-29",
                   "-o", str(out)])  # fmt: skip
    assert status == 0
    written = pd.read_csv(out, dtype={"customer_id": str}, keep_default_na=False)
    assert list(written.columns[:3]) == ["customer_id", "segment_from", "segment_to"]
    assert dict(zip(written["customer_id"], written["segment_to"], strict=True)) == SEGMENT_TO
    assert dict(zip(written["customer_id"], written["segment_from"], strict=True)) == {
        **SEGMENT_FROM, "F": "", "G": ""
    }  # fmt: skip
    printed = capsys.readouterr().out
    assert "Champions                    1 → At Risk 1" in printed
    assert "2 new, 3 moved to a worse segment, 2 lapsed" in printed


def test_migrate_command_on_the_engine_writes_the_same_file(tmp_path) -> None:
    frame = pd.read_csv(io.StringIO(order_lines()), dtype=str)
    frame["Quantity"] = frame["Quantity"].astype(int)
    frame["UnitPrice"] = frame["UnitPrice"].astype(float)
    frame["InvoiceDate"] = pd.to_datetime(frame["InvoiceDate"])
    parquet, text = tmp_path / "moves.parquet", tmp_path / "moves.csv"
    frame.to_parquet(parquet, index=False)
    text.write_text(order_lines(), encoding="utf-8")
    outputs = []
    for path, engine in ((parquet, "duckdb"), (text, "memory")):
        out = tmp_path / f"{engine}.csv"
        assert main(["migrate", str(path), "--engine", engine, "--from", "2024-03-31",
                     "-o", str(out)]) == 0  # fmt: skip
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_migrate_command_reports_bad_dates(tmp_path, capsys) -> None:
    path = tmp_path / "moves.csv"
    path.write_text(order_lines(), encoding="utf-8")
    status = main(["migrate", str(path), "--from", "2024-06-29", "--to", "2024-03-31",
                   "-o", str(tmp_path / "out.csv")])  # fmt: skip
    assert status == 2
    assert capsys.readouterr().err.strip() == (
        "error: date_from (2024-06-29) must be before date_to (2024-03-31)"
    )
    assert not (tmp_path / "out.csv").exists()
