"""What the Segments page shows is what its labeled CSV holds, and sessions keep only small state.

The labeled customers downloaded from the Segments page must have, per segment, exactly the
customers the page's profile table shows, the rows of its preview table, and the core's labels.
After a walk over every page, each value in ``st.session_state`` must stay small: files and
tables live in bounded, session-scoped caches, never in the session state.
"""

from __future__ import annotations

import io
import pickle

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from rfm_core.outputs.export import labeled_csv
from rfm_core.segments.segmentation import (
    AnomalySettings,
    SegmentationSettings,
    find_anomalies,
    labeled_customers,
    segment_customers,
)
from tests.app.apptest_support import Downloads, check, core, frame_with, generated_csv, upload

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")

PAGES = (
    "cleaning", "overview", "rfm", "movement", "cohorts", "model_selection", "segments",
    "projections", "anomalies", "export",
)  # fmt: skip
MAX_STATE_BYTES = 16_384  # per session-state value, pickled: ids, settings, names — no frames


@pytest.fixture(scope="module")
def log_csv() -> bytes:
    return generated_csv(350, seed=17)


def test_the_labeled_download_is_what_the_segments_page_shows(
    app: AppTest, log_csv: bytes, downloads: Downloads
) -> None:
    at = check(upload(app, "shop.csv", log_csv))
    check(at.switch_page("pages/segments.py").run())
    data = downloads.bytes_of(at, "download_labeled")
    got = pd.read_csv(io.BytesIO(data), dtype={"customer_id": str})

    # the core's labels of the same bytes
    table = core(log_csv, "shop.csv").rfm.table
    anomalies = find_anomalies(table, AnomalySettings())
    segmentation = segment_customers(table, SegmentationSettings(), anomalies=anomalies)
    assert data == labeled_csv(labeled_customers(table, segmentation, anomalies))
    assert len(got) == len(table) and got["customer_id"].is_unique

    # per segment, the customers of the profile table
    profile = frame_with(at, "customers", "share_customers", "share_revenue")
    counts = got["segment_name"].value_counts()
    assert counts.sum() == profile["customers"].sum() == len(table)
    assert counts.to_dict() == {str(k): int(v) for k, v in profile["customers"].items()}
    revenue = got.groupby("segment_name")["monetary"].sum()
    np.testing.assert_allclose(
        revenue[[str(k) for k in profile.index]].to_numpy(), profile["revenue"].to_numpy()
    )

    # the preview's rows are the file's first rows
    preview = frame_with(at, "segment_name", "anomaly_reason", "rfm_segment")
    head = got.head(len(preview)).set_index("customer_id")
    assert list(preview.index.astype(str)) == list(head.index)
    assert preview["segment_name"].astype(str).tolist() == head["segment_name"].tolist()
    np.testing.assert_allclose(preview["monetary"].to_numpy(float), head["monetary"].to_numpy())


def test_session_state_holds_only_small_values(app: AppTest, log_csv: bytes) -> None:
    at = check(upload(app, "shop.csv", log_csv))
    for page in PAGES:
        check(at.switch_page(f"pages/{page}.py").run())
    sizes = {}
    for key in list(at.session_state):
        value = at.session_state[key]
        assert not isinstance(value, pd.DataFrame | pd.Series | bytes), key
        sizes[key] = len(pickle.dumps(value))
    assert "dataset" in sizes
    assert {k: v for k, v in sizes.items() if v > MAX_STATE_BYTES} == {}
