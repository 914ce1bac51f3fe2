"""Malicious model files, built the way an attacker would: real skops files (written by
skops' own dump) whose arrays were patched, zip bombs, pickles that run code."""

from __future__ import annotations

import ctypes
import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import skops.io as sio


def _xy(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, (X[:, 0] + 0.3 * rng.normal(size=n) > 0).astype(int)


FAR = 10**9  # an index far outside any array: following it reads unmapped memory


def _tree_patched(patch):
    """A fitted decision tree whose node array ``patch(nodes)`` changed in place."""
    from sklearn.tree import DecisionTreeClassifier

    X, y = _xy()
    m = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    state = m.tree_.__getstate__()
    patch(state["nodes"])
    m.tree_.__setstate__(state)
    return m, X


def tree_with_bad_child():
    """A decision tree whose root's left child points a billion nodes away."""
    return _tree_patched(lambda nodes: nodes["left_child"].__setitem__(0, FAR))


def tree_with_bad_feature():
    return _tree_patched(lambda nodes: nodes["feature"].__setitem__(0, FAR))


def tree_with_cycle():
    """The root's first child points back at the root: prediction would loop forever."""
    return _tree_patched(lambda nodes: nodes["left_child"].__setitem__(int(nodes["left_child"][0]), 0))


def forest_with_bad_tree():
    from sklearn.ensemble import RandomForestClassifier

    X, y = _xy()
    m = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    tree = m.estimators_[3].tree_
    state = tree.__getstate__()
    state["nodes"]["right_child"][0] = FAR
    tree.__setstate__(state)
    return m, X


def gradient_boosting_too_many_trees_per_stage():
    """Each stage claims 3 trees while the initial predictions have 1 column: writes past the output."""
    from sklearn.ensemble import GradientBoostingClassifier

    X, y = _xy()
    m = GradientBoostingClassifier(n_estimators=5, random_state=0).fit(X, y)
    m.estimators_ = np.repeat(m.estimators_, 3, axis=1)
    return m, X


def hist_gradient_boosting_with_bad_child():
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = _xy()
    m = HistGradientBoostingClassifier(max_iter=3, random_state=0).fit(X, y)
    m._predictors[0][0].nodes["left"][0] = 4_000_000_000
    return m, X


def hist_gradient_boosting_with_bad_feature():
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = _xy()
    m = HistGradientBoostingClassifier(max_iter=3, random_state=0).fit(X, y)
    m._predictors[0][0].nodes["feature_idx"][0] = FAR
    return m, X


def kd_tree_with_bad_indices():
    from sklearn.neighbors import KNeighborsClassifier

    X, y = _xy()
    m = KNeighborsClassifier(algorithm="kd_tree").fit(X, y)
    state = list(m._tree.__getstate__())
    state[1] = np.full_like(np.asarray(state[1]), FAR * 1000)
    m._tree.__setstate__(tuple(state))
    return m, X


def ball_tree_with_bad_node_range():
    from sklearn.neighbors import KNeighborsClassifier

    X, y = _xy()
    m = KNeighborsClassifier(algorithm="ball_tree").fit(X, y)
    state = list(m._tree.__getstate__())
    nodes = np.asarray(state[2]).copy()
    nodes["idx_end"][:] = FAR * 1000
    state[2] = nodes
    m._tree.__setstate__(tuple(state))
    return m, X


def svc_with_bad_counts():
    """libsvm reads support vectors by the per-class counts: counts larger than the vectors read past them."""
    from sklearn.svm import SVC

    X, y = _xy()
    m = SVC().fit(X, y)
    m._n_support = (m._n_support * 10**6).astype(np.int32)
    return m, X


CRASHING = {  # name -> builder; each segfaults plain skops-load-and-predict
    "tree_bad_child": tree_with_bad_child,
    "hgb_bad_child": hist_gradient_boosting_with_bad_child,
    "kd_tree_bad_indices": kd_tree_with_bad_indices,
}
INVALID = {  # name -> (builder, words the refusal names)
    "tree_bad_child": (tree_with_bad_child, "left child 1000000000"),
    "tree_bad_feature": (tree_with_bad_feature, "feature 1000000000"),
    "tree_cycle": (tree_with_cycle, "does not come after it"),
    "forest_bad_tree": (forest_with_bad_tree, "estimators_[3].tree_"),
    "gb_width": (gradient_boosting_too_many_trees_per_stage, "3 trees"),
    "hgb_bad_child": (hist_gradient_boosting_with_bad_child, "left child 4000000000"),
    "hgb_bad_feature": (hist_gradient_boosting_with_bad_feature, "feature 1000000000"),
    "kd_tree_bad_indices": (kd_tree_with_bad_indices, "not a permutation"),
    "ball_tree_bad_range": (ball_tree_with_bad_node_range, "point range"),
    "svc_bad_counts": (svc_with_bad_counts, "support-vector counts"),
}


def skops_bytes(builder) -> bytes:
    model, _ = builder()
    return sio.dumps(model)


# --- zip archives written by hand (to lie in their directory) ----------------------------------

_MiB = 1 << 20


def zip_bytes(entries: list[dict]) -> bytes:
    """A zip from entries {name, data (packed bytes), size (declared), crc, method, offset (optional)}."""
    out, central = io.BytesIO(), []
    for e in entries:
        name = e["name"].encode()
        offset = e.get("offset")
        if offset is None:
            offset = out.tell()
            out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, e["method"], 0, 0, e["crc"], len(e["data"]),
                                  e["size"], len(name), 0) + name + e["data"])
        central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, e["method"], 0, 0, e["crc"],
                                   len(e["data"]), e["size"], len(name), 0, 0, 0, 0, 0, offset) + name)
    start = out.tell()
    for c in central:
        out.write(c)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(central), len(central), out.tell() - start, start, 0))
    return out.getvalue()


def deflated(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def entry(name: str, data: bytes, *, size: int | None = None, method=zipfile.ZIP_DEFLATED) -> dict:
    packed = deflated(data) if method == zipfile.ZIP_DEFLATED else data
    return {"name": name, "data": packed, "size": len(data) if size is None else size, "crc": zlib.crc32(data),
            "method": method}


def _npy_header(shape, dtype="<f8") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def zero_bomb_entry(name: str, gib: int = 1) -> dict:
    """A .npy of ``gib`` GiB of zeros, deflated to about 1 MB (built in well under a second)."""
    header = _npy_header((gib * (1 << 27),))
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = b"\0" * _MiB
    first = c.compress(header + zeros) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)  # identical after every full flush
    packed = first + block * (gib * 1024 - 1) + c.flush()
    crc = zlib.crc32(header)
    for _ in range(gib * 1024):
        crc = zlib.crc32(zeros, crc)
    return {"name": name, "data": packed, "size": len(header) + gib * (1 << 30), "crc": crc,
            "method": zipfile.ZIP_DEFLATED}


def schema_with_arrays(n: int, file: str) -> bytes:
    """A real skops schema for a dict of ``n`` arrays, every one pointing at the same member."""
    data = sio.dumps({f"a{i}": np.zeros(1) for i in range(n)})
    schema = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("schema.json"))
    for node in schema["content"].values():
        node["file"] = file
    return json.dumps(schema).encode()


def zip_bomb(references: int = 5, gib: int = 1) -> bytes:
    """The issue's bomb: about 1 MB on disk, one 1 GiB zero array referenced ``references`` times."""
    return zip_bytes([zero_bomb_entry("big.npy", gib), entry("schema.json", schema_with_arrays(references, "big.npy"))])


def overlapping_bomb(copies: int = 5) -> bytes:
    """Several directory entries sharing one block of packed data (the 'overlapping files' bomb)."""
    small = entry("a0.npy", _npy_header((1000,)) + b"\0" * 8000)
    entries = [small] + [dict(small, name=f"a{i}.npy", offset=0) for i in range(1, copies)]
    return zip_bytes(entries + [entry("schema.json", schema_with_arrays(1, "a0.npy"))])


def lying_size(declared: int, actual: int) -> bytes:
    """One member whose directory declares ``declared`` bytes but which unpacks to ``actual``."""
    payload = _npy_header(((actual - 128) // 8,)) + np.random.default_rng(0).bytes(actual - 128)  # incompressible
    return zip_bytes([entry("x.npy", payload, size=declared), entry("schema.json", schema_with_arrays(1, "x.npy"))])


# --- pickles ---------------------------------------------------------------------------------


class WritesMarker:
    """Unpickling this writes a marker file: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "executed"))


class Segfaults:
    """Unpickling this dereferences address 1."""

    def __reduce__(self):
        return (ctypes.string_at, (1, 8))


class EatsMemory:
    """Unpickling this asks for 64 GiB."""

    def __reduce__(self):
        return (np.ones, ((1 << 33,),))


class Sleeps:
    def __reduce__(self):
        import time

        return (time.sleep, (3600,))


class CrashesOnPredict:
    """A 'classifier' that loads fine and validates, but whose scoring dereferences address 1."""

    classes_ = np.array([0, 1])

    def predict(self, X):
        return ctypes.string_at(1, 8)

    def predict_proba(self, X):
        return ctypes.string_at(1, 8)
