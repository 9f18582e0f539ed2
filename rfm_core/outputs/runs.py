"""Published runs: what a publish stores, and the results a stored run reads back as.

:func:`run_record` gathers what a run found (the cleaning account and report, the customer table
with its rule segments, the fitted or saved segments and anomaly flags, the k sweep, and the
overview's aggregates) with its signed model bundle into a
:class:`rfm_core.outputs.store.RunRecord`. No transaction line is kept: only one row per customer
and aggregates.

:func:`open_run` turns a :class:`rfm_core.outputs.store.StoredRun` back into a
:class:`PublishedRun`, a :class:`rfm_core.customers.result.CustomerRun` (whose lines stay
``None``) that also holds the :class:`rfm_core.segments.segmentation.SegmentationResult`, the
:class:`rfm_core.segments.anomalies.AnomalyResult` and the
:class:`rfm_core.segments.clustering.ModelSelection` it was published with. Nothing is refitted:
the labels, probabilities and flags are read as stored, the fitted models come from the bundle,
whose signature is checked before it is unpickled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from rfm_core.customers.rfm import RfmResult
from rfm_core.customers.trends import (
    FREQUENCIES,
    activity_trend,
    new_vs_returning,
    revenue_by_country,
    top_products,
)
from rfm_core.errors import StoreError
from rfm_core.ingest.schema import ColumnMapping
from rfm_core.outputs.persistence import ModelBundle, load_bundle
from rfm_core.outputs.store import RunRecord, StoredRun

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir
    import pyarrow as pa

    from rfm_core.customers.result import CustomerRun
    from rfm_core.ingest.schema import Transactions
    from rfm_core.segments.anomalies import AnomalyResult
    from rfm_core.segments.clustering import ModelSelection
    from rfm_core.segments.segmentation import SegmentationResult

__all__ = ["TOP_PRODUCTS", "PublishedRun", "open_run", "overview_tables", "run_record"]

TOP_PRODUCTS = 10
_REQUIRED_TABLES = ("customers", "clusters", "profile", "cleaning_report")
_SELECTION_FACTS = (
    "recommended_k", "reason", "elbow_k", "silhouette_sampled", "silhouette_sample_size",
    "n_customers", "features", "transform", "fit_sample_size", "mixture_sample_size",
)  # fmt: skip


def overview_tables(
    kept: ir.Table, *, backend: ibis.BaseBackend, returned: ir.Table | None = None
) -> dict[str, pd.DataFrame]:
    """The aggregates of the Overview page, computed once when a run is published.

    Parameters
    ----------
    kept : ibis Table
        Kept lines (:func:`rfm_core.customers.trends.kept_lines`,
        :func:`rfm_core.customers.trends.kept_lines_on_engine`).
    backend : ibis backend
        Where they are.
    returned : ibis Table, optional
        The returns cleaning removed (:func:`rfm_core.customers.trends.returned_lines`), on the
        same backend: top products net them, as the Overview page does.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``activity_<period>`` for each period of
        :data:`rfm_core.customers.trends.FREQUENCIES`, ``new_returning``, and ``countries`` and
        ``products`` when the log has those columns.
    """
    tables = {
        f"activity_{freq}": activity_trend(kept, backend=backend, freq=freq) for freq in FREQUENCIES
    }
    tables["new_returning"] = new_vs_returning(kept, backend=backend)
    for name, frame in (
        ("countries", revenue_by_country(kept, backend=backend)),
        ("products", top_products(kept, backend=backend, n=TOP_PRODUCTS, returned=returned)),
    ):
        if frame is not None:
            tables[name] = frame
    return tables


def run_record(
    result: CustomerRun,
    customers: pd.DataFrame,
    segmentation: SegmentationResult,
    anomalies: AnomalyResult | None,
    bundle: ModelBundle,
    *,
    signed: bytes,
    account: Mapping[str, Any],
    name: str,
    author: str,
    kind: str = "segment",
    source_sha256: str = "",
    overview: Mapping[str, pd.DataFrame] | None = None,
) -> RunRecord:
    """Gather a run and its signed bundle into the record a store publishes.

    Parameters
    ----------
    result : CustomerRun
        The run's cleaning and RFM (its report and RFM warnings are kept, never its lines).
    customers : pandas.DataFrame
        The RFM table with the rule segments of the run (the session's, or the bundle's).
    segmentation : SegmentationResult
        Fitted here, or predicted by the bundle
        (:func:`rfm_core.outputs.persistence.apply_bundle`).
    anomalies : AnomalyResult or None
    bundle : ModelBundle
        The models and settings; their segment names (with the user's renames) name the
        segments.
    signed : bytes
        ``bundle`` as :func:`rfm_core.outputs.persistence.dump_bundle` signed it (or the model
        file a run was scored with).
    account : mapping
        :func:`rfm_core.outputs.export.cleaning_report_dict` or ``engine_report_dict``.
    name, author : str
        The run's name (not empty) and who publishes it.
    kind : {"segment", "score"}
    source_sha256 : str
        The sha256 of the transaction file's bytes, when they were read here.
    overview : mapping of str to pandas.DataFrame, optional
        :func:`overview_tables`.

    Returns
    -------
    RunRecord

    Raises
    ------
    StoreError
        An empty name.
    """
    name = str(name).strip()
    if not name:
        raise StoreError("give the run a name, e.g. 'Weekly segments 2024-06-03'")
    labels = segmentation.labels
    clusters = pd.DataFrame(
        {"cluster": labels, "assigned_after_fit": segmentation.assigned_after_fit}
    )
    if segmentation.probabilities is not None:
        clusters = clusters.join(segmentation.probabilities)
    tables: dict[str, pd.DataFrame] = {
        "customers": customers,
        "clusters": clusters,
        "profile": segmentation.profile,
        "cleaning_report": result.report,
        **dict(overview or {}),
    }
    flagged = pd.Series(False, index=customers.index)
    if anomalies is not None:
        tables["anomalies"] = anomalies.table
        flagged = anomalies.table["anomaly"].reindex(customers.index, fill_value=False)
    selection = segmentation.selection
    if selection is not None:
        tables["selection"] = selection.table
    names = segmentation.names_with(bundle.names)
    segments = pd.DataFrame(
        {
            "customer_id": customers.index.astype("string"),
            "segment": labels.reindex(customers.index).map(names).astype("string").to_numpy(),
            "cluster": labels.reindex(customers.index).to_numpy(),
            "rfm_segment": customers["rfm_segment"].astype("string").to_numpy(),
            "anomaly": flagged.astype(bool).to_numpy(),
        }
    )
    facts = {
        "account": dict(account),
        "rfm_warnings": list(result.rfm.warnings),
        "notes": list(segmentation.notes),
        "names": {str(label): str(text) for label, text in names.items()},
        "selection": None
        if selection is None
        else {key: _plain(getattr(selection, key)) for key in _SELECTION_FACTS},
    }
    return RunRecord(
        name=name, author=str(author), kind=kind, source_name=str(account.get("file") or ""),
        source_sha256=source_sha256, bundle=signed, facts=facts, tables=tables,
        segments=segments,
    )  # fmt: skip


def _plain(value: Any) -> Any:
    """A JSON-ready value: numpy scalars as Python numbers, tuples as lists."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value.item() if hasattr(value, "item") else value


@dataclass(frozen=True)
class PublishedRun:
    """A published run, read back: a :class:`rfm_core.customers.result.CustomerRun` whose lines
    stay ``None``, with the segments, flags and k sweep it was published with.

    Attributes
    ----------
    stored : StoredRun
        Facts, tables and the signed bundle, as stored.
    bundle : ModelBundle
        The verified, unpickled bundle.
    rfm : RfmResult
        The customers with the run's rule segments.
    n_in, n_kept, report, mapping, date_format, warnings
        As in :class:`rfm_core.customers.result.CustomerRun`.
    segmentation : SegmentationResult
    anomalies : AnomalyResult or None
    """

    stored: StoredRun
    bundle: ModelBundle
    rfm: RfmResult
    n_in: int
    n_kept: int
    report: pd.DataFrame
    mapping: ColumnMapping
    date_format: str
    warnings: tuple[str, ...]
    segmentation: SegmentationResult
    anomalies: AnomalyResult | None
    dates_ambiguous: bool = False
    lines: pa.Table | None = field(default=None, repr=False)
    transactions: Transactions | None = field(default=None, repr=False)

    @property
    def selection(self) -> ModelSelection | None:
        """The k sweep the segments were chosen with (None for a scored run or a given k)."""
        return self.segmentation.selection

    def table(self, name: str) -> pd.DataFrame | None:
        """A stored table of the run (e.g. ``activity_month``), or None.

        Parameters
        ----------
        name : str

        Returns
        -------
        pandas.DataFrame or None
        """
        return self.stored.tables.get(name)


def open_run(stored: StoredRun, *, key: bytes) -> PublishedRun:
    """Read a stored run back as the results the pages, exports and reports take.

    Parameters
    ----------
    stored : StoredRun
        :meth:`rfm_core.outputs.store.RunStore.load`.
    key : bytes
        :func:`rfm_core.outputs.persistence.installation_key`: the bundle is verified with it.

    Returns
    -------
    PublishedRun

    Raises
    ------
    BundleError
        The bundle was signed with another key, or altered (see
        :func:`rfm_core.outputs.persistence.load_bundle`).
    StoreError
        A table the run needs is missing.
    """
    from rfm_core.segments.anomalies import AnomalyResult
    from rfm_core.segments.clustering import ModelSelection
    from rfm_core.segments.segmentation import SegmentationResult

    bundle = load_bundle(stored.bundle, key=key)
    tables, facts = stored.tables, stored.facts
    missing = [t for t in _REQUIRED_TABLES if t not in tables]
    if missing:
        raise StoreError(f"the run {stored.run_id} lacks its tables {', '.join(missing)}")
    account = facts["account"]
    customers = tables["customers"]
    clusters = tables["clusters"]
    probability_columns = [c for c in clusters.columns if str(c).startswith("p_cluster_")]
    selection = None
    if facts.get("selection") is not None and "selection" in tables:
        values = dict(facts["selection"])
        values["features"] = tuple(values["features"])
        selection = ModelSelection(table=tables["selection"], **values)
    segmentation = SegmentationResult(
        segmenter=bundle.segmenter,
        labels=clusters["cluster"].astype("int64"),
        probabilities=clusters[probability_columns] if probability_columns else None,
        names={int(label): text for label, text in facts["names"].items()},
        profile=tables["profile"],
        assigned_after_fit=clusters["assigned_after_fit"].astype(bool),
        selection=selection,
        settings=bundle.segmentation,
        notes=tuple(facts.get("notes", ())),
    )
    anomalies = None
    if "anomalies" in tables and bundle.detector is not None:
        flags = tables["anomalies"]
        anomalies = AnomalyResult(
            table=flags,
            method=bundle.anomaly_settings.method,
            threshold=float(bundle.threshold),
            n_flagged=int(flags["anomaly"].sum()),
            detector=bundle.detector,
        )
    rfm = RfmResult(
        customers,
        dt.date.fromisoformat(account["reference_date"]),
        tuple(facts.get("rfm_warnings", ())),
    )
    return PublishedRun(
        stored=stored, bundle=bundle, rfm=rfm, n_in=int(account["rows_in"]),
        n_kept=int(account["rows_kept"]), report=tables["cleaning_report"],
        mapping=ColumnMapping(**account["mapping"]), date_format=str(account["date_format"]),
        warnings=(*bundle.warnings, *account.get("warnings", ())), segmentation=segmentation,
        anomalies=anomalies,
    )  # fmt: skip
