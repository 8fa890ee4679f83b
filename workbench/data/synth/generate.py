"""Generate a synthetic province: every table of the data model plus its ground truth.

Subscribers are generated in fixed chunks (``chunk_size``); chunk ``i`` draws
from ``numpy.random.SeedSequence(seed).spawn(...)[i]`` only, so the output is a
pure function of the arguments (same arguments -> byte-identical files) and
memory is bounded by one chunk however large the province.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from workbench.data.synth import drift as _drift
from workbench.data.synth.catalogue import (
    HANDSET_MODELS, VAS_PRODUCTS, branches_table, handset_models_table, vas_products_table,
)
from workbench.data.synth.credit import (
    CREDIT_TRUTH_TABLE, credit_rng, credit_table_columns, credit_truth_columns, credit_truth_schema, simulate_credit,
)
from workbench.data.synth.handsets import simulate_handsets
from workbench.data.synth.ids import MAX_SUBSCRIBERS, imei_column, msisdn_column
from workbench.data.synth.presence import (
    PRESENCE_TRUTH_TABLE, RESPONSE_TRUTH_TABLE, ChangeRates, presence_columns, presence_truth_columns,
    presence_truth_schema, response_truth_columns, response_truth_schema, simulate_presence,
)
from workbench.data.synth.subscriptions import STABLE_MONTHS, simulate_subscriptions
from workbench.data.synth.timeline import Timeline, format_month, month_start_day, parse_month
from workbench.data.synth.traits import TARIFF_CODES, draw_population
from workbench.data.synth.truth import truth_columns, truth_schema
from workbench.data.synth.uptake import NEWSPAPER, uptake_model
from workbench.data.synth.usage import simulate_usage
from workbench.data.synth.writer import TableWriters, arrow_schema, date_column, string_column
from workbench.data.tables import BRANCHES, BRANDS, ORDER_CHANNELS, TABLE_ORDER, USAGE_MEASURES
from workbench.errors import ParameterError

__all__ = [
    "generate_province",
    "default_truth_folder",
    "load_truth",
    "DEFAULT_SEED",
    "DEFAULT_SUBSCRIBERS",
    "DEFAULT_MONTHS",
    "DEFAULT_END_MONTH",
    "DEFAULT_CHUNK_SIZE",
    "HISTORY_MONTHS",
    "TARGET_STABLE_SHARE",
    "TRUTH_FILE",
    "META_FILE",
]

DEFAULT_SEED = 20261126
DEFAULT_SUBSCRIBERS = 20_000
DEFAULT_MONTHS = 6
DEFAULT_END_MONTH = "2026-10"
DEFAULT_CHUNK_SIZE = 200_000
#: Months of VAS order history simulated (and written) before the observed window.
HISTORY_MONTHS = 24
#: Share of stable mobile-newspaper subscribers at the end of the window in the source
#: (38,086 of 1,039,229), which the generator is calibrated to.
TARGET_STABLE_SHARE = 38_086 / 1_039_229
#: File names in the truth folder.
TRUTH_TABLE = "subscriber_truth"
TRUTH_FILE = f"{TRUTH_TABLE}.parquet"
META_FILE = "meta.json"
MAX_MONTHS = 120
GENERATOR_VERSION = 1


def default_truth_folder(out: str | Path) -> Path:
    """The default truth folder of a province folder: the sibling ``<out>_truth``."""
    out = Path(out)
    return out.with_name(out.name + "_truth")


def load_truth(truth_folder: str | Path, columns: list[str] | None = None) -> tuple[pd.DataFrame, dict]:
    """Read a province's ground truth: the per-subscriber table and ``meta.json``.

    Parameters
    ----------
    truth_folder : path
        The folder :func:`generate_province` wrote the truth to (``<out>_truth`` by default).
    columns : list of str, optional
        Columns to read (default all; see :func:`workbench.data.synth.truth_schema`).

    Returns
    -------
    (pandas.DataFrame, dict)
        The truth (one row per subscriber, ordered by ``subscriber_id``) and the metadata.
    """
    folder = Path(truth_folder)
    path = folder / TRUTH_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no ground truth in {str(folder)!r}: expected {TRUTH_FILE} and {META_FILE} "
                                "as written by `workbench sample`")
    if columns is not None:
        unknown = sorted(set(columns) - set(truth_schema().names))
        if unknown:
            raise ParameterError.invalid("columns", f"columns of {TRUTH_FILE} ({truth_schema().names})", unknown)
    frame = pq.read_table(path, columns=columns).to_pandas()
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    return frame, meta


def _check_int(name: str, value, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
        raise ParameterError.invalid(name, f"an integer from {lo:,} to {hi:,}", value)
    return int(value)


def _subscribers_columns(pop) -> dict:
    return {
        "subscriber_id": pop.subscriber_id,
        "msisdn": msisdn_column(pop.subscriber_id),
        "branch_id": string_column([b[0] for b in BRANCHES], pop.branch),
        "brand": string_column(BRANDS, pop.brand),
        "tariff_plan": string_column(TARIFF_CODES, pop.tariff),
        "join_date": date_column(pop.join_day),
        "age": pa.array(pop.age.astype(np.int64), mask=pop.age_missing),
        "gender": string_column(("M", "F"), pop.gender, null_mask=pop.gender_missing),
        "rejoined": pop.rejoined,
    }


def _usage_columns(pop, usage: dict) -> dict:
    return {
        "subscriber_id": pop.subscriber_id[usage["user"]],
        "month": date_column(month_start_day(usage["month"])),
        **{m: usage[m] for m in USAGE_MEASURES},
    }


def _orders_columns(pop, subs) -> dict:
    user = subs.ev_user
    first = np.searchsorted(user, user, side="left")
    k = np.arange(len(user)) - first
    if len(k) and k.max() >= 1000:  # pragma: no cover - impossible with MAX_MONTHS
        raise RuntimeError("more than 999 VAS events for one subscriber")
    sid = pop.subscriber_id[user]
    return {
        "event_id": sid * 1000 + k,
        "subscriber_id": sid,
        "product_id": string_column(VAS_PRODUCTS["product_id"], subs.ev_product),
        "event_date": date_column(subs.ev_day),
        "event_type": string_column(("order", "unsubscribe"), subs.ev_type),
        "channel": string_column(ORDER_CHANNELS, subs.ev_channel),
    }


def _handset_columns(pop, hs) -> dict:
    sid = pop.subscriber_id[hs.event_user]
    return {
        "subscriber_id": sid,
        "event_date": date_column(hs.event_day),
        "imei": imei_column(sid, hs.event_no),
        "handset_model": string_column(HANDSET_MODELS["handset_model"], hs.event_model),
    }


def generate_province(
    n_subscribers: int = DEFAULT_SUBSCRIBERS,
    months: int = DEFAULT_MONTHS,
    seed: int = DEFAULT_SEED,
    out: str | Path = "sample_data/province",
    truth_out: str | Path | None = None,
    end_month: str = DEFAULT_END_MONTH,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: bool = True,
    drift=None,
    drift_from: str | None = None,
) -> dict:
    """Generate a synthetic province and its ground truth as Parquet files.

    Writes ``<table>.parquet`` for every table of :data:`workbench.data.tables.TABLE_ORDER`
    into ``out``, and ``subscriber_truth.parquet`` plus ``meta.json`` into
    ``truth_out``.  The same arguments always give the same bytes.

    Parameters
    ----------
    n_subscribers : int
        Subscribers of the province (1 to 999,999,999).
    months : int
        Observed months (1 to 120), ending with ``end_month``.
    seed : int
        Seed of the province (>= 0).
    out : path
        Folder of the province tables (created; existing table files are replaced).
    truth_out : path, optional
        Folder of the ground truth; default the sibling ``<out>_truth``.  Must differ from ``out``.
    end_month : str
        Last observed month, ``"YYYY-MM"``.
    chunk_size : int
        Subscribers generated (and held in memory) at a time.  The files depend on it.
    progress : bool
        Show a tqdm progress bar over the chunks.
    drift : str or sequence of str, optional
        Kinds of drift of the later months (:mod:`workbench.data.synth.drift`: usage, mix, concept).
    drift_from : str, optional
        First drifted month ``"YYYY-MM"`` (default the middle month of the window).

    Returns
    -------
    dict
        Parameters, rows written per table, the achieved share of stable
        mobile-newspaper subscribers, folders and elapsed seconds.

    Examples
    --------
    >>> summary = generate_province(2000, months=3, out=tmp / "prov", progress=False)  # doctest: +SKIP
    >>> summary["rows"]["subscribers"]                                                 # doctest: +SKIP
    2000
    """
    n_subscribers = _check_int("n_subscribers", n_subscribers, 1, MAX_SUBSCRIBERS)
    months = _check_int("months", months, 1, MAX_MONTHS)
    seed = _check_int("seed", seed, 0, 2**63 - 1)
    chunk_size = _check_int("chunk_size", chunk_size, 1, 50_000_000)
    end = parse_month(end_month)
    out = Path(out)
    truth_out = Path(truth_out) if truth_out is not None else default_truth_folder(out)
    if out.resolve() == truth_out.resolve():
        raise ParameterError.invalid("truth_out", f"a folder other than the province folder {str(out)!r}",
                                     str(truth_out))

    started = time.perf_counter()
    timeline = Timeline(end_month=end, months=months, history=HISTORY_MONTHS)
    drifted = _drift.drift_spec(drift, drift_from, timeline)
    schemas = {name: arrow_schema(name) for name in TABLE_ORDER}
    rows = dict.fromkeys(TABLE_ORDER, 0)
    stable = 0
    n_chunks = -(-n_subscribers // chunk_size)
    changes = ChangeRates()
    root = np.random.SeedSequence(seed)

    from tqdm.auto import tqdm

    truth_schemas = {TRUTH_TABLE: truth_schema(), PRESENCE_TRUTH_TABLE: presence_truth_schema(),
                     RESPONSE_TRUTH_TABLE: response_truth_schema(), CREDIT_TRUTH_TABLE: credit_truth_schema()}
    with TableWriters(out, schemas) as w, TableWriters(truth_out, truth_schemas) as tw:
        rows["branches"] = w.write_table("branches", branches_table(schemas["branches"]))
        rows["handset_models"] = w.write_table("handset_models", handset_models_table(schemas["handset_models"]))
        rows["vas_products"] = w.write_table("vas_products", vas_products_table(schemas["vas_products"]))
        for i in tqdm(range(n_chunks), desc="synthetic province", unit="chunk", disable=not progress):
            ids = np.arange(i * chunk_size + 1, min((i + 1) * chunk_size, n_subscribers) + 1, dtype=np.int64)
            ss = np.random.SeedSequence(root.entropy, spawn_key=(i,))
            g_traits, g_hand, g_subs, g_usage, g_pres = (np.random.default_rng(s) for s in ss.spawn(5))
            pop = draw_population(ids, timeline, g_traits)
            pop = _drift.drift_population(pop, timeline, drifted, _drift.stream(root.entropy, i))
            hs = simulate_handsets(pop, timeline, g_hand)
            model = _drift.drift_uptake(uptake_model(pop), pop, drifted)
            subs = simulate_subscriptions(pop, model, hs.model_by_month, timeline, g_subs)
            usage = _drift.drift_usage(simulate_usage(pop, hs.model_by_month, subs.fees, timeline, g_usage), drifted)
            rows["subscribers"] += w.write("subscribers", _subscribers_columns(pop))
            rows["monthly_usage"] += w.write("monthly_usage", _usage_columns(pop, usage))
            rows["vas_orders"] += w.write("vas_orders", _orders_columns(pop, subs))
            rows["handset_events"] += w.write("handset_events", _handset_columns(pop, hs))
            pres = simulate_presence(pop, timeline, hs, g_pres)
            for name, cols in presence_columns(pop, pres).items():
                rows[name] += w.write(name, cols)
            tw.write(PRESENCE_TRUTH_TABLE, presence_truth_columns(pop, pres))
            tw.write(RESPONSE_TRUTH_TABLE, response_truth_columns(pop, model.logit))
            changes.add(hs, pres, pop, timeline)
            truth = truth_columns(pop, model, subs, hs.model_by_month[:, timeline.end_index + 1], timeline)
            tw.write(TRUTH_TABLE, truth)
            credit = simulate_credit(pop, timeline, credit_rng(root.entropy, i))
            rows.update({k: rows[k] + w.write(k, v) for k, v in credit_table_columns(pop, credit).items()})
            tw.write(CREDIT_TRUTH_TABLE, credit_truth_columns(credit))
            stable += int((subs.held_end[:, NEWSPAPER] & (subs.age_end[:, NEWSPAPER] >= STABLE_MONTHS - 1)).sum())
            del pop, hs, model, subs, usage, truth, credit

    share = stable / n_subscribers
    meta = {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "n_subscribers": n_subscribers,
        "months": months,
        "end_month": format_month(end),
        "first_month": format_month(timeline.window_start),
        "history_months": HISTORY_MONTHS,
        "chunk_size": chunk_size,
        "stable_months": STABLE_MONTHS,
        "stable_mobile_newspaper": stable,
        "stable_share_mobile_newspaper": round(share, 6),
        "target_stable_share_mobile_newspaper": round(TARGET_STABLE_SHARE, 6),
        "next_period_months": 3,
        "rows": rows,
        "handset_presence": changes.summary(),
    }
    if drifted is not None:
        meta["drift"] = drifted.to_dict()
    (truth_out / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return {**meta, "out": str(out), "truth_out": str(truth_out),
            "seconds": round(time.perf_counter() - started, 2)}
