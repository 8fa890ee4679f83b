"""Benchmark of the campaign apps: first render, memory per open app and per server, recording a result.

1. **First render** - ``workbench serve`` on 127.0.0.1 with a campaign whose
   probe executor has ``--rows`` rows (default 20,000); Debian's Chromium signs in
   and waits until the grid's rows are visible.  Timed from the click on
   "sign in" to the first grid row on screen (kernel start, notebook run,
   widgets drawn), ``--runs`` times, each in a fresh browser context.
2. **Memory per open app** - the kernel of each open app (executor with the
   probe's list, the managers' monitoring page = template 05, the hall page),
   2 s after it has drawn, while its page is open: RSS, and PSS (its share of
   pages shared with other processes: libraries mapped by every kernel count
   once across them, so PSS is what one more open app costs the machine).
3. **Load** - ``--executors`` more executors (``--other-rows`` rows each, default
   50 x 1,000) sign in over HTTP one after the other and open the app: the
   page's GET is read to its end, which is when Voila has run the notebook in
   a kernel of their own (as for a browser; no widget is drawn, no websocket
   connects, and the kernel stays: ``cull_connected`` is off).  At 20 open
   apps and at ``--executors`` the server's memory (its process and every
   kernel: sum of RSS, sum of PSS) is read and the probe's first render
   timed ``--runs`` times while the others stay open (one render at a time).
4. **Record a result (server side)** - :class:`workbench.apps.worklist.ResultForm`
   ``.submit`` (what the app's button calls: access check, idempotency check,
   insert, audit row, commit) against the same SQLite store, ``--writes``
   times on different rows.

Run::

    .venv/bin/python benchmarks/app.py                       # all of it, ~4-6 min on 2 cores
    .venv/bin/python benchmarks/app.py --executors 0         # first render and memory per app only
    .venv/bin/python benchmarks/app.py --json out.json

Targets (issue 15): <= 160 MiB per open app; 50 executors within 8 GB; first render <= 6 s median
while 20 other executors have the app open; record <= 300 ms.

Measured 2026-11-26 on the 2-core machine beside a CPU-heavy model benchmark, 5 runs each,
the code before issue 8's work (98e8771) and after it run back to back:
before 7.14 s median [7.27, 7.14, 6.8, 7.55, 7.07] (server 3.2-3.9 s of it);
after 4.80 s median [4.98, 4.51, 4.36, 4.8, 4.95] (server 1.4-1.8 s); record 1.2 ms median.
Under heavier load earlier: before 9.28 s median and one render in five never finished;
after 5.61-6.4 s and none of 30 failed.

Memory (issue 15), measured 2026-12-07 06:30-06:50 UTC on the shared 2-core machine at load average 20-28
(other benchmarks and test suites beside it: the times are inflated several-fold, the memory figures are
not), main before the lean app kernels (520c6b1, ``--executors 20``) and after (``--executors 50``) run
side by side, ``--runs 3``, the probe with 20,000 rows, the others with 1,000 rows each:

=====================================  ====================  ====================
kernel of an open app (MiB)            before: RSS / PSS     after: RSS / PSS
=====================================  ====================  ====================
executor, 20,000 rows                  212.1 / 163.2         155.7 / 121.3
monitoring (template 05, a manager)    189.6 / 137.1         139.7 / 102.5
hall                                   157.6 / 108.3         110.9 / 77.7
server + 24 kernels, 20 executors      4.68 GiB / 3.19 GiB   3.52 GiB / 2.55 GiB
server + 54 kernels, 50 executors      10.44 / 7.03 GiB (*)  7.58 GiB / 5.48 GiB
PSS per open executor app (1,000 rows) 128                   101
=====================================  ====================  ====================

(*) main on a quiet machine, 05:00 UTC.  First render of the probe at that load: 18.1 s median alone,
25.0 s with 20 others open, 20.5 s with 50 (before, side by side: 21.3 s alone, 25.3 s with 20).

An app kernel is started by ``workbench.apps.kernel_launch`` (no debugger: -8 MiB; pyarrow hidden from
pandas, whose text columns then use Python storage: -33 MiB) with ``PYTHONOPTIMIZE=2`` (no docstrings:
-12 MiB); plotly's validator parameters are dropped once a figure is drawn and the store's frames share
one object per repeated text (-11 MiB together on 20,000 rows).  What is left, measured per import step in
a kernel (before docstrings were dropped): ipykernel ~44 MiB, numpy ~10, pandas ~33, SQLAlchemy and the
store's models ~22, ipywidgets / itables ~5, the 20,000-row list, its grid and chart ~40.
Figures are printed; nothing here is a pass/fail test.  Times are wall-clock
on whatever else the machine is doing.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the Playwright harness of the browser tests

from browser import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server  # noqa: E402

from workbench.apps.kernels import APP_KERNEL_LAUNCHER  # noqa: E402
from workbench.apps.publish import publish_app  # noqa: E402
from workbench.apps.worklist import ResultForm  # noqa: E402
from workbench.store import SYSTEM_USER, PasswordPolicy, Store  # noqa: E402
from workbench.templates import find_template  # noqa: E402

GRID_ROW = ".wb-worklist table tbody tr"
#: How a kernel process is recognised in the server's children (``-m <launcher>``).
KERNEL_LAUNCHERS = ("ipykernel_launcher", APP_KERNEL_LAUNCHER)
EXECUTOR, PASSWORD = "bench_exec", "bench-password-1"
MANAGER = "bench_pm"
MONITORING = "05_campaign_monitoring"
RECORDED = 200  # results the probe has recorded before the benchmark (the monitoring page's charts need some)
BRANCHES = ("urumqi", "karamay", "turpan", "hami", "changji", "ili", "tacheng", "altay", "bortala", "bayingolin",
            "aksu", "kizilsu", "kashgar", "hotan")
#: How each open app is recognised as drawn (a CSS selector visible or attached, and a wait condition).
APP_READY = {
    "executor": (GRID_ROW, "visible"),
    "monitoring": (".wb-branch-status", "attached"),
    "hall": (".wb-hall-id input", "visible"),
}


def other_executor(i: int) -> str:
    """Name of the ``i``-th load executor (``bench_ex_001`` ...)."""
    return f"bench_ex_{i + 1:03d}"


def members(rows: int, executor: str = EXECUTOR, branch: str = "urumqi", first_id: int = 1) -> pd.DataFrame:
    """``rows`` target rows of one executor, with every column the grid shows."""
    ids = range(first_id, first_id + rows)
    return pd.DataFrame({
        "subscriber_id": list(ids), "branch_id": branch, "group": "target",
        "score": [1 - (i - first_id) / (rows + 1) for i in ids],
        "score_band": [("A", "B", "C", "D", "E")[i % 5] for i in ids],
        "channel": "outbound_call", "executor": executor,
        "reasons": [f"reads news on WAP {i % 30} days a month; sports fan" for i in ids],
        "edition": [("news", "sports", "finance")[i % 3] for i in ids],
        "talking_points": "3 free months, then 3 yuan a month; unsubscribe any time by SMS",
        "msisdn_masked": [f"138****{i % 10000:04d}" for i in ids],
    })


def setup(root: Path, rows: int, executors: int = 0, other_rows: int = 1_000) -> tuple[str, int, dict[str, str]]:
    """A store with the probe executor (``rows`` rows), ``executors`` others (``other_rows`` each, across the
    14 branches), a province manager and an analyst; the campaign's executor and monitoring apps published.

    Returns the store URL, the campaign id and ``{app: file name}`` of the published apps.
    """
    store_url = f"sqlite:///{root / 'store.sqlite'}"
    frames = [members(rows)]
    with Store(store_url, password_policy=PasswordPolicy.fast_for_tests(), progress=False) as store:
        analyst = store.add_user(SYSTEM_USER, "bench_analyst", "analyst", password=PASSWORD)
        store.add_user(SYSTEM_USER, MANAGER, "province_manager", password=PASSWORD)
        store.add_user(SYSTEM_USER, EXECUTOR, "executor", branch_id="urumqi", password=PASSWORD)
        for i in range(executors):
            branch = BRANCHES[i % len(BRANCHES)]
            store.add_user(SYSTEM_USER, other_executor(i), "executor", branch_id=branch, password=PASSWORD)
            frames.append(members(other_rows, other_executor(i), branch, first_id=rows + 1 + i * other_rows))
        release = store.release_campaign(analyst, {"name": "Benchmark", "product": "mnp_news"},
                                         pd.concat(frames, ignore_index=True))
        apps = {"executor": publish_app(release.campaign_id, app="executor", apps_dir=root / "apps",
                                        store=store).name,
                "monitoring": publish_app(release.campaign_id, app=str(find_template(MONITORING)),
                                          apps_dir=root / "apps", store=store).name,
                "hall": "hall.ipynb"}
        probe = store.authenticate(EXECUTOR, PASSWORD)
        for member in store.worklist(probe, release.campaign_id)["member_id"].head(RECORDED).tolist():
            store.record_result(probe, member, "accepted" if member % 3 else "reached")
    return store_url, release.campaign_id, apps


# ------------------------------------------------------------------ memory
def _processes(served) -> list:
    import psutil

    server = psutil.Process(served.process.pid)
    return [server, *server.children(recursive=True)]


def _mib(value: float) -> float:
    return round(value / 2**20, 1)


def kernel_memory(served, kernel_id: str) -> dict[str, float] | None:
    """RSS and PSS (MiB) of the kernel process serving ``kernel_id`` (its connection file names the id)."""
    import psutil

    for proc in _processes(served)[1:]:
        try:
            if any(kernel_id in part for part in proc.cmdline()):
                info = proc.memory_full_info()
                return {"rss": _mib(info.rss), "pss": _mib(info.pss), "uss": _mib(info.uss)}
        except psutil.Error:
            continue
    return None


def server_memory(served) -> dict[str, float]:
    """The server's memory: its process and every kernel (sum of RSS, sum of PSS), and how many kernels."""
    import psutil

    rss = pss = 0
    kernels = 0
    for proc in _processes(served):
        try:
            info = proc.memory_full_info()
            kernels += any(part in KERNEL_LAUNCHERS for part in proc.cmdline())
        except psutil.Error:
            continue
        rss += info.rss
        pss += info.pss
    return {"rss_mib": _mib(rss), "pss_mib": _mib(pss), "kernels": kernels}


# ------------------------------------------------------------------ browser renders
def _wait_pooled(served, count: int) -> None:
    """Wait (at most 180 s) until the server has logged ``count`` warmed-up kernels: what a user meets."""
    deadline = time.monotonic() + 180
    while served.log().count("warmed up and pooled") < count and time.monotonic() < deadline:
        time.sleep(0.2)


def open_app(chromium, served, app: str, path: str, user: str, timeout_ms: int = 120_000):
    """Sign ``user`` in and open ``path``; ``(context, page, seconds to drawn, seconds to page streamed)``
    or ``(None, None, None, None)`` when the app did not draw within ``timeout_ms``."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    selector, state = APP_READY[app]
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{served.url}login?next={path}")
    page.fill("#username_input", user)
    page.fill("#password_input", PASSWORD)
    done: list[float] = []
    page.on("requestfinished", lambda r, done=done: done.append(time.perf_counter()) if path in r.url else None)
    start = time.perf_counter()
    page.click("#login_submit")
    try:
        page.wait_for_selector(selector, state=state, timeout=timeout_ms)
    except PlaywrightTimeoutError:
        context.close()
        return None, None, None, None
    drawn = time.perf_counter() - start
    return context, page, drawn, (done[0] - start) if done else float("nan")


def page_kernel_id(page) -> str:
    return page.evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")


def first_renders(chromium, served, apps: dict[str, str], rows: int, runs: int, pooled: int,
                  rss: list[dict] | None = None) -> tuple[list[float], list[float], int]:
    """Times of ``runs`` first renders of the probe's executor app: (to the grid's rows, to the end of the
    streamed page, failed renders).  With ``rss``, each open page's kernel memory (2 s after the grid
    shows) is appended.  With ``pooled``, each render waits until that many kernels were warmed up."""
    path = f"/voila/render/{apps['executor']}"
    times, streamed, failed = [], [], 0
    for run in range(runs):
        if pooled:  # measure what a user meets on a server that is up: a warm kernel waiting
            _wait_pooled(served, pooled + run)
        context, page, drawn, server_part = open_app(chromium, served, "executor", path, EXECUTOR)
        if context is None:
            failed += 1
            print(f"  run {run}: the grid did not render within 120 s", flush=True)
            continue
        times.append(drawn)
        streamed.append(server_part)
        listed = page.get_attribute(".wb-list-heading", "data-rows")
        if rss is not None:
            page.wait_for_timeout(2000)
            found = kernel_memory(served, page_kernel_id(page))
            if found is not None:
                rss.append(found)
        context.close()
        # every row, or (with a 'to work' filter) all but the RECORDED ones finished before
        if not (listed or "").isdigit() or not rows - RECORDED <= int(listed) <= rows:
            raise RuntimeError(f"the app listed {listed} rows, expected {rows - RECORDED}-{rows}")
    return times, streamed, failed


def app_memory(chromium, served, apps: dict[str, str]) -> dict[str, dict]:
    """Kernel memory of the monitoring page (a province manager) and the hall page (the probe executor),
    each 2 s after it has drawn, while it is open."""
    out = {}
    for app, user in (("monitoring", MANAGER), ("hall", EXECUTOR)):
        context, page, drawn, _ = open_app(chromium, served, app, f"/voila/render/{apps[app]}", user)
        if context is None:
            print(f"  the {app} app did not draw within 120 s", flush=True)
            continue
        if app == "monitoring":  # its charts come after the status table
            page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 1",
                                   timeout=60_000)
        page.wait_for_timeout(2000)
        found = kernel_memory(served, page_kernel_id(page))
        if found is not None:
            out[app] = {**found, "drawn_s": round(drawn, 2)}
        context.close()
    return out


# ------------------------------------------------------------------ simulated sessions (HTTP)
def open_over_http(served, user: str, path: str, timeout: float = 180.0) -> float:
    """Sign ``user`` in over HTTP and GET the app page to its end (Voila runs the notebook in a kernel
    of theirs while it streams the page); seconds from sign-in to the page's end.  The kernel stays."""
    import httpx

    client = httpx.Client(base_url=served.url.rstrip("/"), timeout=timeout, follow_redirects=False)
    start = time.perf_counter()
    client.get("/login")
    xsrf = client.cookies.get("_xsrf")
    signed = client.post("/login", data={"_xsrf": xsrf, "name": user, "password": PASSWORD})
    if signed.status_code != 302:
        raise RuntimeError(f"sign-in of {user} answered {signed.status_code}: {signed.text[:300]}")
    page = client.get(path)
    if page.status_code != 200 or "jupyter-config-data" not in page.text:
        raise RuntimeError(f"the app page of {user} answered {page.status_code}: {page.text[:300]}")
    if "Traceback" in page.text or "wb-message-error" in page.text:
        raise RuntimeError(f"the app page of {user} shows an error")
    return time.perf_counter() - start


def record_times(store_url: str, campaign_id: int, writes: int) -> list[float]:
    with Store(store_url, migrate=False, progress=False) as store:
        user = store.authenticate(EXECUTOR, PASSWORD)
        rows = store.worklist(user, campaign_id)["member_id"].tolist()[RECORDED:]
        form = ResultForm(store, user)
        times = []
        for member in rows[:writes]:
            start = time.perf_counter()
            form.submit(member, "accepted", "benchmark")
            times.append(time.perf_counter() - start)
    return times


def _median(values: list[float], digits: int = 2) -> float | None:
    return round(statistics.median(values), digits) if values else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="rows of the probe executor's list")
    parser.add_argument("--runs", type=int, default=3, help="first renders to time (at each load)")
    parser.add_argument("--executors", type=int, default=50, help="other executors opening the app (0: none)")
    parser.add_argument("--other-rows", type=int, default=1_000, help="rows of each other executor's list")
    parser.add_argument("--open-concurrency", type=int, default=3,
                        help="other executors' pages opened at once (the probe's renders are always alone)")
    parser.add_argument("--writes", type=int, default=25, help="results to record")
    parser.add_argument("--kernel-pool", type=int, default=1, help="warm kernels kept by the server (0: cold starts)")
    parser.add_argument("--monitor-members", type=int, default=200_000,
                        help="members of the large campaign whose monitoring app is timed (0: skip monitoring)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    loads = sorted({n for n in (20, args.executors) if 0 < n <= args.executors})

    from playwright.sync_api import sync_playwright

    figures: dict = {"rows": args.rows, "kernel_pool": args.kernel_pool, "executors": args.executors,
                     "other_rows": args.other_rows}
    with tempfile.TemporaryDirectory(prefix="wb-bench-app-") as tmp:
        root = Path(tmp)
        print(f"setting up: probe executor with {args.rows:,} rows, {args.executors} others with "
              f"{args.other_rows:,} rows each", flush=True)
        store_url, campaign_id, apps = setup(root, args.rows, args.executors, args.other_rows)
        served = start_server(root, store_url, args=(
            "--kernel-pool", str(args.kernel_pool), "--max-kernels", str(args.executors + 10)))
        pooled = args.kernel_pool
        try:
            with sync_playwright() as playwright:
                chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                try:
                    rss: list[dict] = []
                    renders, streamed, failed = first_renders(chromium, served, apps, args.rows, args.runs,
                                                              pooled, rss=rss)
                    pooled += args.runs
                    figures.update({
                        "first_render_s": [round(t, 2) for t in renders], "first_render_median_s": _median(renders),
                        "page_streamed_s": [round(t, 2) for t in streamed], "failed_renders": failed,
                        "open_app_memory_mib": {"executor": rss},
                    })
                    print(f"first render with {args.rows:,} rows (sign-in click -> grid rows visible), "
                          f"{args.runs} runs: median {figures['first_render_median_s']} s "
                          f"{figures['first_render_s']}  (target <= 6 s); failed renders: {failed}", flush=True)
                    print(f"  of which the server streaming the executed page: {figures['page_streamed_s']} s")
                    others = app_memory(chromium, served, apps)
                    pooled += len(others)
                    figures["open_app_memory_mib"].update(others)
                    print("memory of an open app (its kernel, MiB; PSS = its share of shared pages):")
                    if rss:
                        print(f"  executor ({args.rows:,} rows): RSS median {_median([r['rss'] for r in rss], 1)}"
                              f"  PSS median {_median([r['pss'] for r in rss], 1)}  {rss}  (target <= 160 MiB)")
                    for app, found in others.items():
                        print(f"  {app}: RSS {found['rss']}  PSS {found['pss']}  (drawn in {found['drawn_s']} s)")
                    figures["server_before_load"] = server_memory(served)
                    print(f"server before the load (the pages above and the pool): "
                          f"{figures['server_before_load']}", flush=True)

                    figures["loads"] = []
                    path = f"/voila/render/{apps['executor']}"
                    opened: list[float] = []
                    for load in loads:
                        with ThreadPoolExecutor(args.open_concurrency) as pool:
                            opened += pool.map(lambda i: open_over_http(served, other_executor(i), path),
                                               range(len(opened), load))
                        time.sleep(3)
                        memory = server_memory(served)
                        times, streamed, failed = first_renders(chromium, served, apps, args.rows, args.runs,
                                                                0)
                        at = {"open_apps": load, "server_memory": memory,
                              "http_open_s": [round(t, 2) for t in opened[-load:]],
                              "http_open_median_s": _median(opened[len(opened) - load:]),
                              "first_render_s": [round(t, 2) for t in times],
                              "first_render_median_s": _median(times), "failed_renders": failed}
                        figures["loads"].append(at)
                        per_app = (memory["pss_mib"] - figures["server_before_load"]["pss_mib"]) / load
                        print(f"{load} other executors with the app open ({args.other_rows:,} rows each): "
                              f"server + {memory['kernels']} kernels RSS {memory['rss_mib'] / 1024:.2f} GiB, "
                              f"PSS {memory['pss_mib'] / 1024:.2f} GiB (target for 50: <= 8 GB); "
                              f"~{per_app:.0f} MiB PSS per open app", flush=True)
                        print(f"  their pages opened over HTTP, {args.open_concurrency} at a time (sign-in -> page "
                              f"executed): median {at['http_open_median_s']} s")
                        print(f"  probe's first render meanwhile ({args.rows:,} rows): median "
                              f"{at['first_render_median_s']} s {at['first_render_s']}  (target <= 6 s at 20); "
                              f"failed: {failed}", flush=True)
                finally:
                    chromium.close()
        finally:
            stop_server(served)
        records = record_times(store_url, campaign_id, args.writes)

    figures.update({"record_ms": [round(t * 1000, 1) for t in records],
                    "record_median_ms": round(statistics.median(records) * 1000, 1)})
    print(f"record a result (server side, ResultForm.submit on SQLite), {args.writes} writes: "
          f"median {figures['record_median_ms']:.1f} ms  (target <= 300 ms)")
    if args.monitor_members:
        # The monitoring app (issue 16): the province manager's first render on the demo store (when one exists)
        # and on a campaign of --monitor-members members; see benchmarks/app_monitoring.py.
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from app_monitoring import measure as measure_monitoring

        figures["monitoring"] = measure_monitoring(members=args.monitor_members, runs=args.runs)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
