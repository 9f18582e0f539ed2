"""Unpickle a verified bundle's payload, following classes to the modules they moved to.

A bundle pickles its fitted objects by module path. Bundles saved before rfm_core was organised
by step (up to commit dcc926c) name flat modules such as ``rfm_core.clustering``; those classes
now live under ``rfm_core.<step>.<module>``. :data:`MOVED_MODULES` maps each old module that such
a bundle refers to onto its new home; it is consulted only here, while
:func:`rfm_core.outputs.persistence.load_bundle` unpickles a payload whose signature it has
checked, so no alias module exists anywhere else and nothing changes for other pickles.

joblib's :func:`joblib.load` takes no unpickler, so this module opens the (compressed) payload the
way ``joblib.load`` does for a file object and runs joblib's own ``NumpyUnpickler`` with one
change: :meth:`~_MovedClasses.find_class` reads an old module name as its new one. joblib routes
the nested pickles of object arrays through the same ``find_class``.
"""

from __future__ import annotations

import io
from typing import Any

from joblib.numpy_pickle import NumpyUnpickler
from joblib.numpy_pickle_utils import _validate_fileobject_and_memmap

__all__ = ["MOVED_MODULES", "MOVED_NAMES", "unpickle_verified"]

MOVED_MODULES: dict[str, str] = {
    # the modules whose objects bundles of the previous release hold: found by listing the
    # globals of bundles saved with every clustering method and anomaly detector at dcc926c
    "rfm_core.schema": "rfm_core.ingest.schema",  # ColumnMapping
    "rfm_core.cleaning": "rfm_core.lines.cleaning",  # CleaningRules
    "rfm_core.rfm": "rfm_core.customers.rfm",  # SegmentRule
    "rfm_core.features": "rfm_core.segments.features",  # signed_log1p (in a FunctionTransformer)
    "rfm_core.clustering": "rfm_core.segments.clustering",  # Segmenter, _NearestCore (dbscan)
    "rfm_core.anomalies": "rfm_core.segments.anomalies",  # AnomalyDetector, ClassifierReport
    "rfm_core.segmentation": "rfm_core.segments.segmentation",  # the two *Settings
}
"""Old module → the module that holds (or re-exports) the same names now."""

MOVED_NAMES: dict[tuple[str, str], str] = {
    # private classes that their new package does not re-export
    ("rfm_core.clustering", "_NearestCore"): "rfm_core.segments.clustering.segmenter",
}
"""(old module, name) → the module that holds that name now, where the module map is not enough."""


class _MovedClasses(NumpyUnpickler):
    """joblib's unpickler, reading the modules of :data:`MOVED_MODULES` as their new homes."""

    def find_class(self, module: str, name: str) -> Any:
        moved = MOVED_NAMES.get((module, name)) or MOVED_MODULES.get(module, module)
        return super().find_class(moved, name)


def unpickle_verified(payload: bytes) -> Any:
    """Unpickle the payload of a bundle whose signature was checked.

    Unpickling runs code chosen by whoever wrote the payload: call this only on the payload of
    :func:`rfm_core.outputs.persistence.verify_bundle`.

    Parameters
    ----------
    payload : bytes
        What :func:`joblib.dump` wrote (compressed or not).

    Returns
    -------
    object
        The pickled object, classes of old modules taken from their new ones.
    """
    with _validate_fileobject_and_memmap(io.BytesIO(payload), "", None) as (stream, _):
        return _MovedClasses("", stream, ensure_native_byte_order=True).load()
