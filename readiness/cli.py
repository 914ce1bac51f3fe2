"""The ``readiness`` command: the same review as the app, headless.

Exit codes: 0 the review completed (whatever it found); 2 bad input (one line on
stderr, no traceback). ``verify``: 0 valid, 1 invalid (with the reason), 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from readiness import errors as E

EXIT_OK, EXIT_INVALID, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2
        self.exit(EXIT_BAD_INPUT, f"readiness: error: {message} (see 'readiness {self.prog.split()[-1]} --help')\n"
                  if " " in self.prog else f"readiness: error: {message}\n")


def _float_in(lo: float, hi: float, name: str):
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"{name} must be between {lo} and {hi}, got {v}")
        return v
    return parse


def _nonneg(name: str):
    return _float_in(0.0, float("inf"), name)


def data_source(text: str) -> str | Path:
    """A data argument: a file, a Parquet dataset directory or glob, or an fsspec URL (kept as text:
    ``Path`` would fold ``s3://`` into ``s3:/``)."""
    return text if "://" in text else Path(text)


def add_engine_options(p) -> None:
    """--engine local|dask|spark and where the engine runs (docs/engines.md)."""
    g = p.add_argument_group("engine (where the rows are processed; docs/engines.md)")
    g.add_argument("--engine", choices=["local", "dask", "spark"], default="local",
                   help="local (pandas; streams a Parquet dataset above $READINESS_LOCAL_MAX_ROWS rows), dask or "
                        "spark: count-based figures exact on every row, row-level analyses on a sample")
    g.add_argument("--dask-scheduler", metavar="ADDRESS",
                   help="Dask scheduler (default: $DASK_SCHEDULER_ADDRESS, else a local cluster of 2 worker processes)")
    g.add_argument("--spark-master", metavar="URL", help="Spark master (default: local[2])")
    g.add_argument("--sample-rows", type=int, default=100_000, metavar="N",
                   help="rows of each input the row-level checks see with an engine (default 100,000)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="readiness", description="Model Readiness Review: evidence that a tabular model is ready.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    r = sub.add_parser("review", help="run the review on files and write JSON")
    src = r.add_argument_group("data")
    src.add_argument("--train", type=data_source,
                     help="training data: a CSV or Parquet file, or a Parquet dataset (directory, glob or URL)")
    src.add_argument("--test", type=data_source,
                     help="holdout data (as --train); omit with --split-column")
    src.add_argument("--split-column", help="one file (--train) with this column marking train/test rows")
    src.add_argument("--sample", action="store_true", help="review the bundled sample (ignores data/model flags)")
    m = r.add_argument_group("model")
    m.add_argument("--model", type=Path, help="model file: .skops (safe), or .joblib/.pkl with --trust-model")
    m.add_argument("--trust-model", action="store_true",
                   help="trust this exact pickle/joblib file; loading it runs code from the file")
    m.add_argument("--prediction-column", help="holdout column with scores for the positive class (no model)")
    ch = r.add_argument_group("current model (champion), to compare the new model with")
    ch.add_argument("--champion", type=Path, metavar="CURRENT",
                    help="the model in production today: a model file in any supported format (see --model)")
    ch.add_argument("--trust-champion", action="store_true",
                    help="trust this exact pickle/joblib champion file; loading it runs code from the file")
    ch.add_argument("--champion-prediction-column", metavar="COL",
                    help="holdout column with the current model's scores (instead of --champion)")
    ch.add_argument("--champion-threshold", type=_float_in(-1e12, 1e12, "--champion-threshold"),
                    help="the current model's decision threshold (default: --threshold)")
    roles = r.add_argument_group("roles")
    roles.add_argument("--target", help="target column")
    roles.add_argument("--positive-label", help="the positive class (default: 1/true/yes, else the last class)")
    # bias review: which outcome is good for the person, and whom to compare against
    roles.add_argument("--favorable-label", metavar="VALUE",
                       help="the target value that is good for the person (e.g. 0 = no default, 1 = loan approved); "
                            "without it bias findings name no disadvantaged group and skip the four-fifths rule")
    roles.add_argument("--reference-group", action="append", default=[], metavar="ATTR=VALUE",
                       help="bias reference group of a sensitive attribute (repeat; default: the most advantaged group)")
    roles.add_argument("--sensitive", action="append", default=[], metavar="COL", help="sensitive attribute (repeat)")
    roles.add_argument("--time-column", help="timestamp column")
    roles.add_argument("--id-column", help="ID or group column")
    roles.add_argument("--exclude", action="append", default=[], metavar="COL", help="column to leave out (repeat)")
    roles.add_argument("--task", choices=["binary", "multiclass", "regression"],
                       help="what the target is (default: the model's kind; without a model, guessed from the values)")
    biz = r.add_argument_group("business context")
    biz.add_argument("--threshold", type=_float_in(-1e12, 1e12, "--threshold"), default=0.5,
                     help="positive when score >= threshold (default 0.5)")
    biz.add_argument("--target-accuracy", type=_float_in(0.0, 1.0, "--target-accuracy"))
    biz.add_argument("--target-rmse", type=_nonneg("--target-rmse"), metavar="RMSE",
                     help="regression: the RMSE the model must reach (is it reachable on these features?)")
    biz.add_argument("--target-r2", type=_float_in(-1e12, 1.0, "--target-r2"), metavar="R2",
                     help="regression: the R² the model must reach (instead of --target-rmse)")
    biz.add_argument("--cost-fp", type=_nonneg("--cost-fp"), default=1.0, help="cost of a false positive")
    biz.add_argument("--cost-fn", type=_nonneg("--cost-fn"), default=1.0, help="cost of a false negative")
    biz.add_argument("--cost-over", type=_nonneg("--cost-over"), metavar="COST",
                     help="regression: cost per unit a prediction is too high")
    biz.add_argument("--cost-under", type=_nonneg("--cost-under"), metavar="COST",
                     help="regression: cost per unit a prediction is too low")
    biz.add_argument("--cost-matrix", type=Path, metavar="FILE.csv",
                     help="multiclass: cost of each decision, a CSV of true class (first column) by predicted class "
                          "(header)")
    biz.add_argument("--latency-budget-ms", type=_float_in(1e-9, 1e9, "--latency-budget-ms"), metavar="MS",
                     help="model.serving warns when scoring one row takes longer than this (95th percentile)")
    biz.add_argument("--answers", type=Path, metavar="ANSWERS.json",
                     help="reviewer answers for the bias review: a JSON object of strings (keys in docs/checks.md)")
    out = r.add_argument_group("output")
    out.add_argument("--json", type=Path, metavar="OUT.json", help="write the JSON report here ('-' for stdout)")
    out.add_argument("--check", action="append", metavar="ID", help="run only this check (repeat)")
    out.add_argument("--quiet", action="store_true", help="no progress or summary on stderr/stdout")
    add_engine_options(r)
    sub.add_parser("checks", help="list the registered checks")
    from readiness.report.commands import add_review_options, add_subcommands

    add_review_options(r)  # --pdf, --project, --model-version, --reviewer, --db ...
    add_subcommands(sub)  # keygen, sign, verify, history
    from readiness.store.commands import add_db_command

    add_db_command(sub)  # db current | upgrade | export | import
    from readiness.monitor.commands import add_monitor

    add_monitor(sub)  # monitor: a production batch against the signed review
    return p


def _progress(quiet: bool):
    def cb(i, n, spec):
        if not quiet and i < n:
            print(f"[{i + 1}/{n}] {spec.title}", file=sys.stderr, flush=True)
    return cb


def _model_bytes(path: Path | None, trust: bool, *, role: str = "model") -> tuple[bytes | None, str | None]:
    """A model file read once (the trusted bytes are the loaded bytes) and its digest when trusted."""
    if path is None:
        return None, None
    from readiness.inputs import model_digest
    from readiness.inputs.tables import read_source

    data, _ = read_source(path, role=role)
    return data, model_digest(data) if trust else None


def _cost_matrix(path: Path | None) -> dict | None:
    if path is None:
        return None
    from readiness.checks.business_tasks import read_cost_matrix

    return read_cost_matrix(path)


def _settings(a):
    from readiness.checks.bias import parse_reference_groups
    from readiness.inputs import Settings

    if a.target_rmse is not None and a.target_r2 is not None:
        raise E.ReadinessError("--target-rmse and --target-r2 set the same goal: give one of them.")
    return Settings(threshold=a.threshold, target_accuracy=a.target_accuracy, cost_fp=a.cost_fp, cost_fn=a.cost_fn,
                    target_rmse=a.target_rmse, target_r2=a.target_r2, cost_over=a.cost_over,
                    cost_under=a.cost_under, cost_matrix=_cost_matrix(a.cost_matrix),
                    reference_groups=parse_reference_groups(a.reference_group),
                    champion_threshold=a.champion_threshold,
                    latency_budget_ms=a.latency_budget_ms)


def _check_champion_args(a) -> None:
    if a.trust_champion and a.champion is None:
        raise E.ReadinessError("--trust-champion needs --champion.")
    if a.champion is not None and a.champion_prediction_column:
        raise E.ReadinessError(E.CHAMPION_BOTH)


def _context_from_args(a):
    from readiness.checks.bias import validate_reference_groups
    from readiness.inputs import Roles, Settings, prepare_review

    settings = _settings(a)
    if a.sample:
        from readiness.sample import load_sample, sample_config

        # the sample keeps its own settings; only the bias reference groups and the latency budget are added
        override = Settings(**{**sample_config().get("settings", {}), "reference_groups": settings.reference_groups,
                               "latency_budget_ms": settings.latency_budget_ms}) \
            if a.reference_group or a.latency_budget_ms is not None else None
        ctx = load_sample(settings_override=override)
        validate_reference_groups(ctx)
        return ctx
    if a.train is None:
        raise E.ReadinessError("--train is required (or --sample to review the bundled sample).")
    if a.target is None:
        raise E.ReadinessError("--target is required: name the column the model predicts.")
    if a.test is None and not a.split_column:
        raise E.ReadinessError("--test is required (or --split-column to split the --train file).")
    if a.trust_model and a.model is None:
        raise E.ReadinessError("--trust-model needs --model.")
    _check_champion_args(a)
    roles = Roles(target=a.target, positive_label=a.positive_label, sensitive=a.sensitive, time_column=a.time_column,
                  id_column=a.id_column, exclude=a.exclude, prediction_column=a.prediction_column,
                  split_column=a.split_column, favorable_label=a.favorable_label,
                  champion_prediction_column=a.champion_prediction_column, task=a.task)
    model, trusted = _model_bytes(a.model, a.trust_model)
    champion, trusted_champion = _model_bytes(a.champion, a.trust_champion, role="champion")
    ctx = prepare_review(train=a.train, test=a.test, roles=roles, model=model, model_name=a.model and a.model.name,
                         trusted_model_sha256=trusted, settings=settings, champion=champion,
                         champion_name=a.champion and a.champion.name, trusted_champion_sha256=trusted_champion)
    validate_reference_groups(ctx)
    from readiness.checks.business_tasks import validate_cost_matrix

    validate_cost_matrix(ctx)
    return ctx


def _with_engine(a) -> bool:
    if a.sample:
        return False
    if a.engine != "local" and a.split_column:
        raise E.ReadinessError("--engine dask|spark needs --test (a holdout dataset), not --split-column.")
    from readiness.engines.review import wants_engine

    return wants_engine(a)


def _engine_review(a):
    """The review's inputs opened on the engine: samples for the context, exact summaries of all rows."""
    from readiness.engines.review import engine_from_args, open_review
    from readiness.inputs import Roles

    if a.train is None or a.target is None or a.test is None:
        raise E.ReadinessError("--engine needs --train, --test and --target.")
    _check_champion_args(a)
    if a.sample_rows < 1000:
        raise E.ReadinessError(f"--sample-rows must be at least 1000, got {a.sample_rows}.")
    settings = _settings(a)
    roles = Roles(target=a.target, positive_label=a.positive_label, sensitive=a.sensitive, time_column=a.time_column,
                  id_column=a.id_column, exclude=a.exclude, prediction_column=a.prediction_column,
                  favorable_label=a.favorable_label, champion_prediction_column=a.champion_prediction_column,
                  task=a.task)
    model, trusted = _model_bytes(a.model, a.trust_model)
    champion, trusted_champion = _model_bytes(a.champion, a.trust_champion, role="champion")
    engine = engine_from_args(a)
    quiet = a.quiet or a.json == Path("-")
    say = (lambda text: None) if quiet else (lambda text: print(f"[{engine.describe()}] {text}", file=sys.stderr,
                                                                 flush=True))
    return open_review(engine, train=a.train, test=a.test, roles=roles, settings=settings, model=model,
                       model_name=a.model and a.model.name, trusted=trusted, sample_rows=a.sample_rows, progress=say,
                       champion=champion, champion_name=a.champion and a.champion.name,
                       trusted_champion=trusted_champion)


def _prestart_worker(a) -> None:
    """On large files, start the review's second process now: it imports the checks while the data loads."""
    from readiness import parallel

    try:
        size = sum(p.stat().st_size for p in (a.train, a.test) if p is not None)
    except (OSError, TypeError):
        return
    if not a.sample and size >= parallel.PARALLEL_MIN_BYTES:
        parallel.prestart()


def _print_summary(report) -> None:
    marks = {"pass": "PASS ", "warn": "WARN ", "fail": "FAIL ", "skipped": "SKIP ", "error": "ERROR"}
    from readiness.fmt import basis_text

    for c in report.checks:
        basis = basis_text(c.metrics)
        print(f"{marks[c.status.value]} {c.id:<32} {c.summary}" + (f" [{basis}]" if basis else ""))


def cmd_review(a) -> int:
    from readiness.review import run_review

    start = time.perf_counter()
    answers = None
    if a.answers is not None:  # read first: a bad file fails before the data is loaded
        from readiness.checks.bias import with_reviewer_answers
        from readiness.checks.bias_questions import read_answers_file

        answers = read_answers_file(a.answers)
    engine_review = None
    if _with_engine(a):
        engine_review = _engine_review(a)
        ctx = engine_review.ctx
    else:
        _prestart_worker(a)
        ctx = _context_from_args(a)
    if not a.quiet:
        for note in ctx.notes:  # how an input was read where we had to guess
            print(f"readiness: note: {note}", file=sys.stderr)
    if answers is not None:
        ctx = with_reviewer_answers(ctx, answers)
        if engine_review is not None:
            engine_review.ctx = ctx
    from readiness.report.commands import after_review, before_review

    history = before_review(a, ctx)  # sets ctx.prior_holdout_evaluations from the review history
    try:
        if engine_review is not None:
            from readiness.engines.review import run as run_engine_review

            report = run_engine_review(engine_review, checks=a.check,
                                       progress=_progress(a.quiet or a.json == Path("-")))
        else:
            report = run_review(ctx, checks=a.check, progress=_progress(a.quiet or a.json == Path("-")),
                                workers="auto")
    except KeyError as exc:
        raise E.ReadinessError(str(exc).strip("'\"")) from None
    finally:
        if engine_review is not None:
            engine_review.engine.close()
    write_json(a.json, report.to_json(), "report")
    after_review(a, ctx, report, history)  # records the review; writes --pdf
    if not a.quiet and a.json != Path("-"):
        _print_summary(report)
        print(f"Reviewed in {time.perf_counter() - start:.1f} s (checks {report.duration_s:.1f} s).", file=sys.stderr)
    return EXIT_OK


def write_json(path: Path | None, text: str, what: str) -> None:
    """``--json``: the text to stdout for '-', else to the file (folders created)."""
    if path == Path("-"):
        sys.stdout.write(text + "\n")
    elif path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise E.ReadinessError(f"cannot write the JSON {what} to {path}: {exc.strerror}") from None


def cmd_checks(_a) -> int:
    from readiness.registry import registered_checks

    for s in registered_checks():
        print(f"{s.id:<32} {s.title}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    import warnings

    warnings.simplefilter("ignore")  # library warnings are noise here; findings carry what matters
    parser = build_parser()
    args = parser.parse_args(argv)
    from readiness.monitor.commands import cmd_monitor
    from readiness.report.commands import HANDLERS
    from readiness.store.commands import HANDLERS as DB_HANDLERS

    handler = {"review": cmd_review, "checks": cmd_checks, "monitor": cmd_monitor, **HANDLERS,
               **DB_HANDLERS}[args.command]
    try:
        return handler(args)
    except E.ReadinessError as exc:
        print(f"readiness: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (OSError, json.JSONDecodeError) as exc:
        print(f"readiness: error: {type(exc).__name__}: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
