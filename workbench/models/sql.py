"""A model deployed as SQL: one query computing the model's score inside the database.

The operational side (固化, "models deployed into operations") scores its own feature table
without Python: :func:`model_sql` writes a ``SELECT`` whose trees are nested ``CASE``
expressions taken from LightGBM's own dump (``Booster.dump_model``), summed in double
precision in LightGBM's order and passed through the objective's link (the sigmoid for
``binary``).  It reproduces ``TargetModel.predict_proba`` (LightGBM's ``predict`` with the
model's ``num_iteration``) to rounding error:

- every number is written with 17 significant digits (``repr``) and read as a double
  (``CAST('…' AS DOUBLE)``), never as a SQL decimal;
- a feature is read as a double with NaN turned into NULL, so "missing" is NULL alone;
- a numeric split follows LightGBM's ``NumericalDecision``: with ``missing_type`` NaN a
  missing value goes the ``default_left`` way; with Zero, missing counts as 0 and 0 goes the
  default way; with None, missing counts as 0 and is compared;
- a categorical split (``decision_type ==``) sends the listed category codes left and a
  missing value right (LightGBM 4's ``CategoricalDecision``); a text column becomes
  the model's code of its level (``features.json`` order), an unseen level is missing -
  as :func:`workbench.models.schema.encode_frame` does.

>>> sql = model_sql(model, table="features", id_col="subscriber_id", dialect="duckdb")  # doctest: +SKIP
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from workbench.errors import ParameterError
from workbench.models.schema import CATEGORICAL, FeatureSpec

__all__ = ["DIALECTS", "model_sql", "export_model_sql", "quote_ident", "tree_case"]

#: SQL dialects the query is written for.
DIALECTS: tuple[str, ...] = ("duckdb", "postgresql")
_TYPES = {"duckdb": {"double": "DOUBLE", "text": "VARCHAR", "int": "INTEGER"},
          "postgresql": {"double": "DOUBLE PRECISION", "text": "TEXT", "int": "INTEGER"}}
#: LightGBM's ``kZeroThreshold`` (a float32 1e-35 as a double): |x| at most this is zero.
ZERO_THRESHOLD = float(np.float32(1e-35))
#: Trees summed per CTE stage.
TREES_PER_STAGE = 100
_IDENTITY = ("regression", "regression_l1", "huber", "fair", "quantile", "mape")
_EXP = ("poisson", "gamma", "tweedie")


def quote_ident(name: str) -> str:
    """A SQL identifier in double quotes (``schema.table`` quoted part by part)."""
    if not isinstance(name, str) or not name:
        raise ParameterError.invalid("name", "a non-empty column or table name", name)
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def _text(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


class _Writer:
    """Writes numbers, features and trees for one dialect."""

    def __init__(self, dialect: str):
        if dialect not in DIALECTS:
            raise ParameterError.invalid("dialect", f"one of {list(DIALECTS)}", dialect)
        self.types = _TYPES[dialect]
        self.dialect = dialect

    def num(self, x: float) -> str:
        x = float(x)
        if not math.isfinite(x):
            word = "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")
            return f"CAST('{word}' AS {self.types['double']})"
        text = repr(x)
        if self.dialect == "duckdb":  # a literal with an exponent is a DOUBLE in DuckDB (without one, a DECIMAL)
            return text if "e" in text else f"{text}e0"
        return f"CAST('{text}' AS {self.types['double']})"

    def feature(self, spec: FeatureSpec) -> str:
        col = quote_ident(spec.name)
        if spec.kind == CATEGORICAL:
            text = f"CAST({col} AS {self.types['text']})"
            if not spec.levels:
                return f"CAST(NULL AS {self.types['int']})"
            whens = " ".join(f"WHEN {_text(level)} THEN {i}" for i, level in enumerate(spec.levels))
            return f"CASE {text} {whens} END"
        if spec.dtype in ("bool", "boolean"):
            value = f"CAST(CAST({col} AS {self.types['int']}) AS {self.types['double']})"
        else:
            value = f"CAST({col} AS {self.types['double']})"
        return f"NULLIF({value}, {self.num(float('nan'))})"


def _condition(node: dict, x: str, w: _Writer) -> str:
    """SQL condition that is TRUE exactly when LightGBM sends the row to the left child."""
    missing = node.get("missing_type", "None")
    left_default = bool(node.get("default_left", False))
    if node["decision_type"] == "==":
        cats = sorted(int(c) for c in str(node["threshold"]).split("||") if c != "")
        listed = ", ".join(str(c) for c in cats)
        return f"{x} IN ({listed})"           # LightGBM sends a missing category right: NULL IN (...) is not TRUE
    if node["decision_type"] != "<=":
        raise ParameterError(f"LightGBM split of decision type {node['decision_type']!r} is not supported "
                             "(expected '<=' or '==').")
    t = w.num(node["threshold"])
    if missing == "NaN":
        return f"({x} IS NULL OR {x} <= {t})" if left_default else f"({x} IS NOT NULL AND {x} <= {t})"
    if missing == "Zero":
        z = w.num(ZERO_THRESHOLD)
        zero = f"({x} IS NULL OR ({x} >= -{z} AND {x} <= {z}))"
        return f"({zero} OR {x} <= {t})" if left_default else f"(NOT {zero} AND {x} <= {t})"
    return f"COALESCE({x}, {w.num(0.0)}) <= {t}"


def tree_case(node: dict, names: list[str], w: _Writer) -> str:
    """One tree of ``dump_model()['tree_info'][i]['tree_structure']`` as a nested CASE expression."""
    if "leaf_value" in node:
        return w.num(node["leaf_value"])
    x = names[int(node["split_feature"])]
    return (f"CASE WHEN {_condition(node, x, w)} THEN {tree_case(node['left_child'], names, w)} "
            f"ELSE {tree_case(node['right_child'], names, w)} END")


def _link(objective: str, raw: str, w: _Writer) -> str:
    name, *params = str(objective).split()
    settings = dict(p.split(":", 1) for p in params if ":" in p)
    if name == "binary":
        sigmoid = float(settings.get("sigmoid", 1.0))
        return f"{w.num(1.0)} / ({w.num(1.0)} + EXP(-{w.num(sigmoid)} * {raw}))"
    if name in ("cross_entropy", "xentropy"):
        return f"{w.num(1.0)} / ({w.num(1.0)} + EXP(-{raw}))"
    if name in _IDENTITY:
        return raw
    if name in _EXP:
        return f"EXP({raw})"
    raise ParameterError(f"a LightGBM model with objective {name!r} cannot be exported as SQL; supported: binary, "
                         f"cross_entropy, {', '.join(_IDENTITY + _EXP)}.")


def model_sql(model, *, table: str = "features", id_col: str = "subscriber_id", dialect: str = "duckdb",
              score_col: str = "score") -> str:
    """The query computing ``model``'s score for every row of ``table``.

    Parameters
    ----------
    model : TargetModel
        A fitted or loaded model (``booster_``, ``features_``, ``best_iteration_``).
    table : str
        The feature table in the database (``schema.table`` allowed); it needs ``id_col`` and every
        column in ``model.features_``.
    id_col : str
        Identifier column, returned beside the score.
    dialect : {"duckdb", "postgresql"}
        Type names of the query.
    score_col : str
        Name of the score column.

    Returns
    -------
    str
        ``SELECT <id_col>, <score_col> FROM ...``: the score LightGBM's ``predict`` gives (probability
        for binary models) with the model's number of iterations.

    Raises
    ------
    ParameterError
        Unknown dialect, an objective without a SQL link (multiclass, ranking ...), a split kind
        LightGBM models of the workbench never hold.
    """
    w = _Writer(dialect)
    dump = model.booster_.dump_model(num_iteration=int(model.best_iteration_))
    if int(dump.get("num_tree_per_iteration", 1)) != 1:
        raise ParameterError("a LightGBM model with several trees per iteration (multiclass) cannot be exported "
                             "as one score column.")
    features = list(model.features_)
    names = [f"f{j}" for j in range(len(features))]
    if len(dump.get("feature_names", features)) != len(features):
        raise ParameterError("the model's features.json and its booster disagree on the number of features.")
    columns = ",\n    ".join([f"{quote_ident(id_col)} AS id"] +
                             [f"{w.feature(f)} AS {n}" for f, n in zip(features, names)])
    trees = [tree_case(info["tree_structure"], names, w) for info in dump["tree_info"]]
    # LightGBM adds the trees one after the other; so does the query, a stage of TREES_PER_STAGE trees per
    # CTE (a single chain of thousands of '+' passes the databases' expression-depth limits)
    stages, previous = [], "f"
    for k, start in enumerate(range(0, len(trees), TREES_PER_STAGE)):
        terms = [f"s{k - 1}_sum"] if k else []
        terms += [f"({tree})" for tree in trees[start:start + TREES_PER_STAGE]]
        stages.append(f"s{k} AS (\n  SELECT {previous}.*,\n    " + "\n    + ".join(terms) +
                      f"\n    AS s{k}_sum\n  FROM {previous}\n)")
        previous = f"s{k}"
    raw = f"s{len(stages) - 1}_sum" if stages else w.num(0.0)
    if dump.get("average_output") and trees:
        raw = f"{raw} / {w.num(len(trees))}"
    score = _link(dump.get("objective", "binary"), raw, w)
    ctes = ",\n".join([f"f AS (\n  SELECT\n    {columns}\n  FROM {quote_ident(table)}\n)", *stages])
    return (
        f"-- {len(trees)} trees of a LightGBM model ({dump.get('objective', '')}), exported for {dialect}\n"
        f"WITH {ctes}\n"
        f"SELECT id AS {quote_ident(id_col)}, {score} AS {quote_ident(score_col)}\nFROM {previous}"
    )


def export_model_sql(folder, *, dialect: str = "duckdb", table: str = "features", id_col: str | None = None,
                     out=None) -> str:
    """:func:`model_sql` of the target model saved in ``folder`` (``id_col`` default: the card's, else
    ``subscriber_id``); also written to ``out`` when given.  Returns the query."""
    from workbench.models.registry import load_card, load_model

    model = load_model(folder)
    id_col = id_col or load_card(folder)["model"].get("id_col") or "subscriber_id"
    sql = model_sql(model, table=table, id_col=id_col, dialect=dialect)
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(sql + ";\n", encoding="utf-8")
    return sql
