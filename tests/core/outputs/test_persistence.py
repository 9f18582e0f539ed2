"""Saved model bundles: round trips, refusals (before anything is unpickled), the key, the CLI."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import stat

import joblib
import numpy as np
import pandas as pd
import pytest

from rfm_core.cli import main
from rfm_core.customers.pipeline import run_rfm
from rfm_core.errors import (
    BundleError,
    BundleSignatureError,
    BundleVersionError,
    MappingError,
    RfmError,
)
from rfm_core.ingest.io import load_bytes
from rfm_core.ingest.synthetic import generate_transactions
from rfm_core.outputs import persistence, unpickling
from rfm_core.outputs.export import labeled_csv
from rfm_core.outputs.persistence import (
    MAGIC,
    MAX_HEADER_BYTES,
    SCHEMA_VERSION,
    SCORES_WITHIN_FILE,
    build_bundle,
    bundle_header,
    dump_bundle,
    installation_key,
    library_versions,
    load_bundle,
    rfm_for_bundle,
    score_transactions,
    verify_bundle,
)
from rfm_core.segments.segmentation import (
    AnomalySettings,
    SegmentationSettings,
    find_anomalies,
    labeled_customers,
    segment_customers,
    train_classifier,
)

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")

KEY = b"a test key of more than thirty-two characters"
OTHER_KEY = b"another installation's key, also long enough"


def log_csv(n_customers: int, seed: int) -> bytes:
    return (
        generate_transactions(n_customers, random_state=seed)
        .transactions.to_csv(index=False)
        .encode("utf-8")
    )


@pytest.fixture(scope="module")
def trained():
    """A 400-customer log, its RFM table, anomalies, k-means (k = 4) and the classifier."""
    loaded = load_bytes(log_csv(400, seed=21), file_name="train.csv")
    result = run_rfm(loaded)
    table = result.rfm.table
    flags = AnomalySettings()
    anomalies = find_anomalies(table, flags)
    segmentation = segment_customers(table, SegmentationSettings(n_clusters=4), anomalies=anomalies)
    classifier = train_classifier(table, anomalies, flags)
    return loaded, result, anomalies, segmentation, classifier


def bundle_of(trained, **kwargs):
    loaded, result, anomalies, segmentation, _ = trained
    options = {"date_format": result.date_format, **kwargs}
    return build_bundle(
        result.rfm.table, segmentation, anomalies, mapping=result.mapping,
        rules=result.cleaning.rules, trained_on={"file": loaded.file_name}, **options,
    )  # fmt: skip


@pytest.fixture(scope="module")
def saved(trained) -> bytes:
    return dump_bundle(bundle_of(trained), key=KEY)


@pytest.fixture
def no_unpickling(monkeypatch):
    """Fail loudly if anything is unpickled: refusals must come first."""

    def forbidden(*args, **kwargs):
        raise AssertionError("the payload was unpickled before the bundle was verified")

    monkeypatch.setattr(unpickling, "unpickle_verified", forbidden)
    monkeypatch.setattr(joblib, "load", forbidden)


# -- round trips -----------------------------------------------------------------------------


def test_round_trip_gives_the_in_session_labels(trained, saved):
    loaded, result, anomalies, segmentation, _ = trained
    bundle = load_bundle(saved, key=KEY)
    in_session = labeled_customers(result.rfm.table, segmentation, anomalies)
    scored = score_transactions(loaded, bundle)
    pd.testing.assert_frame_equal(scored, in_session)
    pd.testing.assert_frame_equal(score_transactions(loaded, load_bundle(saved, key=KEY)), scored)
    assert bundle.warnings == ()
    assert bundle.versions == library_versions()
    assert bundle.mapping == result.mapping
    assert bundle.rules == result.cleaning.rules
    assert bundle.names == segmentation.names
    assert bundle.threshold == anomalies.threshold
    assert bundle.trained_on == {"file": "train.csv", "customers": 400}
    assert bundle.classifier is None  # scoring applies the detector: nothing would use it
    # the typical customers that reasons compare with: the 392 not flagged, without their ids
    assert len(bundle.anomaly_reference) == 400 - anomalies.n_flagged
    assert isinstance(bundle.anomaly_reference.index, pd.RangeIndex)


def test_a_mixture_fitted_without_anomalies_round_trips(trained):
    loaded, result, anomalies, _, _ = trained
    table = result.rfm.table
    settings = SegmentationSettings(method="gmm", n_clusters=3, exclude_anomalies=True)
    segmentation = segment_customers(table, settings, anomalies=anomalies)
    bundle = build_bundle(
        table, segmentation, anomalies, mapping=result.mapping, rules=result.cleaning.rules,
        renamed={0: "Our best"},
    )  # fmt: skip
    scored = score_transactions(loaded, load_bundle(dump_bundle(bundle, key=KEY), key=KEY))
    expected = labeled_customers(table, segmentation, anomalies, renamed={0: "Our best"})
    pd.testing.assert_frame_equal(scored, expected)
    assert {"p_cluster_0", "p_cluster_2", "assigned_after_fit"} <= set(scored.columns)
    assert scored["assigned_after_fit"].sum() == anomalies.n_flagged
    assert (scored.loc[scored["cluster"] == 0, "segment_name"] == "Our best").all()


def test_scoring_a_second_log_labels_every_customer_once_without_refitting(trained, saved):
    bundle = load_bundle(saved, key=KEY)
    centers = bundle.segmenter.estimator_.cluster_centers_.copy()
    threshold = bundle.detector.threshold_
    second = load_bytes(log_csv(250, seed=99), file_name="next_month.csv")
    rfm = rfm_for_bundle(second, bundle).rfm
    scored = score_transactions(second, bundle)
    assert scored.index.is_unique
    assert list(scored.index) == list(rfm.table.index)
    assert len(scored) == rfm.n_customers
    # the reference date follows the new data: the day after its last purchase
    assert rfm.reference_date == run_rfm(second).rfm.reference_date
    assert np.array_equal(scored["cluster"], bundle.segmenter.predict(rfm.table))
    assert np.array_equal(scored["anomaly"], bundle.detector.predict(rfm.table))
    assert np.array_equal(bundle.segmenter.estimator_.cluster_centers_, centers)
    assert bundle.detector.threshold_ == threshold
    assert set(scored["segment_name"]) <= set(bundle.names.values())
    flagged = scored[scored["anomaly"]]
    assert (flagged["anomaly_reason"] != "").all()
    assert (scored.loc[~scored["anomaly"], "anomaly_category"] == "").all()


def test_the_reference_date_can_be_overridden(trained, saved):
    loaded = trained[0]
    bundle = load_bundle(saved, key=KEY)
    day = dt.date(2023, 10, 1)
    result = rfm_for_bundle(loaded, bundle, reference_date=day)
    assert result.rfm.reference_date == day
    assert bundle.cleaning_rules(reference_date=day).reference_date == day
    assert bundle.cleaning_rules() == bundle.rules


def test_a_file_without_the_mapped_columns_is_refused(saved):
    bundle = load_bundle(saved, key=KEY)
    text = log_csv(60, seed=3).decode().replace("CustomerID", "Client", 1)
    with pytest.raises(MappingError, match="reads column 'CustomerID' as the customer"):
        score_transactions(load_bytes(text.encode(), file_name="renamed.csv"), bundle)


def test_a_detected_date_order_is_saved(trained):
    assert bundle_of(trained, date_format="dayfirst").date_order == "dayfirst"
    assert bundle_of(trained, date_order="monthfirst").date_order == "monthfirst"
    with pytest.raises(RfmError, match="date_order"):
        bundle_of(trained, date_order="yearfirst")


def test_the_reference_sample_is_bounded(trained, monkeypatch):
    from rfm_core.outputs import persistence

    monkeypatch.setattr(persistence, "REFERENCE_LIMIT", 50)
    first, second = bundle_of(trained).anomaly_reference, bundle_of(trained).anomaly_reference
    assert len(first) == 50
    pd.testing.assert_frame_equal(first, second)  # seeded


# -- refusals, all before unpickling ----------------------------------------------------------


def _header_and_payload(data: bytes) -> tuple[dict, bytes]:
    end = data.index(b"\n", len(MAGIC))
    return json.loads(data[len(MAGIC) : end]), data[end + 1 :]


def _with_header(header: dict, payload: bytes) -> bytes:
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    return MAGIC + text + b"\n" + payload


def test_the_header_is_readable_without_the_key(saved):
    header = bundle_header(saved)
    assert header["schema_version"] == SCHEMA_VERSION == 2
    assert header["summary"]["method"] == "kmeans"
    assert header["summary"]["segments"] == 4
    assert header["versions"]["scikit-learn"] == library_versions()["scikit-learn"]
    assert len(header["signature"]) == 64


@pytest.mark.usefixtures("no_unpickling")
def test_not_a_bundle_is_refused():
    with pytest.raises(BundleError, match="not a model bundle"):
        load_bundle(b"InvoiceNo,CustomerID\n1,2\n", key=KEY)


@pytest.mark.usefixtures("no_unpickling")
def test_one_tampered_payload_byte_is_refused(saved):
    data = bytearray(saved)
    data[-1000] ^= 0x01
    with pytest.raises(BundleSignatureError, match="signature does not match"):
        load_bundle(bytes(data), key=KEY)


@pytest.mark.usefixtures("no_unpickling")
def test_one_tampered_header_byte_is_refused(saved):
    # a value changed, the header still canonical JSON: the signature no longer matches
    changed = saved.replace(b'"customers":400', b'"customers":401', 1)
    assert changed != saved
    with pytest.raises(BundleSignatureError, match="signature does not match"):
        load_bundle(changed, key=KEY)
    # a space added: the header is no longer the one that was signed
    spaced = saved.replace(b'"schema_version":2', b'"schema_version": 2', 1)
    assert spaced != saved
    with pytest.raises(BundleSignatureError, match="header was altered"):
        load_bundle(spaced, key=KEY)
    broken = saved.replace(b'{"created"', b'["created"', 1)
    with pytest.raises(BundleError, match="damaged"):
        load_bundle(broken, key=KEY)


@pytest.mark.usefixtures("no_unpickling")
def test_a_truncated_bundle_is_refused(saved):
    with pytest.raises(BundleError, match="truncated or damaged: its header announces"):
        load_bundle(saved[:-100], key=KEY)
    with pytest.raises(BundleError, match="header is incomplete"):
        load_bundle(saved[: len(MAGIC) + 40], key=KEY)


@pytest.mark.usefixtures("no_unpickling")
def test_a_huge_header_is_refused_without_reading_it_all(saved):
    header_end = saved.index(b"\n", len(MAGIC))
    # no line end within the limit: the header is never parsed, however long the file
    endless = MAGIC + b"{" + b" " * (4 * MAX_HEADER_BYTES) + saved[header_end:]
    with pytest.raises(BundleError, match="header is incomplete"):
        load_bundle(endless, key=KEY)
    # a valid-looking JSON header padded beyond the limit
    header, payload = _header_and_payload(saved)
    header["summary"]["padding"] = "x" * MAX_HEADER_BYTES
    with pytest.raises(BundleError, match="header is incomplete"):
        load_bundle(_with_header(header, payload), key=KEY)
    with pytest.raises(BundleError, match="header is incomplete"):
        bundle_header(_with_header(header, payload))


@pytest.mark.usefixtures("no_unpickling")
@pytest.mark.parametrize(
    "foreign",
    [
        b"",
        b"PK\x03\x04" + b"\x00" * 200,  # a workbook or zip renamed .rfm
        b"\x80\x04\x95" + b"\x00" * 64,  # a bare pickle: would run code if unpickled
        b"RFM-MODEL-BUNDLE",  # the magic without its line end
        b"rfm-model-bundle\n{}\n",  # another case
    ],
    ids=["empty", "zip", "pickle", "magic-only", "lowercase-magic"],
)
def test_foreign_files_are_refused_before_unpickling(foreign):
    with pytest.raises(BundleError, match="not a model bundle"):
        load_bundle(foreign, key=KEY)


@pytest.mark.usefixtures("no_unpickling")
def test_a_joblib_file_of_the_right_content_is_refused(trained, tmp_path):
    # what an attacker who knows the format but not the key would send: a valid header
    # claiming the right size, an unsigned or self-signed payload
    header, payload = _header_and_payload(dump_bundle(bundle_of(trained), key=OTHER_KEY))
    forged = _with_header(header, payload)
    with pytest.raises(BundleSignatureError, match="signed by another installation"):
        load_bundle(forged, key=KEY)
    header["signature"] = "0" * 64
    with pytest.raises(BundleSignatureError, match="signature does not match"):
        load_bundle(_with_header(header, payload), key=KEY)


@pytest.mark.usefixtures("no_unpickling")
def test_a_bundle_of_another_installation_is_refused(saved):
    with pytest.raises(BundleSignatureError, match="signed by another installation"):
        load_bundle(saved, key=OTHER_KEY)


@pytest.mark.usefixtures("no_unpickling")
def test_an_unsigned_bundle_is_refused(saved):
    header, payload = _header_and_payload(saved)
    del header["signature"]
    with pytest.raises(BundleSignatureError, match="not signed"):
        load_bundle(_with_header(header, payload), key=KEY)


def _resigned(trained, **changes) -> bytes:
    return dump_bundle(dataclasses.replace(bundle_of(trained), **changes), key=KEY)


def test_a_newer_schema_is_refused(trained, monkeypatch):
    data = _resigned(trained, schema_version=SCHEMA_VERSION + 1)
    monkeypatch.setattr(unpickling, "unpickle_verified", pytest.fail)
    with pytest.raises(BundleVersionError, match=r"newer version of the app \(schema 3"):
        load_bundle(data, key=KEY)


def test_another_scikit_learn_release_is_refused(trained, monkeypatch):
    versions = {**library_versions(), "scikit-learn": "1.8.0"}
    data = _resigned(trained, versions=versions)
    monkeypatch.setattr(unpickling, "unpickle_verified", pytest.fail)
    installed = library_versions()["scikit-learn"]
    with pytest.raises(
        BundleVersionError, match=f"scikit-learn 1.8.0, this installation has {installed}"
    ):
        load_bundle(data, key=KEY)


def test_another_numpy_patch_release_only_warns(trained):
    installed = library_versions()["numpy"]
    major, minor, patch = installed.split(".")[:3]
    older = f"{major}.{minor}.{int(patch) + 1}"
    bundle = load_bundle(
        _resigned(trained, versions={**library_versions(), "numpy": older}), key=KEY
    )
    assert bundle.warnings == (
        f"the model was saved with numpy {older}, this installation has {installed}; "
        "check the labels before relying on them",
    )
    assert bundle.versions["numpy"] == older


def test_a_short_key_is_refused(saved):
    with pytest.raises(BundleError, match="at least 32"):
        load_bundle(saved, key=b"short")


# -- verify_bundle on its own: every check, nothing unpickled -----------------------------


def _signed(header: dict, payload: bytes, key: bytes = KEY) -> bytes:
    """A bundle with ``header`` (signature recomputed) and ``payload``, as dump_bundle signs."""
    header = {k: v for k, v in header.items() if k != "signature"}
    header["signature"] = persistence._signature(key, header, payload)
    return _with_header(header, payload)


@pytest.mark.usefixtures("no_unpickling")
def test_the_guard_would_see_an_unpickling(saved):
    with pytest.raises(AssertionError, match="unpickled before the bundle was verified"):
        load_bundle(saved, key=KEY)


@pytest.mark.usefixtures("no_unpickling")
def test_a_verified_bundle_gives_its_header_and_payload(saved):
    verified = verify_bundle(saved, key=KEY)
    header, payload = _header_and_payload(saved)
    assert verified.header == header == bundle_header(saved)
    assert verified.payload == payload
    assert len(payload) == header["payload_bytes"]
    assert verified.warnings == ()


@pytest.mark.usefixtures("no_unpickling")
def test_verify_refuses_what_is_not_a_bundle():
    with pytest.raises(BundleError, match="not a model bundle"):
        verify_bundle(b"\x80\x04\x95" + b"\x00" * 64, key=KEY)


@pytest.mark.usefixtures("no_unpickling")
def test_verify_refuses_a_tampered_payload_or_header(saved):
    data = bytearray(saved)
    data[-1] ^= 0x01
    with pytest.raises(BundleSignatureError, match="signature does not match"):
        verify_bundle(bytes(data), key=KEY)
    header, payload = _header_and_payload(saved)
    header["summary"]["segments"] = 5  # canonical JSON, other content: not what was signed
    with pytest.raises(BundleSignatureError, match="signature does not match"):
        verify_bundle(_with_header(header, payload), key=KEY)
    with pytest.raises(BundleSignatureError, match="header was altered"):
        verify_bundle(saved.replace(b'"schema_version":2', b'"schema_version": 2', 1), key=KEY)


@pytest.mark.usefixtures("no_unpickling")
def test_verify_refuses_a_truncated_bundle(saved):
    with pytest.raises(BundleError, match="truncated or damaged: its header announces"):
        verify_bundle(saved[:-1], key=KEY)
    with pytest.raises(BundleError, match="header is incomplete"):
        verify_bundle(saved[: saved.index(b"\n", len(MAGIC))], key=KEY)
    header, payload = _header_and_payload(saved)
    # a truncated payload whose header was signed with it: the length still has to match
    with pytest.raises(BundleError, match="truncated or damaged: its header announces"):
        verify_bundle(_signed(header, payload[:-10]), key=KEY)


@pytest.mark.usefixtures("no_unpickling")
def test_verify_refuses_an_unsigned_bundle(saved):
    header, payload = _header_and_payload(saved)
    for unsigned in (
        {k: v for k, v in header.items() if k != "signature"},
        {**header, "signature": ""},
    ):
        with pytest.raises(BundleSignatureError, match="not signed"):
            verify_bundle(_with_header(unsigned, payload), key=KEY)


@pytest.mark.usefixtures("no_unpickling")
def test_verify_refuses_a_foreign_bundle(saved):
    with pytest.raises(BundleSignatureError, match="signed by another installation"):
        verify_bundle(saved, key=OTHER_KEY)
    header, payload = _header_and_payload(saved)
    with pytest.raises(BundleSignatureError, match="signed by another installation"):
        verify_bundle(_signed(header, payload, key=OTHER_KEY), key=KEY)


@pytest.mark.usefixtures("no_unpickling")
@pytest.mark.parametrize("schema", [0, -1, True, "2", 2.0, None])
def test_verify_refuses_an_invalid_schema_version(saved, schema):
    header, payload = _header_and_payload(saved)
    with pytest.raises(BundleError, match=r"schema version .* is not valid"):
        verify_bundle(_signed({**header, "schema_version": schema}, payload), key=KEY)


@pytest.mark.usefixtures("no_unpickling")
def test_verify_refuses_a_newer_schema(saved):
    header, payload = _header_and_payload(saved)
    newer = _signed({**header, "schema_version": SCHEMA_VERSION + 1}, payload)
    with pytest.raises(BundleVersionError, match=r"newer version of the app \(schema 3"):
        verify_bundle(newer, key=KEY)


@pytest.mark.usefixtures("no_unpickling")
@pytest.mark.parametrize("other", ["1.8.0", "2.9.1", "0.24.2", None])
def test_verify_refuses_another_scikit_learn_major_minor(saved, other):
    header, payload = _header_and_payload(saved)
    versions = {**header["versions"], "scikit-learn": other}
    with pytest.raises(BundleVersionError, match=f"saved with scikit-learn {other}, this"):
        verify_bundle(_signed({**header, "versions": versions}, payload), key=KEY)


@pytest.mark.usefixtures("no_unpickling")
def test_verify_only_warns_about_another_scikit_learn_patch_release(saved):
    header, payload = _header_and_payload(saved)
    installed = library_versions()["scikit-learn"]
    patched = ".".join([*installed.split(".")[:2], "99"])
    versions = {**header["versions"], "scikit-learn": patched}
    verified = verify_bundle(_signed({**header, "versions": versions}, payload), key=KEY)
    assert verified.warnings == (
        f"the model was saved with scikit-learn {patched}, this installation has {installed}; "
        "check the labels before relying on them",
    )


@pytest.mark.usefixtures("no_unpickling")
def test_verify_refuses_a_header_without_versions(saved):
    header, payload = _header_and_payload(saved)
    with pytest.raises(BundleError, match="has no library versions"):
        verify_bundle(_signed({**header, "versions": ["scikit-learn"]}, payload), key=KEY)
    del header["versions"]
    with pytest.raises(BundleError, match="lacks versions"):
        verify_bundle(_signed(header, payload), key=KEY)


@pytest.mark.usefixtures("no_unpickling")
@pytest.mark.parametrize("key", [b"", b"short", "a text key of more than thirty-two characters"])
def test_verify_refuses_a_bad_key(saved, key):
    with pytest.raises(BundleError, match="at least 32"):
        verify_bundle(saved, key=key)


# -- the installation key ---------------------------------------------------------------------


def test_the_environment_key_wins(tmp_path):
    environ = {"RFM_BUNDLE_KEY": "k" * 40, "RFM_BUNDLE_KEY_FILE": str(tmp_path / "unused")}
    assert installation_key(environ=environ) == b"k" * 40
    assert not (tmp_path / "unused").exists()
    with pytest.raises(BundleError, match="RFM_BUNDLE_KEY holds a key of 5 characters"):
        installation_key(environ={"RFM_BUNDLE_KEY": "short"})


def test_the_key_file_is_created_once_private(tmp_path):
    path = tmp_path / "config" / "bundle.key"
    environ = {"RFM_BUNDLE_KEY_FILE": str(path)}
    key = installation_key(environ=environ)
    assert len(key) == 64 and int(key, 16) >= 0  # 32 random bytes as hex
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert installation_key(environ=environ) == key
    other = installation_key(environ=environ, secret_path=tmp_path / "other.key")
    assert other != key


def test_a_short_key_file_is_refused(tmp_path):
    path = tmp_path / "bundle.key"
    path.write_text("abc\n")
    with pytest.raises(BundleError, match="holds a key of 3 characters"):
        installation_key(environ={}, secret_path=path)


# -- the command line ------------------------------------------------------------------------


def test_segment_saves_a_model_that_score_reproduces(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RFM_BUNDLE_KEY_FILE", str(tmp_path / "bundle.key"))
    monkeypatch.delenv("RFM_BUNDLE_KEY", raising=False)
    log = tmp_path / "log.csv"
    log.write_bytes(log_csv(300, seed=8))
    labeled, scored, model = tmp_path / "labeled.csv", tmp_path / "scored.csv", tmp_path / "m.rfm"
    assert main(["segment", str(log), "-o", str(labeled), "--k", "4", "--no-classifier",
                 "--save-model", str(model)]) == 0  # fmt: skip
    assert bundle_header(model.read_bytes())["summary"]["trained_on"]["file"] == "log.csv"
    assert main(["score", "--model", str(model), str(log), "-o", str(scored),
                 "--report", str(tmp_path / "score.json")]) == 0  # fmt: skip
    assert scored.read_bytes() == labeled.read_bytes()
    out = capsys.readouterr().out
    assert "model saved, signed" in out and "no refit" in out
    report = json.loads((tmp_path / "score.json").read_text())
    assert report["customers"] == 300
    assert sum(report["model"]["segments"].values()) == 300

    later = tmp_path / "later.csv"
    assert main(["score", "--model", str(model), str(log), "-o", str(later),
                 "--reference-date", "2024-03-01"]) == 0  # fmt: skip
    bundle = load_bundle(model.read_bytes(), key=installation_key())
    expected = score_transactions(
        load_bytes(log.read_bytes(), file_name="log.csv"), bundle,
        reference_date=dt.date(2024, 3, 1),
    )  # fmt: skip
    assert later.read_bytes() == labeled_csv(expected)
    assert report["model"]["scores"] == "model"
    # ranked within the file instead: what score_transactions gives with scores="file"
    ranked = tmp_path / "ranked.csv"
    assert main(["score", "--model", str(model), str(log), "-o", str(ranked),
                 "--reference-date", "2024-03-01", "--scores", "file"]) == 0  # fmt: skip
    expected = score_transactions(
        load_bytes(log.read_bytes(), file_name="log.csv"), bundle,
        reference_date=dt.date(2024, 3, 1), scores="file",
    )  # fmt: skip
    assert ranked.read_bytes() == labeled_csv(expected)


def test_score_refuses_a_tampered_model_in_one_line(tmp_path, monkeypatch, capsys, saved):
    monkeypatch.setenv("RFM_BUNDLE_KEY", KEY.decode())
    log = tmp_path / "log.csv"
    log.write_bytes(log_csv(60, seed=4))
    model = tmp_path / "m.rfm"
    model.write_bytes(saved[:-1] + bytes([saved[-1] ^ 0x01]))
    assert main(["score", "--model", str(model), str(log), "-o", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: the model bundle's signature does not")
    assert not (tmp_path / "o.csv").exists()


# -- R, F, M scores of new customers ---------------------------------------------------------


def test_a_batch_is_scored_as_among_the_training_customers(trained, saved):
    """A handful of customers keep the scores and rule segments they had in training."""
    _, result, *_ = trained
    table = result.rfm.table
    bundle = load_bundle(saved, key=KEY)
    # the training customers themselves: exactly their scores
    again = score_transactions(table, bundle)
    for column in ("r_score", "f_score", "m_score", "rfm_segment"):
        assert again[column].tolist() == table[column].tolist(), column
    # the transactions of ten of the best customers alone, measured from the same day
    best = table.nlargest(10, "monetary")
    log = generate_transactions(400, random_state=21).transactions
    column = result.mapping.customer
    batch = log[log[column].astype(str).str.strip().isin(best.index)]
    loaded = load_bytes(batch.to_csv(index=False).encode(), file_name="batch.csv")
    day = result.rfm.reference_date
    as_model = score_transactions(loaded, bundle, reference_date=day)
    expected = table.loc[as_model.index]
    for column in ("recency", "frequency", "monetary", "r_score", "f_score", "m_score"):
        assert as_model[column].tolist() == expected[column].tolist(), column
    assert as_model["rfm_segment"].tolist() == expected["rfm_segment"].tolist()
    # ranked within the batch instead, the same ten spread over every monetary score
    within = score_transactions(loaded, bundle, reference_date=day, scores="file")
    assert sorted(set(within["m_score"])) == [1, 2, 3, 4, 5]
    assert set(expected["m_score"]) == {5}
    with pytest.raises(RfmError, match="scores must be 'model' or 'file'"):
        score_transactions(best, bundle, scores="batch")


def test_a_schema_1_bundle_still_loads_and_ranks_within_the_file(trained):
    """Bundles saved before score edges existed load, with a warning saying what changes."""
    old = dataclasses.replace(bundle_of(trained), schema_version=1)
    content = {
        name: getattr(old, name)
        for name in old.__dataclass_fields__
        if name not in ("versions", "schema_version", "created", "warnings", "score_edges")
    }
    buffer = io.BytesIO()
    joblib.dump(content, buffer)
    payload = buffer.getvalue()
    header = {
        "created": old.created,
        "payload_bytes": len(payload),
        "schema_version": 1,
        "summary": {},
        "versions": library_versions(),
    }
    header["signature"] = persistence._signature(KEY, header, payload)
    loaded = load_bundle(_with_header(header, payload), key=KEY)
    assert loaded.score_edges is None
    assert SCORES_WITHIN_FILE in loaded.warnings
    table = trained[1].rfm.table
    assert score_transactions(table, loaded)["m_score"].tolist() == table["m_score"].tolist()


def test_score_reads_ids_of_a_european_export_as_integers(tmp_path, monkeypatch):
    """``17850,0`` in a European Excel export is customer 17850 when scored, as when fitted."""
    from rfm_core.ingest.synthetic import european_csv

    monkeypatch.setenv("RFM_BUNDLE_KEY", KEY.decode())
    log = tmp_path / "european.csv"
    log.write_bytes(european_csv(generate_transactions(150, random_state=6).transactions))
    bundle, labeled = tmp_path / "model.rfm", tmp_path / "labeled.csv"
    args = ["segment", str(log), "-o", str(tmp_path / "fit.csv"), "--k", "3"]
    assert main([*args, "--save-model", str(bundle)]) == 0
    assert main(["score", "--model", str(bundle), str(log), "-o", str(labeled)]) == 0
    ids = pd.read_csv(labeled, dtype={"customer_id": str})["customer_id"]
    assert ids.str.fullmatch(r"\d+").all()
    fitted = pd.read_csv(tmp_path / "fit.csv", dtype={"customer_id": str})["customer_id"]
    assert ids.tolist() == fitted.tolist()


# -- the currency -----------------------------------------------------------------------------


def test_the_currency_is_saved_and_words_the_scored_reasons(trained):
    loaded, *_ = trained
    bundle = load_bundle(dump_bundle(bundle_of(trained, currency=" £ "), key=KEY), key=KEY)
    assert bundle.currency == "£"
    reasons = score_transactions(loaded, bundle)["anomaly_reason"]
    assert any("£" in reason for reason in reasons)
    plain = load_bundle(dump_bundle(bundle_of(trained), key=KEY), key=KEY)
    assert plain.currency == "" and not any(
        "£" in r for r in score_transactions(loaded, plain)["anomaly_reason"]
    )


def test_a_bundle_saved_before_the_currency_loads_without_one(trained, monkeypatch):
    # what an older version pickled: the same content without the currency field
    bundle = bundle_of(trained, currency="£")
    original = persistence.ModelBundle.__dataclass_fields__
    fields = {name: f for name, f in original.items() if name != "currency"}
    monkeypatch.setattr(persistence.ModelBundle, "__dataclass_fields__", fields)
    data = dump_bundle(bundle, key=KEY)
    monkeypatch.setattr(persistence.ModelBundle, "__dataclass_fields__", original)
    loaded = load_bundle(data, key=KEY)
    assert loaded.currency == "" and loaded.names == bundle.names
