"""Datasets on the server (readiness.engines.server_data): what the operator offers, what a visitor may
choose, and every way of reaching beyond the data folder refused with one line that names no server path."""

import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from readiness.engines.dataset import Dataset
from readiness.engines.server_data import (
    SERVER_DATA_ENV,
    ServerDataError,
    ServerTable,
    list_server_datasets,
    prepare_server_review,
    review_source,
    server_data_config,
    server_table,
)
from readiness.inputs import Roles, Settings

SECRET = "do-not-read"


def frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    p = 1 / (1 + np.exp(-2 * x))
    return pd.DataFrame({"x": x, "city": rng.choice(["a", "b"], n), "score": p,
                         "y": (rng.random(n) < p).astype(int)})


def write_parts(df: pd.DataFrame, folder: Path, parts: int) -> Path:
    folder.mkdir(parents=True)
    for i, idx in enumerate(np.array_split(np.arange(len(df)), parts)):
        sub = folder / f"month={i:02d}"  # Hive-style partition folders
        sub.mkdir()
        df.iloc[idx].to_parquet(sub / f"part-{i}.parquet", index=False)
    (folder / "_SUCCESS").write_text("")
    return folder


@pytest.fixture
def lake(tmp_path):
    """A data root as an operator would set it up, with every kind of entry, and a secret next to it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    frame(50, 9).to_parquet(outside / f"{SECRET}.parquet", index=False)
    root = tmp_path / "lake"
    root.mkdir()
    write_parts(frame(3000, 1), root / "holdout_q3", 3)
    write_parts(frame(4000, 2), root / "train_2025", 2)
    frame(700, 3).to_parquet(root / "small.parquet", index=False)
    frame(300, 4).to_csv(root / "extra.csv", index=False)
    (root / "notes.txt").write_text("not data")
    (root / ".hidden").mkdir()
    frame(10, 5).to_parquet(root / ".hidden" / "h.parquet", index=False)
    (root / "_staging").mkdir()
    (root / "empty_folder").mkdir()
    os.symlink(outside, root / "escape")  # a folder link that leaves the root
    sneaky = root / "sneaky"
    sneaky.mkdir()
    frame(20, 6).to_parquet(sneaky / "ok.parquet", index=False)
    os.symlink(outside / f"{SECRET}.parquet", sneaky / "stolen.parquet")  # one file inside links out
    os.symlink(outside / f"{SECRET}.parquet", root / "linked.parquet")  # a file link that leaves the root
    mixed = root / "mixed"
    mixed.mkdir()
    frame(10, 7).to_parquet(mixed / "a.parquet", index=False)
    frame(10, 8).rename(columns={"x": "x2"}).to_parquet(mixed / "b.parquet", index=False)
    os.environ.pop(SERVER_DATA_ENV, None)
    return root


def config_for(root: Path, extra: str = "", tmp: Path | None = None):
    path = (tmp or root.parent) / "server-data.toml"
    path.write_text(f'root = "{root.name}"\n{extra}')  # relative to the TOML file's folder
    return server_data_config({SERVER_DATA_ENV: str(path)})


def test_off_unless_the_operator_sets_it(lake):
    assert server_data_config({}) is None
    assert server_data_config({SERVER_DATA_ENV: "  "}) is None
    folder = server_data_config({SERVER_DATA_ENV: str(lake)})
    assert folder.root == lake.resolve() and folder.engine == "local" and not folder.urls


@pytest.mark.parametrize("text, said", [
    ('root = "lake"\nengine = "ray"\n', "engine must be local, dask or spark, got 'ray'"),
    ('root = "lake"\npaths = ["/etc"]\n', "unknown setting 'paths'"),
    ('root = "nowhere"\n', "names a root that is not a folder"),
    ('engine = "local"\n', "offers nothing"),
    ('root = "lake"\nsample_rows = 5\n', "sample_rows must be a whole number of at least 1000"),
    ('[urls]\n"Q3" = "/srv/lake/q3"\n', "[urls] must map names to URLs"),
    ('root = "lake\n', "is not a readable TOML file"),
])
def test_a_broken_setting_is_one_line_and_names_no_path(lake, text, said):
    path = lake.parent / "server-data.toml"
    path.write_text(text)
    with pytest.raises(ServerDataError) as err:
        server_data_config({SERVER_DATA_ENV: str(path)})
    msg = str(err.value)
    assert said in msg and "\n" not in msg and str(lake.parent) not in msg, msg
    with pytest.raises(ServerDataError, match="neither a folder nor a TOML file"):
        server_data_config({SERVER_DATA_ENV: str(lake / "no-such.toml")})


def test_listing_offers_the_entries_directly_in_the_root_with_their_footers(lake):
    offered, refused = list_server_datasets(config_for(lake))
    names = [d.name for d in offered]
    assert names == ["extra.csv", "holdout_q3", "small.parquet", "train_2025"]
    assert {name for name, _ in refused} == {"empty_folder", "escape", "linked.parquet", "mixed", "sneaky"}
    # rows, files and size against pyarrow's own reading of each file, and the file system's sizes
    ho = next(d for d in offered if d.name == "holdout_q3")
    parts = sorted((lake / "holdout_q3").rglob("*.parquet"))
    assert ho.kind == "dataset" and ho.files == len(parts) == 3
    assert ho.rows == sum(pq.ParquetFile(p).metadata.num_rows for p in parts) == 3000
    assert ho.size_bytes == sum(p.stat().st_size for p in parts) and ho.columns == 4
    assert "3,000 rows × 4 columns · 3 files" in ho.describe()
    csv = next(d for d in offered if d.name == "extra.csv")
    assert csv.rows is None and csv.size_bytes == (lake / "extra.csv").stat().st_size
    assert csv.describe().startswith("extra.csv · CSV file · ")
    whys = dict(refused)
    assert "outside the server's data folder" in whys["escape"]
    assert "stolen.parquet is a link that leads outside" in whys["sneaky"]
    assert "outside the server's data folder" in whys["linked.parquet"]
    assert "disagree on columns" in whys["mixed"]
    for why in whys.values():  # the visitor sees these: entry names only, never the server's paths
        assert str(lake) not in why and SECRET not in why, why


@pytest.mark.parametrize("key", [
    "root:../outside", "root:..", "root:.", "root:", f"root:{'/'}etc", "root:/etc/passwd",
    "root:holdout_q3/../../outside", "root:holdout_q3/month=00", "root:..\\outside", "root:.hidden",
    "root:_staging", "root:*", "root:holdout_*", "root:escape", "root:sneaky", "root:linked.parquet",
    "root:notes.txt", "root:no_such", "url:Q3", "file:/etc/passwd", "/etc/passwd", "../outside", "holdout_q3",
])
def test_only_a_listed_entry_opens_and_nothing_outside_the_root(lake, key):
    config = config_for(lake)
    with pytest.raises(ServerDataError) as err:
        server_table(config, key, role="test")
    msg = str(err.value)
    assert "cannot be used" in msg and "\n" not in msg and str(lake.parent) not in msg, msg
    with pytest.raises(ServerDataError):
        review_source(config, ServerTable(name="x", role="test", frame=pd.DataFrame(), sha256="", size_bytes=0,
                                          key=key))


def test_a_link_out_is_refused_before_any_byte_of_it_is_read(lake, monkeypatch):
    """The folder with one file linked outside: no file of it is opened (not even the one inside)."""
    import fsspec.implementations.local as local

    opened = []
    real = local.LocalFileSystem._open

    def spy(self, path, *a, **k):
        opened.append(str(path))
        return real(self, path, *a, **k)

    monkeypatch.setattr(local.LocalFileSystem, "_open", spy)
    with pytest.raises(ServerDataError, match="link that leads outside"):
        server_table(config_for(lake), "root:sneaky", role="test")
    assert opened == []


def test_a_link_inside_the_root_is_fine(lake):
    os.symlink(lake / "holdout_q3", lake / "holdout_latest")
    offered, _ = list_server_datasets(config_for(lake))
    assert next(d for d in offered if d.name == "holdout_latest").rows == 3000


def test_the_preview_and_the_review_source(lake):
    config = config_for(lake)
    t = server_table(config, "root:holdout_q3", role="test", preview_rows=1000)
    assert isinstance(t, ServerTable) and not t.complete and t.name == "holdout_q3"
    assert len(t.frame) == 1000 and list(t.frame.columns) == ["x", "city", "score", "y"]
    src = review_source(config, t)
    assert isinstance(src, Dataset) and src.num_rows == 3000 and src.name == "holdout_q3"
    # the digest over every byte, computed here independently: relative path and SHA-256 of each file
    outer = hashlib.sha256()
    for p in sorted((lake / "holdout_q3").rglob("*.parquet")):
        rel = p.relative_to(lake / "holdout_q3").as_posix()
        outer.update(f"{rel}\0{hashlib.sha256(p.read_bytes()).hexdigest()}\n".encode())
    assert src.sha256 == outer.hexdigest()
    csv = server_table(config, "root:extra.csv", role="train")
    assert csv.complete and len(csv.frame) == 300 and csv.entry.rows == 300
    assert review_source(config, csv) is csv
    assert csv.sha256 == hashlib.sha256((lake / "extra.csv").read_bytes()).hexdigest()


def test_named_urls_are_offered_by_name_only(tmp_path):
    import fsspec

    fs = fsspec.filesystem("memory")
    df = frame(900, 11)
    for i in range(3):
        with fs.open(f"/lake-srv/holdout/part-{i}.parquet", "wb") as fh:
            df.iloc[i * 300:(i + 1) * 300].to_parquet(fh, index=False)
    toml = tmp_path / "s.toml"
    toml.write_text('[urls]\n"Holdout (lake)" = "memory://lake-srv/holdout"\n"Gone" = "memory://lake-srv/none"\n')
    config = server_data_config({SERVER_DATA_ENV: str(toml)})
    offered, refused = list_server_datasets(config)
    assert [(d.name, d.rows, d.files) for d in offered] == [("Holdout (lake)", 900, 3)]
    assert refused[0][0] == "Gone" and "lake-srv" not in refused[0][1], refused
    t = server_table(config, "url:Holdout (lake)", role="test")
    assert review_source(config, t).num_rows == 900
    with pytest.raises(ServerDataError):
        server_table(config, "url:memory://lake-srv/holdout", role="test")  # a URL typed in: not a name


def test_a_review_of_server_datasets_is_the_cli_engine_path(lake, monkeypatch):
    """Above READINESS_LOCAL_MAX_ROWS the local engine streams, as `readiness review --engine local` does: the
    holdout metrics are exact on every row (against scikit-learn on the whole holdout) and say so."""
    from sklearn.metrics import confusion_matrix, roc_auc_score

    from readiness.engines.review import run

    config = config_for(lake)
    train = server_table(config, "root:train_2025", role="train")
    test = server_table(config, "root:holdout_q3", role="test", preview_rows=500)
    roles = Roles(target="y", prediction_column="score")
    monkeypatch.setenv("READINESS_LOCAL_MAX_ROWS", "1000")
    said = []
    ctx, er = prepare_server_review(config, train=train, test=test, roles=roles, settings=Settings(),
                                    progress=said.append)
    assert er is not None and er.rows == {"train": 4000, "test": 3000} and said
    try:
        report = run(er, checks=["evaluation.holdout", "data_quality.completeness"])
    finally:
        er.engine.close()
    ev = report.check("evaluation.holdout")
    assert ev.metrics["basis"] == {"kind": "exact", "engine": "local", "rows": 3000, "train_rows": 4000}
    whole = pd.read_parquet(lake / "holdout_q3")
    tn, fp, fn, tp = confusion_matrix(whole["y"], (whole["score"] >= 0.5).astype(int)).ravel()
    assert ev.metrics["accuracy"] == pytest.approx((tp + tn) / len(whole), rel=1e-12)
    assert abs(ev.metrics["roc_auc"] - roc_auc_score(whole["y"], whole["score"])) <= ev.metrics["roc_auc_max_error"]
    assert [f.name for f in ctx.input_files] == ["train_2025", "holdout_q3"]
    # below the limit the same inputs are loaded whole, as a file is: no engine, every row in the context
    monkeypatch.setenv("READINESS_LOCAL_MAX_ROWS", "5000000")
    ctx2, er2 = prepare_server_review(config, train=train, test=test, roles=roles, settings=Settings())
    assert er2 is None and len(ctx2.test) == 3000 and ctx2.digest == ctx.digest


def test_the_overview_sentence_counts_exact_and_sampled_checks():
    from types import SimpleNamespace as C

    from readiness.fmt import basis_overview

    exact = {"kind": "exact", "engine": "dask", "rows": 6000, "train_rows": 4000}
    sample = {"kind": "sample", "engine": "dask", "rows": 1000, "of_rows": 6000}
    checks = [C(status="pass", metrics={"basis": exact}), C(status="warn", metrics={"basis": sample}),
              C(status="fail", metrics={"basis": sample}), C(status="skipped", metrics={"basis": sample})]
    assert basis_overview(checks) == ("Computed with the dask engine: 1 of 3 checks exactly on all 6,000 holdout "
                                      "rows, 2 on a sample of 1,000 of them (each says which under its title).")
    assert basis_overview([C(status="pass", metrics={"accuracy": 0.9})]) is None  # files in memory: nothing said


def test_a_text_table_larger_than_an_upload_is_not_offered(lake, monkeypatch):
    """A CSV is loaded whole, as an upload is: one over the upload limit would take the server's memory
    (a sparse file: no disk used)."""
    import readiness.engines.server_data as SD

    with open(lake / "huge.csv", "wb") as fh:
        fh.write(b"x,y\n1,0\n")
        fh.truncate(SD.TABLE_MAX_BYTES + 1)
    offered, refused = list_server_datasets(config_for(lake))
    assert "huge.csv" not in [d.name for d in offered]
    why = dict(refused)["huge.csv"]
    assert "over the 1.0 GB an upload may have" in why and "Parquet" in why and str(lake) not in why
    with pytest.raises(ServerDataError, match="over the"):
        SD.server_table(config_for(lake), "root:huge.csv", role="test")


def test_the_apps_current_model_is_compared_on_every_row_of_a_server_dataset(lake, monkeypatch):
    """An uploaded current model (loaded, with its bytes) beside a holdout on the server: the workers score it
    on every holdout row, so comparison.champion's counts are exact (McNemar's cells against a crosstab of both
    models' decisions on the whole holdout), not the sample's."""
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    from readiness.engines.review import run
    from readiness.inputs import load_model

    config = config_for(lake)
    train = server_table(config, "root:train_2025", role="train")
    test = server_table(config, "root:holdout_q3", role="test", preview_rows=500)
    fit = pd.read_parquet(lake / "train_2025")
    current = LogisticRegression().fit(fit[["x"]].to_numpy()[:200] * 0.3, fit["y"].to_numpy()[:200])
    data = sio.dumps(current)
    loaded = load_model(data, name="current.skops")
    monkeypatch.setenv("READINESS_LOCAL_MAX_ROWS", "1000")
    roles = Roles(target="y", prediction_column="score", exclude=["city"])
    ctx, er = prepare_server_review(config, train=train, test=test, roles=roles, settings=Settings(),
                                    champion=loaded, champion_bytes=data)
    try:
        report = run(er, checks=["comparison.champion"])
    finally:
        er.engine.close()
    res = report.check("comparison.champion")
    assert res.status.value in ("pass", "warn", "fail"), (res.status, res.summary)
    assert res.metrics["basis"]["kind"] == "exact" and res.metrics["basis"]["rows"] == 3000
    whole = pd.read_parquet(lake / "holdout_q3")
    new_right = (whole["score"] >= 0.5).astype(int) == whole["y"]
    old_right = current.predict_proba(whole[["x"]].to_numpy())[:, 1] >= 0.5
    old_right = old_right.astype(int) == whole["y"]
    table = pd.crosstab(new_right, old_right)
    assert res.metrics["challenger_only_right"] == int(table.loc[True, False])
    assert res.metrics["champion_only_right"] == int(table.loc[False, True])
    assert res.metrics["both_right"] == int(table.loc[True, True])
