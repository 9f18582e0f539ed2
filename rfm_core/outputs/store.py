"""The run store: published runs that a team shares, in DuckDB (a file) or PostgreSQL.

A published run (:class:`RunRecord`) is written once and never changed: its facts (who, when,
which file, which model), the signed model bundle, its tables as Parquet (customers, segments,
anomaly flags, cleaning report, k sweep, profile, overview) and one narrow row per customer
(segment, cluster, rule segment, flag) from which the segment history is computed where the data
lives. Raw transaction lines are never stored.

One code path for both databases: Ibis expressions, and ``BEGIN`` … ``COMMIT`` around a publish,
so that a run is either entirely there or not at all. The store is named by a URL
(:func:`store_url`): a file path or ``duckdb:///path`` for an embedded DuckDB file (the default,
``data/runs.duckdb`` beside the package), or ``postgresql://user:password@host:port/database``.

Concurrency
-----------
PostgreSQL runs concurrent publishes in their own transactions. A DuckDB file can be open for
writing by one process at a time, and not at all for reading while it is: every operation opens
the file, does its work and closes it, under a lock file beside it (``runs.duckdb.lock``,
``flock``): shared for reading, exclusive for writing, waiting up to :data:`LOCK_TIMEOUT`
seconds. So the app's server, several of its sessions and a scheduled ``score --publish`` may
use the same file at once; none holds it between operations.

The segment history
-------------------
The runs of one model (the same bundle, :attr:`StoredRun.model_id`, e.g. a weekly
``score --model M --publish``) are ordered by publication time. For each customer of a run,
:meth:`RunStore.segment_history` gives their segment, the segment they had before it (the last
different one, empty when it never changed) and the publication time of the run since which they
have been in it; :meth:`RunStore.changes` lists who moved between a run and the previous run of
its model, who is new and who is no longer there.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import io
import json
import os
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import ibis
import pandas as pd

from rfm_core.config import DEFAULT_STORE, SEGMENT_BY, STORE_ENV, store_url
from rfm_core.errors import RunNotFound, StoreError

__all__ = [
    "DEFAULT_STORE",
    "LOCK_TIMEOUT",
    "STORE_ENV",
    "Changes",
    "RunRecord",
    "RunStore",
    "StoredRun",
    "frame_from_parquet",
    "frame_to_parquet",
    "store_url",
]

LOCK_TIMEOUT = 60.0  # seconds a DuckDB operation waits for the file
RUNS, TABLES, SEGMENTS = "rfm_runs", "rfm_run_tables", "rfm_run_segments"
SegmentBy = Literal["segment", "rfm_segment"]

_SCHEMAS = {
    RUNS: ibis.schema(
        {
            "run_id": "string",
            "name": "string",
            "author": "string",
            "published_at": "timestamp('UTC')",
            "kind": "string",
            "source_name": "string",
            "source_sha256": "string",
            "model_id": "string",
            "customers": "int64",
            "flagged": "int64",
            "facts": "string",
            "bundle": "binary",
        }
    ),
    TABLES: ibis.schema({"run_id": "string", "name": "string", "data": "binary"}),
    SEGMENTS: ibis.schema(
        {
            "run_id": "string",
            "customer_id": "string",
            "segment": "string",
            "cluster": "int64",
            "rfm_segment": "string",
            "anomaly": "boolean",
        }
    ),
}
LISTED = ("run_id", "name", "author", "published_at", "kind", "source_name", "customers",
          "flagged", "model_id")  # fmt: skip
SEGMENT_COLUMNS = ("customer_id", "segment", "cluster", "rfm_segment", "anomaly")


_STRING_INDEX = b"rfm_string_index"


def frame_to_parquet(frame: pd.DataFrame) -> bytes:
    """Parquet bytes of a frame, index and dtypes (categories, dates, text) kept.

    Parameters
    ----------
    frame : pandas.DataFrame

    Returns
    -------
    bytes
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    index, marker = frame.index, None
    # Arrow's pandas metadata reads a nullable text index back as plain ``str``: such an index
    # (customer ids) travels as a column, named in the file's metadata
    if isinstance(index.dtype, pd.StringDtype) and index.name is not None:
        frame, marker = frame.reset_index(), str(index.name)
    table = pa.Table.from_pandas(frame, preserve_index=marker is None)
    if marker is not None:
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), _STRING_INDEX: marker.encode("utf-8")}
        )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def frame_from_parquet(data: bytes) -> pd.DataFrame:
    """The frame that :func:`frame_to_parquet` wrote.

    Parameters
    ----------
    data : bytes

    Returns
    -------
    pandas.DataFrame
    """
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(data))
    frame = table.to_pandas()
    # Parquet has no timestamps in seconds: such columns come back in ms unless told
    for column in (table.schema.pandas_metadata or {}).get("columns", []):
        name, wanted = column.get("name"), str(column.get("numpy_type"))
        naive_time = wanted.startswith("datetime64[") and not column.get("metadata")
        if naive_time and name in frame.columns and str(frame[name].dtype) != wanted:
            frame[name] = frame[name].astype(wanted)
    marker = (table.schema.metadata or {}).get(_STRING_INDEX)
    return frame if marker is None else frame.set_index(marker.decode("utf-8"))


@dataclass(frozen=True)
class RunRecord:
    """A run to publish (see :func:`rfm_core.outputs.runs.run_record`).

    Attributes
    ----------
    name, author : str
        What the publisher called it, and who published it.
    kind : {"segment", "score"}
        Fitted here, or scored with a saved model.
    source_name, source_sha256 : str
        The transaction file's name and the sha256 of its bytes (empty when the lines were read
        where they live, e.g. a table of a database).
    bundle : bytes
        The signed model bundle (:func:`rfm_core.outputs.persistence.dump_bundle`); its sha256
        is the run's model id.
    facts : dict
        JSON-ready facts (the cleaning account, notes, the k sweep's recommendation).
    tables : dict of str to pandas.DataFrame
        Stored as Parquet, read back as they were.
    segments : pandas.DataFrame
        One row per customer: :data:`SEGMENT_COLUMNS`.
    """

    name: str
    author: str
    kind: str
    source_name: str
    source_sha256: str
    bundle: bytes = field(repr=False)
    facts: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    segments: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    @property
    def model_id(self) -> str:
        """The sha256 of the bundle: runs scored with the same model file share it."""
        return hashlib.sha256(self.bundle).hexdigest()


@dataclass(frozen=True)
class StoredRun:
    """A published run as read back from the store.

    Attributes
    ----------
    run_id, name, author, kind, source_name, source_sha256, model_id : str
    published_at : pandas.Timestamp
        UTC.
    facts : dict
    tables : dict of str to pandas.DataFrame
    bundle : bytes
        The signed bundle, exactly as published.
    """

    run_id: str
    name: str
    author: str
    published_at: pd.Timestamp
    kind: str
    source_name: str
    source_sha256: str
    model_id: str
    facts: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(repr=False)
    bundle: bytes = field(repr=False)


@dataclass(frozen=True)
class Changes:
    """Who moved between a run and the previous run of the same model.

    Attributes
    ----------
    run_id : str
    previous : dict or None
        ``run_id, name, published_at`` of the previous run of the model; None for its first run.
    table : pandas.DataFrame
        One row per customer whose segment differs: ``customer_id, previous_segment, segment,
        change`` (``moved``, ``new``: not in the previous run, ``gone``: not in this one).
    """

    run_id: str
    previous: dict[str, Any] | None
    table: pd.DataFrame


class RunStore:
    """Published runs in a DuckDB file or a PostgreSQL database (see the module docstring).

    Parameters
    ----------
    url : str
        A DuckDB file path, ``duckdb:///path``, or ``postgresql://…`` (also ``postgres://``).
    lock_timeout : float
        Seconds a DuckDB operation waits for another process's write.

    Raises
    ------
    StoreError
        A URL of another database.
    """

    def __init__(self, url: str, *, lock_timeout: float = LOCK_TIMEOUT) -> None:
        text = str(url).strip()
        self.lock_timeout = lock_timeout
        scheme = text.split("://", 1)[0].lower() if "://" in text else ""
        if scheme in ("postgres", "postgresql"):
            self.kind, self.path = "postgres", None
            self._url = "postgres://" + text.split("://", 1)[1]
        elif scheme in ("", "duckdb"):
            path = text.split("://", 1)[1] if scheme else text
            if not path or path == ":memory:":
                raise StoreError("the run store needs a file: give RFM_STORE a path")
            self.kind, self.path = "duckdb", Path(path).expanduser()
            self._url = None
        else:
            raise StoreError(
                f"the run store {text!r} is neither a DuckDB file nor a postgresql:// URL"
            )

    def __repr__(self) -> str:
        return f"RunStore({self.describe()!r})"

    def describe(self) -> str:
        """Where the runs are, without a password.

        Returns
        -------
        str
            The DuckDB file, or the PostgreSQL host, port and database.
        """
        if self.path is not None:
            return str(self.path)
        rest = self._url.split("://", 1)[1]
        return "postgresql://" + rest.rsplit("@", 1)[-1]

    # -- connections -----------------------------------------------------------------------

    @contextlib.contextmanager
    def _connect(self, *, write: bool) -> Iterator[ibis.BaseBackend | None]:
        """A connection for one operation (None: a DuckDB store that does not exist yet)."""
        if self.path is None:
            try:
                con = ibis.connect(self._url)
            except Exception as exc:  # the driver's own error types
                raise StoreError(f"cannot reach the run store {self.describe()}: {exc}") from exc
            try:
                yield con
            finally:
                con.disconnect()
            return
        if write:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.exists():
            yield None
            return
        with self._file_lock(exclusive=write):
            try:
                con = ibis.duckdb.connect(str(self.path), read_only=not write)
            except Exception as exc:  # duckdb.IOException: a process outside the lock has it
                raise StoreError(f"cannot open the run store {self.path}: {exc}") from exc
            try:
                yield con
            finally:
                con.disconnect()

    @contextlib.contextmanager
    def _file_lock(self, *, exclusive: bool) -> Iterator[None]:
        lock = self.path.with_name(self.path.name + ".lock")
        try:
            descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreError(f"cannot open the lock file {lock}: {exc.strerror}") from exc
        try:
            mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
            deadline = time.monotonic() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(descriptor, mode | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise StoreError(
                            f"the run store {self.path} stayed busy for {self.lock_timeout:g} s "
                            "(another process is writing to it); try again"
                        ) from None
                    time.sleep(0.05)
            yield
        finally:
            os.close(descriptor)  # releases the lock

    def _tables(self, con: ibis.BaseBackend) -> bool:
        return set(_SCHEMAS) <= set(con.list_tables())

    def _create_tables(self, con: ibis.BaseBackend) -> None:
        for name, schema in _SCHEMAS.items():
            if name in con.list_tables():
                continue
            try:
                con.create_table(name, schema=schema)
            except Exception:  # created meanwhile by another writer (PostgreSQL)
                if name not in con.list_tables():
                    raise

    # -- writing ---------------------------------------------------------------------------

    def publish(self, record: RunRecord, *, published_at: dt.datetime | None = None) -> str:
        """Store a run, all of it or nothing.

        Parameters
        ----------
        record : RunRecord
        published_at : datetime.datetime, optional
            Publication time (aware); now by default.

        Returns
        -------
        str
            The new run's id, as used in links (``?run=<id>``).

        Raises
        ------
        StoreError
            The store cannot be reached or stayed busy.
        """
        run_id = secrets.token_hex(6)
        when = pd.Timestamp(published_at or dt.datetime.now(dt.UTC)).tz_convert("UTC")
        segments = record.segments.loc[:, list(SEGMENT_COLUMNS)].assign(run_id=run_id)
        segments = segments.astype(
            {"customer_id": "string", "segment": "string", "rfm_segment": "string",
             "cluster": "int64", "anomaly": "bool"}
        )  # fmt: skip
        run = {
            "run_id": run_id, "name": record.name, "author": record.author,
            "published_at": when, "kind": record.kind, "source_name": record.source_name,
            "source_sha256": record.source_sha256, "model_id": record.model_id,
            "customers": len(record.segments), "flagged": int(record.segments["anomaly"].sum()),
            "facts": json.dumps(record.facts, default=str), "bundle": record.bundle,
        }  # fmt: skip
        stored = {
            "run_id": run_id,
            "name": list(record.tables),
            "data": [frame_to_parquet(t) for t in record.tables.values()],
        }
        rows = {RUNS: pd.DataFrame([run]), TABLES: pd.DataFrame(stored), SEGMENTS: segments}
        with self._connect(write=True) as con:
            self._create_tables(con)
            _execute(con, "BEGIN")
            try:
                # the run's row last: a reader that joins on it never sees half a run
                for name in (TABLES, SEGMENTS, RUNS):
                    frame = rows[name].loc[:, list(_SCHEMAS[name].names)]
                    _insert(con, name, frame, copy=self.kind == "postgres" and name == SEGMENTS)
                _execute(con, "COMMIT")
            except BaseException:
                _execute(con, "ROLLBACK")
                raise
        return run_id

    # -- reading ---------------------------------------------------------------------------

    def runs(self) -> pd.DataFrame:
        """Every published run, newest first.

        Returns
        -------
        pandas.DataFrame
            Columns :data:`LISTED`; empty when nothing was published.
        """
        with self._connect(write=False) as con:
            if con is None or not self._tables(con):
                return pd.DataFrame({c: pd.Series(dtype="object") for c in LISTED})
            runs = con.table(RUNS)
            expr = runs.select(*LISTED).order_by([ibis.desc("published_at"), ibis.desc("run_id")])
            return expr.execute()

    def load(self, run_id: str) -> StoredRun:
        """Read one run back: facts, tables and bundle.

        Parameters
        ----------
        run_id : str

        Returns
        -------
        StoredRun

        Raises
        ------
        RunNotFound
            No run has this id.
        """
        with self._connect(write=False) as con:
            found = None
            if con is not None and self._tables(con):
                runs = con.table(RUNS)
                found = runs.filter(runs.run_id == str(run_id)).execute()
            if found is None or found.empty:
                raise RunNotFound(f"no published run has the id {str(run_id)!r}")
            tables = con.table(TABLES)
            stored = tables.filter(tables.run_id == str(run_id)).execute()
        row = found.iloc[0]
        return StoredRun(
            run_id=str(row["run_id"]),
            name=str(row["name"]),
            author=str(row["author"]),
            published_at=pd.Timestamp(row["published_at"]),
            kind=str(row["kind"]),
            source_name=str(row["source_name"]),
            source_sha256=str(row["source_sha256"]),
            model_id=str(row["model_id"]),
            facts=json.loads(row["facts"]),
            tables={
                str(name): frame_from_parquet(bytes(data))
                for name, data in zip(stored["name"], stored["data"], strict=True)
            },
            bundle=bytes(row["bundle"]),
        )

    def segment_history(self, run_id: str, *, by: SegmentBy = "segment") -> pd.DataFrame:
        """Each customer of a run: their segment, the one before it and since when.

        Parameters
        ----------
        run_id : str
        by : {"segment", "rfm_segment"}
            The model's segments (``segment_name``) or the rule segments.

        Returns
        -------
        pandas.DataFrame
            Index ``customer_id``; ``segment``, ``previous_segment`` (the last different segment
            in an earlier run of the same model; empty if it never changed), ``segment_since``
            (publication time of the run since which the customer has been in ``segment``),
            ``runs`` (runs of the model up to this one in which the customer appears).

        Raises
        ------
        RunNotFound
        """
        _check_by(by)
        with self._connect(write=False) as con:
            run = self._run_row(con, run_id)
            rows = _history_rows(con, run["model_id"], by=by, until=run)
            window = ibis.window(group_by="customer_id", order_by=["published_at", "run_id"])
            rows = rows.mutate(previous=rows.segment.lag().over(window))
            changed = rows.previous.isnull() | (rows.previous != rows.segment)
            so_far = ibis.cumulative_window(
                group_by="customer_id", order_by=["published_at", "run_id"]
            )
            rows = rows.mutate(
                changed=changed,
                streak=changed.ifelse(1, 0).sum().over(so_far),
                runs=rows.run_id.count().over(ibis.window(group_by="customer_id")),
            )
            streak = ibis.window(group_by=["customer_id", "streak"])
            rows = rows.mutate(
                segment_since=rows.published_at.min().over(streak),
                previous_segment=ibis.cases((rows.changed, rows.previous)).max().over(streak),
            )
            expr = rows.filter(rows.run_id == run["run_id"]).select(
                "customer_id", "segment", "previous_segment", "segment_since", "runs"
            )
            frame = expr.order_by("customer_id").execute()
        return frame.set_index("customer_id")

    def customer_history(
        self, run_id: str, customer_id: str, *, by: SegmentBy = "segment"
    ) -> pd.DataFrame:
        """One customer's segment in every run of the model of ``run_id``, oldest first.

        Parameters
        ----------
        run_id : str
            Any run of the model.
        customer_id : str
        by : {"segment", "rfm_segment"}

        Returns
        -------
        pandas.DataFrame
            ``run_id, name, published_at, segment``; empty when the customer is in none.

        Raises
        ------
        RunNotFound
        """
        _check_by(by)
        with self._connect(write=False) as con:
            run = self._run_row(con, run_id)
            rows = _history_rows(con, run["model_id"], by=by)
            expr = rows.filter(rows.customer_id == str(customer_id)).select(
                "run_id", "name", "published_at", "segment"
            )
            return expr.order_by(["published_at", "run_id"]).execute()

    def changes(self, run_id: str, *, by: SegmentBy = "segment") -> Changes:
        """Who moved between a run and the previous run of the same model.

        Parameters
        ----------
        run_id : str
        by : {"segment", "rfm_segment"}

        Returns
        -------
        Changes
            Its table is empty for the first run of a model.

        Raises
        ------
        RunNotFound
        """
        _check_by(by)
        columns = ["customer_id", "previous_segment", "segment", "change"]
        with self._connect(write=False) as con:
            run = self._run_row(con, run_id)
            runs = con.table(RUNS)
            earlier = runs.filter(
                (runs.model_id == run["model_id"])
                & _not_after(runs, run)
                & (runs.run_id != run["run_id"])
            )
            previous = (
                earlier.order_by([ibis.desc("published_at"), ibis.desc("run_id")])
                .select("run_id", "name", "published_at")
                .limit(1)
                .execute()
            )
            if previous.empty:
                return Changes(run["run_id"], None, pd.DataFrame(columns=columns))
            before = previous.iloc[0].to_dict()
            segments = con.table(SEGMENTS)
            now = segments.filter(segments.run_id == run["run_id"]).select(
                "customer_id", segment=segments[by]
            )
            then = segments.filter(segments.run_id == before["run_id"]).select(
                old_id=segments.customer_id, previous_segment=segments[by]
            )
            joined = now.outer_join(then, now.customer_id == then.old_id)
            both = joined.select(
                customer_id=ibis.coalesce(joined.customer_id, joined.old_id),
                previous_segment=joined.previous_segment,
                segment=joined.segment,
                change=ibis.cases(
                    (joined.old_id.isnull(), "new"),
                    (joined.customer_id.isnull(), "gone"),
                    (joined.segment != joined.previous_segment, "moved"),
                    else_="same",
                ),
            )
            table = both.filter(both.change != "same").order_by(["change", "customer_id"])
            frame = table.execute()
        return Changes(run["run_id"], before, frame.loc[:, columns].reset_index(drop=True))

    def _run_row(self, con: ibis.BaseBackend | None, run_id: str) -> dict[str, Any]:
        if con is not None and self._tables(con):
            runs = con.table(RUNS)
            found = (
                runs.filter(runs.run_id == str(run_id))
                .select("run_id", "model_id", "published_at")
                .execute()
            )
            if not found.empty:
                return found.iloc[0].to_dict()
        raise RunNotFound(f"no published run has the id {str(run_id)!r}")


def _history_rows(
    con: ibis.BaseBackend, model_id: str, *, by: str, until: Mapping[str, Any] | None = None
):
    """Every customer row of every run of a model (up to the run ``until``), with its time."""
    runs = con.table(RUNS)
    runs = runs.filter(runs.model_id == model_id)
    if until is not None:
        runs = runs.filter(_not_after(runs, until))
    segments = con.table(SEGMENTS)
    joined = segments.join(runs.select("run_id", "name", "published_at"), "run_id")
    return joined.select("customer_id", "run_id", "name", "published_at", segment=joined[by])


def _not_after(runs, run: Mapping[str, Any]):
    """Runs published before ``run``, or at the same time with a smaller id, and ``run``."""
    at = run["published_at"]
    return (runs.published_at < at) | ((runs.published_at == at) & (runs.run_id <= run["run_id"]))


def _check_by(by: str) -> None:
    if by not in SEGMENT_BY:
        raise StoreError(f"history by {by!r}: choose {' or '.join(SEGMENT_BY)}")


def _insert(con: ibis.BaseBackend, name: str, frame: pd.DataFrame, *, copy: bool) -> None:
    """Append the rows of ``frame`` (the columns of table ``name``, in order) to that table.

    ``copy``: stream them with PostgreSQL's ``COPY … FROM STDIN`` on the backend's psycopg
    connection, in the open transaction. Ibis' insert sends one ``INSERT`` per row: publishing
    500,000 customers took 6.6 s that way and 1.1 s with ``COPY`` (a local server). Missing
    values go as NULL.
    """
    if not copy:
        con.insert(name, ibis.memtable(frame, schema=_SCHEMAS[name]))
        return
    columns = ", ".join(f'"{column}"' for column in frame.columns)
    values = frame.astype(object).where(frame.notna(), None)
    statement = f'COPY "{name}" ({columns}) FROM STDIN'
    with con.con.cursor() as cursor, cursor.copy(statement) as stream:
        for row in values.itertuples(index=False, name=None):
            stream.write_row(row)


def _execute(con: ibis.BaseBackend, statement: str) -> None:
    """Run one statement; close the cursor a driver hands back (DuckDB returns itself)."""
    result = con.raw_sql(statement)
    if result is not None and result is not getattr(con, "con", None):
        result.close()
