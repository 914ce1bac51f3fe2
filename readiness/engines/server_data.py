"""Datasets on the server: what the app's operator lets visitors review in place of an upload.

Off unless the operator sets ``$READINESS_SERVER_DATA`` to a folder (the *data root*: the
``local`` engine reads it) or to a TOML file::

    root = "/srv/lake/reviews"          # folder whose entries are offered (relative: to this file)
    engine = "dask"                     # local (default) | dask | spark
    dask_scheduler = "tcp://10.0.0.5:8786"   # default: $DASK_SCHEDULER_ADDRESS, else a local cluster
    spark_master = "spark://10.0.0.6:7077"   # default: local[2]
    sample_rows = 100000                # rows of each input the row-level checks see (as --sample-rows)
    [urls]                              # named fsspec URLs, offered by their name only
    "Holdout 2026 Q3 (lake)" = "s3://lake/credit/holdout-2026q3/"

A visitor chooses among the entries :func:`list_server_datasets` offers, never types a
path: the folders of Parquet files and the single Parquet, CSV or TSV files directly in the
root (hidden names and names starting with ``_`` are left out) and the named URLs.
:func:`open_server_dataset` takes only such a choice: a name with a path separator, ``..``
or an absolute name is refused, and so is anything whose real path (links followed, every
file of a folder included) lies outside the root. Messages name the entry, never the
server's paths. No streamlit here: ``pages/setup.py`` draws the choice.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from readiness import errors as E
from readiness.engines.base import ENGINES, Engine
from readiness.engines.dataset import GLOB_CHARS, PARQUET_ENDINGS, Dataset, open_dataset
from readiness.inputs.tables import Table, _repair_numeric, load_table

SERVER_DATA_ENV = "READINESS_SERVER_DATA"
TABLE_ENDINGS = (".csv", ".tsv")
PREVIEW_ROWS = 20_000
#: A CSV or TSV on the server is loaded whole, as an upload is: no larger than the app's upload limit
#: (.streamlit/config.toml, maxUploadSize = 1024 MB). A larger table belongs in Parquet, which is streamed.
TABLE_MAX_BYTES = 1024 * 2**20
CONFIG_KEYS = {"root", "engine", "dask_scheduler", "spark_master", "sample_rows", "urls"}
log = logging.getLogger(__name__)


class ServerDataError(E.ReadinessError):
    """A dataset on the server that cannot be offered or opened, or a broken operator setting."""


@dataclasses.dataclass(frozen=True)
class ServerDataConfig:
    """The operator's setting: the data root, the named URLs and the engine that reads them."""

    root: Path | None = None
    urls: Mapping[str, str] = dataclasses.field(default_factory=dict)
    engine: str = "local"
    dask_scheduler: str | None = None
    spark_master: str | None = None
    sample_rows: int = 100_000

    def make_engine(self) -> Engine:
        from readiness.engines.review import make_engine

        return make_engine(self.engine, dask_scheduler=self.dask_scheduler, spark_master=self.spark_master)

    def describe_engine(self) -> str:
        where = {"dask": self.dask_scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or "a local cluster",
                 "spark": self.spark_master or "local[2]"}.get(self.engine)
        return f"{self.engine} ({where})" if where else self.engine


def _bad_config(problem: str) -> ServerDataError:
    return ServerDataError(E.SERVER_DATA_CONFIG.format(env=SERVER_DATA_ENV, problem=problem))


def server_data_config(environ: Mapping[str, str] | None = None) -> ServerDataConfig | None:
    """The operator's setting from ``$READINESS_SERVER_DATA``; None when unset (server datasets off).
    Raises :class:`ServerDataError` (one line) for a setting that cannot be used."""
    value = (os.environ if environ is None else environ).get(SERVER_DATA_ENV, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if path.is_dir():
        return ServerDataConfig(root=path.resolve())
    if not path.is_file():
        raise _bad_config("names neither a folder nor a TOML file that exists")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _bad_config(f"is not a readable TOML file ({' '.join(str(exc).split())[:160]})") from None
    return config_from_mapping(raw, base=path.parent)


def config_from_mapping(raw: Mapping[str, Any], *, base: Path) -> ServerDataConfig:
    unknown = set(raw) - CONFIG_KEYS
    if unknown:
        raise _bad_config(f"has an unknown setting {sorted(unknown)[0]!r}: use {', '.join(sorted(CONFIG_KEYS))}")
    root = None
    if raw.get("root") is not None:
        root = Path(str(raw["root"])).expanduser()
        root = (base / root if not root.is_absolute() else root).resolve()
        if not root.is_dir():
            raise _bad_config("names a root that is not a folder")
    urls = raw.get("urls") or {}
    if not isinstance(urls, Mapping) or not all(isinstance(v, str) and "://" in v for v in urls.values()):
        raise _bad_config("[urls] must map names to URLs such as \"s3://lake/holdout/\"")
    if root is None and not urls:
        raise _bad_config("offers nothing: give a root folder or [urls]")
    engine = str(raw.get("engine", "local"))
    if engine not in ENGINES:
        raise _bad_config(f"engine must be local, dask or spark, got {engine!r}")
    try:
        sample_rows = int(raw.get("sample_rows", 100_000))
    except (TypeError, ValueError):
        sample_rows = 0
    if sample_rows < 1000:
        raise _bad_config(f"sample_rows must be a whole number of at least 1000, got {raw.get('sample_rows')!r}")
    return ServerDataConfig(root=root, urls={str(k): v for k, v in urls.items()}, engine=engine,
                            dask_scheduler=raw.get("dask_scheduler") or None,
                            spark_master=raw.get("spark_master") or None, sample_rows=sample_rows)


@dataclasses.dataclass(frozen=True)
class ServerDataset:
    """One entry a visitor may choose: its name and what its files' footers say."""

    key: str  # "root:NAME" or "url:NAME": what open_server_dataset takes
    name: str
    kind: str  # "dataset" (Parquet files) | "table" (one CSV or TSV file)
    files: int
    size_bytes: int
    rows: int | None  # None for a CSV: counted when it is loaded
    columns: int | None

    def describe(self) -> str:
        """'holdout_q3 · 300,000 rows × 8 columns · 12 files · 45.1 MB' (a CSV: its size only)."""
        from readiness.fmt import byte_size as fmt_size

        if self.rows is None:
            return f"{self.name} · {self.kind_word} · {fmt_size(self.size_bytes)}"
        files = f"{self.files:,} file" + ("s" if self.files != 1 else "")
        return f"{self.name} · {self.rows:,} rows × {self.columns} columns · {files} · {fmt_size(self.size_bytes)}"

    @property
    def kind_word(self) -> str:
        return "Parquet" if self.kind == "dataset" else Path(self.name).suffix.lstrip(".").upper() + " file"


def _refuse(name: str, why: str) -> ServerDataError:
    return ServerDataError(E.SERVER_DATA_REFUSED.format(name=name, why=why))


def _entry_name(key: str) -> tuple[str, str]:
    kind, sep, name = str(key).partition(":")
    if not sep or kind not in ("root", "url"):
        raise _refuse(str(key), "choose one of the datasets this server lists")
    return kind, name


def _root_entry(config: ServerDataConfig, name: str) -> Path:
    """``root/name`` for a name a visitor may choose; traversal and links out of the root refused."""
    if config.root is None:
        raise _refuse(name, "this server offers no data folder")
    if (not name or name in (".", "..") or any(c in name for c in "/\\\0") or Path(name).is_absolute()
            or name.startswith((".", "_")) or GLOB_CHARS & set(name)):
        raise _refuse(name, "only the entries directly in the server's data folder can be chosen, "
                            "by their names (no paths, '..', absolute names or wildcards)")
    path = config.root / name
    if not os.path.lexists(path):
        raise _refuse(name, "it is not in the server's data folder (any more)")
    if not _inside(path, config.root):
        raise _refuse(name, "it is a link that leads outside the server's data folder")
    return path


def _inside(path: Path | str, root: Path) -> bool:
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(root))


def _refuse_links_out(root: Path, folder: Path, name: str) -> None:
    import fsspec

    from readiness.engines.dataset import _list_files

    fs, where = fsspec.core.url_to_fs(str(folder))
    for f in _list_files(fs, where, str(folder)):
        if not _inside(f, root):
            raise _refuse(name, f"its file {Path(f).name} is a link that leads outside the server's data folder")


def _quiet_paths(exc: E.ReadinessError, path: str, name: str) -> str:
    """A message about an entry with the server's path replaced by the entry's name."""
    return str(exc).replace(path, name)


def _open_entry(config: ServerDataConfig, key: str, *, role: str, digest: bool) -> Dataset | Table:
    kind, name = _entry_name(key)
    if kind == "url":
        if name not in config.urls:
            raise _refuse(name, "choose one of the datasets this server lists")
        url = config.urls[name]
        try:
            return open_dataset(url, role=role, digest=digest, name=name)
        except E.ReadinessError as exc:
            raise ServerDataError(_quiet_paths(exc, url, name)) from None
    path = _root_entry(config, name)
    try:
        if path.is_dir():
            _refuse_links_out(config.root, path, name)  # before a byte of any file is read
            return open_dataset(path, role=role, digest=digest, name=name)
        if name.lower().endswith(PARQUET_ENDINGS):
            return open_dataset(path, role=role, digest=digest, name=name)
        if name.lower().endswith(TABLE_ENDINGS):
            if path.stat().st_size > TABLE_MAX_BYTES:
                from readiness.fmt import byte_size

                raise _refuse(name, f"it is a {byte_size(path.stat().st_size)} text table, over the "
                                    f"{byte_size(TABLE_MAX_BYTES)} an upload may have: the operator can store it as "
                                    "Parquet, which is read in batches")
            return load_table(path, role=role, name=name) if digest else _table_stub(path, name, role)
    except ServerDataError:
        raise
    except E.ReadinessError as exc:
        raise ServerDataError(_quiet_paths(exc, str(path), name)) from None
    raise _refuse(name, "it is neither a folder of Parquet files nor a Parquet, CSV or TSV file")


def _table_stub(path: Path, name: str, role: str) -> Table:
    """A CSV's entry without reading it (its rows are counted when it is loaded)."""
    import pandas as pd

    return Table(name=name, role=role, frame=pd.DataFrame(), sha256="", size_bytes=path.stat().st_size)


def _entry(key: str, src: Dataset | Table) -> ServerDataset:
    if isinstance(src, Dataset):
        return ServerDataset(key=key, name=src.name, kind="dataset", files=len(src.files), size_bytes=src.size_bytes,
                             rows=src.num_rows, columns=len(src.columns))
    return ServerDataset(key=key, name=src.name, kind="table", files=1, size_bytes=src.size_bytes, rows=None,
                         columns=None)


def list_server_datasets(config: ServerDataConfig) -> tuple[list[ServerDataset], list[tuple[str, str]]]:
    """The entries a visitor may choose (from the files' footers: cheap) and those not offered, with why.

    Directly in the root: folders of Parquet files and single Parquet, CSV or TSV files; names that
    start with '.' or '_' are skipped silently, as are other kinds of files. Then the named URLs."""
    offered, refused = [], []
    keys = []
    if config.root is not None:
        for entry in sorted(os.scandir(config.root), key=lambda e: e.name.lower()):
            name = entry.name
            if name.startswith((".", "_")):
                continue
            if not entry.is_dir() and not name.lower().endswith(PARQUET_ENDINGS + TABLE_ENDINGS):
                continue
            keys.append(f"root:{name}")
    keys += [f"url:{name}" for name in config.urls]
    for key in keys:
        try:
            offered.append(_entry(key, _open_entry(config, key, role="server", digest=False)))
        except E.ReadinessError as exc:
            log.warning("server dataset %s not offered: %s", key, exc)
            refused.append((_entry_name(key)[1], str(exc)))
    return offered, refused


@dataclasses.dataclass(frozen=True)
class ServerTable(Table):
    """A dataset on the server as the Setup page holds it before the review: the first rows (to choose
    the column roles; a CSV: all of it) and which entry it is. ``sha256`` is a fingerprint of the listing
    (names, sizes, rows), not of the bytes: the review reads and hashes every byte."""

    key: str = ""
    entry: ServerDataset | None = None
    complete: bool = False  # the frame holds every row (a CSV file)


def server_table(config: ServerDataConfig, key: str, *, role: str, preview_rows: int = PREVIEW_ROWS) -> ServerTable:
    """The entry's first ``preview_rows`` rows (a CSV: all of it, loaded as an upload would be)."""
    src = _open_entry(config, key, role=role, digest=False)
    entry = _entry(key, src)
    if isinstance(src, Table):
        table = _open_entry(config, key, role=role, digest=True)
        return ServerTable(**{f.name: getattr(table, f.name) for f in dataclasses.fields(Table)}, key=key,
                           entry=dataclasses.replace(entry, rows=len(table.frame), columns=table.frame.shape[1]),
                           complete=True)
    try:
        frame = src.arrow().head(preview_rows).to_pandas()
    except Exception as exc:  # pyarrow raises many types
        raise _refuse(entry.name, f"its first rows could not be read ({' '.join(str(exc).split())[:200]})") from None
    frame.columns = [str(c) for c in frame.columns]
    _repair_numeric(frame)
    h = hashlib.sha256(f"{key}\0{src.num_rows}\0{src.size_bytes}\0".encode())
    for f in src.files:
        h.update(f"{f}\0".encode())
    return ServerTable(name=src.name, role=role, frame=frame, sha256="listing-" + h.hexdigest(),
                       size_bytes=src.size_bytes, key=key, entry=entry)


def review_source(config: ServerDataConfig, table: Table) -> Dataset | Table:
    """What the review reads for an input: an upload or a CSV on the server as loaded; a Parquet dataset on
    the server opened again, checked and fingerprinted over every byte (it may have changed since it was chosen)."""
    if not isinstance(table, ServerTable) or table.complete:
        return table
    return _open_entry(config, table.key, role=table.role, digest=True)


def prepare_server_review(config: ServerDataConfig, *, train: Table, test: Table, roles, settings, model=None,
                          model_bytes: bytes | None = None, champion=None, champion_bytes: bytes | None = None,
                          progress=None):
    """The review of inputs of which one or both are on the server, on the operator's engine, as
    ``readiness review --engine`` runs it: the engine path (:func:`readiness.engines.review.open_review`)
    when the engine is dask or spark or a Parquet dataset is above ``$READINESS_LOCAL_MAX_ROWS`` rows;
    otherwise every input loaded whole. Returns ``(context, engine_review or None)``; the caller runs the
    checks (:func:`readiness.engines.review.run`, then ``engine_review.engine.close()``) or, without an
    engine review, :func:`readiness.review.run_review`."""
    from readiness.checks.business_tasks import validate_cost_matrix
    from readiness.engines.review import needs_engine, open_review
    from readiness.inputs import build_context

    say = progress or (lambda text: None)
    say("opening the data and fingerprinting every file")
    srcs = {"train": review_source(config, train), "test": review_source(config, test)}
    if needs_engine(config.engine, srcs.values()):
        if model is not None and model_bytes is None:
            raise ValueError("the engine's workers load the model from its bytes: pass model_bytes")
        trusted = model.sha256 if model is not None and model.trusted_pickle else None
        er = open_review(config.make_engine(), train=srcs["train"], test=srcs["test"], roles=roles,
                         settings=settings, model=model_bytes if model is not None else None,
                         model_name=model.name if model is not None else None, trusted=trusted,
                         loaded_model=model, sample_rows=config.sample_rows, progress=say, champion=champion,
                         champion_bytes=champion_bytes)
        return er.ctx, er
    tables = {role: src.to_table() if isinstance(src, Dataset) else src for role, src in srcs.items()}
    say(f"loaded the training data ({len(tables['train'].frame):,} rows) and the holdout "
        f"({len(tables['test'].frame):,} rows) whole")
    ctx = build_context(train=tables["train"], test=tables["test"], roles=roles, model=model, settings=settings,
                        champion=champion)
    validate_cost_matrix(ctx)
    return ctx, None
