"""The generic modelling path: any table, a target column and its positive value.

Real users bring their own data.  :func:`train_generic` needs no tuning:

1. :func:`prepare_training_data` turns the target into 0/1 (text, boolean or
   0/1 labels; the positive value is matched as text, case-insensitively for
   booleans), drops rows whose label is missing, removes the id, target and
   excluded columns, and drops columns that cannot help: constant columns,
   id-like columns (text with a distinct value on more than 90 % of rows, or
   integers that are all distinct and either form a dense sequence such as 1..n
   or are all 10-digit or longer, like phone numbers and IMEIs) and date/time
   columns.  Columns that ALONE separate the classes almost perfectly
   (single-column AUC > 0.99) are kept but reported as possible leakage.
2. A stratified 20 % holdout (``holdout``) is set aside; the target model and
   the two baselines (:mod:`workbench.models.baselines`) are trained on the
   other 80 % and evaluated on the holdout with
   :func:`workbench.metrics.classification.evaluate_classifier`.  These are the
   figures reported.
3. The target model is then REFIT on all rows (decision: more positives make a
   better final model; the holdout figures are therefore a slightly
   conservative estimate of it).  Its rounds are re-learned on all rows by the
   same adaptive rule.
4. Rule examples are learned on all rows from the final model's score; the
   global importance is the split gain and the mean |SHAP| over a random
   sample of at most ``importance_rows`` (20,000) rows - TreeSHAP is costly and
   a mean over 20,000 rows is already stable.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.errors import ParameterError, Words, column_missing
from workbench.i18n import t

__all__ = ["PreparedData", "GenericResult", "encode_target", "prepare_training_data", "single_column_auc",
           "train_generic", "metrics_summary", "LEAKAGE_AUC"]

#: A column whose single-column AUC exceeds this is reported as possible leakage.
LEAKAGE_AUC = 0.99
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


@dataclass
class PreparedData:
    """A table made ready for modelling.

    Attributes
    ----------
    X : DataFrame
        Feature columns.
    y : ndarray of int8
        1 = positive.
    ids : Series or None
        The id column (aligned with ``X``).
    dropped : dict
        Column -> reason code (``constant``, ``id_like``, ``datetime``).
    leakage : dict
        Column -> single-column AUC, for columns above :data:`LEAKAGE_AUC`.
    label_definition : dict
        ``target``, ``positive`` (the matched value as text), ``values`` (all label values).
    notes : list of dict
        Remarks for the user, each ``{"key": <catalogue key>, **values}`` (e.g. rows
        dropped for a missing label); :func:`render_notes` puts them in words.
    """

    X: pd.DataFrame
    y: np.ndarray
    ids: pd.Series | None
    dropped: dict = field(default_factory=dict)
    leakage: dict = field(default_factory=dict)
    label_definition: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


def _columns_hint(df: pd.DataFrame) -> str:
    cols = list(map(str, df.columns))
    return str(cols) if len(cols) <= 40 else str(cols[:40])[:-1] + f", ... ({len(cols)} columns)]"


def encode_target(values: pd.Series, positive, *, column: str = "target") -> tuple[np.ndarray, object]:
    """0/1 labels from a target column and the value meaning "positive".

    Parameters
    ----------
    values : Series
        The target column, without missing values.
    positive : object
        The positive value, as given by a user (often text such as ``"yes"`` or ``"1"``).
    column : str
        Name of the column, for messages.

    Returns
    -------
    y : ndarray of int8
    matched : object
        The value of ``values`` that was matched.

    Raises
    ------
    ParameterError
        ``positive`` matches none of the values, or the label has a single class.
    """
    uniq = pd.unique(values)
    wanted = str(positive).strip()
    matched = None
    for u in uniq:
        if isinstance(u, (bool, np.bool_)):
            hit = wanted.lower() in (_TRUE if u else _FALSE)
        elif isinstance(u, (int, float, np.number)):
            try:
                hit = float(wanted) == float(u)
            except ValueError:
                hit = False
        else:
            hit = str(u).strip() == wanted
        if hit:
            matched = u
            break
    shown = sorted(map(str, uniq))[:20]
    if matched is None:
        values_shown = f"{shown}{' ...' if len(uniq) > 20 else ''}"
        raise ParameterError.keyed(f"the positive value {positive!r} is not among the values of target column "
                                   f"{column!r}: {values_shown}.", "errors.model.positive_not_found",
                                   positive=repr(positive), column=repr(column), values=values_shown)
    y = (values == matched).to_numpy(dtype=bool).astype(np.int8)
    if y.min() == y.max():
        raise ParameterError.keyed(f"target column {column!r} has a single class ({shown}); a model needs "
                                   "positives and negatives.", "errors.model.single_class", column=repr(column),
                                   values=str(shown))
    return y, matched


def _is_id_like(s: pd.Series) -> bool:
    n = s.notna().sum()
    if n < 20:
        return False
    if pd.api.types.is_integer_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        v = s.dropna()
        return bool(v.is_unique and ((v.max() - v.min() + 1) <= 1.5 * len(v) or v.min() >= 10**9))
    if pd.api.types.is_string_dtype(s.dtype) or pd.api.types.is_object_dtype(s.dtype):
        return s.nunique(dropna=True) > 0.9 * n
    return False


def single_column_auc(X: pd.DataFrame, y: np.ndarray, *, min_level_rows: int = 20,
                      max_rows: int = 100_000) -> pd.Series:
    """How well each column ALONE separates the classes (AUC, 0.5-1).

    Numeric columns: the AUC of the value (or its reverse), with missing values
    placed at whichever end separates better.  Text columns: the AUC of the
    level's positive rate (levels with fewer than ``min_level_rows`` rows share
    the overall rate).  Above ``max_rows`` rows, on a random sample of that many
    (seeded): a leakage flag needs no more precision.
    """
    from scipy.stats import rankdata

    y = np.asarray(y).astype(bool)
    if max_rows and len(y) > max_rows:
        rows = np.sort(np.random.default_rng(0).choice(len(y), int(max_rows), replace=False))
        if 0 < y[rows].sum() < len(rows):  # both classes in the sample (else all rows)
            X, y = X.iloc[rows], y[rows]
    n1, n0 = int(y.sum()), int((~y).sum())

    def auc(rank_sum: float) -> float:
        a = (rank_sum - n1 * (n1 + 1) / 2) / (n1 * n0)
        return max(a, 1 - a)

    out = {}
    for col in X.columns:
        s = X[col]
        if pd.api.types.is_bool_dtype(s.dtype) or (pd.api.types.is_numeric_dtype(s.dtype)
                                                   and not pd.api.types.is_complex_dtype(s.dtype)):
            x = s.to_numpy(dtype=np.float64, na_value=np.nan)
            miss = np.isnan(x)
            if miss.all():
                out[col] = 0.5
                continue
            # one ranking of the present values; the missing ones are a tied block below or above them
            r = rankdata(x[~miss])
            m, k, miss_pos = int(miss.sum()), len(r), int(y[miss].sum())
            present = float(r[y[~miss]].sum())
            below = present + m * (n1 - miss_pos) + miss_pos * (m + 1) / 2
            above = present + miss_pos * (k + (m + 1) / 2)
            out[col] = max(auc(below), auc(above))
        else:
            # the level's positive rate; levels compared as text, missing a level of its own
            codes, uniques = pd.factorize(s, use_na_sentinel=True)
            text = np.append(pd.Series(uniques, dtype=object).astype("str").to_numpy(dtype=object),
                             "\x00missing")
            _, level = np.unique(text.astype(str), return_inverse=True)
            level = level[np.where(codes < 0, len(text) - 1, codes)]
            size = np.bincount(level, minlength=level.max() + 1 if len(level) else 0)
            mean = np.bincount(level, weights=y, minlength=len(size)) / np.maximum(size, 1)
            rate = np.where(size >= min_level_rows, mean, y.mean())
            out[col] = auc(float(rankdata(rate[level])[y].sum()))
    return pd.Series(out, dtype=np.float64, name="auc")


def prepare_training_data(df: pd.DataFrame, *, target: str, positive, id_col: str | None = None,
                          exclude=(), table: str | None = None) -> PreparedData:
    """Split a raw table into features and a 0/1 label, dropping useless columns.

    Parameters
    ----------
    df : DataFrame
        The raw table.
    target : str
        Label column.
    positive : object
        Its positive value (matched as text; ``"1"``/``"true"``/``"yes"`` match ``True``).
    id_col : str, optional
        Id column (kept aside, never a feature).
    exclude : iterable of str
        Columns never to use as features.
    table : str
        Name of the table, for messages.

    Returns
    -------
    PreparedData

    Raises
    ------
    ParameterError
        Unknown target / id / excluded column (the message lists the available
        columns), positive value not found, a single class, or no feature left.
    """
    if not isinstance(df, pd.DataFrame):
        raise ParameterError.invalid("df", "a pandas DataFrame", type(df).__name__)
    table = table or Words("errors.table.data")
    if len(df) == 0:
        raise ParameterError.keyed(f"{table} has no rows.", "errors.model.no_rows", table=table)
    for role, col in (("target", target), ("id", id_col)):
        if col is not None and col not in df.columns:
            raise column_missing(role, col, table, _columns_hint(df))
    if id_col is not None and id_col == target:
        raise ParameterError.keyed(f"the id column and the target column are both {target!r}; they must differ.",
                                   "errors.model.id_is_target", column=repr(target))
    exclude = list(exclude or ())
    unknown = [c for c in exclude if c not in df.columns]
    if unknown:
        raise column_missing("excluded", unknown, table, _columns_hint(df))
    notes = []
    labels = df[target]
    keep = labels.notna().to_numpy()
    if not keep.all():
        notes.append({"key": "model.report.note.missing_label", "n": int((~keep).sum()), "column": target})
        df = df.loc[keep]
        labels = labels[keep]
    y, matched = encode_target(labels, positive, column=target)
    X = df.drop(columns=[c for c in dict.fromkeys([target, id_col, *exclude]) if c is not None])
    dropped = {}
    for col in X.columns:
        s = X[col]
        if pd.api.types.is_datetime64_any_dtype(s.dtype) or isinstance(s.dtype, pd.PeriodDtype):
            dropped[col] = "datetime"
        elif s.nunique(dropna=True) <= 1:
            dropped[col] = "constant"
        elif _is_id_like(s):
            dropped[col] = "id_like"
    X = X.drop(columns=list(dropped))
    if X.shape[1] == 0:
        raise ParameterError.keyed(f"no feature column is left in {table} after removing the target, id, "
                                   f"excluded, constant and id-like columns (dropped: {dropped}).",
                                   "errors.model.no_feature", table=table, dropped=str(dropped))
    aucs = single_column_auc(X, y)
    leakage = {c: float(a) for c, a in aucs.items() if a > LEAKAGE_AUC}
    return PreparedData(
        X=X.reset_index(drop=True), y=y,
        ids=df[id_col].reset_index(drop=True) if id_col is not None else None,
        dropped=dropped, leakage=leakage,
        label_definition={"target": target, "positive": str(matched),
                          "values": sorted(map(str, pd.unique(labels)))[:50]},
        notes=notes,
    )


@dataclass
class GenericResult:
    """What :func:`train_generic` learned and measured.

    Attributes
    ----------
    model : TargetModel
        Final model, refit on all rows.
    holdout : dict
        ``{"model" | "logistic" | "rules": evaluate_classifier(...) dict}`` on the holdout.
    holdout_scores : dict
        ``{name: (y, score)}`` of the holdout, for charts.
    prepared : PreparedData
    rules : list of Rule
        Rule examples of the final model (statistics on all rows).
    importance : DataFrame
        Global importance of the final model (mean |SHAP| over a sample of rows).
    reference : dict
        Monitoring reference (:func:`workbench.monitoring.build_reference`): binned distributions
        of every feature and of the final model's score on all rows, and the holdout AUC and
        top-decile lift as the performance at training.
    settings : dict
        ``holdout`` share, ``list_size``, ``random_state``.
    """

    model: object
    holdout: dict
    holdout_scores: dict
    prepared: PreparedData
    rules: list
    importance: pd.DataFrame
    settings: dict
    reference: dict | None = None

    def metrics(self) -> dict:
        """JSON-ready metrics for ``metrics.json``: holdout figures of the three models and the data notes."""
        return {
            "holdout": self.holdout,
            "summary": metrics_summary(self.holdout),
            "settings": self.settings,
            "dropped": self.prepared.dropped,
            "leakage": self.prepared.leakage,
            "notes": self.prepared.notes,
            "final_model": {"rows": int(len(self.prepared.y)), "positives": int(self.prepared.y.sum()),
                            "best_iteration": self.model.best_iteration_},
        }


def metrics_summary(results: dict) -> pd.DataFrame:
    """One row per model: ``model``, ``auc``, ``pr_auc``, ``ks``, ``lift``, ``capture`` (at the list
    size), ``brier``, from a dict of :func:`~workbench.metrics.classification.evaluate_classifier` outputs."""
    rows = []
    for name, r in results.items():
        rows.append({"model": name, "auc": r["auc"], "pr_auc": r["pr_auc"], "ks": r["ks"],
                     "lift": r["at_list"]["lift"], "capture": r["at_list"]["capture"],
                     "list_share": r["at_list"]["share"], "brier": r["brier"]})
    return pd.DataFrame(rows)


def train_generic(df: pd.DataFrame, *, target: str, positive, id_col: str | None = None, exclude=(),
                  holdout: float = 0.2, list_size=0.1, random_state: int = 0, model_params: dict | None = None,
                  progress: bool = False, warn=None, lang: str | None = None,
                  importance_rows: int = 20_000, table: str | None = None) -> GenericResult:
    """Train and evaluate the target model and two baselines on any table.

    Parameters
    ----------
    df : DataFrame
        Raw table (text columns, missing values and a text / bool / 0-1 label are fine).
    target, positive, id_col, exclude
        See :func:`prepare_training_data`.
    holdout : float
        Share of rows held out (stratified) for the reported metrics.
    list_size : int or float
        List size for lift and capture (count or share).
    random_state : int
        Seed of the split and the models.
    model_params : dict, optional
        Extra :class:`TargetModel` parameters.
    progress : bool
        Show progress bars.
    warn : callable, optional
        Called with each leakage warning (text) as soon as the data is checked,
        before any training, so a user can stop and exclude the column.
    table : str, optional
        Name of the table in messages (default: "the data"; :func:`data_file` names a ``--data`` file).
    lang : {"zh", "en"}, optional
        Language of the warnings.
    importance_rows : int
        Rows (random sample) over which mean |SHAP| is averaged.

    Returns
    -------
    GenericResult
    """
    from sklearn.model_selection import train_test_split

    from workbench.metrics.classification import evaluate_classifier
    from workbench.models.baselines import LogisticBaseline, RulesBaseline
    from workbench.models.estimator import TargetModel
    from workbench.models.explain import global_importance
    from workbench.models.rules import learn_rules

    if not 0 < holdout < 1:
        raise ParameterError.invalid("holdout", "a share strictly between 0 and 1", holdout)
    prepared = prepare_training_data(df, target=target, positive=positive, id_col=id_col, exclude=exclude,
                                     table=table)
    if warn is not None:
        for text in leakage_warnings(prepared, lang):
            warn(text)
    X, y = prepared.X, prepared.y
    n_min = int(min(y.sum(), len(y) - y.sum()))
    if n_min < 5:
        raise ParameterError.keyed(f"the rarer class of {target!r} has only {n_min} row(s); at least 5 are needed "
                                   "to hold out a test share and still train.", "errors.model.rare_class",
                                   column=repr(target), n=n_min)
    idx_tr, idx_te = train_test_split(np.arange(len(y)), test_size=holdout, stratify=y, random_state=random_state)
    X_tr, X_te, y_tr, y_te = X.iloc[idx_tr], X.iloc[idx_te], y[idx_tr], y[idx_te]
    params = {"random_state": random_state, "progress": progress, **(model_params or {})}
    steps = [("model", lambda: TargetModel(**params)), ("logistic", LogisticBaseline),
             ("rules", lambda: RulesBaseline(random_state=random_state))]
    results, scores = {}, {}
    for name, make in steps:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            est = make().fit(X_tr, y_tr)
        s = est.predict_proba(X_te)[:, 1]
        results[name] = evaluate_classifier(y_te, s, list_size=list_size)
        scores[name] = (y_te, s)
    final = TargetModel(**params).fit(X, y)
    from workbench.models.explain import contributions

    sample = X if len(X) <= importance_rows else X.sample(importance_rows, random_state=random_state)
    importance = global_importance(final, shap=contributions(final, sample, progress=progress))
    from workbench.monitoring import build_reference, training_performance

    final_score = final.predict_proba(X)[:, 1]
    rules = learn_rules(X, y, score=final_score, random_state=random_state)
    y_ho, s_ho = scores["model"]
    reference = build_reference(X, final_score, kinds={f.name: f.kind for f in final.features_})
    reference["performance"] = training_performance(reference, y_ho, s_ho, basis="holdout")
    return GenericResult(
        model=final, holdout=results, holdout_scores=scores, prepared=prepared, rules=rules,
        importance=importance, reference=reference,
        settings={"holdout": holdout, "list_size": list_size, "random_state": random_state,
                  "refit_on_all_rows": True, "importance_rows": int(min(len(X), importance_rows))},
    )


def leakage_warnings(prepared: PreparedData, lang: str | None = None) -> list[str]:
    """The leakage remarks of ``prepared`` in words."""
    return [t("model.report.warning.leakage", lang, column=c, auc=a) for c, a in prepared.leakage.items()]


def render_notes(notes: list[dict], lang: str | None = None) -> list[str]:
    """The notes of :class:`PreparedData` (or of a saved ``metrics.json``) in words."""
    return [t(n["key"], lang, **{k: v for k, v in n.items() if k != "key"}) for n in notes]


__all__ += ["leakage_warnings", "render_notes"]
