"""Parquet datasets as review inputs: a directory, a glob or an fsspec URL of Parquet files.

:func:`open_dataset` lists the files, reads only their footers (schema and row count)
and refuses, with one line, a dataset without files, without rows, or whose partitions
disagree on columns or types. The digest of a dataset is the SHA-256 of its files'
relative names and SHA-256 digests (streamed, never held whole), so the lineage in the
signed report covers every byte of it. ``Dataset.to_table`` loads a dataset whole (the
local engine, when it fits); :func:`iter_frames` streams it in record batches.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from readiness import errors as E

PARQUET_ENDINGS = (".parquet", ".pq", ".parq")
GLOB_CHARS = set("*?[")
CHUNK = 8 << 20


def is_dataset(source: Any) -> bool:
    """A directory, a glob or a URL (``scheme://``): read as a Parquet dataset, not as one file."""
    if not isinstance(source, (str, Path)):
        return False
    text = str(source)
    if "://" in text:
        return True
    if GLOB_CHARS & set(text):
        return True
    return Path(text).is_dir()


@dataclass(frozen=True)
class Dataset:
    """A Parquet dataset: where it is, its files, its one schema, rows and digest."""

    name: str
    role: str
    url: str
    protocol: str
    files: tuple[str, ...]
    schema: Any  # pyarrow.Schema (unified over the files)
    num_rows: int
    sha256: str
    size_bytes: int
    filesystem: Any = None  # the fsspec filesystem the files live on

    @property
    def columns(self) -> list[str]:
        return list(self.schema.names)

    def urls(self) -> list[str]:
        """The files as URLs an engine can open (plain paths for the local file system)."""
        if self.protocol in ("file", "local"):
            return list(self.files)
        return [f"{self.protocol}://{f}" for f in self.files]

    def arrow(self):
        """The files as one ``pyarrow.dataset.Dataset`` with the unified schema."""
        import pyarrow.dataset as pads

        return pads.dataset(list(self.files), schema=self.schema, format="parquet",
                            filesystem=_arrow_fs(self.filesystem, self.protocol))

    def to_table(self):
        """The whole dataset as a :class:`readiness.inputs.tables.Table` (as a single Parquet file loads)."""
        from readiness.inputs.tables import Table, _repair_numeric

        try:
            frame = self.arrow().to_table().to_pandas()
        except Exception as exc:  # pyarrow raises many types
            raise E.InputFileError(E.DATASET_READ.format(role=self.role.capitalize(), name=self.name,
                                                         detail=_one_line(exc))) from None
        frame.columns = [str(c) for c in frame.columns]
        na_tokens = _repair_numeric(frame)
        return Table(name=self.name, role=self.role, frame=frame, sha256=self.sha256, size_bytes=self.size_bytes,
                     na_tokens=na_tokens)


def _arrow_fs(fs, protocol: str):
    if protocol in ("file", "local"):
        return None
    from pyarrow.fs import FSSpecHandler, PyFileSystem

    return PyFileSystem(FSSpecHandler(fs))


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def _list_files(fs, root: str, text: str) -> list[str]:
    if GLOB_CHARS & set(root):
        found = [p for p in fs.glob(root) if fs.isfile(p)]
    elif fs.isdir(root):
        found = [p for p in fs.find(root)]
    elif fs.isfile(root):
        found = [root]
    else:
        found = []
    keep = []
    for p in found:
        base = p.rstrip("/").rsplit("/", 1)[-1]
        if base.startswith(("_", ".")):  # _SUCCESS, _metadata, .crc files of Spark and Hadoop
            continue
        if base.lower().endswith(PARQUET_ENDINGS) or (not fs.isdir(root) and not (GLOB_CHARS & set(root))):
            keep.append(p)
    return sorted(keep)


def _unify(role: str, name: str, schemas: list[tuple[str, Any]]):
    """One schema for all files; a file without a column, or with another type for it, is refused.
    A column that is all-null in one file (Arrow type ``null``) takes the others' type."""
    import pyarrow as pa

    first_file, first = schemas[0]
    fields = {f.name: f.type for f in first}
    label = role.capitalize()
    for other_file, schema in schemas[1:]:
        names = set(schema.names)
        if names != set(fields):
            extra = sorted(names - set(fields))
            missing = sorted(set(fields) - names)
            what = "columns"
            a = f"columns {missing}" if missing else "no other columns"
            b = f"columns {extra}" if extra else f"no column {missing}"
            raise E.InputFileError(E.DATASET_SCHEMAS.format(role=label, name=name, what=what, first=_base(first_file),
                                                            a=a, other=_base(other_file), b=b))
        for f in schema:
            have = fields[f.name]
            if have == f.type or pa.types.is_null(f.type):
                continue
            if pa.types.is_null(have):
                fields[f.name] = f.type
                continue
            if _same_kind(have, f.type):
                continue
            raise E.InputFileError(E.DATASET_SCHEMAS.format(
                role=label, name=name, what=f"the type of column '{f.name}'", first=_base(first_file), a=str(have),
                other=_base(other_file), b=str(f.type)))
    return pa.schema([pa.field(n, t) for n, t in fields.items()])


def _same_kind(a, b) -> bool:
    """Types that read into the same pandas column (string/large_string; dictionary of strings)."""
    import pyarrow as pa

    def norm(t):
        if pa.types.is_dictionary(t):
            t = t.value_type
        if pa.types.is_large_string(t) or pa.types.is_string_view(t):
            return pa.string()
        return t

    return norm(a) == norm(b)


def _base(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def open_dataset(source: str | Path, *, role: str, digest: bool = True, name: str | None = None) -> Dataset:
    """List, validate and fingerprint a Parquet dataset. Raises :class:`InputFileError` with one line.
    ``name`` (default: the path or URL) is what the report and the messages call it."""
    import fsspec
    import pyarrow.parquet as pq

    url = str(source)
    text = name or url
    label = role.capitalize()
    try:
        fs, root = fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:
        raise E.InputFileError(E.DATASET_READ.format(role=label, name=text, detail=_one_line(exc))) from None
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    try:
        files = _list_files(fs, root, url)
    except (OSError, ValueError) as exc:
        raise E.InputFileError(E.DATASET_READ.format(role=label, name=text, detail=_one_line(exc))) from None
    if not files:
        raise E.InputFileError(E.DATASET_NOT_FOUND.format(role=label, name=text))
    schemas, rows, size = [], 0, 0
    for f in files:
        try:
            with fs.open(f, "rb") as fh:
                meta = pq.ParquetFile(fh).metadata
                schemas.append((f, meta.schema.to_arrow_schema()))
                rows += meta.num_rows
            size += int(fs.size(f))
        except Exception as exc:
            raise E.InputFileError(E.DATASET_READ.format(role=label, name=text,
                                                         detail=f"{_base(f)}: {_one_line(exc)}")) from None
    schema = _unify(role, text, schemas)
    names = list(schema.names)
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise E.InputFileError(E.FILE_DUPLICATE_COLUMN.format(role=label, name=text, column=dup))
    if not names:
        raise E.InputFileError(E.FILE_NO_COLUMNS.format(role=label, name=text))
    if rows == 0:
        raise E.InputFileError(E.DATASET_EMPTY.format(role=label, name=text, files=len(files)))
    sha = _digest(fs, files, root) if digest else ""
    return Dataset(name=text, role=role, url=url, protocol=protocol, files=tuple(files), schema=schema,
                   num_rows=rows, sha256=sha, size_bytes=size, filesystem=fs)


def _digest(fs, files: list[str], root: str) -> str:
    """SHA-256 over each file's path relative to the dataset root and the SHA-256 of its bytes."""
    if fs.isdir(root):
        base = root.rstrip("/") + "/"
    else:  # a glob or one file: relative to the folder before the first wildcard
        cut = min((root.index(c) for c in GLOB_CHARS if c in root), default=len(root))
        base = root[:cut].rsplit("/", 1)[0] + "/"
    outer = hashlib.sha256()
    for f in files:
        h = hashlib.sha256()
        with fs.open(f, "rb") as fh:
            while chunk := fh.read(CHUNK):
                h.update(chunk)
        rel = f[len(base):] if f.startswith(base) else _base(f)
        outer.update(f"{rel}\0{h.hexdigest()}\n".encode())
    return outer.hexdigest()


def iter_frames(dataset: Dataset, *, columns: list[str] | None = None,
                batch_rows: int = 262_144) -> Iterator[pd.DataFrame]:
    """The dataset as pandas frames of at most ``batch_rows`` rows (Arrow record batches)."""
    try:
        for batch in dataset.arrow().to_batches(columns=columns, batch_size=batch_rows):
            if batch.num_rows:
                yield batch.to_pandas()
    except E.ReadinessError:
        raise
    except Exception as exc:
        raise E.InputFileError(E.DATASET_READ.format(role=dataset.role.capitalize(), name=dataset.name,
                                                     detail=_one_line(exc))) from None
