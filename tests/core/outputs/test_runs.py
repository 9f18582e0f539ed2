"""Published runs: a fitted and a scored run come back as the results they were published from,
without one raw line, and only with this installation's key."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from rfm_core.customers.pipeline import run_rfm
from rfm_core.customers.result import CustomerRun
from rfm_core.customers.trends import kept_lines
from rfm_core.errors import BundleSignatureError, StoreError
from rfm_core.ingest.io import load_bytes
from rfm_core.ingest.synthetic import generate_transactions
from rfm_core.outputs.export import cleaning_report_dict
from rfm_core.outputs.persistence import (
    apply_bundle,
    build_bundle,
    dump_bundle,
    load_bundle,
    score_transactions,
)
from rfm_core.outputs.runs import open_run, overview_tables, run_record
from rfm_core.outputs.store import RunStore
from rfm_core.segments.segmentation import (
    AnomalySettings,
    SegmentationSettings,
    find_anomalies,
    segment_customers,
)

KEY = b"k" * 40


@pytest.fixture(scope="module")
def fitted():
    """The pipeline result of a generated log, segments (one renamed) and flags, and a bundle."""
    data = generate_transactions(250, random_state=5).transactions.to_csv(index=False).encode()
    result = run_rfm(load_bytes(data, file_name="orders.csv"))
    table = result.rfm.table
    anomalies = find_anomalies(table, AnomalySettings())
    segmentation = segment_customers(table, SegmentationSettings(), anomalies=anomalies)
    bundle = build_bundle(
        table, segmentation, anomalies, mapping=result.mapping, rules=result.cleaning.rules,
        renamed={0: "Best customers"},
    )  # fmt: skip
    return result, segmentation, anomalies, bundle


def test_a_fitted_run_comes_back_as_published(fitted, tmp_path) -> None:
    result, segmentation, anomalies, bundle = fitted
    signed = dump_bundle(bundle, key=KEY)
    overview = overview_tables(kept_lines(result), backend=ibis.duckdb.connect())
    record = run_record(
        result, result.rfm.table, segmentation, anomalies, bundle, signed=signed,
        account=cleaning_report_dict(result), name=" June ", author="alice", overview=overview,
        source_sha256="f" * 64,
    )  # fmt: skip
    store = RunStore(tmp_path / "runs.duckdb")
    run = open_run(store.load(store.publish(record)), key=KEY)

    assert isinstance(run, CustomerRun)
    assert run.lines is None and run.transactions is None
    assert run.stored.name == "June" and run.stored.source_name == "orders.csv"
    assert (run.n_in, run.n_kept, run.date_format) == (
        result.n_in, result.n_kept, result.date_format,
    )  # fmt: skip
    assert run.mapping == result.mapping
    assert run.rfm.reference_date == result.rfm.reference_date
    pd.testing.assert_frame_equal(run.rfm.table, result.rfm.table)
    pd.testing.assert_frame_equal(run.report, result.report)
    pd.testing.assert_series_equal(run.segmentation.labels, segmentation.labels)
    pd.testing.assert_frame_equal(run.segmentation.profile, segmentation.profile)
    assert run.segmentation.names[0] == "Best customers"
    assert run.segmentation.n_clusters == segmentation.n_clusters
    assert run.selection.reason == segmentation.selection.reason
    assert run.selection.recommended_k == segmentation.selection.recommended_k
    pd.testing.assert_frame_equal(run.selection.table, segmentation.selection.table)
    pd.testing.assert_frame_equal(run.anomalies.table, anomalies.table)
    assert run.anomalies.n_flagged == anomalies.n_flagged
    assert run.anomalies.threshold == pytest.approx(anomalies.threshold)
    pd.testing.assert_frame_equal(run.table("activity_month"), overview["activity_month"])
    assert run.table("nothing") is None
    assert run.stored.bundle == signed
    assert run.stored.model_id == record.model_id

    history = store.segment_history(run.stored.run_id)
    names = segmentation.labels.map(segmentation.names_with({0: "Best customers"}))
    assert (history["segment"] == names.reindex(history.index)).all()


def test_no_raw_line_is_stored(fitted, tmp_path) -> None:
    result, segmentation, anomalies, bundle = fitted
    record = run_record(
        result, result.rfm.table, segmentation, anomalies, bundle,
        signed=dump_bundle(bundle, key=KEY), account=cleaning_report_dict(result), name="r",
        author="a", overview=overview_tables(kept_lines(result), backend=ibis.duckdb.connect()),
    )  # fmt: skip
    store = RunStore(tmp_path / "runs.duckdb")
    stored = store.load(store.publish(record))
    invoices = set(result.lines.column("invoice").to_pylist())
    shown = set()
    for frame in stored.tables.values():
        for column in frame.columns:
            shown |= set(frame[column].astype(str))
        shown |= set(frame.index.astype(str))
    assert invoices and not invoices & shown
    assert max(len(frame) for frame in stored.tables.values()) <= max(
        result.rfm.n_customers, len(stored.tables["activity_day"])
    )


def test_only_this_installations_key_opens_a_run(fitted, tmp_path) -> None:
    result, segmentation, anomalies, bundle = fitted
    record = run_record(
        result, result.rfm.table, segmentation, anomalies, bundle,
        signed=dump_bundle(bundle, key=KEY), account=cleaning_report_dict(result), name="r",
        author="a",
    )  # fmt: skip
    store = RunStore(tmp_path / "runs.duckdb")
    stored = store.load(store.publish(record))
    with pytest.raises(BundleSignatureError, match="signed by another installation"):
        open_run(stored, key=b"x" * 40)


def test_a_scored_run_is_published_with_the_models_own_labels(fitted, tmp_path) -> None:
    bundle = fitted[-1]
    signed = dump_bundle(bundle, key=KEY)
    model = load_bundle(signed, key=KEY)
    new_log = generate_transactions(120, random_state=9).transactions.to_csv(index=False).encode()
    scored_result = run_rfm(load_bytes(new_log, file_name="week.csv"), mapping=model.mapping)
    scored = apply_bundle(scored_result.rfm.table, model)
    record = run_record(
        scored_result, scored.table, scored.segmentation, scored.anomalies, model, signed=signed,
        account=cleaning_report_dict(scored_result), name="week", author="cron", kind="score",
    )  # fmt: skip
    store = RunStore(tmp_path / "runs.duckdb")
    run = open_run(store.load(store.publish(record)), key=KEY)
    labeled = score_transactions(scored_result.rfm.table, model)
    assert run.selection is None
    assert run.stored.kind == "score"
    assert run.stored.model_id == record.model_id
    assert (run.segmentation.segment_names() == labeled["segment_name"]).all()
    assert (run.anomalies.table["anomaly"] == labeled["anomaly"]).all()


def test_a_run_needs_a_name(fitted) -> None:
    result, segmentation, anomalies, bundle = fitted
    with pytest.raises(StoreError, match="give the run a name"):
        run_record(
            result, result.rfm.table, segmentation, anomalies, bundle, signed=b"",
            account=cleaning_report_dict(result), name="  ", author="a",
        )  # fmt: skip
