"""Command line: the same steps as the pages, for scripts and scheduled jobs.

``python -m rfm_core rfm INPUT -o OUT.csv`` writes one row per customer; ``segment … --publish
NAME`` and ``score … --publish NAME`` store a run for the app's viewers, ``runs`` lists and exports
them. Bad input ends with one
line on standard error and exit status 2; no traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import BrokenExecutor
from dataclasses import dataclass, replace
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


def _add_scoring_options(parser: argparse.ArgumentParser, *, model: bool = False) -> None:
    scoring = parser.add_argument_group("scores and rule segments")
    default = "the model's" if model else "quantiles"
    scoring.add_argument(
        "--score-edges", type=Path, metavar="FILE",
        help="how the R, F and M scores are cut: JSON such as {\"method\": \"jenks\"} or "
        "{\"recency\": [30, 90, 180, 365], \"frequency\": [2, 3, 5, 10], \"monetary\": "
        "[100, 250, 500, 1000]} (4 increasing cut points per score, each belonging to the better "
        "score; a score left out uses the method), or a CSV with columns recency, frequency, "
        f"monetary of 4 cut points each (default: {default})",
    )  # fmt: skip
    scoring.add_argument(
        "--segments", type=Path, metavar="FILE",
        help="rule segments: a CSV with the columns name, r_min, r_max, f_min, f_max, m_min, "
        "m_max (scores 1-5, inclusive) and optionally description, covering every score "
        f"combination exactly once (default: {'the model' if model else 'the built-in rules'})",
    )  # fmt: skip


def _add_segment_options(parser: argparse.ArgumentParser) -> None:
    _add_model_options(parser)
    parser.add_argument(
        "--classifier", action="store_true",
        help="also train the classifier that imitates the detector and report how well it does "
        "(SMOTE + gradient boosting; scoring always uses the saved detector itself)",
    )  # fmt: skip
    # the classifier used to be trained unless this was given; old scripts keep working
    parser.add_argument("--no-classifier", action="store_true", help=argparse.SUPPRESS)
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
        "--exclude-anomalies", action=argparse.BooleanOptionalAction, default=True,
        help="fit the segments without the flagged customers, then assign them to their nearest "
        "segment (marked assigned_after_fit); on by default, --no-exclude-anomalies fits everyone",
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
        With the commands ``rfm``, ``clean``, ``segment``, ``score``, ``migrate``, ``clv``,
        ``backtest``, ``runs`` and ``demo``.
    """
    parser = argparse.ArgumentParser(prog="python -m rfm_core", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    rfm = commands.add_parser("rfm", help="transactions → one RFM row per customer")
    _add_input_options(rfm)
    _add_scoring_options(rfm)
    rfm.add_argument("-o", "--output", type=Path, required=True, help="CSV to write")
    rfm.add_argument("--report", type=Path, help="write the cleaning report as JSON here")
    segment = commands.add_parser(
        "segment", help="transactions → RFM, segments and anomaly flags per customer"
    )
    _add_input_options(segment)
    _add_scoring_options(segment)
    segment.add_argument("-o", "--output", type=Path, required=True, help="CSV to write")
    _add_segment_options(segment)
    _add_export_options(segment)
    _add_publish_options(segment)
    _add_score_parser(commands)
    clean = commands.add_parser(
        "clean", help="transactions → the kept lines (and the removed ones with their reason)"
    )
    _add_input_options(clean)
    clean.add_argument(
        "-o", "--output", type=Path, required=True, metavar="KEPT.parquet|csv",
        help="the kept lines: customer_id, invoice, timestamp, quantity, price, amount, "
        "product, description, country, is_return",
    )  # fmt: skip
    clean.add_argument(
        "--removed", type=Path, metavar="REMOVED.csv|parquet",
        help="also write every removed line, with its reason (drop_reason)",
    )  # fmt: skip
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
    _add_scoring_options(migrate)
    _add_clv_parser(commands)
    _add_backtest_parser(commands)
    _add_runs_parser(commands)
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
class _Scores:
    """How a run scores its customers: the rule segments, the binning and its edges (None: the
    quantiles of the customers, or a saved model's edges)."""

    segments: tuple
    binning: object
    edges: dict | None


@dataclass(frozen=True)
class _Run:
    """What cleaning and RFM gave, wherever they ran, and the lines the later steps read.

    ``run`` is the :class:`rfm_core.customers.result.CustomerRun` (its customers scored as
    ``scores`` says); ``data`` what a snapshot reads (prepared transactions in memory, the
    source on an engine); ``kept`` the kept lines (a pyarrow table in memory, an Ibis expression
    over the source on an engine, run by ``backend``; None means an embedded DuckDB);
    ``overview`` computes the Overview page's aggregates of the kept lines (for ``--publish``).
    """

    run: object
    report: dict
    scores: _Scores
    data: object
    kept: object
    backend: object | None
    mapping: object
    name: str
    overview: Callable[[], dict]

    @property
    def rfm(self):
        """The RFM result of :attr:`run`."""
        return self.run.rfm


def _customers(args: argparse.Namespace, *, warm: tuple[str, ...] = (), model=None) -> _Run:
    """Run cleaning and RFM where ``--engine`` says, scored as ``--score-edges`` and
    ``--segments`` say (commands without those options: quantiles and the default segments).

    With a saved ``model`` (:class:`rfm_core.outputs.persistence.ModelBundle`) the model's
    mapping, date order, cleaning rules (``--reference-date`` may replace its date) and rule
    segments are used.
    """
    engine = _engine(args)
    loaded = None
    if engine == "memory":  # the read starts first: what the options need imports meanwhile
        warm = ("rfm_core.customers.rfm", "rfm_core.outputs.export", *warm)
        loaded = _load_while_importing(
            args.input, sheet=_sheet(args.sheet), warm=warm, freeze=args.one_shot
        )
    from rfm_core.customers.rfm import DEFAULT_SEGMENTS
    from rfm_core.outputs.export import cleaning_report_dict, engine_report_dict

    if model is None:
        mapping, rules, segments = dict(args.mapping) or None, _rules(args), DEFAULT_SEGMENTS
    else:
        mapping, segments = model.mapping, model.segments
        rules = model.cleaning_rules(reference_date=args.reference_date)
    if getattr(args, "segments", None):
        segments = _read_segments(args.segments)
    score_edges = getattr(args, "score_edges", None)
    binning = _read_binning(score_edges) if score_edges else None
    if engine != "memory":
        from rfm_core.customers.engine import rfm_on_engine
        from rfm_core.customers.trends import kept_lines_on_engine, returned_lines_on_engine

        try:
            source, mapping, name = _engine_source(args, engine, mapping, model=model)
            run = rfm_on_engine(
                source, name=name, mapping=mapping, rules=rules, segments=segments, engine=engine
            )
            kept = kept_lines_on_engine(source, run.mapping, rules, name=name)  # nothing runs yet
            backend = source._find_backend()

            def overview():
                from rfm_core.outputs.runs import overview_tables

                returned = returned_lines_on_engine(source, run.mapping, rules, name=name)
                return overview_tables(kept, backend=backend, returned=returned)

            run, report, scores = _rescored(run, engine_report_dict(run), segments, binning)
            return _Run(run, report, scores, source, kept, backend, run.mapping, name, overview)
        except EngineUnsupported as exc:
            if args.table:
                raise
            print(f"note: {exc}; reading the file in memory instead")
    from rfm_core.customers.pipeline import run_rfm

    if loaded is None:
        loaded = _load_while_importing(
            args.input, sheet=_sheet(args.sheet), warm=warm, freeze=args.one_shot
        )
    if model is not None:
        from rfm_core.outputs.persistence import rfm_for_bundle

        result = rfm_for_bundle(loaded, model, reference_date=args.reference_date)
    else:
        result = run_rfm(
            loaded, mapping=dict(args.mapping), date_order=args.date_order, rules=_rules(args),
            segments=segments,
        )  # fmt: skip

    def overview():
        import ibis

        from rfm_core.customers.trends import kept_lines, returned_lines
        from rfm_core.outputs.runs import overview_tables

        return overview_tables(
            kept_lines(result), backend=ibis.duckdb.connect(), returned=returned_lines(result)
        )

    run, report, scores = _rescored(result, cleaning_report_dict(result), segments, binning)
    return _Run(
        run, report, scores, result.transactions, result.lines, None, result.mapping,
        loaded.file_name, overview,
    )  # fmt: skip


def _rescored(run, report: dict, segments: tuple, binning) -> tuple[object, dict, _Scores]:
    """Score the customers of ``run`` with ``--score-edges`` and ``--segments``; account for it
    in the report (``scores``: the binning, the cut points and each score in words)."""
    from dataclasses import replace

    from rfm_core.customers.rfm import score_edges
    from rfm_core.customers.scores import rescore
    from rfm_core.outputs.export import scores_report_dict

    edges = None
    if binning is not None:
        rfm = run.rfm
        scoring = rescore(rfm.table, binning, segments)
        rfm = replace(rfm, table=scoring.table, warnings=(*rfm.warnings, *scoring.notes))
        run = replace(run, rfm=rfm)
        report["warnings"] = [*report["warnings"], *scoring.notes]
        edges = scoring.edges
    report["scores"] = scores_report_dict(edges or score_edges(run.rfm.table), binning)
    return run, report, _Scores(segments, binning, edges)


def _read_binning(path: Path):
    """``--score-edges``: a JSON object or a CSV of cut points (see the option's help)."""
    import io

    import pandas as pd

    from rfm_core.customers.scores import ScoreBinning
    from rfm_core.errors import ScoreBinningError

    text = path.read_text(encoding="utf-8-sig")
    try:
        if path.suffix.lower() == ".json" or text.lstrip().startswith("{"):
            data = json.loads(text)
        else:
            frame = pd.read_csv(io.StringIO(text), skipinitialspace=True)
            data = {
                str(c).strip(): [_number_or_text(v) for v in frame[c].dropna()]
                for c in frame.columns
            }
            if "method" in data:
                data["method"] = data["method"][0] if data["method"] else None
        return ScoreBinning.from_mapping(data)
    except json.JSONDecodeError as exc:
        raise ScoreBinningError(
            f"{path}: not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ScoreBinningError(f"{path}: cannot be read as CSV ({exc})") from exc
    except ScoreBinningError as exc:
        raise ScoreBinningError(f"{path}: {exc}") from exc


def _number_or_text(value: object) -> object:
    """A CSV cell as a number when it reads as one (a column with text is read as text)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def _read_segments(path: Path) -> tuple:
    """``--segments``: a CSV of rule segments (:func:`rfm_core.customers.rfm.segments_to_frame`)."""
    import pandas as pd

    from rfm_core.customers.rfm import segments_from_frame
    from rfm_core.errors import SegmentDefinitionError

    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        frame.columns = [str(c).strip() for c in frame.columns]
        frame = frame.replace("", None)
        return segments_from_frame(frame)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise SegmentDefinitionError(f"{path}: cannot be read as CSV ({exc})") from exc
    except SegmentDefinitionError as exc:
        raise SegmentDefinitionError(f"{path}: {exc}") from exc


def _run_rfm(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    run = _customers(args)
    rfm, report = run.rfm, run.report
    from rfm_core.outputs.export import rfm_csv

    args.output.write_bytes(rfm_csv(rfm.table))
    if args.report:
        args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    _print_summary(report, args.output, time.perf_counter() - started)
    _print_scores(report)
    return 0


LINE_SUFFIXES = (".parquet", ".csv")


def _run_clean(args: argparse.Namespace) -> int:
    """Write the kept lines (and the removed ones) where ``--engine`` says cleaning runs.

    The lines are written by DuckDB (or the engine) straight from the cleaning expression; none
    is held in Python beyond an uploaded file's own table.
    """
    started = time.perf_counter()
    for path in (args.output, args.removed):
        if path is not None and path.suffix.lower() not in LINE_SUFFIXES:
            raise RfmError(f"{path}: write .parquet or .csv")
    rules, engine, flags = _rules(args), _engine(args), None
    if engine != "memory":
        from rfm_core.customers.engine import flagged_lines

        try:
            source, mapping, name = _engine_source(args, engine, dict(args.mapping) or None)
            _check_country_rule(rules, mapping)
            flags = flagged_lines(source, mapping, rules, name=name)
            backend = source._find_backend()
        except EngineUnsupported as exc:
            if args.table:
                raise
            print(f"note: {exc}; reading the file in memory instead")
    if flags is None:
        import ibis

        from rfm_core.customers.pipeline import prepare
        from rfm_core.lines.cleaning import flag_rows

        loaded = _load_while_importing(args.input, sheet=_sheet(args.sheet), freeze=args.one_shot)
        name = loaded.file_name
        data = prepare(loaded, mapping=dict(args.mapping), date_order=args.date_order)
        _check_country_rule(rules, data.mapping)
        backend = ibis.duckdb.connect()
        flags = flag_rows(ibis.memtable(data.table), rules, raw_columns=data.raw_column_names)
    from rfm_core.lines.cleaning import kept_and_removed

    kept, removed = kept_and_removed(flags)
    n_kept = _write_lines(kept, args.output, backend)
    print(f"{name}: {n_kept:,} kept lines → {args.output}")
    if args.removed:
        by_reason = _write_lines(removed, args.removed, backend, by="drop_reason")
        print(f"{sum(by_reason.values()):,} removed lines → {args.removed}")
        for reason, rows in by_reason.items():
            print(f"  removed {rows:>10,}  {reason}")
    print(f"({time.perf_counter() - started:.2f} s)")
    return 0


def _check_country_rule(rules, mapping) -> None:
    from rfm_core.errors import CleaningError

    if rules.countries is not None and mapping.country is None:
        raise CleaningError("a country filter needs a country column in the mapping")


def _write_lines(lines, path: Path, backend, *, by: str | None = None):
    """Write lines as Parquet or CSV (text neutralised); return their count (per ``by``)."""
    import duckdb

    from rfm_core.outputs.export import neutralised_lines

    if path.suffix.lower() == ".csv":
        backend.to_csv(neutralised_lines(lines), str(path))
        read = f"read_csv('{_sql_path(path)}', header = true, all_varchar = true)"
    else:
        backend.to_parquet(lines, str(path))
        read = f"read_parquet('{_sql_path(path)}')"
    connection = duckdb.connect()
    try:
        if by is None:
            return int(connection.sql(f"SELECT count(*) FROM {read}").fetchone()[0])
        rows = connection.sql(f"SELECT {by}, count(*) FROM {read} GROUP BY 1").fetchall()
    finally:
        connection.close()
    from rfm_core.lines.reasons import REASONS

    counts = dict(rows)
    return {reason: int(counts[reason]) for reason in REASONS if reason in counts}


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _run_segment(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    run = _customers(args, warm=("rfm_core.segments.segmentation",))
    rfm, report, scores = run.rfm, run.report, run.scores
    from rfm_core.outputs.export import labeled_csv, segmentation_report_dict
    from rfm_core.segments.segmentation import (
        find_anomalies,
        labeled_customers,
        segment_customers,
    )

    table = rfm.table
    settings, flagging = _model_settings(args)
    anomalies = find_anomalies(table, flagging, currency=args.currency)
    from concurrent.futures import ThreadPoolExecutor

    # the classifier only needs the flags: it trains on the second core while k is chosen
    with ThreadPoolExecutor(max_workers=1) as pool:
        training = None
        if args.classifier:
            training = pool.submit(_train_classifier, table, anomalies, flagging)
        segmentation = segment_customers(
            table, settings, anomalies=anomalies, segments=scores.segments, edges=scores.edges,
            n_jobs=1 if args.classifier else _SWEEP_JOBS,
        )  # fmt: skip
        classifier = training.result() if training is not None else None
    args.output.write_bytes(labeled_csv(labeled_customers(table, segmentation, anomalies)))
    report["segmentation"] = segmentation_report_dict(segmentation, anomalies, classifier)
    if args.report:
        args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    _print_summary(report, args.output, time.perf_counter() - started)
    _print_scores(report)
    _print_segments(report["segmentation"])
    _write_exports(args, table, report, segmentation, anomalies, classifier, scores)
    if args.publish:
        bundle, signed = _bundle(args, table, report, segmentation, anomalies, scores)
        _publish(
            args, run.run, table, segmentation, anomalies, bundle, signed, report, run.overview
        )
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


# a one-shot command may fork: the k sweep's stability refits run in a second process (the
# results do not depend on it; see rfm_core.segments.clustering.select_k), unless the classifier
# trains on the second core meanwhile
_SWEEP_JOBS = min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


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
    exports.add_argument(
        "--currency", default="", metavar="SYMBOL",
        help="written before amounts in the workbook, the HTML report and the anomaly reasons, "
        "and saved with --save-model (e.g. £, $, CHF; default: none; amounts are never converted)",
    )  # fmt: skip


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
        "(default), or ranked within INPUT (when INPUT is a whole customer base re-scored); "
        "--score-edges wins over both",
    )  # fmt: skip
    score.add_argument("--report", type=Path, help="write the run report as JSON here")
    _add_scoring_options(score, model=True)
    score.add_argument(
        "--currency", metavar="SYMBOL",
        help="written before amounts in the anomaly reasons (default: the model's)",
    )  # fmt: skip
    _add_publish_options(score)
    score.set_defaults(table=None, database=None, mapping=[], date_order="auto")


def _write_exports(args, table, report, segmentation, anomalies, classifier, scores) -> None:
    """Write what ``segment`` was asked for besides the labeled CSV."""
    if args.save_model:
        _, signed = _bundle(args, table, report, segmentation, anomalies, scores)
        args.save_model.write_bytes(signed)
        print(f"model saved, signed → {args.save_model} (score new data: python -m rfm_core "
              f"score --model {args.save_model} INPUT -o OUT.csv)")  # fmt: skip
    if not (args.segments_zip or args.workbook or args.html_report):
        return
    from rfm_core.outputs.reports import excel_workbook, html_report, run_report, segment_csv_zip

    run = run_report(
        report, table, segmentation, anomalies, classifier=classifier, edges=scores.edges,
        binning=scores.binning, currency=args.currency,
    )  # fmt: skip
    outputs = (
        (args.segments_zip, lambda: segment_csv_zip(run.labeled)),
        (args.workbook, lambda: excel_workbook(run)),
        (args.html_report, lambda: html_report(run).encode("utf-8")),
    )
    for path, make in outputs:
        if path:
            path.write_bytes(make())
            print(f"→ {path}")


def _bundle(args, table, report, segmentation, anomalies, scores):
    """The models of a ``segment`` run and their signed bytes, built once for --save-model and
    --publish (so that the saved file and the published run are the same model; the anomaly
    classifier is never part of it)."""
    if getattr(args, "built_bundle", None) is None:
        from rfm_core.ingest.schema import ColumnMapping
        from rfm_core.outputs.persistence import build_bundle, dump_bundle, installation_key

        bundle = build_bundle(
            table, segmentation, anomalies, mapping=ColumnMapping(**report["mapping"]),
            rules=_rules(args), date_order=args.date_order, date_format=report["date_format"],
            segments=scores.segments, edges=scores.edges, currency=args.currency,
            trained_on={"file": report["file"], "reference_date": report["reference_date"]},
        )  # fmt: skip
        args.built_bundle = (bundle, dump_bundle(bundle, key=installation_key()))
    return args.built_bundle


def _publish(args, run, table, segmentation, anomalies, bundle, signed, report, overview) -> None:
    """Store the run in ``--store`` under ``--publish NAME``; print its id."""
    from rfm_core.outputs.runs import run_record
    from rfm_core.outputs.store import RunStore

    record = run_record(
        run, table, segmentation, anomalies, bundle, signed=signed, account=report,
        name=args.publish, author=args.author, kind=args.command,
        source_sha256=_file_sha256(args.input) if args.input else "", overview=overview(),
    )  # fmt: skip
    store = RunStore(args.store)
    run_id = store.publish(record)
    print(f"published '{record.name}' as run {run_id} in {store.describe()} (open it in the app: "
          f"?run={run_id}; python -m rfm_core runs show {run_id} -o customers.csv)")  # fmt: skip


def _file_sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _add_publish_options(parser: argparse.ArgumentParser) -> None:
    import getpass

    from rfm_core.config import store_url

    group = parser.add_argument_group("publishing")
    group.add_argument(
        "--publish", metavar="NAME",
        help="store the run under this name in the run store, for the app's viewers "
        "(read-only link ?run=ID) and the segment history",
    )  # fmt: skip
    _add_store_option(group, store_url)
    group.add_argument(
        "--author", default=getpass.getuser(), help="who publishes (default: this user)"
    )


def _add_store_option(parser, store_url) -> None:
    parser.add_argument(
        "--store", default=store_url(), metavar="URL",
        help="run store: a DuckDB file or postgresql://user:password@host:port/db "
        "(default: RFM_STORE, else data/runs.duckdb)",
    )  # fmt: skip


def _run_score(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    from rfm_core.outputs.persistence import installation_key, load_bundle

    signed = args.model.read_bytes()
    model = load_bundle(signed, key=installation_key())
    if args.currency is not None:
        model = replace(model, currency=args.currency.strip())
    run = _customers(args, warm=("rfm_core.segments.segmentation",), model=model)
    report, scores = run.report, run.scores
    from rfm_core.outputs.export import labeled_csv, scores_report_dict
    from rfm_core.outputs.persistence import apply_bundle
    from rfm_core.segments.segmentation import labeled_customers

    # --score-edges scored the customers already; otherwise the model's edges (or the file)
    basis = "file" if scores.binning is not None else args.scores
    scored = apply_bundle(run.rfm.table, model, scores=basis, segments=scores.segments)
    segmentation, anomalies = scored.segmentation, scored.anomalies
    labeled = labeled_customers(scored.table, segmentation, anomalies, renamed=segmentation.names)
    if basis == "model" and model.score_edges is not None:
        report["scores"] = {
            **scores_report_dict(model.score_edges),
            "binning": None,
            "in_words": "the saved model's score edges",
        }
    args.output.write_bytes(labeled_csv(labeled))
    report["warnings"] = [*model.warnings, *report["warnings"]]
    report["model"] = {
        "file": str(args.model),
        "created": model.created,
        "trained_on": model.trained_on,
        "method": model.segmentation.method,
        # a model saved before score edges ranks within the file whatever was asked
        "scores": basis if model.score_edges is not None else "file",
        "segments": labeled["segment_name"].value_counts().to_dict(),
        "flagged": int(labeled["anomaly"].sum()) if "anomaly" in labeled else None,
    }
    if args.report:
        args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    _print_summary(report, args.output, time.perf_counter() - started)
    _print_scores(report)
    facts = report["model"]
    print(f"scored with the model of {facts['created']} ({facts['method']}, no refit):")
    for name, count in facts["segments"].items():
        print(f"  {name:<22} {count:>9,} customers")
    if facts["flagged"] is not None:
        print(f"anomalies: {facts['flagged']:,} customers flagged (column anomaly)")
    if args.publish:
        _publish(
            args, run.run, scored.table, segmentation, anomalies, model, signed, report,
            run.overview,
        )  # fmt: skip
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
    path: Path, *, sheet: str | int | None, warm: tuple[str, ...] = (), freeze: bool = False
) -> LoadedTable:
    """Read the file in a second process while this one imports the engine's modules.

    The imports of the query engine and pandas take ~0.6 s (scikit-learn for ``segment`` ~1 s
    more), as much as reading a workbook: overlapping them is the cheapest speed-up of a one-shot
    command. DuckDB's ibis backend (~0.25 s) is imported here too: ibis loads it only at the
    first connection, which would be after the read.

    On Linux the file is read in a fork of this process, made before anything heavy is imported
    (no thread to inherit), and the table comes back pickled (54 MB of Arrow for the Online
    Retail workbook: ~0.05 s). A thread would not do: fastexcel holds the GIL while it parses a
    sheet, so the imports and the read took turns (measured: a sheet took 1.9 s alone and 3.7 s
    beside a thread running Python). Elsewhere, or if the reading process dies, the file is read
    in a thread as before.

    ``freeze`` (a process that ends with the command): the ~190,000 objects the imports made are
    then moved out of the garbage collector's sight (:func:`gc.freeze`). They live until the
    end anyway, and every full collection would walk them: on the Online Retail workbook the
    collections after the read and the interpreter's exit took ~0.5 s of ``segment``, ~0.1 s
    once frozen.
    """
    import importlib
    from concurrent.futures import Executor, ThreadPoolExecutor

    reader: Executor
    if sys.platform.startswith("linux"):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        reader = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
    else:
        reader = ThreadPoolExecutor(max_workers=1)
    with reader:
        future = reader.submit(_read_file, path, sheet)
        for module in ("rfm_core.customers.pipeline", "ibis.backends.duckdb", *warm):
            importlib.import_module(module)  # warm the import cache meanwhile
        try:
            loaded = future.result()
        except BrokenExecutor:
            loaded = _read_file(path, sheet)
    if freeze:
        gc.freeze()
    return loaded


def _read_file(path: Path, sheet: str | int | None) -> LoadedTable:
    from rfm_core.ingest.io import load_path

    return load_path(path, sheet=sheet)


def _print_scores(report: dict) -> None:
    """One line per score: what each of its levels means."""
    scores = report["scores"]
    print(f"scores ({scores['in_words']}):")
    levels = scores["levels"]
    for start in range(0, len(levels), 5):
        print("  " + " · ".join(levels[start : start + 5]))


def _print_summary(report: dict, output: Path, seconds: float) -> None:
    print(f"{report['file']}: {report['rows_in']:,} rows read, {report['rows_kept']:,} kept")
    lost = report.get("customers_lost", {})
    for reason, rows in report["rows_removed"].items():
        customers = f"  ({lost[reason]:,} customers lost)" if lost.get(reason) else ""
        print(f"  removed {rows:>10,}  {reason}{customers}")
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
    if args.segments:
        options["segments"] = _read_segments(args.segments)
    if args.score_edges:
        options["binning"] = _read_binning(args.score_edges)
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

        loaded = _load_while_importing(args.input, sheet=_sheet(args.sheet), freeze=args.one_shot)
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


def _add_runs_parser(commands) -> None:
    from rfm_core.config import SEGMENT_BY, store_url

    runs = commands.add_parser(
        "runs", help="published runs: list them, export one, who moved since the last run"
    )
    _add_store_option(runs, store_url)
    actions = runs.add_subparsers(dest="runs_command")
    show = actions.add_parser("show", help="export a run's labeled customers (and its model)")
    show.add_argument("run_id", metavar="ID")
    show.add_argument("-o", "--output", type=Path, required=True, help="CSV to write")
    show.add_argument(
        "--bundle", type=Path, metavar="MODEL.rfm",
        help="also write the run's signed model, to score new data with score --model",
    )  # fmt: skip
    for name, text in (
        ("changes", "customers whose segment changed since the previous run of the same model"),
        ("history", "each customer's segment, the one before it and since when"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("run_id", metavar="ID")
        action.add_argument("-o", "--output", type=Path, required=True, help="CSV to write")
        action.add_argument(
            "--by", choices=SEGMENT_BY, default="segment",
            help="the model's segments (default) or the rule segments",
        )  # fmt: skip


def _run_runs(args: argparse.Namespace) -> int:
    """List the published runs, or export one, its changes or its segment history."""
    from rfm_core.outputs.export import rfm_csv
    from rfm_core.outputs.store import RunStore

    store = RunStore(args.store)
    if args.runs_command is None:
        listed = store.runs()
        print(f"{len(listed):,} published runs in {store.describe()}")
        for run in listed.itertuples():
            print(
                f"  {run.run_id}  {run.published_at:%Y-%m-%d %H:%M} UTC  {run.kind:<7} "
                f"{run.customers:>9,} customers  model {run.model_id[:8]}  {run.name} "
                f"({run.author}, {run.source_name})"
            )
        return 0
    if args.runs_command == "show":
        from rfm_core.outputs.persistence import installation_key
        from rfm_core.outputs.runs import open_run
        from rfm_core.segments.segmentation import labeled_customers

        stored = store.load(args.run_id)
        run = open_run(stored, key=installation_key())
        segmentation = run.segmentation
        labeled = labeled_customers(
            run.rfm.table, segmentation, run.anomalies, renamed=segmentation.names
        )
        args.output.write_bytes(rfm_csv(labeled))
        print(f"run {stored.run_id} '{stored.name}': {len(labeled):,} customers → {args.output}")
        if args.bundle:
            args.bundle.write_bytes(stored.bundle)
            print(f"its model → {args.bundle} (score new data: python -m rfm_core score --model "
                  f"{args.bundle} INPUT -o OUT.csv --publish NAME)")  # fmt: skip
        return 0
    if args.runs_command == "changes":
        changes = store.changes(args.run_id, by=args.by)
        args.output.write_bytes(rfm_csv(changes.table.set_index("customer_id")))
        if changes.previous is None:
            print(f"run {args.run_id} is the first run of its model: nothing to compare")
        else:
            counts = changes.table["change"].value_counts()
            summary = ", ".join(f"{n:,} {change}" for change, n in counts.items()) or "no change"
            before = changes.previous
            print(f"since run {before['run_id']} of {before['published_at']:%Y-%m-%d}: "
                  f"{summary} → {args.output}")  # fmt: skip
        return 0
    history = store.segment_history(args.run_id, by=args.by)
    args.output.write_bytes(rfm_csv(history))
    moved = int(history["previous_segment"].notna().sum())
    print(f"run {args.run_id}: {len(history):,} customers, {moved:,} changed segment once or "
          f"more → {args.output}")  # fmt: skip
    return 0


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


def main(argv: Sequence[str] | None = None, *, one_shot: bool = False) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after ``python -m rfm_core`` (default: ``sys.argv[1:]``).
    one_shot : bool, default False
        The process ends with the command (``python -m rfm_core``): the objects alive once the
        modules are imported, and at the end, are left out of garbage collection
        (:func:`gc.freeze`), which spares the collections and the exit from walking them. Left
        False where main is called in a longer-lived process (tests), which would keep its
        cyclic garbage of that moment for good.

    Returns
    -------
    int
        0 on success; :data:`EXIT_BAD_INPUT` (2) after one ``error: …`` line on standard error
        when the input or an option is refused (an :class:`~rfm_core.errors.RfmError`) or a file
        cannot be read or written.
    """
    args = build_parser().parse_args(argv)
    args.one_shot = one_shot
    # results carry their warnings and the summary prints them once, as "warning: …" lines
    warnings.simplefilter("ignore", UserWarning)
    try:
        commands = {
            "rfm": _run_rfm,
            "clean": _run_clean,
            "segment": _run_segment,
            "score": _run_score,
            "migrate": _run_migrate,
            "clv": _run_clv,
            "backtest": _run_backtest,
            "runs": _run_runs,
            "demo": _run_demo,
        }
        status = commands[args.command](args)
        if one_shot:
            gc.freeze()  # the interpreter's exit need not walk what the command left
        return status
    except RfmError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
