"""Time the explanation checks on the bundled sample and on a generated 50,000-row data set.

    python benchmarks/bench_explanations.py [--rows 50000] [--skip-agnostic] [--json OUT.json]

Each scenario runs in this process from a cold explainer cache (the first SHAP call also
pays ``import shap`` and building the explainer: the column-ownership probe). The 50k set
is the sample's generator (``sample_data/generate.py``) at a larger size, split by date
like the sample (about 5/6 training, 1/6 holdout), with the same pipeline
(ColumnTransformer(SimpleImputer, OneHotEncoder) + HistGradientBoostingClassifier).
The model-agnostic rows force ``shap.PermutationExplainer`` on the same model to show what
a model without a fast path costs; its first call in a process includes shap's numba
compilation (reported separately).
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from readiness import explain as X  # noqa: E402
from readiness.inputs import Roles, Settings, build_context  # noqa: E402
from readiness.inputs.models import LoadedModel  # noqa: E402
from readiness.inputs.tables import Table, sha256_bytes  # noqa: E402
from readiness.registry import get_check  # noqa: E402
from readiness.review import run_check  # noqa: E402

CHECKS = ("explanations.shap", "explanations.lime", "explanations.permutation")


def _generator():
    spec = importlib.util.spec_from_file_location("sample_generate", ROOT / "sample_data" / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _table(frame, role):
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    data = buf.getvalue().encode()
    return Table(name=f"{role}.csv", role=role, frame=frame.reset_index(drop=True), sha256=sha256_bytes(data),
                 size_bytes=len(data))


def generated_context(rows: int):
    gen = _generator()
    train, test = gen.split(gen.make_frame(n=rows))
    t0 = time.perf_counter()
    model = gen.make_model(train)
    fit_s = time.perf_counter() - t0
    loaded = LoadedModel(estimator=model, name="generated.skops", sha256="0" * 64, size_bytes=0, format="skops")
    ctx = build_context(train=_table(train, "train"), test=_table(test, "test"), roles=Roles(**gen.SAMPLE_ROLES),
                        model=loaded, settings=Settings(**gen.SAMPLE_SETTINGS))
    return ctx, fit_s


def time_checks(ctx) -> dict:
    X.clear_cache()
    out = {}
    for cid in CHECKS:
        t0 = time.perf_counter()
        res = run_check(get_check(cid), ctx)
        out[cid] = {"seconds": round(time.perf_counter() - t0, 2), "status": res.status.value}
        m = res.metrics
        if cid == "explanations.shap":
            out[cid].update(explainer=m.get("explainer"), rows_explained=m.get("rows_explained"),
                            stopped_by_budget=m.get("stopped_by_budget"), top=m.get("top_features", [None])[0])
        elif cid == "explanations.lime":
            out[cid].update(rows_checked=m.get("rows_checked"), rows_agreeing=m.get("rows_agreeing"))
        else:
            out[cid].update(rows=m.get("rows"), n_repeats=m.get("n_repeats"), groups=len(m.get("groups", {})),
                            top=next(iter(m.get("importances", {})), None))
    row = len(ctx.test) // 3
    t0 = time.perf_counter()
    X.explain_row(ctx, row)
    out["explain_row (new row, warm explainer)"] = {"seconds": round(time.perf_counter() - t0, 2)}
    return out


def time_agnostic(ctx) -> dict:
    """Force the model-agnostic explainer on the same model (private hook, benchmark only)."""
    X.clear_cache()
    enc = X.Encoding.fit([ctx.train, ctx.test], ctx.model.features)
    X._STATES[ctx.digest] = X._agnostic_state(ctx, enc, [])
    t0 = time.perf_counter()
    X.shap_values(ctx, np.array([0]))
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    g = X.global_shap(ctx)
    total = time.perf_counter() - t0
    t0 = time.perf_counter()
    X.explain_row(ctx, 1)
    row = time.perf_counter() - t0
    X.clear_cache()
    return {"first call (numba compilation + 1 row)": round(first, 2), "global_shap seconds": round(total, 2),
            "rows_explained": g["rows_explained"], "stopped_by_budget": g["stopped_by_budget"],
            "per row": round(total / max(g["rows_explained"], 1), 3), "explain_row (SHAP + LIME)": round(row, 2),
            "top": g["top_features"][0]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--skip-agnostic", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    from readiness.sample import load_sample

    results: dict = {"python": platform.python_version()}
    try:
        import os

        results["load_average"] = os.getloadavg()
    except OSError:
        pass
    sample = load_sample()
    results["sample"] = {"train": len(sample.train), "test": len(sample.test), "checks": time_checks(sample)}
    if not args.skip_agnostic:
        results["sample"]["model_agnostic"] = time_agnostic(sample)
    ctx, fit_s = generated_context(args.rows)
    results[f"generated_{args.rows}"] = {"train": len(ctx.train), "test": len(ctx.test), "model_fit_s": round(fit_s, 2),
                                         "checks": time_checks(ctx)}
    if not args.skip_agnostic:
        results[f"generated_{args.rows}"]["model_agnostic"] = time_agnostic(ctx)
    text = json.dumps(results, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
