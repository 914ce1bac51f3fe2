"""The three engines: each applies one pandas function to every partition of a dataset.

``Engine.map_partitions(dataset, fn)`` returns the list of ``fn(frame)`` results, one per
partition (a record batch for ``local``, a Dask partition, a Spark Arrow batch); the
caller merges them exactly. Every partition is first put into the dataset's one schema
(:func:`canonical`) so that a function sees the same pandas types on every engine.
``Engine.sample`` draws the same rows on every engine: each row's key is a hash of its
content, and the sample is the ``n`` rows with the smallest keys (two passes: each
partition's ``n`` smallest keys, then the rows at or below the global ``n``-th key).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import pickle
import re
import socket
import sys
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pandas as pd

from readiness import errors as E
from readiness.engines.dataset import Dataset, iter_frames

ENGINES = ("local", "dask", "spark")
SAMPLE_SEED = 0
KEY = "__readiness_key__"


def canonical(frame: pd.DataFrame, schema) -> pd.DataFrame:
    """A partition in the dataset's schema, converted to pandas as a Parquet file of it reads."""
    import pyarrow as pa

    names = [n for n in schema.names if n in frame.columns]
    sub = pa.schema([schema.field(n) for n in names])
    table = pa.Table.from_pandas(frame[names], preserve_index=False)
    return table.cast(sub, safe=False).to_pandas()


def row_keys(frame: pd.DataFrame, seed: int = SAMPLE_SEED) -> np.ndarray:
    """A uint64 per row from its content only (numbers as float64, the rest as text), so a row gets
    the same key whatever partition or engine it was read in."""
    norm = {}
    for c in frame.columns:
        s = frame[c]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            norm[c] = pd.to_numeric(s, errors="coerce").astype("float64").to_numpy()
        else:
            obj = s.astype(object)
            norm[c] = np.where(obj.isna().to_numpy(), "\x00", obj.astype(str).to_numpy()).astype(object)
    key = f"readiness{seed:07d}"[:16]
    return pd.util.hash_pandas_object(pd.DataFrame(norm), index=False, hash_key=key).to_numpy(np.uint64)


def _smallest_keys(frame: pd.DataFrame, n: int, seed: int) -> np.ndarray:
    k = row_keys(frame, seed)
    return np.sort(k)[:n] if len(k) > n else np.sort(k)


def _rows_at_or_below(frame: pd.DataFrame, limit: int, seed: int) -> pd.DataFrame:
    k = row_keys(frame, seed)
    keep = k <= np.uint64(limit)
    out = frame[keep].reset_index(drop=True)
    out[KEY] = k[keep]
    return out


def _applied(fn, schema, frame: pd.DataFrame):
    return fn(canonical(frame, schema))


class Engine:
    """Base class: ``map_partitions`` is what an engine implements."""

    name = "engine"

    def map_partitions(self, dataset: Dataset, fn, *, columns: list[str] | None = None) -> list:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def describe(self) -> str:
        return self.name

    def group_tally(self, sources: list, hasher, tally, *, on: str = "b") -> list:
        """A global group-by of row hashes, where the data lives. ``sources``: Datasets or pandas frames;
        ``hasher(frame, i)`` turns a partition of source ``i`` into a frame of 64-bit hash columns, one row
        per input row; rows with equal ``on`` column are brought together (a shuffle on the engine) and
        ``tally(chunk)`` counts each chunk, which holds every row of each of its ``on`` values. Returns the
        list of tallies (small dicts), for the caller to merge. Implemented by each engine."""
        raise NotImplementedError

    def sample(self, dataset: Dataset, n: int, *, seed: int = SAMPLE_SEED) -> pd.DataFrame:
        """The ``n`` rows with the smallest content keys (all rows when the dataset has at most ``n``),
        in key order; the same rows on every engine."""
        parts = self.map_partitions(dataset, functools.partial(_smallest_keys, n=n, seed=seed))
        keys = np.sort(np.concatenate([np.asarray(p, dtype=np.uint64) for p in parts]))
        limit = int(keys[min(n, len(keys)) - 1])
        rows = self.map_partitions(dataset, functools.partial(_rows_at_or_below, limit=limit, seed=seed))
        frame = pd.concat([r for r in rows if len(r)], ignore_index=True)
        frame = frame.sort_values(KEY, kind="stable").head(n).drop(columns=[KEY]).reset_index(drop=True)
        return canonical(frame, dataset.schema)


class LocalEngine(Engine):
    """pandas over Arrow record batches: streams a dataset that does not fit in memory."""

    name = "local"

    def __init__(self, batch_rows: int = 262_144):
        self.batch_rows = batch_rows

    def map_partitions(self, dataset, fn, *, columns=None):
        return [_applied(fn, dataset.schema, f) for f in iter_frames(dataset, columns=columns,
                                                                     batch_rows=self.batch_rows)]

    #: rows whose hashes one bucket holds in memory at a time (40 bytes a row with five hash columns: about
    #: 160 MB); above it the hashes are spilled to bucket files by the top bits of the ``on`` column
    bucket_rows = 4_000_000

    def group_tally(self, sources, hasher, tally, *, on="b"):
        import tempfile

        total = sum(len(s) if isinstance(s, pd.DataFrame) else s.num_rows for s in sources)
        bits = max(0, int(np.ceil(np.log2(max(total, 1) / self.bucket_rows))))
        if bits == 0:
            return [tally(pd.concat(list(self._hashes(sources, hasher)), ignore_index=True))]
        with tempfile.TemporaryDirectory(prefix="readiness-tally-") as tmp:
            names: list[str] | None = None
            for h in self._hashes(sources, hasher):
                names = list(h.columns)
                arr = np.column_stack([h[c].to_numpy().view(np.uint64) if h[c].dtype.kind == "i" else
                                       h[c].to_numpy(np.uint64) for c in names])
                bucket = arr[:, names.index(on)] >> np.uint64(64 - bits)
                for b in np.unique(bucket):
                    with open(os.path.join(tmp, f"{int(b)}.u64"), "ab") as f:
                        arr[bucket == b].tofile(f)
            out = []
            for b in range(2 ** bits):
                path = os.path.join(tmp, f"{b}.u64")
                if os.path.exists(path):
                    arr = np.fromfile(path, dtype=np.uint64).reshape(-1, len(names))
                    out.append(tally(pd.DataFrame({c: arr[:, j] for j, c in enumerate(names)})))
            return out

    def _hashes(self, sources, hasher):
        for i, src in enumerate(sources):
            if isinstance(src, pd.DataFrame):
                yield hasher(src, i)
            else:
                for f in iter_frames(src, batch_rows=self.batch_rows):
                    yield hasher(canonical(f, src.schema), i)


class DaskEngine(Engine):
    """Dask ``map_partitions`` on a distributed cluster (an address) or a LocalCluster of processes."""

    name = "dask"

    def __init__(self, scheduler: str | None = None, *, n_workers: int = 2, memory_limit: str | None = None):
        try:
            import dask.dataframe  # noqa: F401
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise E.ReadinessError(E.ENGINE_MISSING.format(engine="dask", detail=str(exc))) from None
        self.scheduler = scheduler
        self._cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise E.ReadinessError(E.ENGINE_UNREACHABLE.format(
                    what="Dask scheduler", address=scheduler, detail=" ".join(str(exc).split())[:200])) from None
        else:
            with _no_main_script():
                # silence_logs: the workers' own log (restart warnings, a heartbeat traceback at shutdown) would
                # share the CLI's stderr, where a failure must be one line; a failure reaches the user as that line
                self._cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                             memory_limit=memory_limit or "auto", dashboard_address=":0",
                                             silence_logs=logging.CRITICAL)
            self.client = Client(self._cluster)

    def describe(self) -> str:
        return f"dask ({self.scheduler or 'local cluster'}, {len(self.client.scheduler_info()['workers'])} workers)"

    def map_partitions(self, dataset, fn, *, columns=None):
        import dask
        import dask.dataframe as dd

        with dask.config.set({"dataframe.convert-string": False}):
            with _failing_as("dask", "reading the partitions"):
                ddf = dd.read_parquet(dataset.urls(), columns=columns, filesystem=_dask_fs(dataset))
                series = ddf.map_partitions(_one_per_partition, fn, dataset.schema, meta=(None, object))
                out = self.client.compute(series, sync=True)
        return [pickle.loads(b) for b in out.tolist()]

    def group_tally(self, sources, hasher, tally, *, on="b"):
        """Hash columns per partition on the workers, a hash shuffle on ``on`` (dask's ``shuffle``), then
        ``tally`` per shuffled partition on the workers; only the tallies come back."""
        import dask
        import dask.dataframe as dd

        with dask.config.set({"dataframe.convert-string": False}):
            with _failing_as("dask", "counting row hashes"):
                parts = []
                for i, src in enumerate(sources):
                    if isinstance(src, pd.DataFrame):
                        parts.append(dd.from_pandas(hasher(src, i), npartitions=1))
                        continue
                    ddf = dd.read_parquet(src.urls(), filesystem=_dask_fs(src))
                    meta = hasher(canonical(src.schema.empty_table().to_pandas(), src.schema), i)
                    parts.append(ddf.map_partitions(_hashed, hasher, src.schema, i, meta=meta))
                both = dd.concat(parts) if len(parts) > 1 else parts[0]
                n = max(2, both.npartitions)
                shuffled = both.shuffle(on=on, npartitions=n)
                series = shuffled.map_partitions(_tallied, tally, meta=(None, object))
                out = self.client.compute(series, sync=True)
        return [pickle.loads(b) for b in out.tolist()]

    def close(self):
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


@contextlib.contextmanager
def _no_main_script():
    """Start worker processes without re-running the caller's main script. A spawned process imports the parent's
    ``__main__`` from its file first; inside Streamlit (and after its AppTest) that module is the app's page
    script, which then runs in every worker and kills it ('Nanny failed to start'). The workers need nothing from
    ``__main__``: everything they run is pickled by reference to ``readiness``."""
    import types

    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if saved is not None:
            sys.modules["__main__"] = saved


@contextlib.contextmanager
def _failing_as(engine: str, doing: str):
    """An engine's failure as one line (ENGINE_FAILED, the cause from :func:`failure_line`); the project's own
    errors pass as they are."""
    try:
        yield
    except E.ReadinessError:
        raise
    except Exception as exc:
        raise E.ReadinessError(E.ENGINE_FAILED.format(engine=engine, doing=doing, detail=failure_line(exc))) from None


FAILURE_CHARS = 300  # the longest cause ENGINE_FAILED shows
_TRACEBACK = "Traceback (most recent call last):"
_JAVA_FRAME = re.compile(r"^\s*(?:at \S+\(.*\)|\.\.\. \d+ more)\s*$")  # "\tat org.apache...(X.scala:1)", "... 21 more"
_PY4J_CALL = re.compile(r"^An error occurred while calling [\w.]+\.?$")
_JAVA_LABEL = re.compile(r"(?:^|(?<=\s)):?\s*(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*: ")  # "org.apache.spark.SparkException: "
_SPARK_NOISE = (re.compile(r"Lost task [\d.]+ in stage [\d.]+ \(TID \d+\) \([^)]*\): "),
                re.compile(r"\s*Consider setting '[^']*'.*?traceback\."))
_EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*)(?:: (.*))?$")  # "pkg.mod.ValueError: message"


def failure_line(exc: BaseException) -> str:
    """What went wrong on the engine, in one line of at most :data:`FAILURE_CHARS` characters: of a Python
    traceback (a Spark Python worker's, inside the error's text) only its final exception line; of a Java
    error (py4j) its first line without stack frames, class names or Spark's task bookkeeping; of a Python
    exception (Dask re-raises a task's own) its class name and message. A project error raised on a worker
    keeps only its message."""
    text = str(exc).split("\nDriver stacktrace:")[0]
    lines = [ln for ln in text.splitlines() if ln.strip()]
    java = any(_JAVA_FRAME.match(ln) for ln in lines) or type(exc).__module__.split(".")[0] in ("py4j", "pyspark")
    marks = [i for i, ln in enumerate(lines) if _TRACEBACK in ln]
    if marks:  # the exception line: the first line after the last traceback's indented frames
        line = next((ln for ln in lines[marks[-1] + 1:] if not ln[0].isspace()), "")
        m = _EXCEPTION_LINE.match(line.strip())
        detail = line
        if m:
            name, message = m.group(1), m.group(2) or ""
            detail = message if name in _PROJECT_ERRORS else f"{name}: {message}" if message else name
    elif java:
        lines = [ln for ln in lines if not _JAVA_FRAME.match(ln) and not _PY4J_CALL.match(ln.strip())]
        detail = _JAVA_LABEL.sub(" ", lines[0] if lines else "").strip(" :")
        for noise in _SPARK_NOISE:
            detail = noise.sub("", detail)
    else:
        detail = " ".join(lines)
        name = type(exc).__name__
        if name not in _PROJECT_ERRORS and not detail.startswith(name):
            detail = f"{name}: {detail}" if detail else name
    detail = " ".join(detail.split()) or type(exc).__name__
    return detail if len(detail) <= FAILURE_CHARS else detail[:FAILURE_CHARS - 1].rstrip() + "…"


_PROJECT_ERRORS = frozenset(c.__name__ for c in vars(E).values() if isinstance(c, type) and issubclass(c, E.ReadinessError))


def _dask_fs(dataset: Dataset):
    return None if dataset.protocol in ("file", "local") else dataset.filesystem


def _one_per_partition(frame, fn, schema):
    return pd.Series([pickle.dumps(_applied(fn, schema, frame), protocol=5)], dtype=object)


def _hashed(frame, hasher, schema, i):
    return hasher(canonical(frame, schema), i)


def _tallied(frame, tally):
    return pd.Series([pickle.dumps(tally(frame.reset_index(drop=True)), protocol=5)], dtype=object)


class SparkEngine(Engine):
    """Spark ``mapInPandas`` on a master URL (``local[2]``, ``spark://...``) or the active session."""

    name = "spark"

    def __init__(self, master: str | None = None, *, session=None):
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:
            raise E.ReadinessError(E.ENGINE_MISSING.format(engine="spark", detail=str(exc))) from None
        self._own = False
        if session is None and master is None:
            session = SparkSession.getActiveSession()
        if session is None:
            master = master or "local[2]"
            _reachable(master)
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            try:
                session = (SparkSession.builder.master(master).appName("readiness")
                           .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                           .config("spark.sql.execution.arrow.maxRecordsPerBatch", "200000")
                           .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
                           .config("spark.driver.memory", os.environ.get("READINESS_SPARK_DRIVER_MEMORY", "2g"))
                           .getOrCreate())
            except Exception as exc:
                raise E.ReadinessError(E.ENGINE_UNREACHABLE.format(
                    what="Spark master", address=master, detail=" ".join(str(exc).split())[:200])) from None
            session.sparkContext.setLogLevel("ERROR")
            self._own = True
        self.session = session
        self.master = session.sparkContext.master

    def describe(self) -> str:
        return f"spark ({self.master})"

    def map_partitions(self, dataset, fn, *, columns=None):
        if dataset.protocol not in ("file", "local", "hdfs", "s3a", "s3", "gs", "abfs", "abfss"):
            raise E.ReadinessError(E.ENGINE_FAILED.format(
                engine="spark", doing="opening the dataset",
                detail=f"Spark reads local, HDFS and object-store paths, not {dataset.protocol}:// URLs"))
        with _failing_as("spark", "reading the partitions"):
            df = self.session.read.parquet(*dataset.urls())
            if columns is not None:
                df = df.select(*columns)
            schema = dataset.schema
            rows = df.mapInPandas(functools.partial(_spark_batches, fn=fn, schema=schema), "s binary").collect()
        return [pickle.loads(r["s"]) for r in rows]

    def group_tally(self, sources, hasher, tally, *, on="b"):
        """``mapInPandas`` to hash columns (64-bit integers), a union, ``repartition`` on ``on`` (Spark's hash
        shuffle), then ``mapInPandas`` of ``tally`` over each shuffled partition; only the tallies are collected."""
        with _failing_as("spark", "counting row hashes"):
            frames = []
            for i, src in enumerate(sources):
                if isinstance(src, pd.DataFrame):
                    h = _as_int64(hasher(src, i))
                    frames.append(self.session.createDataFrame(h, _spark_schema(h)))
                    continue
                meta = _as_int64(hasher(canonical(src.schema.empty_table().to_pandas(), src.schema), i))
                df = self.session.read.parquet(*src.urls())
                frames.append(df.mapInPandas(functools.partial(_spark_hashes, hasher=hasher, schema=src.schema, i=i),
                                             _spark_schema(meta)))
            both = functools.reduce(lambda a, b: a.unionByName(b), frames)
            n = max(2, both.rdd.getNumPartitions())
            rows = both.repartition(n, on).mapInPandas(functools.partial(_spark_tally, tally=tally),
                                                       "s binary").collect()
        return [pickle.loads(r["s"]) for r in rows]

    def close(self):
        if self._own:
            self.session.stop()


def _spark_batches(batches, *, fn, schema):
    for frame in batches:
        yield pd.DataFrame({"s": [pickle.dumps(_applied(fn, schema, frame), protocol=5)]})


def _as_int64(frame: pd.DataFrame) -> pd.DataFrame:
    """Hash columns as Spark longs (the same 64 bits)."""
    return pd.DataFrame({c: frame[c].to_numpy().view(np.int64) if frame[c].dtype == np.uint64 else
                         frame[c].to_numpy(np.int64) for c in frame.columns})


def _spark_schema(frame: pd.DataFrame) -> str:
    return ", ".join(f"{c} long" for c in frame.columns)


def _spark_hashes(batches, *, hasher, schema, i):
    for frame in batches:
        yield _as_int64(hasher(canonical(frame, schema), i))


def _spark_tally(batches, *, tally):
    """One tally of a whole shuffled partition (all its Arrow batches: the groups span them)."""
    frames = list(batches)
    if frames:
        yield pd.DataFrame({"s": [pickle.dumps(tally(pd.concat(frames, ignore_index=True)), protocol=5)]})


def _reachable(master: str) -> None:
    """A spark:// master must accept a connection (Spark itself retries for minutes)."""
    if not master.startswith("spark://"):
        return
    for hostport in master[len("spark://"):].split(","):
        u = urlparse("spark://" + hostport)
        try:
            socket.create_connection((u.hostname, u.port or 7077), timeout=5).close()
            return
        except OSError as exc:
            detail = exc.strerror or str(exc)
    raise E.ReadinessError(E.ENGINE_UNREACHABLE.format(what="Spark master", address=master, detail=detail))


def get_engine(name: str, *, dask_scheduler: str | None = None, spark_master: str | None = None,
               spark_session: Any = None, **options) -> Engine:
    """An engine by name (``local | dask | spark``); bad names and missing extras are one-line errors."""
    if name not in ENGINES:
        raise E.ReadinessError(E.ENGINE_UNKNOWN.format(engine=name))
    if name == "local":
        return LocalEngine()
    if name == "dask":
        return DaskEngine(dask_scheduler, **options)
    return SparkEngine(spark_master, session=spark_session)
