"""Scale benchmark of the engines (docs/performance.md#engines): a review with a model and a
monitor run on a partitioned Parquet holdout of N rows and 20 features.

    python benchmarks/bench_engines.py --rows 5000000 --engine dask [--checks all|exact] [--sample-rows 100000]
    python benchmarks/bench_engines.py --rows 10000000 --engine local   # streams (READINESS_LOCAL_MAX_ROWS)

Dask: a LocalCluster of 2 worker processes limited to 4 GiB each. Spark: local[2]. Memory is
the peak resident set of each process, sampled every 0.2 s with psutil: the driver (this
process), each Dask worker, the Spark JVM and its Python workers. A script, not a timed test.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

EXTRA = 14  # 6 base features + 14 = 20 features


class PeakMemory:
    """Peak RSS of this process and of every descendant, by role."""

    def __init__(self):
        import psutil

        self.me = psutil.Process()
        self.peaks: dict[str, float] = {}
        self.cpu: dict[int, float] = {}  # pid -> user + system seconds, last seen
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _role(self, p) -> str:
        try:
            cmd = " ".join(p.cmdline())
        except Exception:
            return f"pid {p.pid}"
        if "java" in p.name():
            return "spark JVM (driver + executors)"
        if "pyspark" in cmd or "daemon" in cmd:
            return f"spark python worker {p.pid}"
        if "spawn_main" in cmd or "forkserver" in cmd:
            return f"dask process {p.pid}"
        if "readiness.inputs.sandbox" in cmd:
            return "model sandbox"
        return f"{p.name()} {p.pid}"

    def _run(self):
        while not self._stop.is_set():
            try:
                procs = [("driver", self.me)] + [(self._role(c), c) for c in self.me.children(recursive=True)]
            except Exception:
                procs = [("driver", self.me)]
            for role, p in procs:
                try:
                    rss = p.memory_info().rss / 2**30
                    t = p.cpu_times()
                    self.cpu[p.pid] = t.user + t.system
                except Exception:
                    continue
                self.peaks[role] = max(self.peaks.get(role, 0.0), rss)
            time.sleep(0.2)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def make_data(root: Path, rows: int, parts: int) -> dict:
    import numpy as np
    from engines_world import fit_model, make_rows

    out = {"train": root / "train", "holdout": root / "holdout", "batch": root / "batch", "model": root / "model.skops"}
    if (root / "done").exists():
        return out
    for d in ("train", "holdout", "batch"):
        (root / d).mkdir(parents=True, exist_ok=True)
    train = make_rows(200_000, 1, holdout=False, extra=EXTRA)
    fit_model(train, out["model"])
    train.to_parquet(out["train"] / "part-0000.parquet", index=False)
    for i, n in enumerate(np.diff(np.linspace(0, rows, parts + 1).astype(int))):
        make_rows(int(n), 100 + i, holdout=True, extra=EXTRA).to_parquet(
            out["holdout"] / f"part-{i:04d}.parquet", index=False, row_group_size=250_000)
    for i, n in enumerate(np.diff(np.linspace(0, rows // 2, max(1, parts // 2) + 1).astype(int))):
        make_rows(int(n), 10_000 + i, holdout=True, extra=EXTRA).to_parquet(
            out["batch"] / f"part-{i:04d}.parquet", index=False, row_group_size=250_000)
    (root / "done").write_text("")
    return out


def engine_for(name: str):
    from readiness.engines.base import DaskEngine, LocalEngine, SparkEngine

    if name == "dask":
        return DaskEngine(n_workers=2, memory_limit="4GiB")
    if name == "spark":
        return SparkEngine("local[2]")
    return LocalEngine()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--parts", type=int, default=40)
    ap.add_argument("--engine", choices=["local", "dask", "spark"], default="dask")
    ap.add_argument("--checks", choices=["all", "exact"], default="all")
    ap.add_argument("--sample-rows", type=int, default=100_000)
    ap.add_argument("--root", type=Path, default=Path("/tmp/readiness-bench-engines"))
    a = ap.parse_args()
    from readiness.engines.monitor import monitor_on_engine
    from readiness.engines.review import prepare, run
    from readiness.inputs import Roles, Settings, load_model
    from readiness.monitor.run import load_review

    t0 = time.perf_counter()
    data = make_data(a.root / f"{a.rows}", a.rows, a.parts)
    print(f"data: {a.rows:,} holdout rows x 20 features in {a.parts} files, {a.rows // 2:,}-row batch "
          f"({time.perf_counter() - t0:.0f} s to write)", flush=True)
    checks = None if a.checks == "all" else ["data_quality.completeness", "evaluation.holdout", "monitoring.reference"]
    with PeakMemory() as mem:
        engine = engine_for(a.engine)
        t = time.perf_counter()
        try:
            er = prepare(engine, train=data["train"], test=data["holdout"], roles=Roles(target="default", sensitive=["group"]),
                         settings=Settings(), model=data["model"].read_bytes(), model_name="model.skops", trusted=None,
                         sample_rows=a.sample_rows, progress=lambda s: print(f"  {time.perf_counter() - t:7.1f} s  {s}",
                                                                             flush=True))
            t_prep = time.perf_counter() - t
            report = run(er, checks=checks)
            t_review = time.perf_counter() - t
            review_path = a.root / f"review-{a.engine}.json"
            review_path.write_text(report.to_json())
            model = load_model(data["model"].read_bytes(), name="model.skops")
            t = time.perf_counter()
            result = monitor_on_engine(engine, load_review(review_path), data["batch"], model=model,
                                       model_bytes=data["model"].read_bytes(), target="default")
            t_monitor = time.perf_counter() - t
        finally:
            engine.close()
    print(f"engine {a.engine}: review {t_review:.0f} s (open, sample, score and summarise {t_prep:.0f} s; "
          f"{len(report.checks)} checks {report.duration_s:.0f} s); monitor {t_monitor:.0f} s "
          f"({result.batch['rows']:,} rows, {len(result.tests)} tests, {result.status})")
    for c in report.checks:
        if c.metrics.get("basis", {}).get("kind") == "exact" or checks is not None:
            print(f"  {c.status.value:<7} {c.id:<28} {c.summary[:110]}")
    print(f"CPU seconds (user + system, all processes seen): {sum(mem.cpu.values()):.0f}")
    print("peak memory (GiB):")
    for role, gib in sorted(mem.peaks.items(), key=lambda kv: -kv[1]):
        if gib >= 0.05:
            print(f"  {gib:6.2f}  {role}")


if __name__ == "__main__":
    main()
