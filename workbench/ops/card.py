"""One subscriber's published card and the answer to "can they order product A?", in words.

Pure functions of the rows :meth:`workbench.store.Store.published_rows` returns (one row per
current published version that names the subscriber) and the versions they come from; the
look-up API (:mod:`workbench.ops.api`) and the hall page (:mod:`workbench.ops.hall`) both
answer through them, so a customer hears the same words from the hall and the call centre.

``offers`` of a published row is a JSON list ``[{"product", "eligible", "reason"}]`` with
``reason`` None or a code: ``held``, ``exclusive:<product>``, ``handset``,
``credit_grade:<grade>``, ``inactive``; the words are the catalogue's ``ops.reason.<code>``
(``{arg}``: the part after the colon).  ``reasons`` is a JSON list ``[{"code", "zh", "en"}]``.
A product is eligible when no current version says otherwise; every version's reason is given.
"""
from __future__ import annotations

import json

from workbench.i18n import LANGUAGES, catalogue, t

__all__ = ["build_card", "eligibility", "reason_text", "KINDS", "UnknownProduct"]

#: Kinds of published results, in the order a card lists them.
KINDS: tuple[str, ...] = ("target", "preference", "credit", "trigger")


class UnknownProduct(KeyError):
    """The card names no such product (its message lists those it names)."""

    def __str__(self) -> str:  # KeyError quotes its message; this one is read by people
        return str(self.args[0])


def reason_text(code: str, lang: str) -> str:
    """Words of an eligibility code (``exclusive:FETION`` -> "mutually exclusive with FETION ...")."""
    base, _, arg = str(code).partition(":")
    key = f"ops.reason.{base}"
    if key in catalogue():
        return t(key, lang, arg=arg)
    return t("ops_api.reason.other", lang, code=code)


def _json(text) -> list:
    if text is None or text == "":
        return []
    value = json.loads(text) if isinstance(text, str) else text
    return value if isinstance(value, list) else []


def _model_reasons(text, lang: str) -> list[dict]:
    out = []
    for r in _json(text):
        if isinstance(r, dict):
            words = r.get(lang) or r.get(f"text_{lang}") or next(
                (r.get(k) or r.get(f"text_{k}") for k in LANGUAGES if r.get(k) or r.get(f"text_{k}")), "")
            out.append({"code": r.get("code"), "text": words or str(r.get("code") or "")})
        else:
            out.append({"code": None, "text": str(r)})
    return out


def _date(value) -> str | None:
    return None if value is None else value.isoformat()


def build_card(rows: list[dict], versions: dict, lang: str) -> dict:
    """The card of one subscriber from their published rows.

    Parameters
    ----------
    rows : list of dict
        :data:`~workbench.store.lookup.CARD_FIELDS` of each current version naming the subscriber
        (not empty).
    versions : dict
        ``version_id -> CurrentVersion`` (kind, label, model version, valid dates).
    lang : {"zh", "en"}
        Language of the reasons' and the answers' words.

    Returns
    -------
    dict
        ``subscriber_id``, ``branch_id``, ``msisdn_masked`` (never the full number), ``language``,
        ``results`` (one per kind: version, model version, valid from/to, score, grade, decile,
        reasons as ``{code, text}``), ``offers`` (every product named: ``eligible`` and its
        ``reasons``) and ``eligible_offers`` (product ids).
    """
    order = {k: i for i, k in enumerate(KINDS)}
    rows = sorted(rows, key=lambda r: order.get(versions[r["version_id"]].kind, len(KINDS)))
    results, offers = [], {}
    for row in rows:
        v = versions[row["version_id"]]
        results.append({
            "kind": v.kind, "version_id": v.id, "label": v.label, "model_version": v.model_version,
            "valid_from": _date(v.valid_from), "valid_to": _date(v.valid_to),
            "score": row["score"], "grade": row["grade"], "decile": row["decile"],
            "reasons": _model_reasons(row["reasons"], lang),
        })
        for offer in _json(row["offers"]):
            product = str(offer.get("product"))
            entry = offers.setdefault(product, {"product": product, "eligible": True, "reasons": []})
            if not offer.get("eligible", False):
                entry["eligible"] = False
                code = offer.get("reason") or "other"
                entry["reasons"].append({"code": code, "text": reason_text(code, lang), "kind": v.kind})
    first = rows[0]
    masked = next((r["msisdn_masked"] for r in rows if r["msisdn_masked"]), None)
    offer_list = sorted(offers.values(), key=lambda o: o["product"])
    return {
        "subscriber_id": int(first["subscriber_id"]), "branch_id": first["branch_id"], "msisdn_masked": masked,
        "language": lang, "results": results, "offers": offer_list,
        "eligible_offers": [o["product"] for o in offer_list if o["eligible"]],
    }


def eligibility(card: dict, product: str, lang: str) -> dict:
    """Whether the card's subscriber may order ``product``, and why not, in words.

    Returns
    -------
    dict
        ``subscriber_id``, ``product``, ``eligible``, ``reasons`` (``{code, text, kind}``),
        ``answer`` (one sentence), ``language``.

    Raises
    ------
    UnknownProduct
        No current version names ``product`` for this subscriber.
    """
    offer = next((o for o in card["offers"] if o["product"] == product), None)
    if offer is None:
        known = ", ".join(o["product"] for o in card["offers"]) or "-"
        raise UnknownProduct(t("ops_api.error.no_product", lang, subscriber_id=card["subscriber_id"],
                               product=product, known=known))
    if offer["eligible"]:
        answer = t("ops_api.answer.eligible", lang, product=product)
    else:
        sep = t("ops_api.answer.separator", lang)
        answer = t("ops_api.answer.not_eligible", lang, product=product,
                   reasons=sep.join(dict.fromkeys(r["text"] for r in offer["reasons"])))
    return {"subscriber_id": card["subscriber_id"], "product": product, "eligible": offer["eligible"],
            "reasons": offer["reasons"], "answer": answer, "language": lang}
