"""Saved models: one signed file that scores new transaction logs the way a session did.

A :class:`ModelBundle` holds everything that turns new transactions into labeled customers
without refitting: the column mapping, the cleaning rules, the date order, the rule segments
(RFM score table), the segmentation settings and fitted
:class:`~rfm_core.segments.clustering.Segmenter`, the segment names and actions, the anomaly
settings, fitted detector and the threshold it flags at, and the library versions it was fitted
with. The classifier that imitates the detector is not saved: scoring applies the detector itself.

File format
-----------
``MAGIC`` (one line), then one line of JSON (the header), then the payload::

    RFM-MODEL-BUNDLE\\n
    {"created": "...", "payload_bytes": N, "schema_version": 2, "signature": "<hex>",
     "summary": {...}, "versions": {...}}\\n
    <N bytes: the fitted objects, joblib (pickle) with zlib compression>

The header is written in canonical form (sorted keys, no spaces). ``signature`` is the
HMAC-SHA256, under the installation's key (:func:`installation_key`), of the magic line, the
canonical header without ``signature``, a line feed and the payload.

Why signed, and what is checked before anything is unpickled
------------------------------------------------------------
Unpickling runs code chosen by whoever wrote the file, so :func:`load_bundle` only unpickles a
payload that :func:`verify_bundle` proved this installation wrote. In order: the magic line
(else "not a bundle"), a complete header (else "truncated"), valid canonical JSON (else
"damaged" or "altered"), a schema version this code reads (else "newer"), a signature (else
"unsigned"), the announced payload length (else "truncated"), the signature itself, compared in
constant time (else "altered or signed by another installation"), and the versions: a
scikit-learn of another major.minor release is refused (fitted estimators do not move between
releases), any other difference becomes a warning in :attr:`ModelBundle.warnings`.

The signature proves origin, not secrecy: the payload is not encrypted (it holds fitted models
and a sample of customers' R, F and M values without ids). Anyone who holds the key can make a
bundle this installation will load, so keep the key file private (it is created with mode 0600).

Scoring (:func:`score_transactions`)
------------------------------------
New transactions go through the same mapping, date order and cleaning rules, then RFM with the
bundle's reference-date rule (by default the day after the last purchase of the *new* data, so a
scheduled refresh measures recency from its own data), then ``Segmenter.predict`` (and
``predict_proba``) and the saved detector's ``score_samples`` against the saved threshold. Nothing
is refitted: the same input and bundle always give the same labels. R, F and M *scores* (1–5), and
so the rule segments, come from the training customers' score edges
(:func:`rfm_core.customers.rfm.score_edges`): a new customer gets the score they would have had
among the training customers, so a batch of ten customers is not ranked against itself. Ask for
``scores="file"`` to rank within the scored customers instead (the usual choice when a whole
customer base is re-scored each period). The clusters and anomaly flags come from the saved models.
Reasons compare a flagged customer with the saved not-flagged training customers (a seeded sample of
:data:`REFERENCE_LIMIT` on large logs). For ``lof`` and the density and hierarchical methods a
customer seen in training can be labelled differently when scored as a new one (see
:meth:`rfm_core.segments.anomalies.AnomalyDetector.predict`,
:meth:`rfm_core.segments.clustering.Segmenter.predict`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import json
import os
import platform
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

import rfm_core
from rfm_core.customers.rfm import (
    DEFAULT_SEGMENTS,
    SegmentRule,
    relabel,
    score_edges,
    score_with_edges,
)
from rfm_core.errors import (
    BundleError,
    BundleSignatureError,
    BundleVersionError,
    MappingError,
    RfmError,
)
from rfm_core.ingest.schema import ROLES, ColumnMapping, DateOrder
from rfm_core.lines.cleaning import CleaningRules

if TYPE_CHECKING:
    from rfm_core.customers.pipeline import RfmPipelineResult
    from rfm_core.ingest.io import LoadedTable
    from rfm_core.segments.anomalies import AnomalyDetector, AnomalyResult, ClassifierReport
    from rfm_core.segments.clustering import Segmenter
    from rfm_core.segments.segmentation import (
        AnomalySettings,
        SegmentationResult,
        SegmentationSettings,
    )

__all__ = [
    "KEY_ENV",
    "KEY_FILE_ENV",
    "MAGIC",
    "REFERENCE_LIMIT",
    "SCHEMA_VERSION",
    "ModelBundle",
    "ScoredCustomers",
    "VerifiedBundle",
    "apply_bundle",
    "build_bundle",
    "bundle_header",
    "dump_bundle",
    "installation_key",
    "library_versions",
    "load_bundle",
    "rfm_for_bundle",
    "score_transactions",
    "verify_bundle",
]

MAGIC = b"RFM-MODEL-BUNDLE\n"
SCHEMA_VERSION = 2  # 2: score_edges (schema 1 bundles load, and rank scores within the file)
MAX_HEADER_BYTES = 64 * 1024
KEY_ENV = "RFM_BUNDLE_KEY"
KEY_FILE_ENV = "RFM_BUNDLE_KEY_FILE"
DEFAULT_KEY_PATH = Path("~/.config/rfm-dashboard/bundle.key")
MIN_KEY_CHARS = 32
REFERENCE_LIMIT = 20_000
SCORES_WITHIN_FILE = (
    "this model was saved before models kept their R, F and M score edges: scores and rule "
    "segments are ranked within the scored file; save the model again to score as in training"
)
ScoreBasis = Literal["model", "file"]
# distributions whose objects are in the payload; scikit-learn's major.minor must match
LIBRARIES = ("scikit-learn", "numpy", "scipy", "pandas", "imbalanced-learn", "joblib")
STRICT_LIBRARY = "scikit-learn"
_DATE_ORDERS = ("auto", "dayfirst", "monthfirst")


def library_versions() -> dict[str, str]:
    """Versions of Python, this package and the libraries whose objects a bundle holds.

    Returns
    -------
    dict of str to str
        ``python``, ``rfm-dashboard`` and each of :data:`LIBRARIES` (``"not installed"`` when
        missing).
    """
    versions = {"python": platform.python_version(), "rfm-dashboard": rfm_core.__version__}
    for name in LIBRARIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class ModelBundle:
    """Everything needed to score new transactions the way a session did, without refitting.

    Attributes
    ----------
    mapping : ColumnMapping
        Which column of the file plays which role; new files must have these columns.
    rules : CleaningRules
        Cleaning rules. ``reference_date`` None means "the day after the last purchase of the
        data being scored"; a fixed date stays fixed unless the caller overrides it.
    date_order : {"auto", "dayfirst", "monthfirst"}
        How text dates are read (a day- or month-first order detected in training is kept).
    segments : tuple of SegmentRule
        The rule segments (R, F, M score ranges → name).
    score_edges : dict or None
        :func:`rfm_core.customers.rfm.score_edges` of the training customers: new customers get the
        R, F and M scores they would have had among them. None in bundles saved before schema 2.
    segmentation : SegmentationSettings
    segmenter : Segmenter
        The fitted segmentation.
    names : dict of int to str
        Segment name per cluster label, the user's renames applied.
    actions : pandas.DataFrame
        Goal, action and channel per segment (:data:`rfm_core.segments.profiles.ACTION_COLUMNS`).
    anomaly_settings : AnomalySettings or None
    detector : AnomalyDetector or None
        The fitted detector; customers scoring strictly above ``threshold`` are flagged.
    threshold : float or None
    anomaly_reference : pandas.DataFrame or None
        Feature values (no ids) of training customers that were not flagged: the "typical"
        customers that reasons compare with (at most :data:`REFERENCE_LIMIT`, seeded sample).
    classifier : ClassifierReport or None
        Always None in the bundles this version saves. Earlier versions saved the classifier
        that imitates the detector, though scoring never used it (the saved detector decides);
        their bundles still load, and it is ignored.
    trained_on : dict
        JSON-ready facts about the training data (file, customers, reference date).
    currency : str
        The symbol or code written before amounts (``""``: none; also for bundles saved before
        it was kept); scored customers' anomaly reasons use it.
    versions : dict of str to str
        :func:`library_versions` when the bundle was built (as saved, once loaded).
    schema_version : int
    created : str
        UTC time of creation, ISO 8601.
    warnings : tuple of str
        Version differences found when the bundle was loaded.
    """

    mapping: ColumnMapping
    rules: CleaningRules
    date_order: str
    segments: tuple[SegmentRule, ...]
    score_edges: dict[str, tuple[float, ...] | None] | None
    segmentation: SegmentationSettings
    segmenter: Segmenter
    names: dict[int, str]
    actions: pd.DataFrame
    anomaly_settings: AnomalySettings | None = None
    detector: AnomalyDetector | None = None
    threshold: float | None = None
    anomaly_reference: pd.DataFrame | None = None
    classifier: ClassifierReport | None = None
    trained_on: dict[str, Any] = field(default_factory=dict)
    currency: str = ""
    versions: dict[str, str] = field(default_factory=library_versions)
    schema_version: int = SCHEMA_VERSION
    created: str = field(default_factory=_now)
    warnings: tuple[str, ...] = ()

    def cleaning_rules(self, *, reference_date: dt.date | None = None) -> CleaningRules:
        """The saved cleaning rules, with ``reference_date`` instead of the saved one if given.

        Parameters
        ----------
        reference_date : datetime.date, optional
            Replaces the saved reference-date rule.

        Returns
        -------
        CleaningRules
        """
        if reference_date is None:
            return self.rules
        return replace(self.rules, reference_date=reference_date)

    def require_columns(self, columns: list[str] | tuple[str, ...], *, name: str) -> None:
        """Raise :class:`~rfm_core.errors.MappingError` unless every mapped column is present.

        Parameters
        ----------
        columns : list or tuple of str
            The columns of a file to score.
        name : str
            The file's name, for the message.

        Raises
        ------
        MappingError
            Naming the first missing column, its role and the file's columns.
        """
        for role in ROLES:
            column = getattr(self.mapping, role)
            if column is not None and column not in columns:
                shown = ", ".join(repr(c) for c in list(columns)[:12])
                raise MappingError(
                    f"{name}: the saved model reads column {column!r} as the {role}, and the "
                    f"file has no such column (its columns: {shown})"
                )


# -- building -------------------------------------------------------------------------------


def build_bundle(
    rfm_table: pd.DataFrame,
    segmentation: SegmentationResult,
    anomalies: AnomalyResult | None = None,
    *,
    mapping: ColumnMapping,
    rules: CleaningRules,
    date_order: DateOrder = "auto",
    date_format: str | None = None,
    segments: tuple[SegmentRule, ...] = DEFAULT_SEGMENTS,
    edges: Mapping[str, tuple[float, ...] | None] | None = None,
    renamed: Mapping[int, str] | None = None,
    actions: pd.DataFrame | None = None,
    trained_on: Mapping[str, Any] | None = None,
    currency: str = "",
    created: str | None = None,
) -> ModelBundle:
    """Collect a session's fitted models and settings into a :class:`ModelBundle`.

    Parameters
    ----------
    rfm_table : pandas.DataFrame
        The customers the models were fitted on (:attr:`rfm_core.customers.rfm.RfmResult.table`).
    segmentation : SegmentationResult
    anomalies : AnomalyResult, optional
        The detector run on ``rfm_table``; without it, scored customers get no anomaly columns.
    mapping, rules
        How the training file was mapped and cleaned.
    date_order : {"auto", "dayfirst", "monthfirst"}
        The order asked for when reading the training file.
    date_format : str, optional
        How its dates were read (``RfmPipelineResult.date_format``): a detected ``"dayfirst"``
        or ``"monthfirst"`` replaces ``"auto"``, so new files are read the same way.
    segments : tuple of SegmentRule
    edges : mapping, optional
        The score edges ``rfm_table`` was scored with (``Scoring.edges`` of
        :func:`rfm_core.customers.scores.rescore`); default: its quantile edges
        (:func:`rfm_core.customers.rfm.score_edges`). New customers are scored with them.
    renamed : mapping of label to name, optional
        The user's segment names.
    actions : pandas.DataFrame, optional
        Edited actions (columns :data:`rfm_core.segments.profiles.ACTION_COLUMNS`); default
        :func:`rfm_core.segments.profiles.default_actions` of the names.
    trained_on : mapping, optional
        JSON-ready facts about the training data; ``customers`` is added.
    currency : str, default ""
        The symbol or code written before amounts in reports and reasons.
    created : str, optional
        ISO time of creation; now (UTC) by default.

    Returns
    -------
    ModelBundle
    """
    from rfm_core.segments.profiles import ACTION_COLUMNS, default_actions
    from rfm_core.segments.segmentation import AnomalySettings

    if date_order not in _DATE_ORDERS:
        raise RfmError(f"date_order must be one of {', '.join(_DATE_ORDERS)}, got {date_order!r}")
    if date_format in ("dayfirst", "monthfirst"):
        date_order = date_format
    names = segmentation.names_with(renamed)
    if actions is None:
        actions = default_actions(names)
    missing = [c for c in ACTION_COLUMNS if c not in actions.columns]
    if missing:
        raise RfmError(f"the actions table lacks the columns {missing}")
    detector = settings = reference = None
    threshold = None
    if anomalies is not None:
        detector, threshold = anomalies.detector, float(anomalies.threshold)
        settings = AnomalySettings(
            method=detector.method,
            contamination=detector.contamination,
            features=tuple(detector.features),
            transform=detector.transform,
            random_state=detector.random_state,
        )
        reference = _anomaly_reference(rfm_table, anomalies, settings)
    facts = json.loads(json.dumps(dict(trained_on or {}), default=str))
    return ModelBundle(
        mapping=mapping,
        rules=rules,
        date_order=date_order,
        segments=tuple(segments),
        score_edges=score_edges(rfm_table) if edges is None else dict(edges),
        segmentation=segmentation.settings,
        segmenter=segmentation.segmenter,
        names=names,
        actions=actions.loc[:, list(ACTION_COLUMNS)].reset_index(drop=True),
        anomaly_settings=settings,
        detector=detector,
        threshold=threshold,
        anomaly_reference=reference,
        trained_on={**facts, "customers": len(rfm_table)},
        currency=str(currency or "").strip(),
        created=created or _now(),
    )


def _anomaly_reference(
    rfm_table: pd.DataFrame, anomalies: AnomalyResult, settings: AnomalySettings
) -> pd.DataFrame:
    """Values of the not-flagged customers that explanations need, without ids."""
    flagged = anomalies.table["anomaly"].reindex(rfm_table.index, fill_value=False).to_numpy()
    typical = rfm_table.loc[~flagged] if (~flagged).any() else rfm_table
    wanted = [*settings.features, "recency", "tenure_days", "frequency", "monetary"]
    columns = [c for c in dict.fromkeys(wanted) if c in typical.columns]
    values = typical.loc[:, columns].reset_index(drop=True)
    if len(values) > REFERENCE_LIMIT:
        rng = np.random.default_rng(settings.random_state)
        rows = np.sort(rng.choice(len(values), size=REFERENCE_LIMIT, replace=False))
        values = values.iloc[rows].reset_index(drop=True)
    return values


# -- the key --------------------------------------------------------------------------------


def installation_key(
    *, environ: Mapping[str, str] = os.environ, secret_path: str | Path | None = None
) -> bytes:
    """Return the key that signs and verifies this installation's bundles.

    ``RFM_BUNDLE_KEY`` wins (at least :data:`MIN_KEY_CHARS` characters; give the same value to
    every machine that should load the same bundles, e.g. the one running the scheduled job).
    Otherwise the key is the text of a per-installation secret file: ``secret_path``, else
    ``RFM_BUNDLE_KEY_FILE``, else ``~/.config/rfm-dashboard/bundle.key``. When that file does
    not exist it is created (with its folder) holding 32 random bytes as hex, readable by its
    owner only (mode 0600). This is the one function of the package that touches a file on its
    own; it is only called when a bundle is saved or loaded.

    Parameters
    ----------
    environ : mapping of str to str
        Where ``RFM_BUNDLE_KEY`` and ``RFM_BUNDLE_KEY_FILE`` are read (default: the process's
        environment).
    secret_path : str or pathlib.Path, optional
        The key file, instead of the environment's or the default one.

    Returns
    -------
    bytes
        The key text, UTF-8 encoded.

    Raises
    ------
    BundleError
        A key shorter than :data:`MIN_KEY_CHARS` characters, or a key file that cannot be read
        or created.
    """
    text = environ.get(KEY_ENV, "").strip()
    if text:
        return _checked_key(text, f"the environment variable {KEY_ENV}")
    path = Path(secret_path or environ.get(KEY_FILE_ENV) or DEFAULT_KEY_PATH).expanduser()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # O_EXCL: of two processes creating it at once, one writes and both read the same key
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        raise BundleError(f"cannot create the bundle key file {path}: {exc.strerror}") from exc
    else:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise BundleError(f"cannot read the bundle key file {path}: {exc}") from exc
    return _checked_key(text, f"the key file {path}")


def _checked_key(text: str, where: str) -> bytes:
    if len(text) < MIN_KEY_CHARS:
        raise BundleError(
            f"{where} holds a key of {len(text)} characters; at least {MIN_KEY_CHARS} are needed"
        )
    return text.encode("utf-8")


# -- writing and reading --------------------------------------------------------------------

_HEADER_FIELDS = ("created", "payload_bytes", "schema_version", "summary", "versions")
_META_FIELDS = ("versions", "schema_version", "created", "warnings")


def _canonical(header: Mapping[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _signature(key: bytes, header: Mapping[str, Any], payload: bytes) -> str:
    unsigned = {k: v for k, v in header.items() if k != "signature"}
    message = MAGIC + _canonical(unsigned) + b"\n" + payload
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _summary(bundle: ModelBundle) -> dict[str, Any]:
    """What the header says in clear about the models (shown even when a bundle is refused)."""
    return {
        "method": bundle.segmentation.method,
        "segments": int(bundle.segmenter.n_clusters_),
        "names": [bundle.names[k] for k in sorted(bundle.names)],
        "anomaly_method": bundle.anomaly_settings.method if bundle.anomaly_settings else None,
        "classifier": bundle.classifier is not None,
        "trained_on": bundle.trained_on,
    }


def dump_bundle(bundle: ModelBundle, *, key: bytes) -> bytes:
    """Serialise and sign a bundle (see the module docstring for the format).

    Parameters
    ----------
    bundle : ModelBundle
    key : bytes
        :func:`installation_key`.

    Returns
    -------
    bytes
        The file's content; the caller writes it.
    """
    import joblib

    _check_key(key)
    content = {
        name: getattr(bundle, name)
        for name in bundle.__dataclass_fields__
        if name not in _META_FIELDS
    }
    buffer = io.BytesIO()
    joblib.dump(content, buffer, compress=("zlib", 3))
    payload = buffer.getvalue()
    header: dict[str, Any] = {
        "created": bundle.created,
        "payload_bytes": len(payload),
        "schema_version": bundle.schema_version,
        "summary": json.loads(json.dumps(_summary(bundle), default=str)),
        "versions": dict(bundle.versions),
    }
    header["signature"] = _signature(key, header, payload)
    return MAGIC + _canonical(header) + b"\n" + payload


def bundle_header(data: bytes) -> dict[str, Any]:
    """Read a bundle's header without trusting it (nothing is unpickled, nothing verified).

    Parameters
    ----------
    data : bytes
        The file's content.

    Returns
    -------
    dict
        ``created, payload_bytes, schema_version, signature, summary, versions`` (see the
        module docstring), as written.

    Raises
    ------
    BundleError
        Not a bundle, or a truncated or damaged header.
    """
    return _split(data)[0]


def _split(data: bytes) -> tuple[dict[str, Any], bytes, bytes]:
    """Header (parsed), its exact bytes, and the payload; checks form only."""
    if not data.startswith(MAGIC):
        raise BundleError(
            "this is not a model bundle saved by the RFM dashboard (it does not start with "
            f"{MAGIC.strip().decode()}); choose a file saved with --save-model or on the "
            "Export page"
        )
    end = data.find(b"\n", len(MAGIC), len(MAGIC) + MAX_HEADER_BYTES)
    if end < 0:
        raise BundleError("the model bundle is truncated or damaged: its header is incomplete")
    raw = data[len(MAGIC) : end]
    try:
        header = json.loads(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BundleError(
            "the model bundle's header is damaged (not valid JSON); the file was altered"
        ) from exc
    if not isinstance(header, dict) or _canonical(header) != raw:
        raise BundleSignatureError(
            "the model bundle's header was altered after it was saved; refusing to load it"
        )
    missing = [name for name in _HEADER_FIELDS if name not in header]
    if missing:
        raise BundleError(f"the model bundle's header lacks {', '.join(missing)}")
    return header, raw, data[end + 1 :]


@dataclass(frozen=True)
class VerifiedBundle:
    """A bundle file whose form, header and signature were checked: its payload can be unpickled.

    Attributes
    ----------
    header : dict
        The header, as saved (see the module docstring).
    payload : bytes
        The pickled content, signed by this installation's key.
    warnings : tuple of str
        Every library whose version differs from this installation's (scikit-learn of another
        major.minor release is refused instead).
    """

    header: dict[str, Any]
    payload: bytes
    warnings: tuple[str, ...]


def verify_bundle(data: bytes, *, key: bytes) -> VerifiedBundle:
    """Check everything about a bundle that can be checked without unpickling it.

    In order: the key, the magic line, a complete canonical header, a schema version this code
    reads, a signature, the announced payload length, the signature itself (constant-time), and
    the library versions (see the module docstring).

    Parameters
    ----------
    data : bytes
        The file's content.
    key : bytes
        :func:`installation_key`.

    Returns
    -------
    VerifiedBundle
        The header, the payload proven to come from this installation, and version warnings.

    Raises
    ------
    BundleError
        Not a bundle, truncated or damaged, or a key shorter than :data:`MIN_KEY_CHARS`.
    BundleSignatureError
        Unsigned, altered, or signed with another key.
    BundleVersionError
        A newer schema, or scikit-learn of another major.minor release.
    """
    _check_key(key)
    header, _, payload = _split(data)
    schema = header["schema_version"]
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        raise BundleError(f"the model bundle's schema version {schema!r} is not valid")
    if schema > SCHEMA_VERSION:
        raise BundleVersionError(
            f"the model bundle was saved by a newer version of the app (schema {schema}; this "
            f"app reads schema {SCHEMA_VERSION}); upgrade the app or save the model again here"
        )
    signature = header.get("signature")
    if not signature:
        raise BundleSignatureError(
            "the model bundle is not signed; only bundles signed by this installation are "
            "loaded, because loading one runs code"
        )
    announced = header["payload_bytes"]
    if not isinstance(announced, int) or len(payload) != announced:
        raise BundleError(
            f"the model bundle is truncated or damaged: its header announces {announced!r} "
            f"payload bytes, the file holds {len(payload):,}"
        )
    if not isinstance(signature, str) or not hmac.compare_digest(
        signature, _signature(key, header, payload)
    ):
        raise BundleSignatureError(
            "the model bundle's signature does not match: the file was altered, or it was signed "
            f"by another installation (another {KEY_ENV} or key file); refusing to load it"
        )
    return VerifiedBundle(header, payload, _version_warnings(header["versions"]))


def load_bundle(data: bytes, *, key: bytes) -> ModelBundle:
    """Verify a bundle (:func:`verify_bundle`), then unpickle it.

    Classes are looked up where they live now, also for bundles saved before rfm_core was
    organised by step (:data:`rfm_core.outputs.unpickling.MOVED_MODULES`).

    Parameters
    ----------
    data : bytes
        The file's content.
    key : bytes
        :func:`installation_key`.

    Returns
    -------
    ModelBundle
        With the saved ``versions``, ``schema_version`` and ``created``, and ``warnings`` naming
        every library whose version differs from this installation's.

    Raises
    ------
    BundleError
        Not a bundle, truncated or damaged, or content this version does not save.
    BundleSignatureError
        Unsigned, altered, or signed with another key.
    BundleVersionError
        A newer schema, or scikit-learn of another major.minor release.
    """
    from rfm_core.outputs.unpickling import unpickle_verified

    verified = verify_bundle(data, key=key)
    header, notes = verified.header, verified.warnings
    schema = header["schema_version"]
    content = unpickle_verified(verified.payload)
    if schema < 2 and isinstance(content, dict) and "score_edges" not in content:
        content = {**content, "score_edges": None}
        notes = (*notes, SCORES_WITHIN_FILE)
    if isinstance(content, dict) and "currency" not in content:
        content = {**content, "currency": ""}  # saved before the currency was kept
    expected = set(ModelBundle.__dataclass_fields__) - set(_META_FIELDS)
    if not isinstance(content, dict) or set(content) != expected:
        raise BundleError("the model bundle's content is not what this version of the app saves")
    return ModelBundle(
        **content,
        versions=dict(header["versions"]),
        schema_version=schema,
        created=str(header["created"]),
        warnings=notes,
    )


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) < MIN_KEY_CHARS:
        raise BundleError(f"the signing key must be bytes of length at least {MIN_KEY_CHARS}")


def _version_warnings(saved: Any) -> tuple[str, ...]:
    """Refuse another scikit-learn major.minor; describe every other difference."""
    if not isinstance(saved, dict):
        raise BundleError("the model bundle's header has no library versions")
    current = library_versions()
    strict = saved.get(STRICT_LIBRARY)
    if not isinstance(strict, str) or _major_minor(strict) != _major_minor(current[STRICT_LIBRARY]):
        raise BundleVersionError(
            f"the model bundle was saved with {STRICT_LIBRARY} {strict}, this installation has "
            f"{current[STRICT_LIBRARY]}: fitted models do not move between {STRICT_LIBRARY} "
            "releases; fit the segments again here and save a new bundle"
        )
    return tuple(
        f"the model was saved with {name} {saved.get(name, 'unknown')}, this installation has "
        f"{installed}; check the labels before relying on them"
        for name, installed in current.items()
        if saved.get(name) != installed
    )


def _major_minor(text: str) -> tuple[str, ...]:
    return tuple(text.split(".")[:2])


# -- scoring --------------------------------------------------------------------------------


def rfm_for_bundle(
    loaded: LoadedTable, bundle: ModelBundle, *, reference_date: dt.date | None = None
) -> RfmPipelineResult:
    """Map, clean and aggregate new transactions exactly as the bundle's training file was.

    Parameters
    ----------
    loaded : LoadedTable
    bundle : ModelBundle
    reference_date : datetime.date, optional
        Replaces the saved rule (see :meth:`ModelBundle.cleaning_rules`).

    Returns
    -------
    RfmPipelineResult

    Raises
    ------
    MappingError
        The file lacks a column the bundle maps.
    """
    from rfm_core.customers.pipeline import run_rfm

    bundle.require_columns(loaded.columns, name=loaded.file_name)
    return run_rfm(
        loaded,
        mapping=bundle.mapping,
        date_order=bundle.date_order,
        rules=bundle.cleaning_rules(reference_date=reference_date),
        segments=bundle.segments,
    )


def score_transactions(
    loaded_or_rfm: LoadedTable | pd.DataFrame,
    bundle: ModelBundle,
    *,
    reference_date: dt.date | None = None,
    scores: ScoreBasis = "model",
    segments: tuple[SegmentRule, ...] | None = None,
) -> pd.DataFrame:
    """Label new customers with a bundle's models, without refitting anything.

    Parameters
    ----------
    loaded_or_rfm : LoadedTable or pandas.DataFrame
        New transactions (cleaned and aggregated by :func:`rfm_for_bundle`), or a customer
        table already computed with the bundle's rules (index ``customer_id``).
    bundle : ModelBundle
    reference_date : datetime.date, optional
        For transactions only: replaces the saved reference-date rule.
    scores : {"model", "file"}
        R, F and M scores (and so the rule segments) as the training customers' edges give them
        (default; a bundle saved before schema 2 has none and ranks within the file), or ranked
        within the scored customers (the scores of the given customer table are kept as they
        are: a table scored with another binning keeps it).
    segments : tuple of SegmentRule, optional
        Rule segments to assign instead of the bundle's.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`rfm_core.segments.segmentation.labeled_customers` (those of
        ``python -m rfm_core segment``): RFM values, scores and rule segment, ``cluster``,
        ``segment_name``, ``p_cluster_*`` for mixtures, ``assigned_after_fit`` when the model
        was fitted without anomalies (here: the flagged customers), and ``anomaly,
        anomaly_score, anomaly_reason, anomaly_category`` when the bundle has a detector.
        Every customer exactly once, in the order of the customer table (by id when the
        transactions are aggregated here).
    """
    from rfm_core.segments.segmentation import labeled_customers

    if isinstance(loaded_or_rfm, pd.DataFrame):
        table = loaded_or_rfm
    else:
        table = rfm_for_bundle(loaded_or_rfm, bundle, reference_date=reference_date).rfm.table
    scored = apply_bundle(table, bundle, scores=scores, segments=segments)
    return labeled_customers(
        scored.table, scored.segmentation, scored.anomalies, renamed=scored.segmentation.names
    )


@dataclass(frozen=True)
class ScoredCustomers:
    """Customers labelled by a bundle's saved models (:func:`apply_bundle`).

    Attributes
    ----------
    table : pandas.DataFrame
        The customer table with the R, F and M scores and rule segments the bundle gives them.
    segmentation : SegmentationResult
        Their segments, predicted by the saved model (``selection`` None: nothing was swept).
    anomalies : AnomalyResult or None
        Their flags under the saved detector and threshold; None when the bundle has no detector.
    """

    table: pd.DataFrame
    segmentation: SegmentationResult
    anomalies: AnomalyResult | None


def apply_bundle(
    rfm_table: pd.DataFrame,
    bundle: ModelBundle,
    *,
    scores: ScoreBasis = "model",
    segments: tuple[SegmentRule, ...] | None = None,
) -> ScoredCustomers:
    """Score a customer table with a bundle's models, as results the pages and reports read.

    Parameters
    ----------
    rfm_table : pandas.DataFrame
        Customers computed with the bundle's rules (:func:`rfm_for_bundle`).
    bundle : ModelBundle
    scores : {"model", "file"}
        As for :func:`score_transactions`.
    segments : tuple of SegmentRule, optional
        Rule segments to assign instead of the bundle's.

    Returns
    -------
    ScoredCustomers
        Nothing refitted: the same table and bundle always give the same labels.

    Raises
    ------
    RfmError
        ``scores`` is neither ``"model"`` nor ``"file"``.
    """
    if scores not in ("model", "file"):
        raise RfmError(f"scores must be 'model' or 'file', got {scores!r}")
    table = rfm_table
    if scores == "model" and bundle.score_edges is not None:
        table = score_with_edges(table, bundle.score_edges, segments or bundle.segments)
    elif segments is not None:
        table = relabel(table, segments)
    anomalies = _saved_anomalies(table, bundle)
    return ScoredCustomers(table, _saved_segmentation(table, bundle, anomalies), anomalies)


def _saved_anomalies(table: pd.DataFrame, bundle: ModelBundle) -> AnomalyResult | None:
    from rfm_core.segments.anomalies import AnomalyResult, explain

    if bundle.detector is None or bundle.anomaly_settings is None:
        return None
    scores = bundle.detector.score_samples(table).astype("float64")
    flags = scores > bundle.threshold
    words = explain(
        table, flags, features=bundle.anomaly_settings.features,
        reference=bundle.anomaly_reference, currency=bundle.currency,
    )  # fmt: skip
    frame = pd.DataFrame({"anomaly": flags, "anomaly_score": scores}, index=table.index)
    return AnomalyResult(
        table=frame.join(words),
        method=bundle.anomaly_settings.method,
        threshold=float(bundle.threshold),
        n_flagged=int(flags.sum()),
        detector=bundle.detector,
    )


def _saved_segmentation(
    table: pd.DataFrame, bundle: ModelBundle, anomalies: AnomalyResult | None
) -> SegmentationResult:
    from rfm_core.config import NOISE_LABEL
    from rfm_core.segments.profiles import UNASSIGNED, profile_segments
    from rfm_core.segments.segmentation import SegmentationResult

    labels = pd.Series(bundle.segmenter.predict(table), index=table.index, name="cluster")
    proba = bundle.segmenter.predict_proba(table)
    probabilities = None
    if proba is not None:
        columns = [f"p_cluster_{label}" for label in range(proba.shape[1])]
        probabilities = pd.DataFrame(proba, index=table.index, columns=columns)
    # a mixture can pick a component no training customer belonged to; noise has its name
    names = dict(bundle.names)
    for label in labels.unique():
        names.setdefault(int(label), UNASSIGNED if label == NOISE_LABEL else f"Component {label}")
    outside = np.zeros(len(table), dtype=bool)
    if bundle.segmentation.exclude_anomalies and anomalies is not None:
        outside = anomalies.table["anomaly"].to_numpy()
    return SegmentationResult(
        segmenter=bundle.segmenter,
        labels=labels,
        probabilities=probabilities,
        names=names,
        profile=profile_segments(table, labels),
        assigned_after_fit=pd.Series(outside, index=table.index, name="assigned_after_fit"),
        selection=None,
        settings=bundle.segmentation,
    )
