"""A credit model deployed as SQL: one query giving every row's segment, P(bad) and grade.

:func:`credit_sql` writes a ``SELECT`` for PostgreSQL or DuckDB that does what
:meth:`workbench.credit.model.CreditModel.score` does, with the number helpers, LightGBM tree
expressions and link of :mod:`workbench.models.sql`:

1. **Segment** - a ``CASE`` on the segment columns' text (missing as ``__missing__``, as
   :func:`workbench.credit.segments.segment_keys`): every trained combination of values (merged
   segments list all theirs), then - for a combination unseen at training - the segment holding
   every training combination under its longest known prefix.  A row Python would refuse (no
   segment covers its values) gets NULL segment, score and grade.
2. **Inputs** - per segment, the encoder's matrix: a numeric input as a double (NaN as NULL), a
   categorical input as the code of its level (levels ordered lowest risk first, ``unseen`` for a
   level not seen at training; a text column ``true``/``false`` matches levels ``True``/``False``).
3. **P(bad)** per segment's method: a **tree** as a nested ``CASE`` over its stored nodes (missing
   goes the node's ``missing`` side, ``x <= threshold`` left), the leaf's bad rate; a **WoE
   scorecard** as ``intercept + coef * WoE`` summed in Python's order (a numeric bin holds
   ``split[k-1] <= x < split[k]``; missing: the missing bin's WoE; an unseen level: 0) through the
   sigmoid; **LightGBM** as :func:`workbench.models.sql.tree_case` trees summed in stages of
   :data:`~workbench.models.sql.TREES_PER_STAGE` and the model's link.  Clipped to [0, 1].
4. **Grade** - ``cuts[i-1] < score <= cuts[i]`` is the ``i``-th letter (:func:`workbench.credit.grades.grade_of`).

Every number is written with 17 significant digits and read as a double, so the query gives
Python's scores to rounding error (the tests hold it to 1e-9 in both databases).

>>> sql = credit_sql(load_credit_model("models/credit"), table="features")  # doctest: +SKIP
"""
from __future__ import annotations

from pathlib import Path

from workbench.errors import ParameterError
from workbench.models.sql import TREES_PER_STAGE, _link, _text, _Writer, quote_ident, tree_case

__all__ = ["credit_sql", "export_credit_sql", "segment_case"]

_MISSING = "__missing__"   # workbench.credit.methods.MISSING_LEVEL (kept literal: no import of the methods here)
_BOOL_LEVELS = {"True", "False", _MISSING}
#: Names the query gives the id and the segment inside (unlikely to clash with a feature column).
_ID, _SEG = "wb_row_id", "wb_segment"


def _text_of(col: str, w: _Writer, lower: bool = False) -> str:
    """A column as the text :func:`workbench.credit.methods.level_text` gives (missing as ``__missing__``)."""
    text = f"CAST({quote_ident(col)} AS {w.types['text']})"
    if lower:
        text = f"LOWER({text})"
    return f"COALESCE({text}, {_text(_MISSING)})"


def _level_key(level: str, lower: bool) -> str:
    return level.lower() if lower and level != _MISSING else level


def segment_case(spec: dict, w: _Writer) -> str:
    """The ``CASE`` naming each row's segment (NULL when no trained segment covers its values)."""
    columns = list(spec["segment_columns"])
    segments = spec["segments"]
    if not columns:
        return _text(segments[0]["name"])
    exact = {tuple(k): s["name"] for s in segments for k in s["keys"]}
    lower = {c: all(str(v) in _BOOL_LEVELS for k in exact for v in k[i:i + 1]) for i, c in enumerate(columns)}
    texts = [_text_of(c, w, lower[c]) for c in columns]

    def match(values: tuple) -> str:
        return " AND ".join(f"{texts[i]} = {_text(_level_key(v, lower[columns[i]]))}" for i, v in enumerate(values))

    whens = [f"WHEN {match(k)} THEN {_text(name)}" for k, name in sorted(exact.items())]
    # an unseen combination: the segment owning every training combination under its longest known prefix
    for d in range(len(columns) - 1, -1, -1):
        prefixes = sorted({k[:d] for k in exact})
        for p in prefixes:
            owners = {name for k, name in exact.items() if k[:d] == p}
            if len(owners) == 1:
                cond = match(p) if d else "TRUE"
                whens.append(f"WHEN {cond} THEN {_text(owners.pop())}")
    return "CASE " + " ".join(whens) + " END"


def _input(f: dict, w: _Writer) -> str:
    """One encoded input (a column of :meth:`workbench.credit.methods.Encoder.transform`)."""
    if f["kind"] == "numeric":
        return f"NULLIF(CAST({quote_ident(f['name'])} AS {w.types['double']}), {w.num(float('nan'))})"
    lower = set(f["levels"]) <= _BOOL_LEVELS
    whens = " ".join(f"WHEN {_text(_level_key(lvl, lower))} THEN {w.num(i)}" for i, lvl in enumerate(f["levels"]))
    return f"CASE {_text_of(f['name'], w, lower)} {whens} ELSE {w.num(f['unseen'])} END"


def _tree(nodes: list[dict], nid: int, names: list[str], w: _Writer) -> str:
    nd = nodes[nid]
    if nd["leaf"]:
        return w.num(nd["value"])
    x = names[int(nd["feature_index"])]
    left, right = _tree(nodes, int(nd["left"]), names, w), _tree(nodes, int(nd["right"]), names, w)
    missing = left if nd["missing"] == "left" else right
    return f"CASE WHEN {x} IS NULL THEN {missing} WHEN {x} <= {w.num(nd['threshold'])} THEN {left} ELSE {right} END"


def _woe(v: dict, w: _Writer) -> str:
    """The WoE of one scorecard variable (``workbench.credit.methods._woe``)."""
    woe = [b["woe"] for b in v["bins"]]
    if v["kind"] == "numeric":
        x = f"NULLIF(CAST({quote_ident(v['name'])} AS {w.types['double']}), {w.num(float('nan'))})"
        whens = [f"WHEN {x} IS NULL THEN {w.num(v['missing_woe'])}"]
        last = min(len(v["splits"]), len(woe) - 1)   # searchsorted(splits, x, "right"), at most the last bin
        whens += [f"WHEN {x} < {w.num(s)} THEN {w.num(woe[k])}" for k, s in enumerate(v["splits"][:last])]
        return f"CASE {' '.join(whens)} ELSE {w.num(woe[last])} END"
    levels = {lvl: b["woe"] for b in v["bins"] for lvl in b["levels"]}
    lower = set(levels) <= _BOOL_LEVELS
    whens = [f"WHEN {_text(_level_key(lvl, lower))} THEN {w.num(x)}" for lvl, x in levels.items()]
    if _MISSING not in levels:
        whens.append(f"WHEN {_text(_MISSING)} THEN {w.num(v['missing_woe'])}")
    return f"CASE {_text_of(v['name'], w, lower)} {' '.join(whens)} ELSE {w.num(0.0)} END"


def _segment_ctes(k: int, seg: dict, booster_dump: dict | None, w: _Writer) -> tuple[list[str], str]:
    """The CTEs scoring segment ``k`` (rows of ``src`` routed to it); the last one's name (id, segment and
    ``wb_p`` = P(bad))."""
    model, enc = seg["model"], seg["encoder"]
    names = [f"z{j}" for j in range(len(enc))]
    base = f"g{k}"
    where = f"FROM src\n  WHERE {_SEG} = {_text(seg['name'])}"
    if model["method"] == "scorecard":  # the scorecard reads the raw columns
        ctes = [f"{base} AS (\n  SELECT *\n  {where}\n)"]
    else:
        cols = ",\n    ".join([_ID, _SEG] + [f"{_input(f, w)} AS {n}" for f, n in zip(enc, names)])
        ctes = [f"{base} AS (\n  SELECT\n    {cols}\n  {where}\n)"]
    if model["method"] == "tree":
        p = _tree(model["nodes"], 0, names, w)
        prev = base
    elif model["method"] == "scorecard":
        z = w.num(model["intercept"])
        for v in model["variables"]:
            z = f"({z} + {w.num(v['coef'])} * ({_woe(v, w)}))"
        p = f"{w.num(1.0)} / ({w.num(1.0)} + EXP(-{z}))"
        prev = base
    else:
        trees = [tree_case(info["tree_structure"], names, w) for info in booster_dump["tree_info"]]
        prev = base
        for s, start in enumerate(range(0, len(trees), TREES_PER_STAGE)):
            terms = [f"{prev}_sum"] if s else []
            terms += [f"({t})" for t in trees[start:start + TREES_PER_STAGE]]
            name = f"{base}s{s}"
            ctes.append(f"{name} AS (\n  SELECT {prev}.*,\n    " + "\n    + ".join(terms) +
                        f"\n    AS {name}_sum\n  FROM {prev}\n)")
            prev = name
        raw = f"{prev}_sum" if trees else w.num(0.0)
        if booster_dump.get("average_output") and trees:
            raw = f"{raw} / {w.num(len(trees))}"
        p = _link(booster_dump.get("objective", "binary"), raw, w)
    out = f"{base}p"
    ctes.append(f"{out} AS (\n  SELECT {_ID}, {_SEG}, {p} AS wb_p\n  FROM {prev}\n)")
    return ctes, out


def credit_sql(model, *, table: str = "features", id_col: str | None = None, dialect: str = "duckdb",
               score_col: str = "score", grade_col: str = "grade") -> str:
    """The query scoring and grading every row of ``table`` with a credit model.

    Parameters
    ----------
    model : CreditModel
        A trained or loaded credit model (:mod:`workbench.credit.model`).
    table : str
        The feature table in the database (``schema.table`` allowed); it needs the id column, the
        segment columns and every input of the model (``model.inputs``).
    id_col : str, optional
        Identifier column returned beside the score (default: the model's id column).
    dialect : {"duckdb", "postgresql"}
    score_col, grade_col : str
        Names of the P(bad) and grade columns.

    Returns
    -------
    str
        ``SELECT <id_col>, segment, <score_col>, <grade_col> FROM ...`` (one row per row of ``table``).

    Raises
    ------
    ParameterError
        Unknown dialect, no id column (the model has none and none is given), a LightGBM objective
        without a SQL link.
    """
    import lightgbm as lgb

    w = _Writer(dialect)
    spec = model.spec
    id_col = id_col or spec.get("id_col")
    if not id_col:
        raise ParameterError("the credit model was trained without an id column; give the id column of the table "
                             "(--id COL) so each score can be matched to its row.")
    ctes = [f"src AS (\n  SELECT *, {quote_ident(id_col)} AS {_ID}, {segment_case(spec, w)} AS {_SEG}\n"
            f"  FROM {quote_ident(table)}\n)"]
    outs = []
    for k, seg in enumerate(spec["segments"]):
        dump = None
        if seg["model"]["method"] == "lightgbm":
            fitted = model._fitted[seg["name"]].method
            booster = lgb.Booster(model_str=fitted.model_text)
            dump = booster.dump_model(num_iteration=fitted.rounds or None)
        seg_ctes, out = _segment_ctes(k, seg, dump, w)
        ctes += seg_ctes
        outs.append(f"SELECT {_ID}, {_SEG}, wb_p FROM {out}")
    outs.append(f"SELECT {_ID}, {_SEG}, CAST(NULL AS {w.types['double']}) AS wb_p FROM src WHERE {_SEG} IS NULL")
    ctes.append("scored AS (\n  " + "\n  UNION ALL ".join(outs) + "\n)")
    # np.clip(p, 0, 1); NULL stays NULL (GREATEST/LEAST would skip it)
    score = f"CASE WHEN wb_p < {w.num(0.0)} THEN {w.num(0.0)} WHEN wb_p > {w.num(1.0)} THEN {w.num(1.0)} ELSE wb_p END"
    labels, cuts = spec["grades"]["labels"], spec["grades"]["cuts"]
    grade = " ".join(["WHEN wb_p IS NULL THEN NULL"] +
                     [f"WHEN {score} <= {w.num(c)} THEN {_text(lbl)}" for c, lbl in zip(cuts, labels)])
    grade = f"CASE {grade} ELSE {_text(labels[len(cuts)])} END"
    return (f"-- credit model: {len(spec['segments'])} segment(s) "
            f"({', '.join(s['name'] + ': ' + s['method'] for s in spec['segments'])}), grades "
            f"{''.join(labels)}, exported for {dialect}\n"
            "WITH " + ",\n".join(ctes) + "\n"
            f"SELECT {_ID} AS {quote_ident(id_col)}, {_SEG} AS segment, {score} AS {quote_ident(score_col)}, "
            f"{grade} AS {quote_ident(grade_col)}\nFROM scored")


def export_credit_sql(folder, *, dialect: str = "duckdb", table: str = "features", id_col: str | None = None,
                      out=None) -> str:
    """:func:`credit_sql` of the credit model saved in ``folder``; also written to ``out`` when given."""
    from workbench.credit.model import load_credit_model

    sql = credit_sql(load_credit_model(folder), table=table, id_col=id_col, dialect=dialect)
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(sql + ";\n", encoding="utf-8")
    return sql
