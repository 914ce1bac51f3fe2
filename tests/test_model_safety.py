"""Model files that would crash or exhaust the process (issue 9, items 2 and 3).

Crafted files are real skops files written by skops' own dump from models whose arrays
were patched; bombs are zips written by hand so their directory can lie.
"""

import io
import pickle
import subprocess
import sys
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from crafted_models import (
    CRASHING,
    INVALID,
    CrashesOnPredict,
    EatsMemory,
    Segfaults,
    Sleeps,
    entry,
    lying_size,
    overlapping_bomb,
    schema_with_arrays,
    skops_bytes,
    zip_bomb,
    zip_bytes,
)

from readiness import errors as E
from readiness.cli import main
from readiness.inputs import Roles, load_model, model_digest, prepare_review
from readiness.inputs.archive import ArchiveLimits, check_skops_archive
from readiness.inputs.sandbox import Limits, SandboxFailure, run_isolated

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"


def one_line(err) -> str:
    text = str(err.value if hasattr(err, "value") else err)
    assert "\n" not in text
    return text


# --- crafted arrays ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CRASHING))
def test_crafted_models_segfault_a_plain_skops_load_and_predict(case, tmp_path):
    """The danger, shown in a separate process: skops' own load of these files, then predict, segfaults."""
    model, X = CRASHING[case]()
    (tmp_path / "m.skops").write_bytes(sio.dumps(model))
    np.save(tmp_path / "X.npy", X)
    script = ("import sys, numpy as np, skops.io as sio\n"
              "data = open(sys.argv[1], 'rb').read()\n"
              "m = sio.loads(data, trusted=sio.get_untrusted_types(data=data))\n"
              "m.predict(np.load(sys.argv[2]))\n")
    done = subprocess.run([sys.executable, "-c", script, tmp_path / "m.skops", tmp_path / "X.npy"],
                          capture_output=True, timeout=600)
    assert done.returncode == -11, (done.returncode, done.stderr[-500:])


@pytest.mark.parametrize("case", sorted(INVALID))
def test_crafted_models_are_refused_before_use(case):
    builder, words = INVALID[case]
    data = skops_bytes(builder)
    with pytest.raises(E.ModelError) as err:
        load_model(data, name=f"{case}.skops", sandbox=False)  # validation alone, in this process
    text = one_line(err)
    assert text.startswith(f"Model file {case}.skops holds an invalid ")
    assert words in text, text


@pytest.mark.parametrize("case", ["tree_bad_child", "hgb_bad_child", "kd_tree_bad_indices"])
def test_crafted_models_are_refused_through_the_isolated_child_too(case):
    builder, words = INVALID[case]
    with pytest.raises(E.ModelError) as err:
        load_model(skops_bytes(builder), name="m.skops")
    assert words in one_line(err)


def test_the_cli_refuses_a_crafted_model_with_exit_2_and_one_line(tmp_path, capsys):
    model, _ = INVALID["forest_bad_tree"][0]()
    (tmp_path / "m.skops").write_bytes(sio.dumps(model))
    code = main(["review", "--train", str(SAMPLE / "credit_train.csv"), "--test", str(SAMPLE / "credit_holdout.csv"),
                 "--target", "default", "--model", str(tmp_path / "m.skops"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("readiness: error: Model file m.skops holds an invalid ")


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X) if y is None else est.fit(X, y)


def _honest_zoo():
    from sklearn import (
        calibration,
        cluster,
        compose,
        ensemble,
        linear_model,
        neighbors,
        neural_network,
        pipeline,
        svm,
        tree,
    )
    from sklearn import preprocessing as pp

    rng = np.random.default_rng(0)
    n = 300
    X = rng.normal(size=(n, 4))
    Xn = X.copy()
    Xn[rng.random((n, 4)) < 0.05] = np.nan
    yb = (X[:, 0] + rng.normal(size=n) > 0).astype(int)
    ym = np.digitize(X[:, 1], [-0.5, 0.5])
    yr = 2 * X[:, 0] + rng.normal(size=n)
    frame = pd.DataFrame({"a": rng.choice(list("abcdefghij"), n), "b": rng.choice(list("klmnopqrst"), n),
                          "x": X[:, 0]})
    one_hot = compose.ColumnTransformer([("oh", pp.OneHotEncoder(handle_unknown="ignore"), ["a", "b"])],
                                        remainder="passthrough")  # sparse output: the SVM is fitted on csr
    sparse_lr = _fit(linear_model.LogisticRegression(), X, yb)
    sparse_lr.sparsify()
    return [
        (tree.DecisionTreeClassifier(random_state=0), Xn, yb), (tree.DecisionTreeRegressor(max_depth=5), Xn, yr),
        (tree.ExtraTreeClassifier(random_state=0), X, ym),
        (ensemble.RandomForestClassifier(20, random_state=0), Xn, ym), (ensemble.ExtraTreesRegressor(10), X, yr),
        (ensemble.GradientBoostingClassifier(n_estimators=10), X, yb),
        (ensemble.GradientBoostingClassifier(n_estimators=10), X, ym),
        (ensemble.GradientBoostingRegressor(n_estimators=10), X, yr),
        (ensemble.HistGradientBoostingClassifier(max_iter=10), Xn, yb),
        (ensemble.HistGradientBoostingClassifier(max_iter=10), Xn, ym),
        (ensemble.HistGradientBoostingRegressor(max_iter=10), Xn, yr),
        (ensemble.AdaBoostClassifier(n_estimators=10), X, yb),
        (ensemble.BaggingClassifier(tree.DecisionTreeClassifier(), max_features=0.5, n_estimators=5), X, yb),
        (ensemble.IsolationForest(n_estimators=10, random_state=0), X, None),
        (neighbors.KNeighborsClassifier(), X, yb), (neighbors.KNeighborsClassifier(algorithm="kd_tree"), X, ym),
        (neighbors.KNeighborsRegressor(algorithm="ball_tree"), X, yr),
        (svm.SVC(), X, ym), (svm.SVR(), X, yr), (svm.NuSVC(), X, yb), (svm.OneClassSVM(), X, None),
        (pipeline.make_pipeline(one_hot, svm.SVC()), frame, yb),
        (calibration.CalibratedClassifierCV(ensemble.RandomForestClassifier(10)), X, yb),
        (neural_network.MLPClassifier(max_iter=50), X, yb),
        (ensemble.StackingClassifier([("rf", ensemble.RandomForestClassifier(5)),
                                      ("lr", linear_model.LogisticRegression())]), X, yb),
        (pipeline.make_pipeline(cluster.KMeans(3, n_init=2, random_state=0), linear_model.LogisticRegression()), X, yb),
        (sparse_lr, X, "fitted"),
    ]


@pytest.mark.parametrize("i", range(len(_honest_zoo())))
def test_honest_models_pass_validation_and_predict_the_same(i):
    """No false refusals: scikit-learn's own fitted models, the shapes people ship."""
    est, X, y = _honest_zoo()[i]
    if not (isinstance(y, str) and y == "fitted"):
        _fit(est, X, y)
    loaded = load_model(sio.dumps(est), name="m.skops", sandbox=False).estimator
    assert np.array_equal(loaded.predict(X), est.predict(X))


def test_the_sample_model_passes_the_isolated_load_and_first_score():
    ctx = prepare_review(train=SAMPLE / "credit_train.csv", test=SAMPLE / "credit_holdout.csv",
                         model=(SAMPLE / "credit_model.skops").read_bytes(), model_name="credit_model.skops",
                         roles=Roles(target="default", positive_label=1))
    assert ctx.model is not None and ctx.model_info.format == "skops"


# --- the isolated child --------------------------------------------------------------------------


def test_a_crash_in_the_child_is_reported_and_this_process_lives_on():
    with pytest.raises(SandboxFailure) as err:
        run_isolated("ctypes:string_at", {"ptr": 1, "size": 8})
    assert err.value.kind == "crash" and "SIGSEGV" in err.value.detail
    assert run_isolated("math:sqrt", {})["error"] == "TypeError"  # the server still answers
    assert run_isolated("json:dumps", {"obj": [1, 2]}) == {"ok": True, "result": "[1, 2]"}


def test_memory_and_time_are_limited():
    with pytest.raises(SandboxFailure) as err:
        run_isolated("numpy:ones", {"shape": (1 << 31,)}, limits=Limits(memory_mb=256))
    assert err.value.kind == "memory"
    with pytest.raises(SandboxFailure) as err:
        run_isolated("signal:pause", {}, limits=Limits(timeout_s=1))
    assert err.value.kind == "timeout"


def _trusted(obj, name="m.pkl"):
    data = pickle.dumps(obj)
    return dict(source=data, name=name, trusted_sha256=model_digest(data))


@pytest.mark.parametrize("obj,expected", [
    (Segfaults(), E.MODEL_SANDBOX_CRASH.format(name="m.pkl", stage="while loading it", detail="signal SIGSEGV")),
    (EatsMemory(), E.MODEL_SANDBOX_MEMORY.format(name="m.pkl", limit=512, stage="while loading it")),
])
def test_a_trusted_pickle_that_crashes_or_eats_memory_is_a_one_line_refusal(obj, expected, monkeypatch):
    """The CLI user trusts their own pickle (--trust-model); it still loads first in the child."""
    monkeypatch.setenv("READINESS_MODEL_MEMORY_MB", "512")
    with pytest.raises(E.ModelError) as err:
        load_model(**_trusted(obj))
    assert one_line(err) == expected


def test_a_model_that_hangs_is_stopped_at_the_time_limit(monkeypatch):
    monkeypatch.setenv("READINESS_MODEL_TIMEOUT_S", "2")
    with pytest.raises(E.ModelError) as err:
        load_model(**_trusted(Sleeps()))
    assert one_line(err) == E.MODEL_SANDBOX_TIMEOUT.format(name="m.pkl", limit=2.0, stage="while loading it")


def test_a_model_that_crashes_when_scoring_is_refused_before_scoring_here(tmp_path, capsys):
    """Loads and validates fine; its first scoring happens in the child, which dies."""
    data = pickle.dumps(CrashesOnPredict())
    df = pd.DataFrame({"x": np.arange(40.0), "y": [0, 1] * 20})
    csv = df.to_csv(index=False).encode()
    with pytest.raises(E.ModelError) as err:
        prepare_review(train=csv, train_name="t.csv", test=csv, test_name="h.csv", roles=Roles(target="y"),
                       model=data, model_name="m.pkl", trusted_model_sha256=model_digest(data))
    assert one_line(err) == E.MODEL_SANDBOX_CRASH.format(name="m.pkl", stage="while scoring the holdout",
                                                         detail="signal SIGSEGV")
    (tmp_path / "m.pkl").write_bytes(data)
    (tmp_path / "d.csv").write_text(df.to_csv(index=False))
    code = main(["review", "--train", str(tmp_path / "d.csv"), "--test", str(tmp_path / "d.csv"), "--target", "y",
                 "--model", str(tmp_path / "m.pkl"), "--trust-model", "--quiet"])
    assert code == 2
    assert capsys.readouterr().err.startswith("readiness: error: Model file m.pkl crashed the isolated process")


# --- zip bombs -------------------------------------------------------------------------------------


def test_the_issues_bomb_is_refused_from_the_directory_with_little_memory():
    """About 1 MB, one 1 GiB zero array referenced five times: skops alone would need 5+ GiB."""
    data = zip_bomb(references=5)
    assert len(data) < 1_200_000
    tracemalloc.start()
    try:
        with pytest.raises(E.ModelError) as err:
            load_model(data, name="bomb.skops")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "looks like a decompression bomb" in one_line(err) and "'big.npy'" in str(err.value)
    assert peak < 16 * 2**20, peak


def test_one_member_referenced_many_times_counts_every_time(monkeypatch):
    member = io.BytesIO()
    np.save(member, np.zeros(2**17))  # 1 MiB, stored uncompressed: no ratio to catch
    stored = entry("x.npy", member.getvalue(), method=zipfile.ZIP_STORED)
    monkeypatch.setenv("READINESS_MODEL_MAX_MB", "8")
    once = zip_bytes([stored, entry("schema.json", schema_with_arrays(1, "x.npy"))])
    check_skops_archive(once, name="ok.skops")
    many = zip_bytes([stored, entry("schema.json", schema_with_arrays(10, "x.npy"))])
    with pytest.raises(E.ModelError) as err:
        check_skops_archive(many, name="m.skops")
    assert one_line(err) == E.MODEL_ARCHIVE_TOO_BIG.format(name="m.skops", size="10.0 MiB", limit="8.0 MiB")


def test_overlapping_entries_are_refused():
    with pytest.raises(E.ModelError) as err:
        check_skops_archive(overlapping_bomb(), name="m.skops")
    assert "overlap" in one_line(err)


@pytest.mark.parametrize("declared,actual,words", [
    (4096, 8 * 2**20, "Bad CRC"),  # zipfile stops at the declared size; the checksum then fails
    (512 * 2**10, 4096, "unpacks to 4.0 KiB, not the declared 512.0 KiB"),
])
def test_a_directory_that_lies_about_sizes_is_caught_while_streaming(declared, actual, words):
    with pytest.raises(E.ModelError) as err:
        check_skops_archive(lying_size(declared, actual), name="m.skops")
    assert "damaged or tampered" in one_line(err) and words in str(err.value)


def test_a_directory_of_millions_of_entries_is_refused_before_it_is_parsed(monkeypatch):
    """Each directory entry costs zipfile an object: the count is read from the end record first."""
    entries = [entry(f"e{i}.npy", b"x") for i in range(50)] + [entry("schema.json", b"{}")]
    parsed = []
    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents", lambda self: parsed.append(1))
    with pytest.raises(E.ModelError) as err:
        check_skops_archive(zip_bytes(entries), name="m.skops", limits=ArchiveLimits(max_members=10))
    assert one_line(err) == E.MODEL_ARCHIVE_MEMBERS.format(name="m.skops", n=51, limit=10)
    assert parsed == []


def test_an_array_header_claiming_more_than_its_member_holds_is_refused():
    member = io.BytesIO()
    np.lib.format.write_array_header_1_0(member, {"descr": "<f8", "fortran_order": False, "shape": (2**30,)})
    data = zip_bytes([entry("x.npy", member.getvalue() + b"\0" * 64), entry("schema.json", schema_with_arrays(1, "x.npy"))])
    with pytest.raises(E.ModelError) as err:
        check_skops_archive(data, name="m.skops")
    assert "declares an array of 8.0 GiB" in one_line(err)


def test_honest_skops_files_pass_the_archive_check():
    check_skops_archive((SAMPLE / "credit_model.skops").read_bytes(), name="credit_model.skops")
    buf = io.BytesIO()
    sio.dump({"a": np.arange(10)}, buf, compression=zipfile.ZIP_DEFLATED)
    check_skops_archive(buf.getvalue(), name="deflated.skops")


@pytest.mark.parametrize("data", [b"not a zip", b"PK\x03\x04 but broken", b""])
def test_a_file_named_skops_that_is_not_a_zip(data):
    with pytest.raises(E.ModelError) as err:
        load_model(data, name="x.skops")
    assert one_line(err) == E.MODEL_NOT_ZIP.format(name="x.skops")
