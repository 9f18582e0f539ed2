"""The run store on DuckDB and PostgreSQL: runs come back as published, all or nothing, with
parallel writers; the segment history and the changes between runs against hand-made runs."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from concurrent.futures import ProcessPoolExecutor

import pandas as pd
import pytest

from rfm_core.errors import RunNotFound, StoreError
from rfm_core.outputs import store as store_module
from rfm_core.outputs.store import (
    RunRecord,
    RunStore,
    frame_from_parquet,
    frame_to_parquet,
    store_url,
)

DAY = dt.timedelta(days=1)
T0 = dt.datetime(2024, 6, 3, 6, 0, tzinfo=dt.UTC)
BUNDLE = b"RFM-MODEL-BUNDLE\n" + b"a" * 40  # the store keeps bytes; it never opens a bundle


def record(segments: dict[str, str], *, bundle: bytes = BUNDLE, name: str = "weekly") -> RunRecord:
    """A run whose customers are in the given segments (rule segment = segment in lower case)."""
    ids = list(segments)
    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "segment": [segments[c] for c in ids],
            "cluster": range(len(ids)),
            "rfm_segment": [segments[c].lower() for c in ids],
            "anomaly": [c.endswith("!") for c in ids],
        }
    )
    customers = pd.DataFrame(
        {"monetary": [float(i) for i in range(len(ids))]},
        index=pd.Index(ids, dtype="string", name="customer_id"),
    )
    return RunRecord(
        name=name, author="alice@example.com", kind="segment", source_name="orders.csv",
        source_sha256="ab" * 32, bundle=bundle, facts={"account": {"rows_in": 7}},
        tables={"customers": customers, "empty": pd.DataFrame({"x": pd.Series(dtype="int64")})},
        segments=frame,
    )  # fmt: skip


def test_a_run_comes_back_as_published(store_url: str) -> None:
    store = RunStore(store_url)
    first = store.publish(record({"c1": "Loyal", "c2!": "Lost"}), published_at=T0)
    second = store.publish(record({"c1": "Lost"}, name="later"), published_at=T0 + DAY)
    listed = store.runs()
    assert list(listed["run_id"]) == [second, first]  # newest first
    assert list(listed["customers"]) == [1, 2]
    assert list(listed["flagged"]) == [0, 1]
    run = store.load(first)
    assert (run.name, run.author, run.kind, run.source_name) == (
        "weekly", "alice@example.com", "segment", "orders.csv",
    )  # fmt: skip
    assert run.published_at == pd.Timestamp(T0)
    assert run.bundle == BUNDLE
    assert run.facts == {"account": {"rows_in": 7}}
    sent = record({"c1": "", "c2!": ""}).tables["customers"]
    pd.testing.assert_frame_equal(run.tables["customers"], sent)
    assert run.tables["empty"].empty
    assert run.model_id == listed["model_id"].iloc[1]


def test_an_unknown_run_is_refused_and_reading_creates_nothing(tmp_path) -> None:
    store = RunStore(tmp_path / "runs.duckdb")
    assert store.runs().empty
    with pytest.raises(RunNotFound, match="no published run has the id 'nope'"):
        store.load("nope")
    assert not (tmp_path / "runs.duckdb").exists()
    store.publish(record({"c1": "Loyal"}))
    with pytest.raises(RunNotFound):
        store.changes("nope")


def test_a_publish_that_fails_leaves_nothing(store_url: str, monkeypatch) -> None:
    store = RunStore(store_url)
    store.publish(record({"c1": "Loyal"}), published_at=T0)
    real = store_module._insert
    inserted = []

    def failing(con, name, frame, *, copy):
        if name == store_module.RUNS:  # tables and segments are in; the run's row is not
            raise RuntimeError("the disk is full")
        real(con, name, frame, copy=copy)
        inserted.append(name)

    monkeypatch.setattr(store_module, "_insert", failing)
    with pytest.raises(RuntimeError, match="disk is full"):
        store.publish(record({"c9": "Lost"}), published_at=T0 + DAY)
    monkeypatch.setattr(store_module, "_insert", real)
    assert inserted == [store_module.TABLES, store_module.SEGMENTS]
    assert len(store.runs()) == 1
    counts = _row_counts(store)
    assert counts == {"rfm_runs": 1, "rfm_run_tables": 2, "rfm_run_segments": 1}


def test_awkward_segment_text_comes_back_exactly(store_url: str) -> None:
    # PostgreSQL gets the segments by COPY: its text format's delimiters and escapes must not leak
    awkward = {
        "c,1": 'Loyal, "big"',
        "c\t2": "At\\Risk\nnow",
        "c3": "",
        "c4": "Können → 🛒",
        "c5!": "\\N",
    }
    store = RunStore(store_url)
    run_id = store.publish(record(awkward), published_at=T0)
    with store._connect(write=False) as con:
        segments = con.table(store_module.SEGMENTS)
        got = segments.filter(segments.run_id == run_id).order_by("cluster").execute()
    sent = record(awkward).segments
    assert list(got["customer_id"]) == list(sent["customer_id"])
    assert list(got["segment"]) == list(sent["segment"])
    assert list(got["rfm_segment"]) == list(sent["rfm_segment"])
    assert list(got["anomaly"]) == [False, False, False, False, True]
    assert list(got["cluster"]) == [0, 1, 2, 3, 4]


def test_missing_segment_text_is_stored_as_null(store_url: str) -> None:
    sent = record({"c1": "Loyal", "c2": "Lost"})
    sent.segments.loc[1, "rfm_segment"] = None
    store = RunStore(store_url)
    run_id = store.publish(sent, published_at=T0)
    with store._connect(write=False) as con:
        segments = con.table(store_module.SEGMENTS)
        nulls = segments.filter((segments.run_id == run_id) & segments.rfm_segment.isnull())
        assert list(nulls.customer_id.execute()) == ["c2"]


def _row_counts(store: RunStore) -> dict[str, int]:
    with store._connect(write=False) as con:
        return {name: int(con.table(name).count().execute()) for name in store_module._SCHEMAS}


def _publish_many(url: str, worker: int, n: int) -> list[str]:
    store = RunStore(url)
    return [
        store.publish(record({f"w{worker}-c{i}": "Loyal", "shared": f"S{worker}"}))
        for i in range(n)
    ]


def _read_while_writing(url: str, rounds: int) -> int:
    """List and load the runs again and again; every listed run must load whole."""
    store = RunStore(url)
    seen = 0
    for _ in range(rounds):
        for run_id in store.runs()["run_id"]:
            run = store.load(run_id)
            assert len(run.tables["customers"]) == 2
            seen += 1
    return seen


def test_parallel_writers_lose_and_corrupt_nothing(store_url: str) -> None:
    workers, each = 4, 3
    with ProcessPoolExecutor(max_workers=workers + 1) as pool:
        reader = pool.submit(_read_while_writing, store_url, 15)
        futures = [pool.submit(_publish_many, store_url, w, each) for w in range(workers)]
        published = [run_id for future in futures for run_id in future.result()]
        assert reader.result() >= 0
    store = RunStore(store_url)
    listed = store.runs()
    assert sorted(listed["run_id"]) == sorted(published)
    assert len(set(published)) == workers * each
    assert _row_counts(store) == {
        "rfm_runs": workers * each,
        "rfm_run_tables": 2 * workers * each,
        "rfm_run_segments": 2 * workers * each,
    }
    for run_id in published:
        assert set(store.load(run_id).tables["customers"].index)  # every run whole


def test_a_busy_duckdb_file_is_waited_for_then_refused(tmp_path) -> None:
    store = RunStore(tmp_path / "runs.duckdb", lock_timeout=0.3)
    store.publish(record({"c1": "Loyal"}))
    descriptor = os.open(tmp_path / "runs.duckdb.lock", os.O_RDWR)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # another process writing
        with pytest.raises(StoreError, match=r"stayed busy for 0\.3 s"):
            store.runs()
        with pytest.raises(StoreError, match="busy"):
            store.publish(record({"c2": "Lost"}))
    finally:
        os.close(descriptor)
    assert len(store.runs()) == 1


def test_history_changes_and_one_customer(store_url: str) -> None:
    store = RunStore(store_url)
    other = store.publish(record({"a": "Lost"}, bundle=BUNDLE + b"other"), published_at=T0)
    week1 = store.publish(record({"a": "New", "b": "Loyal", "c": "Loyal"}), published_at=T0)
    week2 = store.publish(record({"a": "Loyal", "b": "Loyal", "d": "New"}), published_at=T0 + DAY)
    week3 = store.publish(
        record({"a": "At Risk", "b": "Loyal", "c": "Loyal", "d": "New"}), published_at=T0 + 2 * DAY
    )
    history = store.segment_history(week3)
    assert _rows(history) == [
        ("a", "At Risk", "Loyal", T0 + 2 * DAY, 3),
        ("b", "Loyal", None, T0, 3),
        ("c", "Loyal", None, T0, 2),  # absent in week 2: still Loyal since week 1
        ("d", "New", None, T0 + DAY, 2),
    ]
    # as of week 2: a moved New → Loyal on day 2; later runs are not seen
    earlier = store.segment_history(week2)
    assert earlier.loc["a", "previous_segment"] == "New"
    assert earlier.loc["a", "segment_since"] == pd.Timestamp(T0 + DAY)
    assert list(earlier.index) == ["a", "b", "d"]
    # the rule segments have their own history
    assert store.segment_history(week3, by="rfm_segment").loc["a", "previous_segment"] == "loyal"

    changes = store.changes(week3)
    assert changes.previous["run_id"] == week2
    assert _records(changes.table) == [
        ("a", "Loyal", "At Risk", "moved"), ("c", None, "Loyal", "new"),
    ]  # fmt: skip
    assert _records(store.changes(week2).table) == [
        ("c", "Loyal", None, "gone"), ("a", "New", "Loyal", "moved"), ("d", None, "New", "new"),
    ]  # fmt: skip
    first = store.changes(week1)
    assert first.previous is None and first.table.empty
    assert store.changes(other).previous is None  # another model: no previous run

    path = store.customer_history(week1, "a")
    assert list(path["segment"]) == ["New", "Loyal", "At Risk"]
    assert list(path["run_id"]) == [week1, week2, week3]
    assert store.customer_history(week1, "nobody").empty
    with pytest.raises(StoreError, match="history by 'cluster'"):
        store.segment_history(week1, by="cluster")


def _records(table: pd.DataFrame) -> list[tuple]:
    order = {"gone": 0, "moved": 1, "new": 2}
    rows = [
        tuple(None if pd.isna(v) else v for v in row)
        for row in table[["customer_id", "previous_segment", "segment", "change"]].itertuples(
            index=False
        )
    ]
    return sorted(rows, key=lambda r: (order[r[3]], r[0]))


def _rows(history: pd.DataFrame) -> list[tuple]:
    return [
        (customer, row.segment, None if pd.isna(row.previous_segment) else row.previous_segment,
         pd.Timestamp(row.segment_since).to_pydatetime(), int(row.runs))
        for customer, row in history.iterrows()
    ]  # fmt: skip


def test_urls_name_the_database_and_hide_the_password(tmp_path) -> None:
    assert store_url({}).endswith("data/runs.duckdb")
    assert store_url({"RFM_STORE": " postgresql://u:secret@db:5432/rfm "}).startswith("postgresql")
    remote = RunStore("postgresql://rfm:secret@db.example:5432/runs")
    assert remote.describe() == "postgresql://db.example:5432/runs"
    assert "secret" not in repr(remote)
    assert RunStore(f"duckdb://{tmp_path}/x.duckdb").path == tmp_path / "x.duckdb"
    with pytest.raises(StoreError, match="neither a DuckDB file nor a postgresql:// URL"):
        RunStore("mysql://db/runs")
    with pytest.raises(StoreError, match="needs a file"):
        RunStore("duckdb://:memory:")


def test_frames_keep_their_text_index_categories_and_dates() -> None:
    frame = pd.DataFrame(
        {
            "segment": pd.Categorical(["Lost", "Loyal"], ["Loyal", "Lost"], ordered=True),
            "first": pd.to_datetime(["2024-01-02", "2024-03-04"]),
            "note": pd.array(["x", pd.NA], dtype="string"),
        },
        index=pd.Index(["007", "A7"], dtype="string", name="customer_id"),
    )
    pd.testing.assert_frame_equal(frame_from_parquet(frame_to_parquet(frame)), frame)
    numbered = pd.DataFrame({"rows": [3, 4]}, index=pd.Index(["a", "b"], name="reason"))
    pd.testing.assert_frame_equal(frame_from_parquet(frame_to_parquet(numbered)), numbered)
