"""Crafted XGBoost, LightGBM, CatBoost and ONNX files: one clear line, never a crash.

Each case starts from a valid file of the format and changes what a parser or a
prediction routine trusts: node and tree counts, child and feature indices, declared sizes
(billions of nodes, classes, bytes), a file under another format's suffix, and an ONNX
graph that asks for 40 GB when it runs. Loading and first scoring run in the isolated
child (docs/models.md): a library that aborts or faults there makes the model refused
with one line, and this test process — which would die with it otherwise — goes on.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from test_model_formats import fit_catboost, fit_lightgbm, fit_onnx, fit_xgboost, save, split

from readiness import errors as E
from readiness.inputs import Roles, load_model, prepare_review

SUFFIX = {"xgboost": ".json", "lightgbm": ".txt", "catboost": ".cbm", "onnx": ".onnx"}
FIT = {"xgboost": fit_xgboost, "lightgbm": fit_lightgbm, "catboost": fit_catboost, "onnx": fit_onnx}


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    """A valid binary model file of each installed format, and the data it was trained on."""
    root = tmp_path_factory.mktemp("crafted")
    train, test = split("binary")
    train.to_csv(root / "train.csv", index=False)
    test.to_csv(root / "test.csv", index=False)
    files = {}
    for library, fit in FIT.items():
        try:
            __import__({"onnx": "onnxruntime"}.get(library, library))
            model, _ = fit("binary", train)
        except (ImportError, pytest.skip.Exception):
            continue
        files[library] = save(library, model, root / f"valid{SUFFIX[library]}")
    return root, files


def one_line(err: pytest.ExceptionInfo, name: str) -> str:
    message = str(err.value)
    assert "\n" not in message and name in message and "Traceback" not in message, message
    assert "Stack trace" not in message and "/__w/" not in message, message  # XGBoost's internals trimmed
    return message


def _xgb(data: bytes, change) -> bytes:
    d = json.loads(data)
    change(d["learner"], d["learner"]["gradient_booster"]["model"])
    return json.dumps(d).encode()


def xgboost_cases(good: bytes) -> dict[str, tuple[bytes, str]]:
    def tree(key, i, value):
        return lambda learner, model: model["trees"][0].__setitem__(key, [*model["trees"][0][key][:i], value,
                                                                           *model["trees"][0][key][i + 1:]])

    import struct

    import xgboost as xgb

    booster = xgb.Booster()
    booster.load_model(bytearray(good))
    ubj = bytes(booster.save_raw("ubj"))
    at = ubj.find(b"[$d#L")  # a typed array of float64 with a 64-bit count: declare 2**40 of them (8 TB)
    return {
        "huge_array.ubj": (ubj[: at + 5] + struct.pack(">q", 2**40) + ubj[at + 13:], ""),
        "num_nodes.json": (_xgb(good, lambda l_, m: m["trees"][0]["tree_param"].__setitem__("num_nodes", "2000000000")),
                           "2000000000"),
        "num_trees.json": (_xgb(good, lambda l_, m: m["gbtree_model_param"].__setitem__("num_trees", "2000000000")),
                           "2000000000"),
        "child.json": (_xgb(good, tree("left_children", 0, 1_000_000_000)), "child 1000000000 is outside"),
        "cycle.json": (_xgb(good, tree("left_children", 1, 0)), "outside"),
        "feature.json": (_xgb(good, tree("split_indices", 0, 2_000_000_000)), "splits on feature 2000000000"),
    }


def lightgbm_cases(good: bytes) -> dict[str, tuple[bytes, str]]:
    first = re.search(rb"Tree=0\n(?:.*\n)*?left_child=([^\n]*)\n", good)
    children = first.group(1).split()
    bad_children = b" ".join([*children[:-1], b"500000"])
    return {
        "num_leaves.txt": (good.replace(b"Tree=0\nnum_leaves=", b"Tree=0\nnum_leaves=1000000000#", 1), ""),
        "child.txt": (good.replace(b"left_child=" + first.group(1), b"left_child=" + bad_children, 1), ""),
        "num_class.txt": (good.replace(b"num_class=1\n", b"num_class=1000000000\n", 1), "num_class=1000000000"),
        "tree_sizes.txt": (re.sub(rb"tree_sizes=\d+", b"tree_sizes=99999999999", good, count=1), ""),
        "max_feature.txt": (good.replace(b"max_feature_idx=3\n", b"max_feature_idx=2000000000\n", 1), ""),
    }


def catboost_cases(good: bytes) -> dict[str, tuple[bytes, str | None]]:
    """A huge 32-bit word (a length, an offset or a value) at twelve places through the file."""
    out = {}
    for k, offset in enumerate(np.linspace(8, len(good) - 8, 12).astype(int)):
        data = bytearray(good)
        data[offset: offset + 4] = (0x7FFFFFF0).to_bytes(4, "little")
        out[f"huge_{k}.cbm"] = (bytes(data), None)  # None: refused, or loads and scores (a leaf value changed)
    return out


def onnx_cases(good: bytes) -> dict[str, tuple[bytes, str | None]]:
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 3])
    y = helper.make_tensor_value_info("out", TensorProto.FLOAT, [None, 1])
    huge = TensorProto()
    huge.name, huge.data_type = "w", TensorProto.FLOAT
    huge.dims.extend([3, 10**12])  # 12 TB declared, no data
    declared = helper.make_model(helper.make_graph([helper.make_node("MatMul", ["X", "w"], ["out"])], "g", [x], [y],
                                                   initializer=[huge]), opset_imports=[helper.make_opsetid("", 17)])
    return {"declared.onnx": (declared.SerializeToString(), "")}


CASES = {"xgboost": xgboost_cases, "lightgbm": lightgbm_cases, "catboost": catboost_cases, "onnx": onnx_cases}


@pytest.mark.parametrize("library", list(CASES))
def test_crafted_files_of_each_format_are_refused_in_one_line(library, valid):
    root, files = valid
    if library not in files:
        pytest.skip(f"{library} is not installed")
    for name, (data, needle) in CASES[library](files[library]).items():
        if needle is None:  # may load: then its first scoring (in the child) must pass or be refused, too
            try:
                prepare_review(train=root / "train.csv", test=root / "test.csv", roles=Roles(target="y"),
                               model=data, model_name=name)
            except E.ReadinessError as exc:
                assert "\n" not in str(exc) and name in str(exc) or "predict" in str(exc), str(exc)
            continue
        with pytest.raises(E.ModelError) as err:
            load_model(data, name=name)
        assert needle in one_line(err, name), (name, str(err.value))


def test_a_crash_inside_the_library_happens_in_the_isolated_child(valid):
    """LightGBM aborts (SIGABRT) on a tree whose child index is out of range: the child dies, not us."""
    _, files = valid
    if "lightgbm" not in files:
        pytest.skip("lightgbm is not installed")
    data, _ = lightgbm_cases(files["lightgbm"])["child.txt"]
    with pytest.raises(E.ModelError) as err:
        load_model(data, name="child.txt")
    assert "crashed the isolated process while loading it (signal SIG" in one_line(err, "child.txt")


def test_an_onnx_graph_that_asks_for_40_gb_when_run_is_refused_at_first_scoring(valid):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper, numpy_helper

    root, _ = valid
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 4])
    y = helper.make_tensor_value_info("out", TensorProto.FLOAT, [None, 1])
    shape = numpy_helper.from_array(np.array([100_000, 100_000], dtype=np.int64), "shape")
    w = numpy_helper.from_array(np.full((4, 1), 0.01, np.float32), "w")
    nodes = [helper.make_node("ConstantOfShape", ["shape"], ["big"],
                              value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.0])),
             helper.make_node("ReduceMax", ["big"], ["m"], keepdims=0),
             helper.make_node("MatMul", ["X", "w"], ["xw"]), helper.make_node("Add", ["xw", "m"], ["z"]),
             helper.make_node("Sigmoid", ["z"], ["out"])]
    bomb = helper.make_model(helper.make_graph(nodes, "g", [x], [y], initializer=[shape, w]),
                             opset_imports=[helper.make_opsetid("", 17)])
    train, test = split("binary")
    for frame, name in ((train, "train_num.csv"), (test, "test_num.csv")):
        frame.assign(region=frame.region.map({"north": 0, "south": 1, "east": 2})).to_csv(root / name, index=False)
    with pytest.raises(E.ModelError) as err:
        prepare_review(train=root / "train_num.csv", test=root / "test_num.csv", roles=Roles(target="y"),
                       model=bomb.SerializeToString(), model_name="bomb.onnx")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("library", list(SUFFIX))
def test_a_valid_file_under_another_formats_suffix_is_one_line(library, valid):
    _, files = valid
    if library not in files:
        pytest.skip(f"{library} is not installed")
    for other, suffix in {**SUFFIX, "xgboost-ubj": ".ubj", "lightgbm-lgb": ".lgb"}.items():
        if other.split("-")[0] == library:
            continue
        name = f"{library}_as{suffix}"
        with pytest.raises(E.ModelError) as err:
            load_model(files[library], name=name)
        one_line(err, name)


def test_cli_exits_2_with_one_line_on_a_crafted_file(valid, tmp_path):
    root, files = valid
    if "xgboost" not in files:
        pytest.skip("xgboost is not installed")
    data, _ = xgboost_cases(files["xgboost"])["child.json"]
    (tmp_path / "child.json").write_bytes(data)
    proc = subprocess.run([sys.executable, "-m", "readiness.cli", "review", "--train", str(root / "train.csv"),
                           "--test", str(root / "test.csv"), "--target", "y", "--model", str(tmp_path / "child.json"),
                           "--quiet"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "holds an invalid tree" in lines[0] and "child.json" in lines[0], proc.stderr
