"""ONNX models with one output column: a probability (binary) or a predicted value (regression).

Graphs are built here with onnx.helper (a linear score, then a Sigmoid, a Clip or nothing),
so the expected output is closed form: sigmoid(X @ w + b). Known answers: a Sigmoid output
is a binary classifier at load (and says so); an output named as a probability too; a
one-column output without either is read as the probability of a two-valued target's
second value when it lies in [0, 1] (with a note), refused with one line when it does not,
and a regression when the target is a quantity or the task is set to regression.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from readiness import errors as E
from readiness.inputs import Roles, load_model, prepare_review

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

W, B = np.array([1.2, -0.7, 0.4]), -0.1
FEATURES = ["a", "b", "c"]


def graph(last: str | None, output: str = "out") -> bytes:
    """X [n, 3] -> X @ W + B -> ``last`` (Sigmoid, Clip to [0, 1], or nothing) -> Identity -> output [n, 1]."""
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 3])
    y = helper.make_tensor_value_info(output, TensorProto.FLOAT, [None, 1])
    inits = [numpy_helper.from_array(W.reshape(3, 1).astype(np.float32), "w"),
             numpy_helper.from_array(np.array([B], dtype=np.float32), "b"),
             numpy_helper.from_array(np.array(0.0, dtype=np.float32), "lo"),
             numpy_helper.from_array(np.array(1.0, dtype=np.float32), "hi")]
    nodes = [helper.make_node("MatMul", ["X", "w"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["z"])]
    if last == "Sigmoid":
        nodes.append(helper.make_node("Sigmoid", ["z"], ["p"]))
    elif last == "Clip":
        nodes.append(helper.make_node("Clip", ["z", "lo", "hi"], ["p"]))
    else:
        nodes.append(helper.make_node("Identity", ["z"], ["p"]))
    nodes.append(helper.make_node("Identity", ["p"], [output]))
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y], initializer=inits),
                              opset_imports=[helper.make_opsetid("", 17)])
    return model.SerializeToString()


def frames(kind: str, n: int = 400, seed: int = 0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.normal(size=(n, 3)).round(3), columns=FEATURES)
    z = df.to_numpy() @ W + B
    if kind == "binary":
        df["y"] = np.where(rng.random(n) < 1 / (1 + np.exp(-z)), "yes", "no")
    elif kind == "binary01":
        df["y"] = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    else:
        df["y"] = (z * 10 + rng.normal(0, 1, n)).round(3)
    return df.iloc[: n // 2].reset_index(drop=True), df.iloc[n // 2:].reset_index(drop=True)


def review(tmp_path, kind: str, data: bytes, name: str = "m.onnx", **roles):
    train, test = frames(kind)
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    (tmp_path / name).write_bytes(data)
    ctx = prepare_review(train=tmp_path / "train.csv", test=tmp_path / "test.csv", roles=Roles(target="y", **roles),
                         model=tmp_path / name)
    return ctx, test


def closed_form(test: pd.DataFrame, last: str | None) -> np.ndarray:
    z = test[FEATURES].to_numpy() @ W + B
    return {"Sigmoid": 1 / (1 + np.exp(-z)), "Clip": np.clip(z, 0, 1), None: z}[last]


def test_a_sigmoid_output_is_a_binary_classifier_and_says_so(tmp_path):
    loaded = load_model(graph("Sigmoid"), name="m.onnx")
    assert loaded.estimator.readiness_task == "binary"
    assert "one probability output 'out', the output of a Sigmoid" in loaded.estimator.readiness_name
    ctx, test = review(tmp_path, "binary", graph("Sigmoid"))
    assert ctx.task == "binary" and ctx.classes == ["no", "yes"] and ctx.positive_label == "yes"
    np.testing.assert_allclose(ctx.test_scores, closed_form(test, "Sigmoid"), atol=1e-6)
    assert ctx.model_info.estimator.startswith("ONNX model (binary classification")


def test_an_output_named_as_a_probability_is_a_binary_classifier(tmp_path):
    loaded = load_model(graph("Clip", output="probability"), name="m.onnx")
    assert loaded.estimator.readiness_task == "binary"
    assert "named as a probability" in loaded.estimator.readiness_name


def test_an_unmarked_column_in_0_1_on_a_two_valued_target_is_read_as_its_probability(tmp_path):
    assert load_model(graph("Clip"), name="m.onnx").estimator.readiness_task == "regression"  # the file alone
    ctx, test = review(tmp_path, "binary", graph("Clip"))
    assert ctx.task == "binary"
    np.testing.assert_allclose(ctx.test_scores, closed_form(test, "Clip"), atol=1e-6)
    assert any(n == E.ONNX_SINGLE_OUTPUT_READ.format(name="m.onnx", output="out", target="y", positive="yes")
               for n in ctx.notes), ctx.notes


def test_an_unmarked_column_outside_0_1_on_a_two_valued_target_is_one_line(tmp_path):
    with pytest.raises(E.ModelError) as err:
        review(tmp_path, "binary", graph(None))
    message = str(err.value)
    assert "\n" not in message and "is not a probability" in message and "m.onnx" in message


def test_one_column_on_a_quantity_or_when_asked_is_a_regression(tmp_path):
    ctx, test = review(tmp_path, "regression", graph(None))
    assert ctx.task == "regression"
    np.testing.assert_allclose(ctx.test_scores, closed_form(test, None), rtol=1e-6, atol=1e-5)
    ctx, test = review(tmp_path, "binary01", graph("Clip"), task="regression")  # the user's word wins
    assert ctx.task == "regression"
    with pytest.raises(E.RoleError):  # ... for a target that is a number
        review(tmp_path, "binary", graph("Clip"), task="regression")
