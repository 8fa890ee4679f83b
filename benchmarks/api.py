"""Benchmark of the look-up API: latency and throughput of ``GET /v1/subscribers/{id}``.

1. A SQLite store with ``--rows`` subscribers published twice (a current ``target`` version with
   score, decile, reasons and offers, and a current ``credit`` version with a grade), written
   directly into ``published_versions`` / ``published_results`` (the publishing path writes the
   same tables), and one province token.
2. ``workbench api serve`` (uvicorn, one process) on 127.0.0.1.
3. **Latency**: ``--clients`` (default 8) concurrent httpx async clients on the loopback ask for
   random subscribers (1 in 20 an eligibility question) for ``--seconds``; p50 / p99 latency and
   requests per second are printed.
4. **Soak**: ``--soak-clients`` (default 20) clients for ``--soak-seconds`` (default 30); the
   count of 5xx answers is printed (must be 0).

Run::

    .venv/bin/python benchmarks/api.py                          # 1,000,000 subscribers
    .venv/bin/python benchmarks/api.py --rows 100000 --seconds 10 --json out.json

Target (issue 19): p99 <= 50 ms at 8 clients on 2 cores; no 5xx at 20 clients for 30 s.
The client runs on the same two cores as the server, so the figures include its cost; the
server's own time per request (from the audit entries) is printed as well.
Figures are printed; nothing here is a pass/fail test.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PRODUCTS = ("MNP_NEWS", "FETION", "STOCK", "RBT", "SONG")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_store(path: Path, rows: int, seed: int = 0) -> tuple[str, str]:
    """A store with ``rows`` subscribers in a current target and a current credit version; (url, token)."""
    import sqlalchemy as sa
    from tqdm import tqdm

    from workbench.store import SYSTEM_USER, Store
    from workbench.store.models import PublishedResult, PublishedVersion, utcnow

    url = f"sqlite:///{path}"
    rng = np.random.default_rng(seed)
    branches = ["urumqi", "hami", "turpan", "karamay", "kashgar", "ili"]
    offers_ok = json.dumps([{"product": p, "eligible": True, "reason": None} for p in PRODUCTS])
    offers_no = json.dumps([{"product": p, "eligible": i != 1, "reason": None if i != 1 else "handset"}
                            for i, p in enumerate(PRODUCTS)])
    reasons = json.dumps([{"code": "news_reader", "zh": "常读新闻", "en": "reads news often"},
                          {"code": "wap_user", "zh": "常用WAP", "en": "uses WAP often"}], ensure_ascii=False)
    with Store(url, progress=False) as store:
        token = store.create_api_token(SYSTEM_USER, "bench", "province")
        engine = store.engine
        for kind in ("target", "credit"):
            with engine.begin() as conn:
                vid = conn.execute(sa.insert(PublishedVersion).values(
                    kind=kind, label=f"bench {kind}", model_version="bench-1", run_dir="", source_sha256="",
                    status="loading", row_count=rows, valid_from=dt.date(2026, 12, 1), valid_to=None,
                    created_at=utcnow(), created_by="bench")).inserted_primary_key[0]
            scores = rng.random(rows)
            chunk = 50_000
            for start in tqdm(range(0, rows, chunk), desc=f"publish {kind}", unit_scale=chunk):
                ids = range(start + 1, min(start + chunk, rows) + 1)
                batch = [{"version_id": vid, "subscriber_id": i, "branch_id": branches[i % len(branches)],
                          "msisdn_masked": f"138****{i % 10000:04d}", "score": float(scores[i - 1]),
                          "decile": int(10 - scores[i - 1] * 10) or 1,
                          "grade": "ABCD"[i % 4] if kind == "credit" else None,
                          "reasons": reasons if kind == "target" else None,
                          "offers": (offers_no if i % 3 == 0 else offers_ok) if kind == "target" else None}
                         for i in ids]
                with engine.begin() as conn:
                    conn.execute(sa.insert(PublishedResult), batch)
            with engine.begin() as conn:
                conn.execute(sa.update(PublishedVersion).where(PublishedVersion.id == vid)
                             .values(status="current", activated_at=utcnow()))
    return url, token


async def _client(base: str, token: str, rows: int, until: float, latencies: list, statuses: dict, seed: int):
    import httpx

    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        while time.perf_counter() < until:
            sid = rng.randint(1, rows)
            path = (f"/v1/subscribers/{sid}/eligibility/{PRODUCTS[sid % len(PRODUCTS)]}" if rng.random() < 0.05
                    else f"/v1/subscribers/{sid}")
            start = time.perf_counter()
            try:
                r = await client.get(path)
                code = r.status_code
            except httpx.HTTPError:
                code = -1
            latencies.append(time.perf_counter() - start)
            statuses[code] = statuses.get(code, 0) + 1


async def _run(base: str, token: str, rows: int, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    until = time.perf_counter() + seconds
    started = time.perf_counter()
    await asyncio.gather(*(_client(base, token, rows, until, latencies, statuses, i) for i in range(clients)))
    elapsed = time.perf_counter() - started
    ms = np.array(latencies) * 1000
    return {"clients": clients, "seconds": round(elapsed, 1), "requests": len(ms),
            "rps": round(len(ms) / elapsed, 1), "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p99_ms": round(float(np.percentile(ms, 99)), 2), "max_ms": round(float(ms.max()), 2),
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "errors_5xx": sum(v for k, v in statuses.items() if k >= 500 or k < 0)}


def _server_times(url: str) -> dict:
    """Percentiles of the time the app spent per request, as its audit entries recorded it."""
    from workbench.store import SYSTEM_USER, Store

    with Store(url, progress=False, migrate=False) as store:
        audit = store.audit_log(SYSTEM_USER, action="api.card", limit=10_000_000)
    ms = np.array([d["ms"] for d in audit["details"]], dtype=float)
    return {"requests": len(ms), "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p99_ms": round(float(np.percentile(ms, 99)), 2)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000, help="subscribers published (default 1,000,000)")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--seconds", type=float, default=20.0, help="length of the latency run")
    p.add_argument("--soak-clients", type=int, default=20)
    p.add_argument("--soak-seconds", type=float, default=30.0)
    p.add_argument("--store", type=Path, default=None, help="reuse this SQLite store (made by an earlier run)")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = p.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        started = time.perf_counter()
        path = args.store or Path(tmp) / "store.sqlite"
        if args.store and args.store.exists():
            from workbench.store import SYSTEM_USER, Store

            url = f"sqlite:///{path}"
            with Store(url, progress=False) as store:
                token = store.create_api_token(SYSTEM_USER, f"bench-{int(time.time())}", "province")
        else:
            url, token = build_store(path, args.rows)
        print(f"store ready in {time.perf_counter() - started:.0f} s ({args.rows:,} subscribers x 2 versions)")
        port = _free_port()
        server = subprocess.Popen([sys.executable, "-m", "workbench", "api", "serve", "--port", str(port),
                                   "--store", url], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{port}"
        try:
            import httpx

            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(base + "/openapi.json", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("the API did not start") from None
                    time.sleep(0.2)
            asyncio.run(_run(base, token, args.rows, 2, 2.0))          # warm-up
            latency = asyncio.run(_run(base, token, args.rows, args.clients, args.seconds))
            print(f"{args.clients} clients: p50 {latency['p50_ms']} ms, p99 {latency['p99_ms']} ms, "
                  f"{latency['rps']} requests/s ({latency['requests']} requests, statuses {latency['statuses']})")
            soak = asyncio.run(_run(base, token, args.rows, args.soak_clients, args.soak_seconds))
            print(f"{args.soak_clients} clients for {soak['seconds']} s: {soak['requests']} requests, "
                  f"5xx/transport errors {soak['errors_5xx']}, p99 {soak['p99_ms']} ms, {soak['rps']} requests/s")
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
        server_ms = _server_times(url)
        print(f"server time per request (audit_log, ASGI app incl. FastAPI and the query): p50 "
              f"{server_ms['p50_ms']} ms, p99 {server_ms['p99_ms']} ms over {server_ms['requests']} requests")
        figures = {"rows": args.rows, "latency": latency, "soak": soak, "server": server_ms}
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
