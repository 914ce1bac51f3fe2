"""Inspect a zip-based model file (``.skops``) before anything unpacks it.

A decompression bomb is a small file that unpacks to gigabytes: one member compressed
a thousand to one, the same member referenced many times by the schema, or zip entries
that overlap so one block of compressed data is counted as many files. skops reads every
referenced member into memory, so all of this is refused here from the zip's own
directory, in time proportional to the directory, before skops reads a byte:

* at most ``max_members`` entries (counted from the end record, before the directory is
  parsed), unique names, no encryption, known compression;
* no two entries' data overlap and every entry lies inside the file;
* no member expands more than ``max_ratio`` times (members above 1 MiB);
* declared sizes, counted once per reference from the skops schema, sum to at most
  ``max_bytes``; each NumPy member's header declares no more data than the member holds.

Then every member is stream-decompressed in 1 MiB chunks and its real size compared with
the declared one, so a directory that lies about sizes is caught with bounded memory.
"""

from __future__ import annotations

import io
import json
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass

from readiness import errors as E

MIB = 1 << 20
SCHEMA = "schema.json"
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
_KNOWN_COMPRESSION = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


@dataclass(frozen=True)
class ArchiveLimits:
    """Caps for a model archive (``READINESS_MODEL_MAX_MB`` sets ``max_bytes``)."""

    max_bytes: int = 1024 * MIB
    max_members: int = 100_000
    max_ratio: float = 200.0
    max_schema_bytes: int = 64 * MIB

    @classmethod
    def from_env(cls) -> ArchiveLimits:
        raw = os.environ.get("READINESS_MODEL_MAX_MB", "").strip()
        try:
            mb = int(raw) if raw else 0
        except ValueError:
            mb = 0
        return cls(max_bytes=mb * MIB) if mb > 0 else cls()


def _size(n: float) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", MIB), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} bytes"


def _too_big(name: str, size: int, limit: int) -> E.ModelError:
    a, b = _size(size), _size(limit)
    if a == b:  # too close to tell apart when rounded
        a, b = f"{size:,} bytes", f"{limit:,} bytes"
    return E.ModelError(E.MODEL_ARCHIVE_TOO_BIG.format(name=name, size=a, limit=b))


def check_skops_archive(data: bytes, *, name: str, limits: ArchiveLimits | None = None) -> None:
    """Refuse (``ModelError``) a ``.skops`` file that is not a sound, bounded zip archive."""
    limits = limits or ArchiveLimits.from_env()
    if not data.startswith(b"PK\x03\x04") or not zipfile.is_zipfile(io.BytesIO(data)):
        raise E.ModelError(E.MODEL_NOT_ZIP.format(name=name))
    end = zipfile._EndRecData(io.BytesIO(data))  # the end record: how many entries the directory claims
    if end is not None and end[zipfile._ECD_ENTRIES_TOTAL] > limits.max_members:  # before they are parsed
        raise E.ModelError(E.MODEL_ARCHIVE_MEMBERS.format(
            name=name, n=end[zipfile._ECD_ENTRIES_TOTAL], limit=limits.max_members))
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise E.ModelError(E.MODEL_ARCHIVE_DAMAGED.format(name=name, detail=_one_line(exc))) from None

    def bad(detail: str):
        return E.ModelError(E.MODEL_ARCHIVE_DAMAGED.format(name=name, detail=detail))

    if len(infos) > limits.max_members:
        raise E.ModelError(E.MODEL_ARCHIVE_MEMBERS.format(name=name, n=len(infos), limit=limits.max_members))
    by_name: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        if info.filename in by_name:
            raise bad(f"two entries are named {info.filename!r}")
        by_name[info.filename] = info
        if info.flag_bits & 0x1:
            raise bad(f"entry {info.filename!r} is encrypted")
        if info.compress_type not in _KNOWN_COMPRESSION:
            raise bad(f"entry {info.filename!r} uses an unknown compression method")
        if info.file_size > MIB and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise E.ModelError(E.MODEL_ARCHIVE_RATIO.format(
                name=name, member=info.filename, size=_size(info.file_size),
                ratio=info.file_size / max(info.compress_size, 1)))
        if info.file_size > limits.max_bytes:
            raise _too_big(name, info.file_size, limits.max_bytes)
    _check_layout(data, infos, bad)
    if SCHEMA not in by_name:
        raise bad("it has no schema.json (was it saved with skops.io.dump?)")
    if by_name[SCHEMA].file_size > limits.max_schema_bytes:
        raise _too_big(name, by_name[SCHEMA].file_size, limits.max_schema_bytes)
    schema_bytes = _read_member(zf, by_name[SCHEMA], bad)
    try:
        schema = json.loads(schema_bytes)
    except (ValueError, RecursionError):
        raise bad("its schema.json is not valid JSON") from None
    refs = _file_references(schema, bad)
    total = by_name[SCHEMA].file_size
    for member, count in refs.items():
        if member not in by_name:
            raise bad(f"the schema refers to a missing entry {member!r}")
        total += count * by_name[member].file_size
    if total > limits.max_bytes:
        raise _too_big(name, total, limits.max_bytes)
    for info in infos:  # sizes as they really are, with bounded memory
        if info.filename != SCHEMA:
            _stream_check(zf, info, bad)


def _check_layout(data: bytes, infos: list[zipfile.ZipInfo], bad) -> None:
    """Every entry's local header and data lie inside the file and no two entries overlap."""
    spans = []
    for info in infos:
        start = info.header_offset
        head = data[start:start + _LOCAL_HEADER.size]
        if len(head) < _LOCAL_HEADER.size:
            raise bad(f"entry {info.filename!r} points outside the file")
        fields = _LOCAL_HEADER.unpack(head)
        if fields[0] != b"PK\x03\x04":
            raise bad(f"entry {info.filename!r} has no local header")
        end = start + _LOCAL_HEADER.size + fields[9] + fields[10] + info.compress_size
        if end > len(data):
            raise bad(f"entry {info.filename!r} runs past the end of the file")
        spans.append((start, end, info.filename))
    spans.sort()
    for (_, end, first), (start, _, second) in zip(spans, spans[1:], strict=False):
        if start < end:
            raise bad(f"entries {first!r} and {second!r} overlap (a zip bomb's trick)")


def _file_references(schema, bad) -> dict[str, int]:
    """How many times the schema makes skops read each member (iteratively: no recursion limit)."""
    refs: dict[str, int] = {}
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            file = node.get("file")
            if file is not None:
                if not isinstance(file, str):
                    raise bad("its schema names a file that is not a string")
                refs[file] = refs.get(file, 0) + 1
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return refs


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, bad) -> bytes:
    return b"".join(_chunks(zf, info, bad))


def _chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo, bad):
    seen = 0
    try:
        with zf.open(info) as f:
            while chunk := f.read(MIB):
                seen += len(chunk)
                if seen > info.file_size:
                    raise bad(f"entry {info.filename!r} unpacks to more than its declared {_size(info.file_size)}")
                yield chunk
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
        raise bad(f"entry {info.filename!r}: {_one_line(exc)}") from None
    if seen != info.file_size:
        raise bad(f"entry {info.filename!r} unpacks to {_size(seen)}, not the declared {_size(info.file_size)}")


def _stream_check(zf: zipfile.ZipFile, info: zipfile.ZipInfo, bad) -> None:
    """Decompress in chunks, counting; for a NumPy member, its header's claim must fit its size."""
    first = b""
    for chunk in _chunks(zf, info, bad):
        if not first:
            first = chunk[:65536]
    if info.filename.endswith(".npy"):
        declared = _npy_data_bytes(first)
        if declared is None:
            raise bad(f"entry {info.filename!r} is not a NumPy array file")
        if declared > info.file_size:
            raise bad(f"entry {info.filename!r} declares an array of {_size(declared)} in {_size(info.file_size)}")


def _npy_data_bytes(head: bytes) -> int | None:
    """Bytes of array data a .npy header declares (None if it is no .npy header)."""
    import numpy as np
    from numpy.lib import format as npy_format

    buf = io.BytesIO(head)
    try:
        version = npy_format.read_magic(buf)
        reader = {(1, 0): npy_format.read_array_header_1_0, (2, 0): npy_format.read_array_header_2_0}.get(version)
        if reader is None:
            return None
        shape, _, dtype = reader(buf)
    except Exception:
        return None
    if dtype.hasobject:
        return 0  # skops never stores object arrays as .npy; numpy refuses to load them without pickles
    return int(np.prod(shape, dtype=object)) * dtype.itemsize


def _one_line(exc: BaseException) -> str:
    return (" ".join(str(exc).split()) or type(exc).__name__)[:200]
