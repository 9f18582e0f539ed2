"""Command line: the same steps as the pages, for scripts and scheduled jobs.

``python -m rfm_core rfm INPUT -o OUT.csv`` writes one row per customer. Bad input ends with one
line on standard error and exit status 2; no traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rfm_core.errors import EngineUnsupported, RfmError

if TYPE_CHECKING:
    from rfm_core.ingest.io import LoadedTable

__all__ = ["build_parser", "main"]

EXIT_BAD_INPUT = 2
ENGINE_THRESHOLD_MB = 64


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date of the form YYYY-MM-DD") from exc


def _role_column(text: str) -> tuple[str, str]:
    role, sep, column = text.partition("=")
    if not sep or not role or not column:
        raise argparse.ArgumentTypeError(f"{text!r} is not of the form ROLE=COLUMN")
    return role.strip(), column


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a number ≥ 0")
    return value


def _add_input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "input", type=Path, nargs="?",
        help="transaction log (.csv .tsv .txt .xlsx .xls .parquet); or use --table",
    )  # fmt: skip
    engine = parser.add_argument_group("engine")
    engine.add_argument(
        "--engine", choices=["auto", "memory", "duckdb", "spark"], default="auto",
        help="where cleaning and RFM run: memory (full parsers, small files), duckdb (scans "
        "CSV/Parquet out of core), spark (cluster tables); auto: duckdb for CSV/Parquet above "
        f"{ENGINE_THRESHOLD_MB} MB, memory otherwise",
    )  # fmt: skip
    engine.add_argument(
        "--table", help="read this table of the engine's catalog instead of a file "
        "(spark: the session's catalog; duckdb: a table of --database)",
    )  # fmt: skip
    engine.add_argument("--database", type=Path, help="DuckDB database file holding --table")
    parser.add_argument("--sheet", help="workbook sheet name or 1-based number (default: first)")
    parser.add_argument(
        "--map", dest="mapping", action="append", type=_role_column, default=[],
        metavar="ROLE=COLUMN",
        help="column of a role (customer, date, invoice, quantity, price, amount, product, "
        "country); repeat for several roles; wins over detection",
    )  # fmt: skip
    parser.add_argument(
        "--date-order", choices=["auto", "dayfirst", "monthfirst"], default="auto",
        help="how to read dates such as 01/02/2011 (default: detect)",
    )  # fmt: skip
    rules = parser.add_argument_group("cleaning")
    rules.add_argument(
        "--reference-date", type=_date, help="YYYY-MM-DD (default: day after last purchase)"
    )
    rules.add_argument(
        "--returns",
        choices=["drop", "net"],
        default="drop",
        help="drop cancellations and returns (default) or net them against purchases",
    )
    rules.add_argument("--keep-duplicates", action="store_true", help="keep exact duplicate rows")
    rules.add_argument(
        "--country",
        action="append",
        dest="countries",
        metavar="NAME",
        help="keep only this country (repeatable)",
    )
    rules.add_argument("--date-from", type=_date, help="keep lines on or after YYYY-MM-DD")
    rules.add_argument("--date-to", type=_date, help="keep lines on or before YYYY-MM-DD")
    rules.add_argument("--max-quantity", type=_positive, help="drop lines with |quantity| above")
    rules.add_argument("--max-line-amount", type=_positive, help="drop lines with |amount| above")
    rules.add_argument(
        "--max-zscore", type=_positive, help="drop customers whose R, F or M z-score exceeds this"
    )


def _k(text: str) -> int | None:
    if text == "auto":
        return None
    if not text.isdigit() or int(text) < 2:
        raise argparse.ArgumentTypeError(f"expected 'auto' or a whole number ≥ 2, got {text!r}")
    return int(text)


def _share(text: str) -> float:
    value = float(text)
    if not 0 < value <= 0.5:
        raise argparse.ArgumentTypeError(f"expected a share in (0, 0.5], got {text}")
    return value


def _features(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _add_segment_options(parser: argparse.ArgumentParser) -> None:
    _add_model_options(parser)
    parser.add_argument(
        "--no-classifier", action="store_true",
        help="skip training the classifier that reproduces the detector on new customers",
    )  # fmt: skip
    parser.add_argument("--report", type=Path, help="write the run report as JSON here")


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    """How segments are fitted and anomalies flagged (``segment``, ``backtest``)."""
    from rfm_core.config import ANOMALY_METHODS, DEFAULT_FEATURES, LINKAGES, METHODS, TRANSFORMS

    model = parser.add_argument_group("segmentation")
    model.add_argument("--method", choices=METHODS, default="kmeans")
    model.add_argument(
        "--k", type=_k, default=None, metavar="auto|N",
        help="number of segments; auto (default) uses the recommendation of the k sweep",
    )  # fmt: skip
    model.add_argument(
        "--features", type=_features, default=DEFAULT_FEATURES, metavar="A,B,...",
        help="customer features (default recency,frequency,monetary; also avg_order_value, "
        "tenure_days, mean_days_between_purchases)",
    )  # fmt: skip
    model.add_argument("--transform", choices=TRANSFORMS, default="log-standard")
    model.add_argument("--linkage", choices=LINKAGES, default="ward", help="agglomerative")
    model.add_argument("--eps", type=_positive, help="DBSCAN radius (default: from k-distance)")
    model.add_argument("--min-samples", type=int, default=10, help="DBSCAN/HDBSCAN")
    model.add_argument("--min-cluster-size", type=int, help="HDBSCAN")
    model.add_argument("--names", choices=["lifecycle", "tiers"], default="lifecycle")
    model.add_argument(
        "--exclude-anomalies", action="store_true",
        help="fit the segments without the flagged customers, then assign them (marked)",
    )  # fmt: skip
    model.add_argument("--random-state", type=int, default=0)
    flags = parser.add_argument_group("anomalies")
    flags.add_argument("--anomaly-method", choices=ANOMALY_METHODS, default="iforest")
    flags.add_argument(
        "--contamination", type=_share, default=0.02,
        help="share of customers to flag (default 0.02)",
    )  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of ``python -m rfm_core``.

    Returns
    -------
    argparse.ArgumentParser
        With the commands ``rfm``, ``segment``, ``score``, ``migrate``, ``clv``, ``backtest`` and
        ``demo``.
    """
    parser = argparse.ArgumentParser(prog="python -m rfm_core", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    rfm = commands.add_parser("rfm", help="transactions → one RFM row per customer")
    _add_input_options(rfm)
    rfm.add_argument("-o", "--output", type=Path, required=True, help="CSV to write")
    rfm.add_argument("--report", type=Path, help="write the cleaning report as JSON here")
    segment = commands.add_parser(
        "segment", help="transactions → RFM, segments and anomaly flags per customer"
    )
    _add_input_options(segment)
    segment.add_argument("-o", "--output", type=Path, required=True, help="CSV to write")
    _add_segment_options(segment)
    _add_export_options(segment)
    _add_score_parser(commands)
    migrate = commands.add_parser(
        "migrate", help="transactions → each customer's rule segment at two dates"
    )
    _add_input_options(migrate)
    migrate.add_argument(
        "--from", dest="move_from", type=_date, metavar="YYYY-MM-DD",
        help="first snapshot: lines up to this date, included (default: 90 days before --to)",
    )  # fmt: skip
    migrate.add_argument(
        "--to", dest="move_to", type=_date, metavar="YYYY-MM-DD",
        help="second snapshot (default: the last purchase date)",
    )  # fmt: skip
    migrate.add_argument("-o", "--output", type=Path, required=True, help="CSV to write")
    _add_clv_parser(commands)
    _add_backtest_parser(commands)
    demo = commands.add_parser("demo", help="write a generated transaction log with known segments")
    demo.add_argument("-o", "--output", type=Path, required=True, help=".csv or .parquet to write")
    demo.add_argument("--customers", type=int, default=1500)
    demo.add_argument("--random-state", type=int, default=7)
    return parser


def _rules(args: argparse.Namespace):
    from rfm_core.lines.cleaning import CleaningRules

    return CleaningRules(
        returns=args.returns,
        drop_duplicates=not args.keep_duplicates,
        countries=tuple(args.countries) if args.countries else None,
        date_from=args.date_from,
        date_to=args.date_to,
        max_quantity=args.max_quantity,
        max_line_amount=args.max_line_amount,
        max_zscore=args.max_zscore,
        reference_date=args.reference_date,
    )


def _sheet(text: str | None) -> str | int | None:
    if text is not None and text.isdigit():
        return int(text) - 1
    return text


def _engine(args: argparse.Namespace) -> str:
    """The engine to use: explicit, or DuckDB for large CSV/Parquet files."""
    if args.table:
        if args.engine in ("auto", "memory"):
            raise RfmError("--table needs --engine duckdb or --engine spark")
        return args.engine
    if args.input is None:
        raise RfmError("give a transaction file, or --table with --engine")
    if args.engine != "auto":
        return args.engine
    large = args.input.is_file() and args.input.stat().st_size > ENGINE_THRESHOLD_MB * 2**20
    scannable = args.input.suffix.lower() in (".csv", ".parquet")
    return "duckdb" if large and scannable else "memory"


def _engine_source(args: argparse.Namespace, engine: str, mapping, *, model=None):
    """The source on its engine, its mapping and its name: ``--table`` or the input file.

    A file's roles are detected on a sample (explicit ``mapping`` wins); a saved ``model``'s
    columns must all be present.
    """
    from rfm_core.customers.engine import connect, open_file, scan_file

    backend = connect(engine)
    if args.database:
        import ibis

        backend = ibis.duckdb.connect(str(args.database), read_only=True)
    name = args.table or args.input.name
    if args.table:
        source = backend.table(args.table)
    if model is not None:
        found = source if args.table else scan_file(args.input, backend=backend)
        model.require_columns(list(found.columns), name=name)
    if not args.table:
        source, mapping = open_file(args.input, backend=backend, mapping=mapping)
    return source, mapping, name


@dataclass(frozen=True)
class _Run:
    """What cleaning and RFM gave, wherever they ran, and the lines the later steps read.

    ``data`` is what a snapshot reads (prepared transactions in memory, the source on an
    engine); ``kept`` the kept lines (a pyarrow table in memory, an Ibis expression over the
    source on an engine, run by ``backend``; None means an embedded DuckDB).
    """

    rfm: object
    report: dict
    data: object
    kept: object
    backend: object | None
    mapping: object
    name: str


def _customers(args: argparse.Namespace, *, warm: tuple[str, ...] = (), model=None) -> _Run:
    """Run cleaning and RFM where ``--engine`` says.

    With a saved ``model`` (:class:`rfm_core.outputs.persistence.ModelBundle`) the model's mapping,
    date order, cleaning rules (``--reference-date`` may replace its date) and rule segments are
    used.
    """
    from rfm_core.customers.rfm import DEFAULT_SEGMENTS
    from rfm_core.outputs.export import cleaning_report_dict, engine_report_dict

    if model is None:
        mapping, rules, segments = dict(args.mapping) or None, _rules(args), DEFAULT_SEGMENTS
    else:
        mapping, segments = model.mapping, model.segments
        rules = model.cleaning_rules(reference_date=args.reference_date)
    engine = _engine(args)
    if engine != "memory":
        from rfm_core.customers.engine import rfm_on_engine
        from rfm_core.customers.trends import kept_lines_on_engine

        try:
            source, mapping, name = _engine_source(args, engine, mapping, model=model)
            run = rfm_on_engine(
                source, name=name, mapping=mapping, rules=rules, segments=segments, engine=engine
            )
            kept = kept_lines_on_engine(source, run.mapping, rules, name=name)  # nothing runs yet
            return _Run(
                run.rfm, engine_report_dict(run), source, kept, source._find_backend(),
                run.mapping, name,
            )  # fmt: skip
        except EngineUnsupported as exc:
            if args.table:
                raise
            print(f"note: {exc}; reading the file in memory instead")
    from rfm_core.customers.pipeline import run_rfm

    loaded = _load_while_importing(args.input, sheet=_sheet(args.sheet), warm=warm)
    if model is not None:
        from rfm_core.outputs.persistence import rfm_for_bundle

        result = rfm_for_bundle(loaded, model, reference_date=args.reference_date)
    else:
        result = run_rfm(
            loaded, mapping=dict(args.mapping), date_order=args.date_order, rules=_rules(args)
        )
    return _Run(
        result.rfm, cleaning_report_dict(result), result.transactions, result.lines, None,
        result.mapping, loaded.file_name,
    )  # fmt: skip


def _run_rfm(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    run = _customers(args)
    rfm, report = run.rfm, run.report
    from rfm_core.outputs.export import rfm_csv

    args.output.write_bytes(rfm_csv(rfm.table))
    if args.report:
        args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    _print_summary(report, args.output, time.perf_counter() - started)
    return 0


def _run_segment(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    run = _customers(args, warm=("rfm_core.segments.segmentation",))
    rfm, report = run.rfm, run.report
    from rfm_core.outputs.export import labeled_csv, segmentation_report_dict
    from rfm_core.segments.segmentation import (
        find_anomalies,
        labeled_customers,
        segment_customers,
    )

    table = rfm.table
    settings, flagging = _model_settings(args)
    anomalies = find_anomalies(table, flagging)
    from concurrent.futures import ThreadPoolExecutor

    # the classifier only needs the flags: it trains on the second core while k is chosen
    with ThreadPoolExecutor(max_workers=1) as pool:
        training = None
        if not args.no_classifier:
            training = pool.submit(_train_classifier, table, anomalies, flagging)
        segmentation = segment_customers(table, settings, anomalies=anomalies)
        classifier = training.result() if training is not None else None
    args.output.write_bytes(labeled_csv(labeled_customers(table, segmentation, anomalies)))
    report["segmentation"] = segmentation_report_dict(segmentation, anomalies, classifier)
    if args.report:
        args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    _print_summary(report, args.output, time.perf_counter() - started)
    _print_segments(report["segmentation"])
    _write_exports(args, table, report, segmentation, anomalies, classifier)
    return 0


def _model_settings(args: argparse.Namespace):
    """The segmentation and anomaly settings of the ``_add_model_options`` options."""
    from rfm_core.segments.segmentation import AnomalySettings, SegmentationSettings

    settings = SegmentationSettings(
        method=args.method,
        n_clusters=args.k,
        features=args.features,
        transform=args.transform,
        linkage=args.linkage,
        eps=args.eps,
        min_samples=args.min_samples,
        min_cluster_size=args.min_cluster_size,
        exclude_anomalies=args.exclude_anomalies,
        name_scheme=args.names,
        random_state=args.random_state,
    )
    flagging = AnomalySettings(
        method=args.anomaly_method,
        contamination=args.contamination,
        features=args.features,
        transform=args.transform,
        random_state=args.random_state,
    )
    return settings, flagging


def _train_classifier(table, anomalies, settings):
    from rfm_core.segments.segmentation import train_classifier

    try:
        return train_classifier(table, anomalies, settings)
    except RfmError as exc:
        print(f"warning: no anomaly classifier: {exc}")
        return None


def _add_export_options(parser: argparse.ArgumentParser) -> None:
    exports = parser.add_argument_group("exports")
    exports.add_argument(
        "--save-model", type=Path, metavar="BUNDLE.rfm",
        help="save the fitted models, signed, to score new data later with the score command",
    )  # fmt: skip
    exports.add_argument("--segments-zip", type=Path, help="write one CSV per segment in a zip")
    exports.add_argument("--workbook", type=Path, help="write an Excel workbook (.xlsx)")
    exports.add_argument(
        "--html-report", type=Path, help="write a self-contained HTML report (opens offline)"
    )


def _add_score_parser(commands) -> None:
    score = commands.add_parser(
        "score", help="new transactions → segments and anomaly flags of a saved model, no refit"
    )
    score.add_argument("input", type=Path, help="transaction log with the model's columns")
    score.add_argument(
        "--model", type=Path, required=True, metavar="BUNDLE.rfm",
        help="a model saved by segment --save-model or the app's Export page",
    )  # fmt: skip
    score.add_argument("-o", "--output", type=Path, required=True, help="CSV to write")
    score.add_argument("--sheet", help="workbook sheet name or 1-based number (default: first)")
    score.add_argument(
        "--reference-date", type=_date,
        help="YYYY-MM-DD, replaces the model's rule (by default the day after the last "
        "purchase of INPUT, unless the model was fitted with a fixed date)",
    )  # fmt: skip
    score.add_argument(
        "--engine", choices=["auto", "memory", "duckdb"], default="auto",
        help="where cleaning and RFM run (see rfm --engine)",
    )  # fmt: skip
    score.add_argument(
        "--scores", choices=["model", "file"], default="model",
        help="R, F, M scores (and rule segments) as among the model's training customers "
        "(default), or ranked within INPUT (when INPUT is a whole customer base re-scored)",
    )  # fmt: skip
    score.add_argument("--report", type=Path, help="write the run report as JSON here")
    score.set_defaults(table=None, database=None, mapping=[], date_order="auto")


def _write_exports(args, table, report, segmentation, anomalies, classifier) -> None:
    """Write what ``segment`` was asked for besides the labeled CSV."""
    if args.save_model:
        from rfm_core.ingest.schema import ColumnMapping
        from rfm_core.outputs.persistence import build_bundle, dump_bundle, installation_key

        bundle = build_bundle(
            table, segmentation, anomalies, mapping=ColumnMapping(**report["mapping"]),
            rules=_rules(args), date_order=args.date_order, date_format=report["date_format"],
            classifier=classifier,
            trained_on={"file": report["file"], "reference_date": report["reference_date"]},
        )  # fmt: skip
        args.save_model.write_bytes(dump_bundle(bundle, key=installation_key()))
        print(f"model saved, signed → {args.save_model} (score new data: python -m rfm_core "
              f"score --model {args.save_model} INPUT -o OUT.csv)")  # fmt: skip
    if not (args.segments_zip or args.workbook or args.html_report):
        return
    from rfm_core.outputs.reports import excel_workbook, html_report, run_report, segment_csv_zip

    run = run_report(report, table, segmentation, anomalies, classifier=classifier)
    outputs = (
        (args.segments_zip, lambda: segment_csv_zip(run.labeled)),
        (args.workbook, lambda: excel_workbook(run)),
        (args.html_report, lambda: html_report(run).encode("utf-8")),
    )
    for path, make in outputs:
        if path:
            path.write_bytes(make())
            print(f"→ {path}")


def _run_score(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    from rfm_core.outputs.persistence import installation_key, load_bundle

    model = load_bundle(args.model.read_bytes(), key=installation_key())
    run = _customers(args, warm=("rfm_core.segments.segmentation",), model=model)
    rfm, report = run.rfm, run.report
    from rfm_core.outputs.export import labeled_csv
    from rfm_core.outputs.persistence import score_transactions

    labeled = score_transactions(rfm.table, model, scores=args.scores)
    args.output.write_bytes(labeled_csv(labeled))
    report["warnings"] = [*model.warnings, *report["warnings"]]
    report["model"] = {
        "file": str(args.model),
        "created": model.created,
        "trained_on": model.trained_on,
        "method": model.segmentation.method,
        # a model saved before score edges ranks within the file whatever was asked
        "scores": args.scores if model.score_edges is not None else "file",
        "segments": labeled["segment_name"].value_counts().to_dict(),
        "flagged": int(labeled["anomaly"].sum()) if "anomaly" in labeled else None,
    }
    if args.report:
        args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    _print_summary(report, args.output, time.perf_counter() - started)
    scored = report["model"]
    print(f"scored with the model of {scored['created']} ({scored['method']}, no refit):")
    for name, count in scored["segments"].items():
        print(f"  {name:<22} {count:>9,} customers")
    if scored["flagged"] is not None:
        print(f"anomalies: {scored['flagged']:,} customers flagged (column anomaly)")
    return 0


def _print_segments(report: dict) -> None:
    if report.get("selection"):
        print(f"recommended k: {report['selection']['reason']}")
    print(f"{report['method']}: {report['n_clusters']} segments")
    for segment in report["segments"]:
        print(
            f"  {segment['cluster']:>3}  {segment['name']:<22} {segment['customers']:>9,} "
            f"customers  {segment['share_revenue']:6.1%} of revenue"
        )
    flagged = report["anomalies"]
    print(
        f"anomalies ({flagged['method']}): {flagged['flagged']:,} customers flagged "
        "(kept in the output, column anomaly)"
    )
    metrics = report.get("classifier")
    if metrics:
        test = metrics["test"]
        print(
            f"classifier (reproduces the detector, not ground truth) on the test split: "
            f"accuracy {test['accuracy']:.3f}, precision {test['precision']:.3f}, "
            f"recall {test['recall']:.3f}, F1 {test['f1']:.3f}"
        )
    for note in report["notes"]:
        print(f"note: {note}")


def _load_while_importing(
    path: Path, *, sheet: str | int | None, warm: tuple[str, ...] = ()
) -> LoadedTable:
    """Read the file in a thread while the engine's modules import (the readers release the GIL).

    The imports of the query engine and pandas take ~0.4 s (scikit-learn for ``segment`` ~1 s),
    a large part of reading a workbook: overlapping them is the cheapest speed-up of a one-shot
    command.
    """
    import importlib
    from concurrent.futures import ThreadPoolExecutor

    from rfm_core.ingest.io import load_path

    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(load_path, path, sheet=sheet)
        for module in ("rfm_core.customers.pipeline", *warm):
            importlib.import_module(module)  # warm the import cache meanwhile
        return future.result()


def _print_summary(report: dict, output: Path, seconds: float) -> None:
    print(f"{report['file']}: {report['rows_in']:,} rows read, {report['rows_kept']:,} kept")
    for reason, rows in report["rows_removed"].items():
        print(f"  removed {rows:>10,}  {reason}")
    print(
        f"{report['customers']:,} customers, reference date {report['reference_date']} "
        f"→ {output} ({seconds:.2f} s)"
    )
    for warning in report["warnings"]:
        print(f"warning: {warning}")


def _run_migrate(args: argparse.Namespace) -> int:
    """Each customer's rule segment at ``--from`` and ``--to``.

    See :mod:`rfm_core.customers.migration`.
    """
    started = time.perf_counter()
    from rfm_core.customers.migration import migrate

    options = {"date_from": args.move_from, "date_to": args.move_to, "rules": _rules(args)}
    engine = _engine(args)
    moves = None
    if engine != "memory":
        try:
            source, mapping, name = _engine_source(args, engine, dict(args.mapping) or None)
            moves = migrate(source, mapping=mapping, name=name, **options)
        except EngineUnsupported as exc:
            if args.table:
                raise
            print(f"note: {exc}; reading the file in memory instead")
    if moves is None:
        from rfm_core.customers.pipeline import prepare

        loaded = _load_while_importing(args.input, sheet=_sheet(args.sheet))
        name = loaded.file_name
        data = prepare(loaded, mapping=dict(args.mapping), date_order=args.date_order)
        moves = migrate(data, **options)
    from rfm_core.outputs.export import rfm_csv

    args.output.write_bytes(rfm_csv(moves.customers))
    _print_moves(moves, name, args.output, time.perf_counter() - started)
    return 0


def _print_moves(moves, name: str, output: Path, seconds: float) -> None:
    customers = moves.customers
    print(
        f"{name}: {len(customers):,} customers on {moves.date_to}, "
        f"{len(customers) - len(moves.new_customers):,} of them already on {moves.date_from}"
    )
    print(f"segment on {moves.date_from} → segment on {moves.date_to} (customers)")
    for segment_from, row in moves.counts.iterrows():
        if row.sum() == 0:
            continue
        largest_first = row[row > 0].sort_values(ascending=False)
        cells = ", ".join(f"{to} {count:,}" for to, count in largest_first.items())
        print(f"  {segment_from:<22} {int(row.sum()):>7,} → {cells}")
    print(
        f"{len(moves.new_customers):,} new, {len(moves.worse):,} moved to a worse segment, "
        f"{len(moves.lapsed):,} lapsed (no purchase after {moves.date_from})"
    )
    for note in moves.notes:
        print(f"note: {note}")
    print(f"→ {output} ({seconds:.2f} s)")


def _add_clv_parser(commands) -> None:
    clv = commands.add_parser(
        "clv", help="transactions → lifetime value per customer (BG/NBD + Gamma-Gamma)"
    )
    _add_input_options(clv)
    clv.add_argument("-o", "--output", type=Path, required=True, help="CSV to write")
    model = clv.add_argument_group("lifetime value")
    model.add_argument(
        "--calibration-end", type=_date, metavar="YYYY-MM-DD",
        help="last day the models are fitted on (default: the last purchase day: everything)",
    )  # fmt: skip
    model.add_argument(
        "--holdout-end", type=_date, metavar="YYYY-MM-DD",
        help="compare the purchases expected after --calibration-end up to this day with "
        "the actual ones",
    )  # fmt: skip
    model.add_argument(
        "--horizon-weeks", type=_positive, default=12.0,
        help="weeks after the calibration end that CLV counts (default 12)",
    )  # fmt: skip
    model.add_argument(
        "--margin", type=_positive, default=1.0,
        help="share of the purchase value that is profit (default 1: CLV in revenue)",
    )  # fmt: skip
    model.add_argument(
        "--discount-rate", type=_non_negative, default=0.0,
        help="annual discount rate, 0.1 for 10 %% (default 0)",
    )  # fmt: skip
    model.add_argument(
        "--doubtful-fits", action="store_true",
        help="predict with a fit that did not converge (a parameter ran to the edge of its "
        "range, a flat likelihood) instead of stopping; the warning says why",
    )  # fmt: skip
    clv.add_argument("--report", type=Path, help="write the cleaning report and the fits as JSON")


def _run_clv(args: argparse.Namespace) -> int:
    """Lifetime value of every customer; see :mod:`rfm_core.customers.clv`."""
    started = time.perf_counter()
    run = _customers(args, warm=("rfm_core.customers.clv",))
    rfm, report = run.rfm, run.report
    from rfm_core.customers.clv import clv_by_segment, clv_table, customer_lifetime_value
    from rfm_core.customers.rfm import DEFAULT_SEGMENTS
    from rfm_core.outputs.export import rfm_csv

    value = customer_lifetime_value(
        run.kept, backend=run.backend, customers=rfm.table.index,
        calibration_end=args.calibration_end, holdout_end=args.holdout_end,
        horizon_weeks=args.horizon_weeks, margin=args.margin, discount_rate=args.discount_rate,
        doubtful_fits=args.doubtful_fits,
    )  # fmt: skip
    rows = clv_table(value.customers, rfm.table["rfm_segment"])
    args.output.write_bytes(rfm_csv(rows))
    segments = rows["rfm_segment"]
    order = [rule.name for rule in DEFAULT_SEGMENTS]
    by_segment = clv_by_segment(value.customers, segments, order=order)
    report["warnings"] = [*report["warnings"], *value.warnings]
    report.update(_clv_report(value, by_segment))
    if args.report:
        args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    _print_summary(report, args.output, time.perf_counter() - started)
    _print_clv(report)
    return 0


def _clv_report(value, by_segment) -> dict:
    """The fits, the totals, the holdout and the segments of a lifetime-value run, JSON-ready."""
    bgnbd, spend = value.bgnbd, value.gamma_gamma
    notes = value.customers["clv_note"]
    segments = by_segment.reset_index().astype({"segment": str}).round(4)
    return {
        "calibration_end": value.summary.calibration_end.isoformat(),
        "holdout_end": value.summary.holdout_end and value.summary.holdout_end.isoformat(),
        "horizon_weeks": value.horizon_weeks,
        "margin": value.margin,
        "discount_rate": value.discount_rate,
        "params": {**bgnbd.params, **spend.params},
        "standard_errors": {**bgnbd.standard_errors, **spend.standard_errors},
        "fits": {"bgnbd": _fit_report(bgnbd), "gamma_gamma": _fit_report(spend)},
        "spend_frequency_correlation": value.correlation,
        "clv_total": float(value.customers["clv"].sum()),
        "expected_purchases_total": float(value.customers["expected_purchases"].sum()),
        "notes": {note: int(n) for note, n in notes[notes != ""].value_counts().items()},
        **({"holdout": value.holdout} if value.holdout is not None else {}),
        "segments": json.loads(segments.to_json(orient="records")),
    }


def _fit_report(fit) -> dict:
    return {
        "customers": fit.n_customers,
        "log_likelihood": fit.log_likelihood,
        "converged": fit.converged,
        "message": fit.message,
    }


def _print_clv(report: dict) -> None:
    p = report["params"]
    print(
        f"BG/NBD: r {p['r']:.4g}, alpha {p['alpha']:.4g} weeks, a {p['a']:.4g}, b {p['b']:.4g} "
        f"— {report['fits']['bgnbd']['message']}"
    )
    print(
        f"Gamma-Gamma: p {p['p']:.4g}, q {p['q']:.4g}, v {p['v']:.4g} "
        f"— {report['fits']['gamma_gamma']['message']}; spend–frequency correlation "
        f"{report['spend_frequency_correlation']:.2f} (the model assumes none)"
    )
    print(
        f"calibration up to {report['calibration_end']}: over {report['horizon_weeks']:g} weeks "
        f"{report['expected_purchases_total']:,.1f} purchase days expected, CLV "
        f"{report['clv_total']:,.2f} (margin {report['margin']:g}, discount "
        f"{report['discount_rate']:.1%} a year)"
    )
    if "holdout" in report:
        holdout = report["holdout"]
        print(
            f"holdout up to {report['holdout_end']}: {holdout['expected_purchases']:,.1f} "
            f"purchase days expected, {holdout['actual_purchases']:,} made"
        )
    for segment in report["segments"]:
        median = segment["clv_median"]  # null when no customer of the segment is described
        print(
            f"  {segment['segment']:<22} {segment['customers']:>9,} customers  CLV "
            f"{segment['clv_sum']:>14,.2f}  median "
            + (f"{median:>10,.2f}" if median is not None else f"{'—':>10}")
        )
    for note, count in report["notes"].items():
        print(f"note: {count:,} customers: {note}")


def _add_backtest_parser(commands) -> None:
    backtest = commands.add_parser(
        "backtest",
        help="transactions → how well rule segments, clusters and CLV fitted up to a date "
        "predicted what customers did after it",
    )  # fmt: skip
    _add_input_options(backtest)
    backtest.add_argument(
        "--cut", type=_date, metavar="YYYY-MM-DD",
        help="the last day the segmentations see (default: 90 days before the last purchase)",
    )  # fmt: skip
    backtest.add_argument("-o", "--output", type=Path, required=True, help="JSON report to write")
    backtest.add_argument(
        "--customers", type=Path, metavar="CSV",
        help="also write every customer's groups, predictions and what they did after the cut",
    )  # fmt: skip
    _add_model_options(backtest)


def _run_backtest(args: argparse.Namespace) -> int:
    """Segment on the lines up to ``--cut``; compare with what happened after it.

    See :mod:`rfm_core.segments.backtest`.
    """
    started = time.perf_counter()
    run = _customers(args, warm=("rfm_core.segments.backtest",))
    from rfm_core.customers.migration import data_range
    from rfm_core.customers.rfm import DEFAULT_SEGMENTS
    from rfm_core.outputs.export import rfm_csv
    from rfm_core.segments.backtest import CUSTOMER_DECIMALS, backtest

    settings, flagging = _model_settings(args)
    result = backtest(
        run.data, run.kept, backend=run.backend, cut=args.cut, span=data_range(run.rfm.table),
        rules=_rules(args), segments=DEFAULT_SEGMENTS, settings=settings,
        anomaly_settings=flagging, mapping=run.mapping, name=run.name,
        progress=lambda text: print(f"… {text}", flush=True),
    )  # fmt: skip
    report = {"file": run.report["file"], **_backtest_report(result)}
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if args.customers:
        args.customers.write_bytes(rfm_csv(result.customers.round(CUSTOMER_DECIMALS)))
    _print_backtest(report)
    print(f"→ {args.output} ({time.perf_counter() - started:.2f} s)")
    return 0


def _records(frame) -> list:
    return json.loads(frame.round(6).to_json(orient="records"))


def _backtest_report(result) -> dict:
    """The backtest as JSON-ready values."""
    value = result.clv
    comparison = result.comparison.reset_index()
    return {
        "cut": result.cut.isoformat(),
        "end": result.end.isoformat(),
        "days_after_cut": result.days,
        "window_before_cut": [result.window_start.isoformat(), result.cut.isoformat()],
        "customers": len(result.customers),
        "bought_again": float(result.customers["bought_again"].mean()),
        "winner": result.winner,
        "sentence": result.sentence,
        "comparison": _records(comparison),
        "groups": {
            method: _records(frame.reset_index()) for method, frame in result.groups.items()
        },
        "calibration": _records(result.calibration),
        "clv": {
            "params": {**value.bgnbd.params, **value.gamma_gamma.params},
            "fits": {
                "bgnbd": _fit_report(value.bgnbd),
                "gamma_gamma": _fit_report(value.gamma_gamma),
            },
            "spend_frequency_correlation": value.correlation,
        },
        "clusters": {
            "method": result.segmentation.settings.method,
            "n_clusters": result.segmentation.n_clusters,
        },
        "notes": list(result.notes),
    }


def _print_backtest(report: dict) -> None:
    from rfm_core.segments.backtest import METHOD_NAMES

    print(
        f"{report['file']}: {report['customers']:,} customers on {report['cut']}; "
        f"{report['bought_again']:.1%} of them bought again up to {report['end']} "
        f"({report['days_after_cut']} days)"
    )
    print(
        f"{'':<15}{'concordance':>12}{'ρ':>6}  best group (share of customers): lift of the "
        "repeat rate, of revenue per customer; purchases predicted vs made"
    )
    for row in report["comparison"]:
        print(
            f"  {METHOD_NAMES[row['method']]:<13}{_number(row['concordance'], '.1%'):>12}"
            f"{_number(row['spearman']):>6}  {row['best_group']} "
            f"({row['best_group_share']:.1%}): {_number(row['repeat_lift'])}×, "
            f"{_number(row['revenue_lift'])}×; {row['predicted_purchases']:,.0f} vs "
            f"{row['actual_purchases']:,.0f}"
        )
    p = report["clv"]["params"]
    print(
        f"CLV fitted up to {report['cut']}: r {p['r']:.4g}, alpha {p['alpha']:.4g} weeks, "
        f"a {p['a']:.4g}, b {p['b']:.4g}; p {p['p']:.4g}, q {p['q']:.4g}, v {p['v']:.4g}"
    )
    print(report["sentence"])
    for note in report["notes"]:
        print(f"note: {note}")


def _number(value, spec: str = ".2f") -> str:
    return "—" if value is None else format(value, spec)


def _run_demo(args: argparse.Namespace) -> int:
    from rfm_core.ingest.synthetic import generate_transactions

    log = generate_transactions(args.customers, random_state=args.random_state)
    suffix = args.output.suffix.lower()
    if suffix == ".parquet":
        log.transactions.to_parquet(args.output, index=False)
    elif suffix == ".csv":
        log.transactions.to_csv(args.output, index=False, date_format="%Y-%m-%d %H:%M")
    else:
        raise RfmError(f"{args.output}: write .csv or .parquet")
    print(f"{len(log.transactions):,} rows, {args.customers:,} customers → {args.output}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after ``python -m rfm_core`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success; :data:`EXIT_BAD_INPUT` (2) after one ``error: …`` line on standard error
        when the input or an option is refused (an :class:`~rfm_core.errors.RfmError`) or a file
        cannot be read or written.
    """
    args = build_parser().parse_args(argv)
    # results carry their warnings and the summary prints them once, as "warning: …" lines
    warnings.simplefilter("ignore", UserWarning)
    try:
        commands = {
            "rfm": _run_rfm,
            "segment": _run_segment,
            "score": _run_score,
            "migrate": _run_migrate,
            "clv": _run_clv,
            "backtest": _run_backtest,
            "demo": _run_demo,
        }
        return commands[args.command](args)
    except RfmError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
