"""The one label map of the ui layer covers every choice the core offers, in the core's order."""

from rfm_core.config import ANOMALY_METHODS, METHODS
from rfm_core.customers.clv import BGNBD_PARAMETERS, GAMMA_GAMMA_PARAMETERS
from rfm_core.ingest.schema import OPTIONAL_ROLES, ROLES
from rfm_core.segments.backtest import METHODS as BACKTEST_METHODS
from ui.labels import (
    BACKTEST_METHOD_LABELS,
    CLV_PARAMETER_LABELS,
    DETECTOR_LABELS,
    FEATURE_LABELS,
    FEATURES,
    MAPPING_LABELS,
    METHOD_LABELS,
    cluster_label,
)


def test_every_method_and_detector_has_words_in_the_core_order() -> None:
    assert tuple(METHOD_LABELS) == METHODS
    assert tuple(DETECTOR_LABELS) == ANOMALY_METHODS
    assert METHOD_LABELS["kmeans"] == "K-means"
    assert DETECTOR_LABELS["gmm"] == "Gaussian mixture density"  # not the clustering method


def test_every_feature_and_role_has_words() -> None:
    assert set(FEATURES) <= set(FEATURE_LABELS)
    assert tuple(MAPPING_LABELS) == ROLES
    assert all(MAPPING_LABELS[role].endswith(" (optional)") for role in OPTIONAL_ROLES)
    assert MAPPING_LABELS["customer"] == "customer id"


def test_a_cluster_is_labelled_with_its_name_and_anything_else_is_left_alone() -> None:
    names = {0: "Champions", -1: "Unassigned"}
    assert cluster_label(0, names) == "0: Champions"
    assert cluster_label(-1, names) == "-1: Unassigned"
    assert cluster_label("new", names) == "new"


def test_the_backtest_methods_and_the_clv_parameters_have_words() -> None:
    assert tuple(BACKTEST_METHOD_LABELS) == BACKTEST_METHODS
    assert tuple(CLV_PARAMETER_LABELS) == (*BGNBD_PARAMETERS, *GAMMA_GAMMA_PARAMETERS)
