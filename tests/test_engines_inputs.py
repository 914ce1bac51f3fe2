"""Parquet datasets (a directory, a glob, an fsspec URL) wherever a data file goes, and their bad input."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from readiness import errors as E
from readiness.engines import open_dataset
from readiness.inputs import load_table

ROOT = Path(__file__).resolve().parent.parent


def cli(*args):
    return subprocess.run([sys.executable, "-m", "readiness.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * x))).astype(int)
    return pd.DataFrame({"x": x, "z": rng.integers(0, 9, n), "city": rng.choice(["a", "b", None], n),
                         "score": 1 / (1 + np.exp(-2 * x)), "y": y})


def write_parts(df: pd.DataFrame, folder: Path, parts: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, chunk in enumerate(np.array_split(np.arange(len(df)), parts)):
        df.iloc[chunk].to_parquet(folder / f"part-{i:03d}.parquet", index=False)
    (folder / "_SUCCESS").write_text("")  # Spark's marker file is not data
    return folder


def test_dataset_loads_as_the_same_table_as_one_file(tmp_path):
    df = frame(3000, 1)
    one = tmp_path / "one.parquet"
    df.to_parquet(one, index=False)
    ds = write_parts(df, tmp_path / "ds", 4)
    expected = load_table(one, role="test").frame
    for source in (ds, str(ds / "part-*.parquet"), f"file://{ds}"):
        got = load_table(source, role="test")
        pd.testing.assert_frame_equal(got.frame, expected)
    meta = open_dataset(ds, role="test")
    assert meta.num_rows == 3000 and len(meta.files) == 4
    # the digest covers every file's bytes: a changed partition changes it
    df.iloc[:10].to_parquet(ds / "part-000.parquet", index=False)
    assert open_dataset(ds, role="test").sha256 != meta.sha256


def test_memory_url_through_fsspec(tmp_path):
    import fsspec

    fs = fsspec.filesystem("memory")
    df = frame(500, 2)
    for i in range(2):
        with fs.open(f"/lake/holdout/part-{i}.parquet", "wb") as fh:
            df.iloc[i * 250:(i + 1) * 250].to_parquet(fh, index=False)
    got = load_table("memory://lake/holdout", role="test")
    pd.testing.assert_frame_equal(got.frame, df.reset_index(drop=True))


def test_review_on_datasets_equals_review_on_files(tmp_path):
    tr, te = frame(4000, 3), frame(3000, 4)
    tr.to_parquet(tmp_path / "train.parquet", index=False)
    te.to_parquet(tmp_path / "test.parquet", index=False)
    write_parts(tr, tmp_path / "train", 3)
    write_parts(te, tmp_path / "test", 5)
    common = ["--target", "y", "--prediction-column", "score", "--check", "evaluation.holdout",
              "--check", "data_quality.completeness", "--quiet"]
    a = cli("review", "--train", tmp_path / "train.parquet", "--test", tmp_path / "test.parquet", *common,
            "--json", tmp_path / "a.json")
    b = cli("review", "--train", tmp_path / "train", "--test", f"{tmp_path}/test/*.parquet", *common,
            "--json", tmp_path / "b.json")
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    ja, jb = (json.loads((tmp_path / f).read_text()) for f in ("a.json", "b.json"))
    for x, y in zip(ja["checks"], jb["checks"], strict=True):
        assert {k: v for k, v in x.items() if k != "duration_s"} == {k: v for k, v in y.items() if k != "duration_s"}
    assert [f["rows"] for f in jb["inputs"]] == [4000, 3000]


def assert_bad_input(proc, *needles):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.mark.slow  # over 10 s: CI's slow phase runs it (keeps the README's test run under 15 min)
def test_bad_datasets_are_one_line_exit_2(tmp_path):
    df = frame(200, 5)
    good = write_parts(df, tmp_path / "good", 2)
    (tmp_path / "nothing").mkdir()
    empty = tmp_path / "empty"
    empty.mkdir()
    df.iloc[:0].to_parquet(empty / "part-0.parquet", index=False)
    cols = write_parts(df, tmp_path / "cols", 2)
    df.drop(columns=["z"]).to_parquet(cols / "part-001.parquet", index=False)
    types = write_parts(df, tmp_path / "types", 2)
    bad = df.assign(z=df["z"].astype(str))
    bad.to_parquet(types / "part-001.parquet", index=False)
    base = ["review", "--train", good, "--target", "y", "--prediction-column", "score", "--check", "evaluation.holdout"]
    assert_bad_input(cli(*base, "--test", tmp_path / "nothing"), "has no Parquet files")
    assert_bad_input(cli(*base, "--test", empty), "is empty")
    assert_bad_input(cli(*base, "--test", cols), "partitions disagree on columns", "part-001.parquet")
    assert_bad_input(cli(*base, "--test", types), "partitions disagree on the type of column 'z'", "int64", "string")


def test_all_null_partition_takes_the_others_type(tmp_path):
    df = frame(100, 6)
    folder = write_parts(df, tmp_path / "ds", 2)
    t = pa.table({c: pa.nulls(3) if c == "city" else pa.array(df[c].iloc[:3]) for c in df.columns})
    pq.write_table(t, folder / "part-009.parquet")
    meta = open_dataset(folder, role="test")
    assert pa.types.is_large_string(meta.schema.field("city").type) and meta.num_rows == 103
    with pytest.raises(E.InputFileError, match="has no Parquet files"):
        open_dataset(tmp_path / "ds" / "nope*.parquet", role="test")


@pytest.mark.slow  # the Dask client waits out its 10 s connect timeout
def test_unreachable_scheduler_and_master_are_one_line_exit_2(tmp_path):
    import importlib.util

    df = frame(200, 7)
    ds = write_parts(df, tmp_path / "ds", 2)
    base = ["review", "--train", ds, "--test", ds, "--target", "y", "--prediction-column", "score",
            "--check", "evaluation.holdout"]
    if importlib.util.find_spec("distributed") is not None:
        assert_bad_input(cli(*base, "--engine", "dask", "--dask-scheduler", "tcp://127.0.0.1:9"),
                         "The Dask scheduler at tcp://127.0.0.1:9 cannot be reached")
    if importlib.util.find_spec("pyspark") is not None:
        assert_bad_input(cli(*base, "--engine", "spark", "--spark-master", "spark://127.0.0.1:9"),
                         "The Spark master at spark://127.0.0.1:9 cannot be reached")
    assert_bad_input(cli(*base, "--engine", "dask", "--split-column", "y"), "--split-column")
