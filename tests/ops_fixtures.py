"""A tiny province and run folders for the operations tests (tests/test_ops_*.py).

Five subscribers, four products, each subscriber chosen to fall under one eligibility rule:

======  ==========================================================================
sub     situation
======  ==========================================================================
1       holds A (family f): A ``held``, B ``exclusive:A``; handset with MMS
2       ordered A then unsubscribed: A eligible again; handset without MMS: C ``handset``
3       handset with MMS, nothing held: everything eligible
4       no handset record: C ``handset_unknown``
5       no usage in the last month: every product ``inactive``
======  ==========================================================================
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from workbench.models.reason_words import Reason
from workbench.runs import RunFolder

PRODUCTS = ("A", "B", "C", "D")
#: Reason codes of the scores (template 03 keeps them next to the words).
TENURE = Reason("tenure_months", 30.0).code()
NEWS = Reason("content_pref_news", 0.6, "top10").code()


def tiny_province() -> dict[str, pd.DataFrame]:
    """The province's tables as DataFrames."""
    return {
        "subscribers": pd.DataFrame({
            "subscriber_id": [1, 2, 3, 4, 5],
            "msisdn": ["13800000001", "13800000002", "13800000003", "13800000004", "13800000005"],
            "branch_id": ["urumqi", "urumqi", "hami", "hami", "turpan"],
        }),
        "vas_products": pd.DataFrame({
            "product_id": list(PRODUCTS),
            "family": ["f", "f", "g", "h"],
            "required_capability": [None, None, "mms", None],
        }),
        "vas_orders": pd.DataFrame({
            "event_id": [1, 2, 3, 4],
            "subscriber_id": [1, 2, 2, 3],
            "product_id": ["A", "A", "A", "D"],
            "event_date": ["2026-09-01", "2026-09-02", "2026-09-20", "2026-10-30"],
            "event_type": ["order", "order", "unsubscribe", "order"],
        }),
        "handset_events": pd.DataFrame({
            "subscriber_id": [1, 2, 3, 5, 3],
            "event_date": ["2026-10-01", "2026-10-01", "2026-10-01", "2026-10-01", "2026-08-01"],
            "handset_model": ["SMART", "BASIC", "SMART", "SMART", "BASIC"],
        }),
        "handset_models": pd.DataFrame({"handset_model": ["SMART", "BASIC"], "cap_mms": [True, False]}),
        "monthly_usage": pd.DataFrame({
            "subscriber_id": [1, 2, 3, 4, 5, 5],
            "month": ["2026-10-01"] * 5 + ["2026-09-01"],
        }).iloc[[0, 1, 2, 3, 5]],
    }


def write_province(folder: Path) -> Path:
    """The tiny province as a folder of Parquet files."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tiny_province().items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def write_run(folder: Path, data: Path, *, scores: bool = True, credit: dict | None = None,
              store_url: str | None = None) -> Path:
    """A run folder with template 03's scores (subscribers 1-4; 5 unscored) and optional credit grades."""
    folder.mkdir(parents=True, exist_ok=True)
    run = RunFolder(folder)
    run.step("03_target_model", {"data": str(data), "language": "en"})
    if scores:
        run.write_scores(pd.DataFrame({
            "subscriber_id": [3, 1, 2, 4], "score": [0.9, 0.5, 0.2, 0.1], "rank": [1, 2, 3, 4],
            "decile": [1, 3, 6, 10],
            "reason_1": ["Customer for 30 months", "Customer for 30 months", None, None],
            "reason_2": ["Often reads news content", None, None, None],
            "reason_3": pd.array([None] * 4, dtype="str"),
            "edition": ["news"] * 4, "edition_2": ["sports"] * 4,
            "reason_1_code": [TENURE, TENURE, None, None], "reason_2_code": [NEWS, None, None, None],
            "reason_3_code": pd.array([None] * 4, dtype="str"),
        }))
    run.finish("03_target_model")
    if credit:
        pd.DataFrame({"subscriber_id": list(credit), "grade": list(credit.values()),
                      "score": [0.1 * i for i in range(len(credit))]}).to_parquet(
            folder / "credit_grades.parquet", index=False)
    if store_url:
        (folder / "campaign.json").write_text(json.dumps({"store_url": store_url}), encoding="utf-8")
    return folder
