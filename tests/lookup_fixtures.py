"""Published results written straight into the store tables (the look-up API's and hall page's tests).

The publishing path (``workbench publish``) is built beside the API; these rows follow the same
table contract (``published_versions`` / ``published_results``, JSON ``reasons`` and ``offers``).
"""
from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from workbench.store.models import PublishedResult, PublishedVersion, utcnow

__all__ = ["publish_rows", "seed_published", "OFFERS_URUMQI", "PRODUCTS"]

PRODUCTS = ("MNP_NEWS", "FETION", "STOCK")
#: Subscriber 1001 (Urumqi): the newspaper eligible, Fetion held, stock trading refused twice.
OFFERS_URUMQI = [
    {"product": "MNP_NEWS", "eligible": True, "reason": None},
    {"product": "FETION", "eligible": False, "reason": "held"},
    {"product": "STOCK", "eligible": False, "reason": "handset"},
]


def publish_rows(engine: sa.Engine, kind: str, rows: list[dict], *, status: str = "current",
                 model_version: str = "m1", valid_from: dt.date = dt.date(2026, 12, 1),
                 valid_to: dt.date | None = dt.date(2026, 12, 31)) -> int:
    """Insert one version of ``kind`` with ``rows`` (dicts of published_results columns); returns its id."""
    with engine.begin() as conn:
        if status == "current":
            conn.execute(sa.update(PublishedVersion).where(PublishedVersion.kind == kind,
                                                           PublishedVersion.status == "current")
                         .values(status="retired"))
        version_id = conn.execute(sa.insert(PublishedVersion).values(
            kind=kind, label=f"{kind} {model_version}", model_version=model_version, run_dir="", source_sha256="",
            status=status, row_count=len(rows), valid_from=valid_from, valid_to=valid_to, created_at=utcnow(),
            created_by="test", activated_at=utcnow() if status == "current" else None)).inserted_primary_key[0]
        if rows:
            conn.execute(sa.insert(PublishedResult), [{"version_id": version_id, **r} for r in rows])
    return int(version_id)


def seed_published(engine: sa.Engine) -> dict:
    """A target and a credit version: 1001 and 1002 in Urumqi, 2001 in Hami; a retired older target version."""
    reasons = json.dumps([{"code": "news_reader", "zh": "常读新闻", "en": "reads news often"}], ensure_ascii=False)
    old = publish_rows(engine, "target", [{"subscriber_id": 1001, "branch_id": "urumqi", "score": 0.1,
                                           "msisdn_masked": "138****1001", "decile": 9}], model_version="m0")
    target = publish_rows(engine, "target", [
        {"subscriber_id": 1001, "branch_id": "urumqi", "msisdn_masked": "138****1001", "score": 0.8125,
         "decile": 1, "reasons": reasons, "offers": json.dumps(OFFERS_URUMQI)},
        {"subscriber_id": 1002, "branch_id": "urumqi", "msisdn_masked": "138****1002", "score": 0.25,
         "decile": 6, "reasons": "[]", "offers": json.dumps([{"product": p, "eligible": True, "reason": None}
                                                             for p in PRODUCTS])},
        {"subscriber_id": 2001, "branch_id": "hami", "msisdn_masked": "139****2001", "score": 0.5, "decile": 3,
         "reasons": "[]", "offers": json.dumps([{"product": "FETION", "eligible": False,
                                                 "reason": "exclusive:MNP_NEWS"}])},
    ])
    credit = publish_rows(engine, "credit", [
        {"subscriber_id": 1001, "branch_id": "urumqi", "msisdn_masked": "138****1001", "score": 0.05, "grade": "D",
         "offers": json.dumps([{"product": "STOCK", "eligible": False, "reason": "credit_grade:D"}])},
    ], model_version="c1", valid_to=None)
    return {"old_target": old, "target": target, "credit": credit}
