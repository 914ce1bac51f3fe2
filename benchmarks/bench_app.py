"""Time the app as a user meets it, in a real browser (issue 15).

    python benchmarks/bench_app.py                    # everything; generates the Adult-sized twin
    python benchmarks/bench_app.py --adult /tmp/bench/adult
    python benchmarks/bench_app.py --skip-upload --port 8650

A real ``streamlit run app.py`` (fresh for each of the first two rows) and Debian's Chromium
driven by Playwright, the same way as tests/test_e2e.py. What it measures:

* **cold**: an empty READINESS_CACHE_DIR and a fresh server: from ``page.goto`` until the
  "Anti-pattern scorecard" text is visible and the script has settled (the sample's review
  runs in the server);
* **warm**: ``python -m readiness.sample`` first fills a new, empty cache dir (timed as well),
  then a fresh server: the same timing (the stored report is read);
* **page switches**, on the warm server: per sidebar page, from the click until that page's
  h1 is visible and Streamlit's script state is ``notRunning`` (the script time a user waits;
  charts may still be drawing after it); median and worst;
* **Adult upload** (unless --skip-upload): the Adult-sized twin (train.csv, test.csv,
  model.skops; target ``income``, sensitive ``sex`` and ``race``) uploaded on Setup, the target
  and the sensitive columns chosen with the widgets, "Run review" pressed: from the first upload
  until the scorecard is visible; and ``readiness review --no-history --json …`` on the same
  files in the CLI, in the same run, for the ratio.

A script, not a timed test: the numbers depend on the machine and its load, so the core count
and the load average are printed at the start and the end.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

from e2e_support import streamlit_app  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SETTLED = "[data-testid='stApp'][data-test-script-state='notRunning']"
TIMEOUT_MS = 600_000
TARGET, SENSITIVE = "income", ["sex", "race"]
ROWS: list[tuple[str, float, str, bool | None]] = []  # what, seconds, target, met


def row(what: str, seconds: float, target: str = "", met: bool | None = None) -> None:
    ROWS.append((what, seconds, target, met))
    print(f"  {what}: {seconds:.2f} s", flush=True)


def load() -> str:
    return f"{os.cpu_count()} cores, load average " + " / ".join(f"{x:.2f}" for x in os.getloadavg())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settled(page) -> None:
    page.wait_for_selector(SETTLED, timeout=TIMEOUT_MS)


def first_scorecard(browser, url: str) -> tuple[float, object]:
    """Seconds from page.goto to the scorecard visible and the script settled; the page stays open."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    t0 = time.perf_counter()
    page.goto(url)
    page.get_by_text("Anti-pattern scorecard").wait_for()
    settled(page)
    return time.perf_counter() - t0, page


def server(port: int, tmp: Path, cache: Path, name: str):
    env = {"READINESS_CACHE_DIR": str(cache), "READINESS_DB": str(tmp / f"{name}.db")}
    return streamlit_app(port, env=env, host="127.0.0.1", args=("--server.address", "127.0.0.1"),
                         log=tmp / f"{name}.log")


H1_CHANGED = """([prev, sel]) => {
  const h = document.querySelector("[data-testid='stMain'] h1");
  return h !== null && h.textContent.trim() !== prev && document.querySelector(sel) !== null;
}"""


def main_h1(page) -> str:
    return page.evaluate("() => document.querySelector(\"[data-testid='stMain'] h1\")?.textContent.trim() || ''")


def page_switches(page) -> list[tuple[str, float, float]]:
    """Click every sidebar link in turn (the current one last): seconds until its h1 shows, and until
    the script state is notRunning as well (the rest of the page's script and drawing in between)."""
    nav = page.get_by_test_id("stSidebarNav")
    names = [n.strip().splitlines()[-1] for n in nav.get_by_role("link").all_inner_texts()]  # after the icon name
    names = [n for n in names if n != "Overview"] + ["Overview"]
    times = []
    for name in names:
        prev = main_h1(page)
        t0 = time.perf_counter()
        nav.get_by_role("link", name=name).click(timeout=60_000)
        page.wait_for_function(H1_CHANGED, arg=[prev, "[data-testid='stApp']"], timeout=TIMEOUT_MS, polling=20)
        t_h1 = time.perf_counter() - t0
        page.wait_for_function(H1_CHANGED, arg=[prev, SETTLED], timeout=TIMEOUT_MS, polling=20)
        times.append((name, t_h1, time.perf_counter() - t0))
        if page.get_by_test_id("stException").count():
            print(f"  ! {name} shows an exception", flush=True)
    return times


def choose(page, label: str, option: str) -> None:
    """Open a select box / multiselect by its label, type to filter and click the option, as a user would."""
    widget = page.locator("[data-testid='stSelectbox'], [data-testid='stMultiSelect']").filter(
        has=page.get_by_text(label, exact=True))
    widget.locator("input").click()
    page.keyboard.type(option)  # the list is virtualised: options far down are not in the page until filtered
    page.get_by_role("option", name=option, exact=True).click()
    settled(page)


def set_sensitive(page, wanted: list[str]) -> None:
    """Remove the guessed sensitive columns that are not wanted (their chip's x), add the missing ones."""
    box = page.get_by_test_id("stMultiSelect").filter(has=page.get_by_text("Sensitive attributes", exact=True))

    def chosen() -> list[str]:
        return sorted(box.locator("[data-tag]").evaluate_all("tags => tags.map(t => t.getAttribute('aria-label'))"))

    for col in chosen():
        if col not in wanted:
            box.get_by_role("button", name=f"Remove {col}", exact=True).click()
            settled(page)
    for col in wanted:
        if col not in chosen():
            choose(page, "Sensitive attributes", col)
    page.keyboard.press("Escape")
    assert chosen() == sorted(wanted), f"sensitive columns in the form: {chosen()}"


def upload_review(browser, url: str, files: tuple[Path, Path, Path]) -> tuple[float, float]:
    """Seconds from the first upload to the scorecard, and from "Run review" to the scorecard."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{url}/setup")
    page.get_by_role("heading", name="1 · Data").wait_for()
    settled(page)
    t0 = time.perf_counter()
    inputs = page.get_by_test_id("stFileUploaderDropzoneInput")
    for i, (path, shown) in enumerate(zip(files, ("Training", "Holdout", "Model"), strict=True)):
        inputs.nth(i).set_input_files(str(path))
        page.get_by_text(f"{shown}: {path.name}").wait_for()
        settled(page)
    choose(page, "Target (what the model predicts)", TARGET)
    set_sensitive(page, SENSITIVE)
    t_run = time.perf_counter()
    page.get_by_role("button", name="Run review").click()
    page.get_by_text("Anti-pattern scorecard").wait_for()
    settled(page)
    assert page.get_by_text("You are viewing the sample review").count() == 0
    done = time.perf_counter()
    page.context.close()
    return done - t0, done - t_run


def adult_files(given: Path | None, tmp: Path) -> tuple[Path, Path, Path]:
    if given is not None:
        return given / "train.csv", given / "test.csv", given / "model.skops"
    from bench_review import ADULT_TEST, ADULT_TRAIN, adult_model, adult_twin, write_inputs

    frame = adult_twin(ADULT_TRAIN + ADULT_TEST)
    train, test = frame.iloc[:ADULT_TRAIN].reset_index(drop=True), frame.iloc[ADULT_TRAIN:].reset_index(drop=True)
    return write_inputs(tmp / "adult", train, test, adult_model(train))


def cli_review(files, out: Path) -> float:
    args = [sys.executable, "-m", "readiness.cli", "review", "--train", str(files[0]), "--test", str(files[1]),
            "--model", str(files[2]), "--target", TARGET, "--no-history", "--json", str(out), "--quiet"]
    for col in SENSITIVE:
        args += ["--sensitive", col]
    t0 = time.perf_counter()
    subprocess.run(args, check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--skip-upload", action="store_true", help="skip the Adult upload and its CLI twin")
    ap.add_argument("--adult", type=Path, help="folder with train.csv, test.csv, model.skops (default: generated)")
    ap.add_argument("--port", type=int, help="the servers' port (default: a free one)")
    args = ap.parse_args()
    start_load = load()
    print(f"start: {start_load}", flush=True)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-app-") as tmp_, sync_playwright() as pw:
        tmp = Path(tmp_)
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        port = args.port or free_port()

        print("cold: empty cache dir, fresh server", flush=True)
        with server(port, tmp, tmp / "cache-cold", "cold") as url:
            seconds, page = first_scorecard(browser, url)
            row("cold: first scorecard, empty cache", seconds, "(none: ≤ 8 is warm)")
            page.context.close()

        print("warm: python -m readiness.sample, then a fresh server", flush=True)
        cache = tmp / "cache-warm"
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "readiness.sample"], cwd=ROOT, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT), "READINESS_CACHE_DIR": str(cache)})
        if done.returncode or not done.stdout.startswith("computed"):
            raise SystemExit(f"python -m readiness.sample: {done.stdout}{done.stderr[-2000:]}")
        row("python -m readiness.sample (precompute)", time.perf_counter() - t0)
        with server(port, tmp, cache, "warm") as url:
            seconds, page = first_scorecard(browser, url)
            row("warm: first scorecard, precomputed", seconds, "≤ 8", seconds <= 8)
            print("page switches (click -> h1 and script notRunning)", flush=True)
            times = page_switches(page)
            for name, h1, sec in times:
                print(f"    {name:<34} {sec:6.2f} s  (h1 visible after {h1:.2f} s)", flush=True)
            secs = [sec for *_, sec in times]
            worst = max(times, key=lambda t: t[2])
            row(f"page switch, median of {len(secs)}", statistics.median(secs), "≤ 1", statistics.median(secs) <= 1)
            row(f"page switch, worst ({worst[0]})", worst[2], "≤ 1", worst[2] <= 1)
            page.context.close()

            if not args.skip_upload:
                files = adult_files(args.adult, tmp)
                print(f"Adult upload: {files[0].parent}", flush=True)
                # CLI before and after the browser run: the load may change meanwhile, the mean is the yardstick
                cli1 = cli_review(files, tmp / "adult-report.json")
                flow, run = upload_review(browser, url, files)
                cli2 = cli_review(files, tmp / "adult-report.json")
                cli = (cli1 + cli2) / 2
                row(f"CLI: readiness review, Adult (runs {cli1:.1f} / {cli2:.1f})", cli)
                for what, sec in (("browser: upload, roles, review", flow), ("browser: Run review -> scorecard", run)):
                    row(f"{what}, Adult = {sec / cli:.2f}× CLI", sec, f"≤ {2 * cli:.1f} (2× CLI)", sec <= 2 * cli)
        browser.close()

    print(f"\n{'what':<56} {'seconds':>8}  {'target (s)':<20} met")
    for what, seconds, target, met in ROWS:
        print(f"{what:<56} {seconds:8.2f}  {target:<20} {'' if met is None else ('yes' if met else 'NO')}")
    print(f"\nstart: {start_load}\nend:   {load()}")


if __name__ == "__main__":
    main()
