"""The three credit methods compared in every segment, each stored as plain JSON.

* :class:`TreeMethod` - a shallow scikit-learn ``DecisionTreeClassifier`` (the source's method:
  each leaf is a readable rule).  Its structure is learnt on at most ``sample_rows`` rows (a leaf
  holds at least 2 % of them, so a larger sample changes little), its leaf values - the bad rate
  of the leaf - on all training rows.  Stored as explicit nodes: ``feature``, ``threshold``
  (``x <= threshold`` goes ``left``), ``missing`` (the side a missing value takes), ``left``,
  ``right``; a leaf has ``value`` (P(bad)), ``rows`` and ``bads``.
* :class:`ScorecardMethod` - the field's standard WoE scorecard: optbinning's ``BinningProcess``
  (quantile pre-bins, at most 6 bins of at least 5 % of the rows, monotone event rate for numeric
  columns) learns the bins on at most ``sample_rows`` rows, then a logistic regression on the
  weights of evidence of all training rows.  Stored as bins (numeric: split points, a value
  ``x < split`` falls below it, as optbinning; categorical: level groups), WoE, the coefficient
  and the points of each bin (``points = coef * WoE * 20 / ln 2``: 20 points double the odds).
* :class:`LightGBMMethod` - monotone LightGBM: every input's constraint is the sign of its rank
  correlation with bad (0 when not significant, |rho| * sqrt(n) < 2); categorical inputs are
  coded by risk rank, so they are increasing.  Rounds by early stopping on an in-time 15 % split.
  Below :data:`THREADS_FROM_ROWS` rows it trains and predicts on one thread.  Stored as
  LightGBM's model text.

All three score an *encoded* matrix (:class:`Encoder`): numeric columns as floats (missing kept
missing), categorical columns as the rank of the level's smoothed bad rate on the training rows
(missing is a level of its own; a level unseen at training takes the rank a level with the
average bad rate would have).
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

__all__ = ["Encoder", "TreeMethod", "ScorecardMethod", "LightGBMMethod", "METHODS", "method_from_dict",
           "MISSING_LEVEL", "PDO"]

#: The level a missing categorical value takes.
MISSING_LEVEL = "__missing__"
#: Points that double the odds of bad in a scorecard.
PDO = 20.0
#: Smoothing (pseudo-rows at the average bad rate) of a level's bad rate when ordering levels.
LEVEL_SMOOTHING = 20.0


def _texts(s: pd.Series) -> np.ndarray:
    """Each value of ``s`` as text, missing as :data:`MISSING_LEVEL` (``1`` and ``"1"`` alike): object array."""
    if pd.api.types.is_float_dtype(s.dtype):  # 1.0 as "1" (an integer column with missing values is float)
        v = s.to_numpy(dtype=np.float64, na_value=np.nan)
        out = np.full(len(v), MISSING_LEVEL, dtype=object)
        ok = ~np.isnan(v)
        whole = ok & (np.abs(np.where(ok, v, 0.0)) < 1e15) & (np.where(ok, v, 0.0) == np.floor(np.where(ok, v, 0.0)))
        out[whole] = v[whole].astype(np.int64).astype(str).astype(object)
        rest = ok & ~whole
        out[rest] = [repr(float(x)) for x in v[rest]]
        return out
    text = s.astype(str).astype(object).to_numpy(dtype=object)
    return np.where(s.notna().to_numpy(), text, MISSING_LEVEL)


def level_codes(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, texts)``: ``texts[codes]`` is :func:`level_text` of ``s``; ``texts`` distinct and sorted.

    The values are factorised first and only the distinct ones turned into text (a column of text
    as Arrow strings costs about 1 s per million rows to turn into Python strings one by one).
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    codes = np.asarray(codes, dtype=np.int64)
    texts = _texts(pd.Series(uniques))
    if (codes < 0).any():
        texts = np.append(texts, MISSING_LEVEL).astype(object)
        codes = np.where(codes < 0, len(texts) - 1, codes)
    distinct, inverse = np.unique(texts.astype(str), return_inverse=True)  # equal texts share one code
    return inverse.astype(np.int64)[codes], distinct.astype(object)


def level_text(s: pd.Series) -> pd.Series:
    """A categorical column as text, missing as :data:`MISSING_LEVEL` (``1`` and ``"1"`` alike)."""
    codes, texts = level_codes(s)
    return pd.Series(texts[codes], index=s.index, dtype=object)


def level_lookup(s: pd.Series, mapping: dict, default: float = np.nan) -> np.ndarray:
    """``mapping[level_text(value)]`` of every value of ``s`` (``default`` for a text not in ``mapping``)."""
    codes, texts = level_codes(s)
    values = np.array([mapping.get(t, default) for t in texts], dtype=np.float64)
    return values[codes] if len(codes) else np.empty(0, dtype=np.float64)


def _is_numeric(s: pd.Series) -> bool:
    return (pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
            and not isinstance(s.dtype, pd.CategoricalDtype))


class Encoder:
    """Numeric matrix of a segment's inputs (see the module docstring).

    Attributes
    ----------
    features : list of dict
        ``name``, ``kind`` (``numeric`` / ``categorical``); a categorical one also ``levels``
        (lowest risk first) and ``unseen`` (the code of a level not seen at training).
    """

    def __init__(self, features: list[dict]):
        self.features = features

    @property
    def names(self) -> list[str]:
        return [f["name"] for f in self.features]

    @classmethod
    def fit(cls, X: pd.DataFrame, y: np.ndarray) -> "Encoder":
        """Learn kinds and level orders from training rows (constant columns are left out)."""
        prior = float(np.mean(y))
        features = []
        for col in X.columns:
            s = X[col]
            if _is_numeric(s):
                v = s.to_numpy(dtype=np.float64, na_value=np.nan)
                miss = np.isnan(v)
                distinct = len(np.unique(v[~miss]))
                if distinct + int(miss.any()) < 2:
                    continue  # constant here (not even missing against present)
                features.append({"name": str(col), "kind": "numeric"})
                continue
            codes, texts = level_codes(s)  # texts sorted: the order a sorted group-by gives
            size = np.bincount(codes, minlength=len(texts))
            stats = pd.DataFrame({"sum": np.bincount(codes, weights=y, minlength=len(texts)), "size": size},
                                 index=pd.Index(texts, dtype=object))[size > 0]
            if len(stats) < 2:
                continue
            rate = (stats["sum"] + LEVEL_SMOOTHING * prior) / (stats["size"] + LEVEL_SMOOTHING)
            order = rate.sort_values(kind="mergesort")
            levels = [str(k) for k in order.index]
            unseen = float(np.searchsorted(order.to_numpy(), prior, side="left")) - 0.5
            features.append({"name": str(col), "kind": "categorical", "levels": levels,
                             "unseen": max(unseen, -0.5)})
        return cls(features)

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """The float matrix (rows x features) of ``X``."""
        out = np.empty((len(X), len(self.features)), dtype=np.float64)
        for j, f in enumerate(self.features):
            s = X[f["name"]]
            if f["kind"] == "numeric":
                out[:, j] = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                out[:, j] = level_lookup(s, {lvl: float(i) for i, lvl in enumerate(f["levels"])}, f["unseen"])
        return out

    def to_dict(self) -> list[dict]:
        return [dict(f) for f in self.features]


# ------------------------------------------------------------------ tree
class TreeMethod:
    """A shallow decision tree (see the module docstring)."""

    name = "tree"

    def __init__(self, nodes: list[dict] | None = None):
        self.nodes = nodes

    @staticmethod
    def settings(n_rows: int) -> dict:
        """Depth and least leaf size for ``n_rows`` training rows: depth 3 below 3,000 rows, 4 below 30,000,
        else 5; a leaf holds at least 2 % of the rows (and 20)."""
        depth = 3 if n_rows < 3_000 else 4 if n_rows < 30_000 else 5
        return {"max_depth": depth, "min_leaf_share": 0.02, "min_leaf_rows": 20}

    def fit(self, Z: np.ndarray, y: np.ndarray, features: list[dict], *, seed: int = 0,
            sample_rows: int = 50_000) -> "TreeMethod":
        from sklearn.tree import DecisionTreeClassifier

        n = len(y)
        rng = np.random.default_rng(seed)
        idx = np.sort(rng.choice(n, sample_rows, replace=False)) if n > sample_rows else np.arange(n)
        st = self.settings(n)
        leaf = max(st["min_leaf_rows"], int(math.ceil(st["min_leaf_share"] * len(idx))))
        tree = DecisionTreeClassifier(max_depth=st["max_depth"], min_samples_leaf=leaf, random_state=seed)
        tree.fit(Z[idx], y[idx])
        leaves = tree.apply(Z)
        rows = np.bincount(leaves, minlength=tree.tree_.node_count)
        bads = np.bincount(leaves, weights=y, minlength=tree.tree_.node_count)
        self.nodes = _tree_nodes(tree.tree_, features, rows, bads, float(np.mean(y)))
        return self

    def predict(self, Z: np.ndarray) -> np.ndarray:
        return self.leaf_values()[self.apply(Z)]

    def leaf_values(self) -> np.ndarray:
        return np.array([nd.get("value", np.nan) for nd in self.nodes], dtype=np.float64)

    def apply(self, Z: np.ndarray) -> np.ndarray:
        """The leaf (node id) of every row, walking the stored nodes (vectorised per level)."""
        node = np.zeros(len(Z), dtype=np.int64)
        for _ in range(len(self.nodes)):
            is_split = np.array([not nd["leaf"] for nd in self.nodes])[node]
            if not is_split.any():
                break
            for nid in np.unique(node[is_split]):
                nd = self.nodes[nid]
                rows = np.flatnonzero(node == nid)
                x = Z[rows, nd["feature_index"]]
                left = np.where(np.isnan(x), nd["missing"] == "left", x <= nd["threshold"])
                node[rows] = np.where(left, nd["left"], nd["right"])
        return node

    def to_dict(self) -> dict:
        return {"method": self.name, "nodes": self.nodes}

    @classmethod
    def from_dict(cls, d: dict) -> "TreeMethod":
        return cls(d["nodes"])


def _tree_nodes(t, features: list[dict], rows, bads, prior: float) -> list[dict]:
    nodes = []
    for i in range(t.node_count):
        left, right = int(t.children_left[i]), int(t.children_right[i])
        r, b = int(rows[i]), float(bads[i])
        if left == -1:
            nodes.append({"id": i, "leaf": True, "value": (b / r) if r else prior, "rows": r, "bads": int(round(b))})
            continue
        j = int(t.feature[i])
        f = features[j]
        thr = float(t.threshold[i])
        nd = {"id": i, "leaf": False, "feature": f["name"], "feature_index": j, "kind": f["kind"], "threshold": thr,
              "missing": "left" if bool(t.missing_go_to_left[i]) else "right", "left": left, "right": right,
              "rows": r}
        if f["kind"] == "categorical":  # codes <= thr go left: the level sets, explicit for SQL export
            k = int(math.floor(thr)) + 1
            nd["left_levels"], nd["right_levels"] = f["levels"][:k], f["levels"][k:]
            nd["unseen"] = "left" if f["unseen"] <= thr else "right"
        nodes.append(nd)
    return nodes


# ------------------------------------------------------------------ scorecard
class ScorecardMethod:
    """A WoE scorecard (see the module docstring)."""

    name = "scorecard"

    def __init__(self, intercept: float = 0.0, variables: list[dict] | None = None):
        self.intercept = intercept
        self.variables = variables or []

    def fit(self, X: pd.DataFrame, y: np.ndarray, features: list[dict], *, seed: int = 0,
            sample_rows: int = 50_000, min_iv: float = 0.02) -> "ScorecardMethod":
        from optbinning import OptimalBinning
        from sklearn.linear_model import LogisticRegression

        n = len(y)
        rng = np.random.default_rng(seed)
        idx = np.sort(rng.choice(n, sample_rows, replace=False)) if n > sample_rows else np.arange(n)
        # a numeric input as floats; a categorical one as the codes of its level texts (sorted, so optbinning
        # orders tied levels as it would the texts), turned back into texts once binned
        columns = {f["name"]: (level_codes(X[f["name"]]) if f["kind"] == "categorical"
                               else pd.to_numeric(X[f["name"]], errors="coerce").to_numpy(dtype=np.float64,
                                                                                          na_value=np.nan))
                   for f in features}
        min_bin = 0.05 if len(idx) >= 400 else 0.1
        variables, W = [], []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for f in features:  # one OptimalBinning per input (BinningProcess adds summaries we do not use)
                kind = "categorical" if f["kind"] == "categorical" else "numerical"
                extra = {} if kind == "categorical" else {"prebinning_method": "quantile", "max_n_prebins": 10,
                                                          "monotonic_trend": "auto_asc_desc"}
                ob = OptimalBinning(name=f["name"], dtype=kind, max_n_bins=6, min_bin_size=min_bin, **extra)
                col = columns[f["name"]]
                try:
                    ob.fit(col[0][idx] if kind == "categorical" else col[idx], y[idx])
                except (ValueError, TypeError):  # nothing to bin (e.g. one value in the sample)
                    continue
                if ob.status not in ("OPTIMAL", "FEASIBLE"):
                    continue
                v = _variable_bins(ob, f, col[1] if kind == "categorical" else None)
                if v is not None and v["iv"] >= min_iv:
                    variables.append(v)
                    W.append(_woe_of_codes(v, *col) if kind == "categorical" else _woe(v, pd.Series(col)))
        if not variables:
            self.intercept = float(np.log(max(np.mean(y), 1e-6) / max(1 - np.mean(y), 1e-6)))
            self.variables = []
            return self
        # Newton's method converges in a few steps on a handful of WoE columns (L-BFGS stopped short of the
        # optimum at its tolerance and took 3 x the time on the province)
        lr = LogisticRegression(C=1.0, max_iter=500, solver="newton-cholesky")
        lr.fit(np.column_stack(W), y)
        coef = lr.coef_.ravel()
        self.intercept = float(lr.intercept_[0])
        factor = PDO / math.log(2)
        for v, c in zip(variables, coef):
            v["coef"] = float(c)
            for b in v["bins"]:
                b["points"] = round(float(c) * b["woe"] * factor, 2)
            v["missing_points"] = round(float(c) * v["missing_woe"] * factor, 2)
            v["unseen_points"] = 0.0
        self.variables = [v for v in variables if v["coef"] != 0.0]
        return self

    def predict_frame(self, X: pd.DataFrame) -> np.ndarray:
        z = np.full(len(X), self.intercept, dtype=np.float64)
        for v in self.variables:
            s = X[v["name"]]
            z += v["coef"] * _woe(v, s if v["kind"] == "categorical" else pd.to_numeric(s, errors="coerce"))
        return 1.0 / (1.0 + np.exp(-z))

    def to_dict(self) -> dict:
        return {"method": self.name, "intercept": self.intercept, "pdo": PDO, "variables": self.variables}

    @classmethod
    def from_dict(cls, d: dict) -> "ScorecardMethod":
        return cls(d["intercept"], d["variables"])


def _bin_statistics(ob) -> tuple[np.ndarray, np.ndarray, float]:
    """WoE (log-odds of BAD: optbinning's sign reversed), rows and total IV of the bins of a fitted optbinning
    variable - the regular bins, then its "Special" and "Missing" bins - as its binning table computes them
    (building the table itself, a DataFrame with formatted bin labels, cost more than the binning's solver)."""
    from scipy.special import xlogy

    bt = ob.binning_table
    nev, ev = np.asarray(bt.n_nonevent, dtype=np.float64), np.asarray(bt.n_event, dtype=np.float64)
    counts = nev + ev
    mask = (ev > 0) & (nev > 0)
    woe, iv = np.zeros(len(counts)), np.zeros(len(counts))
    rate = ev[mask] / counts[mask]
    woe[mask] = np.log(1 / rate - 1) + np.log(ev.sum() / nev.sum())  # optbinning: ln(non-event / event share)
    p_ev, p_nev = ev[mask] / ev.sum(), nev[mask] / nev.sum()
    iv[mask] = xlogy(p_ev - p_nev, p_ev / p_nev)
    return -woe, counts, float(np.nansum(iv))


def _variable_bins(ob, f: dict, texts: np.ndarray | None = None) -> dict | None:
    """Bins of one fitted optbinning variable in our convention; WoE as log-odds of BAD (optbinning's sign
    reversed), so a positive coefficient means the bin's risk adds to the score."""
    woe, counts, iv = _bin_statistics(ob)
    miss_i = len(counts) - 1  # bins, then "Special", then "Missing" (as optbinning's binning table)
    regular = list(range(len(counts) - 2))
    if len(regular) < 2 and not (miss_i is not None and counts[miss_i] > 0 and regular):
        return None
    missing_woe = float(woe[miss_i]) if miss_i is not None and counts[miss_i] > 0 else 0.0
    if f["kind"] == "numeric":
        splits = [float(s) for s in np.asarray(ob.splits, dtype=np.float64)]
        bins = [{"upper": (splits[k] if k < len(splits) else None), "woe": float(woe[i]), "rows": int(counts[i])}
                for k, i in enumerate(regular)]
        return {"name": f["name"], "kind": "numeric", "splits": splits, "bins": bins, "missing_woe": missing_woe,
                "iv": iv}
    groups = [[str(texts[int(x)]) if texts is not None else str(x) for x in g] for g in ob.splits]
    bins = [{"levels": groups[k], "woe": float(woe[i]), "rows": int(counts[i])} for k, i in enumerate(regular)
            if k < len(groups)]
    return {"name": f["name"], "kind": "categorical", "bins": bins, "missing_woe": missing_woe, "iv": iv}


def _woe_of_codes(v: dict, codes: np.ndarray, texts: np.ndarray) -> np.ndarray:
    """:func:`_woe` of a categorical input given as :func:`level_codes`."""
    mapping = {lvl: b["woe"] for b in v["bins"] for lvl in b["levels"]}
    mapping.setdefault(MISSING_LEVEL, v["missing_woe"])  # a missing value not binned on its own
    return np.array([mapping.get(t, 0.0) for t in texts], dtype=np.float64)[codes]


def _woe(v: dict, s: pd.Series) -> np.ndarray:
    if v["kind"] == "numeric":
        x = s.to_numpy(dtype=np.float64, na_value=np.nan)
        idx = np.searchsorted(np.asarray(v["splits"], dtype=np.float64), x, side="right")
        woe = np.array([b["woe"] for b in v["bins"]], dtype=np.float64)
        return np.where(np.isnan(x), v["missing_woe"], woe[np.minimum(idx, len(woe) - 1)])
    return _woe_of_codes(v, *level_codes(s))


# ------------------------------------------------------------------ LightGBM
class LightGBMMethod:
    """Monotone LightGBM (see the module docstring)."""

    name = "lightgbm"

    def __init__(self, model_text: str | None = None, constraints: list[int] | None = None,
                 params: dict | None = None):
        self.model_text = model_text
        self.constraints = constraints
        self.params = params or {}
        self._booster = None

    @staticmethod
    def monotone_signs(Z: np.ndarray, y: np.ndarray, features: list[dict], *, seed: int = 0,
                       sample_rows: int = 50_000) -> list[int]:
        """+1 / -1 / 0 per input: the sign of its rank correlation with bad, 0 when |rho| * sqrt(n) < 2."""
        from scipy.stats import rankdata

        n = len(y)
        rng = np.random.default_rng(seed)
        idx = rng.choice(n, sample_rows, replace=False) if n > sample_rows else np.arange(n)
        yy = y[idx].astype(np.float64)
        signs = []
        for j, f in enumerate(features):
            if f["kind"] == "categorical":
                signs.append(1)
                continue
            x = Z[idx, j]
            ok = ~np.isnan(x)
            if ok.sum() < 10 or yy[ok].std() == 0:
                signs.append(0)
                continue
            r = rankdata(x[ok])
            rho = np.corrcoef(r, yy[ok])[0, 1] if r.std() > 0 else 0.0
            signs.append(int(np.sign(rho)) if abs(rho) * math.sqrt(ok.sum()) >= 2 else 0)
        return signs

    @staticmethod
    def settings(n_rows: int, n_bads: int) -> dict:
        m = min(n_bads, n_rows - n_bads)
        return {
            "objective": "binary", "learning_rate": 0.05 if n_rows < 20_000 else 0.1,
            "num_leaves": int(min(max(round(m / 60), 7), 31)),
            "min_child_samples": int(min(max(round(n_rows / 200), 20), 500)),
            "lambda_l2": 10.0 if m < 1_000 else 1.0, "max_bin": 63, "feature_fraction": 0.8,
            "bagging_fraction": 1.0 if n_rows < 2_000 else 0.8 if n_rows < 50_000 else 0.5, "bagging_freq": 1,
            "monotone_constraints_method": "basic", "verbosity": -1, "deterministic": True,
            "force_col_wise": True, "num_threads": _threads(n_rows),
        }

    def fit(self, Z: np.ndarray, y: np.ndarray, features: list[dict], *, seed: int = 0,
            rounds: int | None = None, max_rounds: int = 1000, patience: int = 30) -> "LightGBMMethod":
        """Train with early stopping on a stratified in-time 15 % split, or ``rounds`` rounds on all rows."""
        import lightgbm as lgb
        from sklearn.model_selection import train_test_split

        self.constraints = self.monotone_signs(Z, y, features, seed=seed)
        params = {**self.settings(len(y), int(y.sum())), "seed": seed,
                  "monotone_constraints": self.constraints}
        if rounds is None:
            tr, va = train_test_split(np.arange(len(y)), test_size=0.15, stratify=y, random_state=seed)
            dtr = lgb.Dataset(Z[tr], y[tr], free_raw_data=True)
            dva = lgb.Dataset(Z[va], y[va], reference=dtr)
            booster = lgb.train(params, dtr, num_boost_round=max_rounds, valid_sets=[dva],
                                callbacks=[lgb.early_stopping(patience, verbose=False)])
            best = max(int(booster.best_iteration or booster.current_iteration()), 1)
        else:
            booster = lgb.train(params, lgb.Dataset(Z, y), num_boost_round=max(int(rounds), 1))
            best = max(int(rounds), 1)
        self.params = {k: v for k, v in params.items() if k != "monotone_constraints"} | {"rounds": best}
        self.model_text = booster.model_to_string(num_iteration=best)
        self._booster = booster
        self._best = best
        return self

    @property
    def rounds(self) -> int:
        return int(self.params.get("rounds", 0))

    def predict(self, Z: np.ndarray) -> np.ndarray:
        if self._booster is None:
            import lightgbm as lgb

            self._booster = lgb.Booster(model_str=self.model_text)
            self._best = self.rounds or None
        return self._booster.predict(Z, num_iteration=self._best, num_threads=_threads(len(Z)))

    def to_dict(self) -> dict:
        return {"method": self.name, "constraints": self.constraints, "params": self.params,
                "model_file": None}

    @classmethod
    def from_dict(cls, d: dict, model_text: str) -> "LightGBMMethod":
        return cls(model_text, d.get("constraints"), d.get("params"))


METHODS: tuple[str, ...] = ("tree", "scorecard", "lightgbm")
#: Rows from which LightGBM trains and predicts on all cores; below, on one thread (LightGBM's advice for
#: small data: on a shared, loaded machine the threads of a small problem mostly wait for each other -
#: 100 rounds on 90,000 rows took 1.2 s on one thread and 4.7 s on two at a load of 4.5 on 2 cores).
THREADS_FROM_ROWS = 200_000


def _threads(n_rows: int) -> int:
    """LightGBM's ``num_threads`` for ``n_rows`` rows (0 = all cores)."""
    return 1 if n_rows < THREADS_FROM_ROWS else 0


def method_from_dict(d: dict, model_text: str | None = None):
    """Rebuild a stored method."""
    if d["method"] == "tree":
        return TreeMethod.from_dict(d)
    if d["method"] == "scorecard":
        return ScorecardMethod.from_dict(d)
    return LightGBMMethod.from_dict(d, model_text)
