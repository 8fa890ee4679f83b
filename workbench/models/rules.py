"""Readable segment rules (规则示例): "IF gprs_mb > 120 AND brand is mzone THEN ...".

A shallow scikit-learn decision tree is grown on the model's score (a
distillation of the model) or on the label; each leaf is the conjunction of the
conditions on its path (conditions on the same feature are merged, thresholds
rounded to 3 significant digits for reading).  The statistics of every rule -
size, positives, target share, lift over the base rate - are then computed by
RE-APPLYING the rule as written to the data (:meth:`Rule.mask`), never taken
from the tree, so a reader who filters the table with :meth:`Rule.to_query`
gets exactly the stated counts.

Missing values: a numeric condition says whether missing values satisfy it
(``missing=True`` reads "x <= 3 or missing"), following the direction the tree
sent them; a categorical ``==`` is false and ``!=`` / ``not in`` is true for a
missing value (pandas semantics).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from workbench.errors import ParameterError
from workbench.i18n import catalogue, t
from workbench.models.schema import CATEGORICAL, as_text, infer_features

__all__ = ["Condition", "Rule", "RuleEncoder", "learn_rules", "rules_table", "tree_rules", "feature_label",
           "value_label", "FeatureLabels", "ValueLabels"]

FeatureLabels = Mapping[str, str] | Callable[[str], str] | None
ValueLabels = Mapping[str, Mapping[str, str]] | Callable[[str, str], str | None] | None
_OPS = ("<=", ">", "==", "!=", "not in")


def feature_label(name: str, feature_labels: FeatureLabels = None) -> str:
    """The display name of feature ``name`` (mapping or callable; falls back to ``name``)."""
    if feature_labels is None:
        return name
    if callable(feature_labels):
        label = feature_labels(name)
    else:
        label = feature_labels.get(name)
    return str(label) if label else name


def value_label(feature: str, level: str, value_labels: ValueLabels = None, lang: str | None = None) -> str:
    """The display text of category ``level`` of ``feature``.

    Looked up in ``value_labels`` (``{feature: {level: text}}`` or a callable
    ``(feature, level) -> text``), then in the catalogue under ``<feature>.<level>``
    (``brand.mzone`` -> 动感地带 / M-Zone), else the level itself.
    """
    if value_labels is not None:
        label = value_labels(feature, level) if callable(value_labels) else value_labels.get(feature, {}).get(level)
        if label:
            return str(label)
    key = f"{feature}.{level}"
    if key in catalogue():
        return t(key, lang)
    return level


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _round3(value: float) -> float:
    return float(f"{value:.3g}")


def _quote(name: str) -> str:
    return "`" + name.replace("`", "") + "`"


@dataclass(frozen=True)
class Condition:
    """One condition on one column.

    Parameters
    ----------
    feature : str
        Column name.
    op : {"<=", ">", "==", "!=", "not in"}
        Comparison.
    value : float, str or tuple of str
        Threshold (numeric), level (``==``/``!=``) or levels (``not in``).
    missing : bool
        Whether a missing value satisfies a numeric condition.
    """

    feature: str
    op: str
    value: object
    missing: bool = False

    def __post_init__(self):
        if self.op not in _OPS:
            raise ParameterError.invalid("op", f"one of {_OPS}", self.op)

    def mask(self, df: pd.DataFrame) -> np.ndarray:
        """Boolean array: rows of ``df`` satisfying the condition."""
        if self.feature not in df.columns:
            raise ParameterError(f"rule condition on column {self.feature!r}, which the table lacks; columns: "
                                 f"{list(df.columns)}")
        s = df[self.feature]
        if self.op in ("<=", ">"):
            x = s.to_numpy(dtype=np.float64, na_value=np.nan)
            with np.errstate(invalid="ignore"):
                hit = x <= self.value if self.op == "<=" else x > self.value
            return hit | (np.isnan(x) & self.missing)
        text = as_text(s)
        if self.op == "==":
            return (text == self.value).fillna(False).to_numpy(dtype=bool)
        if self.op == "!=":
            return ~(text == self.value).fillna(False).to_numpy(dtype=bool)
        return ~text.isin(list(self.value)).to_numpy(dtype=bool)

    def to_query(self) -> str:
        """The condition as a ``DataFrame.query`` expression (same rows as :meth:`mask`)."""
        col = _quote(self.feature)
        if self.op in ("<=", ">"):
            expr = f"{col} {self.op} {self.value!r}"
            return f"({expr} or {col} != {col})" if self.missing else f"({expr})"
        if self.op == "not in":
            return f"({col} not in {list(self.value)!r})"
        return f"({col} {self.op} {self.value!r})"

    def render(self, lang: str | None = None, feature_labels: FeatureLabels = None,
               value_labels: ValueLabels = None) -> str:
        """The condition in words (``zh`` / ``en``)."""
        name = feature_label(self.feature, feature_labels)
        if self.op in ("<=", ">"):
            key = "model.rule.le" if self.op == "<=" else "model.rule.gt"
            text = t(key, lang, feature=name, value=_fmt(self.value))
            return t("model.rule.or_missing", lang, condition=text) if self.missing else text
        if self.op == "==":
            return t("model.rule.eq", lang, feature=name,
                     value=value_label(self.feature, self.value, value_labels, lang))
        if self.op == "!=":
            return t("model.rule.ne", lang, feature=name,
                     value=value_label(self.feature, self.value, value_labels, lang))
        sep = t("model.rule.list_sep", lang)
        return t("model.rule.not_in", lang, feature=name,
                 value=sep.join(value_label(self.feature, v, value_labels, lang) for v in self.value))

    def to_dict(self) -> dict:
        """JSON-ready form."""
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"feature": self.feature, "op": self.op, "value": value, "missing": self.missing}

    @classmethod
    def from_dict(cls, d: dict) -> "Condition":
        """Inverse of :meth:`to_dict`."""
        value = tuple(d["value"]) if isinstance(d["value"], list) else d["value"]
        return cls(d["feature"], d["op"], value, bool(d.get("missing", False)))


@dataclass(frozen=True)
class Rule:
    """A conjunction of conditions and its statistics on the data it was evaluated on.

    Attributes
    ----------
    conditions : tuple of Condition
    size : int
        Rows satisfying the rule.
    positives : float
        Positive rows among them (NaN when no label was given).
    target_share : float
        ``positives / size``.
    lift : float
        ``target_share / base rate``.
    mean_score : float
        Mean model score of the rows (NaN when no score was given).
    """

    conditions: tuple[Condition, ...]
    size: int = 0
    positives: float = float("nan")
    target_share: float = float("nan")
    lift: float = float("nan")
    mean_score: float = float("nan")
    extra: dict = field(default_factory=dict, compare=False)

    def mask(self, df: pd.DataFrame) -> np.ndarray:
        """Rows of ``df`` satisfying every condition."""
        out = np.ones(len(df), dtype=bool)
        for c in self.conditions:
            out &= c.mask(df)
        return out

    def to_query(self) -> str:
        """A ``DataFrame.query`` expression selecting the same rows as :meth:`mask`."""
        return " and ".join(c.to_query() for c in self.conditions) or "index == index"

    def render(self, lang: str | None = None, feature_labels: FeatureLabels = None,
               value_labels: ValueLabels = None) -> str:
        """The conditions in words, joined by "and" / "且"."""
        if not self.conditions:
            return t("model.rule.everyone", lang)
        return t("model.rule.and", lang).join(c.render(lang, feature_labels, value_labels) for c in self.conditions)

    def evaluate(self, df: pd.DataFrame, y=None, score=None) -> "Rule":
        """A copy with statistics computed by applying the rule to ``df``.

        Parameters
        ----------
        df : DataFrame
        y : array-like of 0/1, optional
            Labels of ``df``'s rows (for positives, share and lift).
        score : array-like, optional
            Model scores of ``df``'s rows (for ``mean_score``).
        """
        m = self.mask(df)
        size = int(m.sum())
        positives = share = lift = mean_score = float("nan")
        if y is not None:
            yy = np.asarray(y, dtype=np.float64)
            positives = float(yy[m].sum())
            base = yy.mean()
            share = positives / size if size else float("nan")
            lift = share / base if size and base > 0 else float("nan")
        if score is not None and size:
            mean_score = float(np.asarray(score, dtype=np.float64)[m].mean())
        return replace(self, size=size, positives=positives, target_share=share, lift=lift,
                       mean_score=mean_score)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"conditions": [c.to_dict() for c in self.conditions], "size": self.size,
                "positives": self.positives, "target_share": self.target_share, "lift": self.lift,
                "mean_score": self.mean_score}

    @classmethod
    def from_dict(cls, d: dict) -> "Rule":
        """Inverse of :meth:`to_dict`."""
        return cls(tuple(Condition.from_dict(c) for c in d["conditions"]), int(d.get("size", 0)),
                   float(d.get("positives", np.nan)), float(d.get("target_share", np.nan)),
                   float(d.get("lift", np.nan)), float(d.get("mean_score", np.nan)))


class RuleEncoder:
    """Numeric matrix for a scikit-learn tree: numeric columns as is (NaN kept),
    each categorical column as 0/1 indicators of its ``max_levels`` most frequent levels.

    Parameters
    ----------
    max_levels : int
        Indicators per categorical column.
    """

    def __init__(self, max_levels: int = 20):
        self.max_levels = max_levels

    def fit(self, X: pd.DataFrame) -> "RuleEncoder":
        specs = infer_features(X, max_levels=self.max_levels)
        self.columns_: list[tuple[str, str | None]] = []  # (feature, level or None for numeric)
        for f in specs:
            if f.kind == CATEGORICAL:
                self.columns_.extend((f.name, level) for level in f.levels)
            else:
                self.columns_.append((f.name, None))
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        out = np.empty((len(X), len(self.columns_)), dtype=np.float32)
        texts: dict[str, pd.Series] = {}
        for j, (name, level) in enumerate(self.columns_):
            if level is None:
                s = X[name]
                if pd.api.types.is_object_dtype(s.dtype):
                    s = pd.to_numeric(s)
                out[:, j] = s.to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                if name not in texts:
                    texts[name] = as_text(X[name])
                out[:, j] = (texts[name] == level).fillna(False).to_numpy(dtype=bool)
        return out


def _merge(conditions: list[Condition]) -> tuple[Condition, ...]:
    """Merge the path conditions of one leaf, feature by feature, in first-use order."""
    merged: list[Condition] = []
    for name in dict.fromkeys(c.feature for c in conditions):
        cs = [c for c in conditions if c.feature == name]
        num = [c for c in cs if c.op in ("<=", ">")]
        if num:
            le = [c for c in num if c.op == "<="]
            gt = [c for c in num if c.op == ">"]
            missing = all(c.missing for c in num)
            if gt:
                merged.append(Condition(name, ">", max(c.value for c in gt), missing))
            if le:
                merged.append(Condition(name, "<=", min(c.value for c in le), missing))
            continue
        eq = [c for c in cs if c.op == "=="]
        if eq:
            merged.append(eq[0])
            continue
        ne = sorted(c.value for c in cs if c.op == "!=")
        merged.append(Condition(name, "!=", ne[0]) if len(ne) == 1 else Condition(name, "not in", tuple(ne)))
    return tuple(merged)


def tree_rules(tree, encoder: RuleEncoder, *, round_thresholds: bool = True) -> list[tuple[int, Rule]]:
    """Every leaf of a fitted scikit-learn tree as ``(leaf node id, Rule without statistics)``.

    Parameters
    ----------
    tree : DecisionTreeClassifier or DecisionTreeRegressor
        Fitted on ``encoder.transform(X)``.
    encoder : RuleEncoder
    round_thresholds : bool
        Round numeric thresholds to 3 significant digits (for reading).
    """
    tr = tree.tree_
    missing_left = getattr(tr, "missing_go_to_left", np.zeros(tr.node_count, dtype=bool))
    out: list[tuple[int, Rule]] = []
    stack: list[tuple[int, list[Condition]]] = [(0, [])]
    while stack:
        node, path = stack.pop()
        left, right = tr.children_left[node], tr.children_right[node]
        if left == right:  # leaf
            out.append((int(node), Rule(_merge(path))))
            continue
        name, level = encoder.columns_[tr.feature[node]]
        if level is None:
            thr = float(tr.threshold[node])
            thr = _round3(thr) if round_thresholds else thr
            miss_left = bool(missing_left[node])
            go_left = Condition(name, "<=", thr, miss_left)
            go_right = Condition(name, ">", thr, not miss_left)
        else:  # indicator <= 0.5: not this level
            go_left = Condition(name, "!=", level)
            go_right = Condition(name, "==", level)
        stack.append((int(right), path + [go_right]))
        stack.append((int(left), path + [go_left]))
    return sorted(out, key=lambda pair: pair[0])


def learn_rules(X: pd.DataFrame, y=None, *, score=None, n_rules: int = 8, max_depth: int = 3,
                min_leaf_share: float = 0.02, max_levels: int = 20, min_lift: float | None = 1.0,
                random_state: int = 0) -> list[Rule]:
    """A short list of readable segment rules, best (highest lift) first.

    Parameters
    ----------
    X : DataFrame
        Feature columns (text columns are categorical).
    y : array-like of 0/1, optional
        Labels; needed for positives, target share and lift.
    score : array-like, optional
        Model scores.  When given the tree is grown on the score (the rules
        describe the model); otherwise on ``y``.
    n_rules : int
        Rules returned (the leaves with the highest lift, or mean score without ``y``).
    max_depth : int
        Depth of the tree: at most this many conditions per rule (1-3 reads best).
    min_leaf_share : float
        Smallest segment, as a share of the rows.
    max_levels : int
        Levels per categorical column the tree may name.
    min_lift : float or None
        With ``y``: keep only segments whose lift is at least this (the segments
        that look like target users); the best rule is kept in any case.
    random_state : int
        Seed of the tree.

    Returns
    -------
    list of Rule
        With statistics computed by re-applying each rule to ``X``.

    Raises
    ------
    ParameterError
        Neither ``y`` nor ``score`` given, or lengths differ from ``X``.
    """
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    if y is None and score is None:
        raise ParameterError("learn_rules needs y (labels) or score (model scores) to grow the rule tree.")
    for name, arr in (("y", y), ("score", score)):
        if arr is not None and len(arr) != len(X):
            raise ParameterError(f"{name} has {len(arr)} values but X has {len(X)} rows.")
    if not 1 <= max_depth <= 6:
        raise ParameterError.invalid("max_depth", "an integer from 1 to 6", max_depth)
    if not 0 < min_leaf_share < 0.5:
        raise ParameterError.invalid("min_leaf_share", "a share in (0, 0.5)", min_leaf_share)
    encoder = RuleEncoder(max_levels).fit(X)
    matrix = encoder.transform(X)
    min_leaf = max(1, int(np.ceil(min_leaf_share * len(X))))
    if score is not None:
        tree = DecisionTreeRegressor(max_depth=max_depth, min_samples_leaf=min_leaf, random_state=random_state)
        tree.fit(matrix, np.asarray(score, dtype=np.float64))
    else:
        tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=min_leaf, random_state=random_state,
                                      criterion="entropy")
        tree.fit(matrix, np.asarray(y).astype(int))
    rules = [rule.evaluate(X, y, score) for _, rule in tree_rules(tree, encoder)]
    rules = [r for r in rules if r.size > 0]
    key = (lambda r: (-r.lift, -r.size)) if y is not None else (lambda r: (-r.mean_score, -r.size))
    rules = sorted(rules, key=key)
    if y is not None and min_lift is not None:
        rules = rules[:1] + [r for r in rules[1:] if r.lift >= min_lift]
    return rules[:n_rules]


def rules_table(rules: list[Rule], *, lang: str | None = None, feature_labels: FeatureLabels = None,
                value_labels: ValueLabels = None) -> pd.DataFrame:
    """The rules as a table: ``rule`` (words), ``size``, ``positives``, ``target_share``, ``lift``,
    ``mean_score``, ``query``."""
    return pd.DataFrame({
        "rule": [r.render(lang, feature_labels, value_labels) for r in rules],
        "size": [r.size for r in rules],
        "positives": [r.positives for r in rules],
        "target_share": [r.target_share for r in rules],
        "lift": [r.lift for r in rules],
        "mean_score": [r.mean_score for r in rules],
        "query": [r.to_query() for r in rules],
    })
