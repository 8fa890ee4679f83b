"""Readable rules of a credit model, per segment, in the catalogue's words.

* **tree** - one rule per leaf: the conditions on its path (several conditions on one numeric input
  become one range; on one categorical input, one set of levels), the leaf's rows, bad rate (= the
  score of every row in it) and grade.
* **scorecard** - one line per bin of each input: its condition and its points (risk points: 20 more
  points double the odds of bad), plus the base points.
* **lightgbm** - the direction of each input's effect (the monotone constraints: risk rises or falls
  with it) and the number of trees.

Each rule also comes as data (``items``: conditions as dicts, ``score``, ``grade``, ``rows``) so
tests and other tools (SQL export) need not parse text.
"""
from __future__ import annotations

import math

from workbench.i18n import t

__all__ = ["tree_leaves", "model_rules", "condition_text"]


def _num(v: float) -> str:
    return f"{v:.6g}"


def tree_leaves(nodes: list[dict]) -> list[dict]:
    """Every leaf of stored tree nodes with its merged conditions.

    Returns
    -------
    list of dict
        ``leaf`` (node id), ``value``, ``rows``, ``bads``, ``conditions``: one per input, numeric
        ``{"feature", "kind": "numeric", "lo", "hi", "missing"}`` (``lo < x <= hi``, None = open;
        ``missing``: whether a missing value takes this path) or categorical
        ``{"feature", "kind": "categorical", "levels", "unseen"}``.
    """
    out = []

    def walk(nid: int, conds: dict):
        nd = nodes[nid]
        if nd["leaf"]:
            out.append({"leaf": nid, "value": nd["value"], "rows": nd["rows"], "bads": nd["bads"],
                        "conditions": list(conds.values())})
            return
        f = nd["feature"]
        for side in ("left", "right"):
            c = dict(conds)
            if nd["kind"] == "numeric":
                prev = c.get(f, {"feature": f, "kind": "numeric", "lo": None, "hi": None, "missing": True})
                new = dict(prev)
                if side == "left":
                    new["hi"] = nd["threshold"] if prev["hi"] is None else min(prev["hi"], nd["threshold"])
                else:
                    new["lo"] = nd["threshold"] if prev["lo"] is None else max(prev["lo"], nd["threshold"])
                new["missing"] = prev["missing"] and nd["missing"] == side
            else:
                prev = c.get(f, {"feature": f, "kind": "categorical", "levels": None, "unseen": True})
                levels = nd["left_levels"] if side == "left" else nd["right_levels"]
                new = {"feature": f, "kind": "categorical",
                       "levels": levels if prev["levels"] is None else [v for v in prev["levels"] if v in levels],
                       "unseen": prev["unseen"] and nd["unseen"] == side}
            c[f] = new
            walk(nd[side], c)

    walk(0, {})
    return out


def condition_text(c: dict, lang: str | None = None) -> str:
    """One merged condition in words."""
    from workbench.credit.methods import MISSING_LEVEL

    f = c["feature"]
    if c["kind"] == "numeric":
        lo, hi = c["lo"], c["hi"]
        if (lo is None and hi is None) or (lo is not None and hi is not None and lo >= hi):
            return t("credit_model.rule.missing", lang, feature=f)  # only a missing value takes this path
        if lo is None:
            text = t("model.rule.le", lang, feature=f, value=_num(hi))
        elif hi is None:
            text = t("model.rule.gt", lang, feature=f, value=_num(lo))
        else:
            text = t("credit_model.rule.between", lang, feature=f, lo=_num(lo), hi=_num(hi))
        return t("model.rule.or_missing", lang, condition=text) if c["missing"] else text
    sep = t("model.rule.list_sep", lang)
    shown = [t("credit_model.rule.missing_level", lang) if v == MISSING_LEVEL else str(v) for v in c["levels"]]
    text = t("credit_model.rule.in", lang, feature=f, values=sep.join(shown))
    return t("credit_model.rule.or_other", lang, condition=text) if c["unseen"] else text


def _tree_rules(seg: dict, model, lang) -> tuple[list[str], list[dict]]:
    leaves = sorted(tree_leaves(seg["model"]["nodes"]), key=lambda d: d["value"])
    and_ = t("model.rule.and", lang)
    texts, items = [], []
    for lf in leaves:
        grade = str(model.grade([lf["value"]])[0])
        cond = and_.join(condition_text(c, lang) for c in lf["conditions"]) or t("model.rule.everyone", lang)
        texts.append(t("credit_model.rule.leaf", lang, condition=cond, rows=lf["rows"],
                       rate=f"{100 * lf['value']:.1f}%", grade=grade))
        items.append({**lf, "score": lf["value"], "grade": grade, "text": texts[-1]})
    return texts, items


def _scorecard_rules(seg: dict, lang) -> tuple[list[str], list[dict]]:
    from workbench.credit.methods import PDO

    m = seg["model"]
    texts = [t("credit_model.rule.base", lang, points=f"{m['intercept'] * PDO / math.log(2):+.1f}")]
    items = []
    for v in m["variables"]:
        f = v["name"]
        for k, b in enumerate(v["bins"]):
            if v["kind"] == "numeric":
                lo = v["splits"][k - 1] if k > 0 else None
                hi = b["upper"]
                if lo is None and hi is not None:
                    cond = t("credit_model.rule.lt", lang, feature=f, value=_num(hi))
                elif hi is None and lo is not None:
                    cond = t("credit_model.rule.ge", lang, feature=f, value=_num(lo))
                elif lo is None:
                    cond = t("model.rule.everyone", lang)
                else:
                    cond = t("credit_model.rule.range", lang, feature=f, lo=_num(lo), hi=_num(hi))
            else:
                cond = condition_text({"feature": f, "kind": "categorical", "levels": b["levels"], "unseen": False},
                                      lang)
            texts.append(t("credit_model.rule.points", lang, condition=cond, points=f"{b['points']:+.1f}"))
            items.append({"feature": f, "bin": k, "points": b["points"], "text": texts[-1]})
        if v.get("missing_points"):
            texts.append(t("credit_model.rule.points", lang, condition=t("credit_model.rule.missing", lang, feature=f),
                           points=f"{v['missing_points']:+.1f}"))
    return texts, items


def _lightgbm_rules(seg: dict, lang) -> tuple[list[str], list[dict]]:
    m = seg["model"]
    texts = [t("credit_model.rule.trees", lang, n=m["params"].get("rounds", 0))]
    items = []
    from workbench.credit.methods import MISSING_LEVEL

    sep = t("model.rule.list_sep", lang)
    for f, sign in zip(seg["encoder"], m["constraints"]):
        if f["kind"] == "categorical":  # coded by risk rank: the order of its levels is the direction
            shown = [t("credit_model.rule.missing_level", lang) if v == MISSING_LEVEL else str(v)
                     for v in f["levels"]]
            texts.append(t("credit_model.rule.direction.levels", lang, feature=f["name"], levels=sep.join(shown)))
        else:
            key = {1: "up", -1: "down", 0: "free"}[int(sign)]
            texts.append(t(f"credit_model.rule.direction.{key}", lang, feature=f["name"]))
        items.append({"feature": f["name"], "direction": int(sign)})
    return texts, items


def model_rules(model, language: str | None = None) -> list[dict]:
    """``[{"segment", "method", "rules": [text, ...], "items": [...]}]``, one per modelled segment."""
    out = []
    for seg in model.spec["segments"]:
        method = seg["model"]["method"]
        if method == "tree":
            texts, items = _tree_rules(seg, model, language)
        elif method == "scorecard":
            texts, items = _scorecard_rules(seg, language)
        else:
            texts, items = _lightgbm_rules(seg, language)
        out.append({"segment": seg["name"], "method": method, "rules": texts, "items": items})
    return out
