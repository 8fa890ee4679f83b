"""``workbench model train | score | report`` - the generic target-model path.

::

    workbench model train  --data FILE --target COL --positive VALUE [--id COL] [--exclude COL ...] --out DIR
    workbench model score  --model DIR --data FILE --out FILE
    workbench model report --model DIR [--data FILE --target COL --positive VALUE] [--json]
    workbench model monitor --model DIR --data FILE [--target COL --positive VALUE] [--json]
                            [--watch 0.1] [--alert 0.25]
    workbench model export-sql --model DIR [--dialect postgresql|duckdb] [--table NAME] [--id COL] [--out FILE]

FILE is CSV or Parquet (by suffix).  ``train`` holds out a stratified 20 % of
the rows, reports the target model beside a logistic and a rules baseline on
it, refits the model on all rows and saves it (see
:mod:`workbench.models.generic` and :mod:`workbench.models.registry`).
Heavy imports happen inside the handlers.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from workbench.errors import ParameterError
from workbench.i18n import LANGUAGES

__all__ = ["register", "read_table", "write_table", "ROW_COLUMN"]

#: Name of the row-number column of scores whose model was trained without ``--id``.
ROW_COLUMN = "row"

def read_table(path) -> "pandas.DataFrame":  # noqa: F821
    """Read the ``--data`` file (CSV or Parquet, by suffix): :func:`workbench.data.files.read_table`."""
    from workbench.data.files import read_table as read

    return read(path, parameter="--data")


def write_table(df, path) -> Path:
    """Write the ``--out`` file (CSV or Parquet, by suffix): :func:`workbench.data.files.write_table`."""
    from workbench.data.files import write_table as write

    return write(df, path, parameter="--out")


def register(subparsers) -> None:
    """Add ``model`` and its verbs to the ``workbench`` parser."""
    p = subparsers.add_parser("model", help="train, score and report a target-user model on any table")
    verbs = p.add_subparsers(dest="verb", metavar="VERB")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])

    tr = verbs.add_parser(
        "train", help="train a model on a CSV/Parquet table and save it",
        description="Hold out a stratified share of the rows, train the target model, a logistic and a rules "
                    "baseline on the rest and print their holdout metrics; refit the model on all rows and save "
                    "it (LightGBM text model + JSON card, no pickle) with rule examples and importance.",
        epilog="example: workbench model train --data bank.csv --target y --positive yes --id client_id "
               "--exclude duration --out models/bank")
    tr.add_argument("--data", required=True, type=Path, metavar="FILE", help="CSV or Parquet file")
    tr.add_argument("--target", required=True, metavar="COL", help="label column")
    tr.add_argument("--positive", required=True, metavar="VALUE",
                    help="value of the label column that means 'positive' (text, true/false or 0/1)")
    tr.add_argument("--id", dest="id_col", default=None, metavar="COL",
                    help="column identifying a user (never a feature); without it, scores name rows by their "
                         f"number in the file ('{ROW_COLUMN}', 1 = first data row)")
    tr.add_argument("--exclude", nargs="*", default=[], metavar="COL", help="columns never used as features")
    tr.add_argument("--out", required=True, type=Path, metavar="DIR", help="model folder to write")
    tr.add_argument("--holdout", type=float, default=0.2, metavar="SHARE",
                    help="share held out (stratified) for the reported metrics (default 0.2)")
    tr.add_argument("--list-size", type=float, default=0.1, metavar="SHARE",
                    help="campaign list share for lift/capture (default 0.1)")
    tr.add_argument("--seed", type=int, default=0, help="seed of the split and the models")
    tr.add_argument("--threads", type=int, default=None, metavar="N",
                    help="LightGBM threads (default: 1 up to 50,000 rows, else all cores)")
    tr.add_argument("--lang", choices=LANGUAGES, default=None, help="language of the output (default: zh)")
    tr.add_argument("--json", action="store_true", help="print the summary as JSON")
    tr.add_argument("--no-progress", action="store_true", help="no progress bars")
    tr.set_defaults(func=_train)

    sc = verbs.add_parser(
        "score", help="score a table with a saved model",
        description="Write id, score, rank, decile and the top reasons of every row (best first).")
    sc.add_argument("--model", required=True, type=Path, metavar="DIR", help="model folder")
    sc.add_argument("--data", required=True, type=Path, metavar="FILE", help="CSV or Parquet file")
    sc.add_argument("--out", required=True, type=Path, metavar="FILE", help="output file (.csv or .parquet)")
    sc.add_argument("--id", dest="id_col", default=None, metavar="COL",
                    help=f"id column (default: the one used in training, else the row number '{ROW_COLUMN}')")
    sc.add_argument("--reasons", type=int, default=3, help="reason codes per user (0 = none)")
    sc.add_argument("--reasons-top", type=float, default=None, metavar="N",
                    help="give reasons only to the best N users (N >= 1) or share (0 < N <= 1); default everyone")
    sc.add_argument("--strict", action="store_true", help="reject category levels unseen at training")
    sc.add_argument("--lang", choices=LANGUAGES, default=None, help="language of the reasons (default: zh)")
    sc.add_argument("--no-progress", action="store_true", help="no progress bars")
    sc.set_defaults(func=_score)

    rp = verbs.add_parser("report", help="metrics and gains table of a saved model")
    rp.add_argument("--model", required=True, type=Path, metavar="DIR", help="model folder")
    rp.add_argument("--data", type=Path, default=None, metavar="FILE", help="also evaluate on this labelled table")
    rp.add_argument("--target", default=None, metavar="COL", help="label column of --data (default: the training one)")
    rp.add_argument("--positive", default=None, metavar="VALUE", help="positive value (default: the training one)")
    rp.add_argument("--list-size", type=float, default=0.1, metavar="SHARE",
                    help="campaign list share for lift/capture on --data (default 0.1)")
    rp.add_argument("--json", action="store_true", help="print JSON instead of tables")
    rp.add_argument("--lang", choices=LANGUAGES, default=None, help="language of the tables (default: zh)")
    rp.set_defaults(func=_report)

    mo = verbs.add_parser(
        "monitor", help="drift (PSI) of a new table against the training data of a saved model",
        description="PSI of every feature and of the score between the training reference saved in the model "
                    "folder (reference.json) and a new table, with a status ok / watch / alert; with labels, "
                    "AUC and top-decile lift now against at training.",
        epilog="example: workbench model monitor --model models/bank --data bank_2027_01.csv --target y "
               "--positive yes")
    mo.add_argument("--model", required=True, type=Path, metavar="DIR",
                    help="model folder (with reference.json), or a run folder holding a province model in model/")
    mo.add_argument("--data", required=True, type=Path, metavar="FILE", help="CSV or Parquet file")
    mo.add_argument("--target", default=None, metavar="COL",
                    help="label column: also compare AUC and top-decile lift with training")
    mo.add_argument("--positive", default=None, metavar="VALUE",
                    help="positive value of --target (default: the training one)")
    mo.add_argument("--watch", type=float, default=0.1, metavar="PSI", help="PSI from which to watch (default 0.1)")
    mo.add_argument("--alert", type=float, default=0.25, metavar="PSI", help="PSI from which to alert (default 0.25)")
    mo.add_argument("--snapshot", default=None, metavar="YYYY-MM",
                    help="province model: the month whose inputs are compared (default: the last month of --data, "
                         "a province folder); the outcome of the potential customers of SNAPSHOT - horizon, known "
                         "at SNAPSHOT, gives AUC, lift and calibration")
    mo.add_argument("--grade", dest="grade_col", default=None, metavar="COL",
                    help="graded (credit) model: column of the grades (default: graded from the score by the "
                         "reference's cut points)")
    mo.add_argument("--json", action="store_true", help="print JSON instead of tables")
    mo.add_argument("--lang", choices=LANGUAGES, default=None, help="language of the tables (default: zh)")
    mo.set_defaults(func=_monitor)

    ex = verbs.add_parser(
        "export-sql", help="write a SQL query computing a saved model's score inside the database",
        description="Write one SELECT that scores every row of a feature table in PostgreSQL or DuckDB: the "
                    "LightGBM trees as nested CASE expressions (missing values, categorical splits and the "
                    "sigmoid as LightGBM applies them), equal to the Python scores to rounding error.  A credit "
                    "model folder (credit.json) gives segment, score (P(bad)) and grade per row.",
        epilog="example: workbench model export-sql --model runs/demo-1/model --dialect postgresql "
               "--table marts.features --out score.sql")
    ex.add_argument("--model", required=True, type=Path, metavar="DIR", help="model folder")
    ex.add_argument("--dialect", choices=("postgresql", "duckdb"), default="postgresql",
                    help="database the query is written for (default postgresql)")
    ex.add_argument("--table", default="features", metavar="NAME",
                    help="feature table in the database, schema.table allowed (default features)")
    ex.add_argument("--id", dest="id_col", default=None, metavar="COL",
                    help="id column returned beside the score (default: the model's, else subscriber_id)")
    ex.add_argument("--out", type=Path, default=None, metavar="FILE", help="write the query here (default: print it)")
    ex.set_defaults(func=_export_sql)


# ------------------------------------------------------------------ helpers
def _share(x: float) -> str:
    from workbench.report.format import pct_text

    return pct_text(x, 0) if float(x).is_integer() or x * 100 == int(x * 100) else pct_text(x, 1)


def _summary_text(summary, lang: str | None) -> str:
    from workbench.i18n import t

    share = _share(float(summary["list_share"].iloc[0])) if len(summary) else ""
    table = summary.assign(model=[t(f"model.name.{m}", lang) for m in summary["model"]])
    table = table[["model", "auc", "pr_auc", "ks", "lift", "capture", "brier"]]
    table.columns = ["", t("model.metric.auc", lang), t("model.metric.pr_auc", lang), t("model.metric.ks", lang),
                     t("model.metric.lift_at", lang, share=share), t("model.metric.capture_at", lang, share=share),
                     t("model.metric.brier", lang)]
    return table.to_string(index=False, float_format=lambda v: f"{v:.3f}")


def _gains_text(gains, lang: str | None) -> str:
    import pandas as pd

    from workbench.i18n import t
    from workbench.report.format import count_text, number_text, pct_text

    g = pd.DataFrame(gains)
    formats = {
        "bin": lambda v: f"{int(v)}",
        "size": count_text,
        "positives": lambda v: count_text(v) if float(v).is_integer() else number_text(v, 1),
        "rate": lambda v: pct_text(v, 1),
        "lift": number_text,
        "cum_capture": lambda v: pct_text(v, 1),
        "cum_lift": number_text,
    }
    g = g[list(formats)]
    labels = {c: t(f"model.gains.{c}", lang) for c in formats}
    return g.rename(columns=labels).to_string(index=False, formatters={labels[c]: f for c, f in formats.items()})


def _rules_text(rules: list[dict], lang: str | None) -> str:
    from workbench.i18n import t
    from workbench.models.rules import Rule
    from workbench.report.format import number_text, pct_text

    lines = []
    for i, d in enumerate(rules, 1):
        r = Rule.from_dict(d)
        lines.append(f"{i}. {r.render(lang)}  [{t('model.gains.size', lang)} {r.size}, "
                     f"{t('model.gains.rate', lang)} {pct_text(r.target_share, 1)}, "
                     f"{t('model.gains.lift', lang)} {number_text(r.lift)}]")
    return "\n".join(lines)


def _print_json(data) -> None:
    from workbench.models.registry import to_jsonable

    print(json.dumps(to_jsonable(data), ensure_ascii=False, indent=2, allow_nan=False))


# ----------------------------------------------------------------- handlers
def _train(args) -> int:
    from workbench.i18n import t
    from workbench.errors import data_file, warning_text
    from workbench.models.generic import metrics_summary, render_notes, train_generic
    from workbench.models.registry import save_model
    from workbench.workspace import path_arg

    args.data = path_arg(args.data)
    args.out = path_arg(args.out)
    df = read_table(args.data)
    result = train_generic(
        df, target=args.target, positive=args.positive, id_col=args.id_col, exclude=args.exclude,
        holdout=args.holdout, list_size=args.list_size, random_state=args.seed, progress=not args.no_progress,
        model_params={"n_jobs": args.threads} if args.threads else None,
        table=data_file(args.data.name),
        warn=lambda text: print(warning_text(text, args.lang), file=sys.stderr, flush=True), lang=args.lang,
    )
    metrics = result.metrics()
    save_model(result.model, args.out, label_definition={**result.prepared.label_definition,
                                                         "source": str(args.data)},
               training_window=None, metrics=metrics,
               training_data=result.prepared.X, id_col=args.id_col, rules=result.rules,
               importance=result.importance, reference=result.reference)
    if args.json:
        _print_json({"summary": metrics["summary"], "dropped": result.prepared.dropped,
                     "leakage": result.prepared.leakage, "notes": result.prepared.notes, "out": str(args.out)})
        return 0
    summary = metrics_summary(result.holdout)
    print(t("model.report.holdout", args.lang, share=_share(args.holdout)))
    print(_summary_text(summary, args.lang))
    if result.prepared.dropped:
        reasons = ", ".join(f"{c} ({t(f'model.report.reason.{r}', args.lang)})"
                            for c, r in result.prepared.dropped.items())
        print(f"\n{t('model.report.dropped', args.lang)}: {reasons}")
    for note in render_notes(result.prepared.notes, args.lang):
        print(note)
    print("\n" + t("model.report.saved", args.lang, path=args.out))
    return 0


def _score(args) -> int:
    from workbench.i18n import t
    from workbench.models.registry import load_card, load_model, score
    from workbench.workspace import path_arg

    args.model = path_arg(args.model)
    args.data = path_arg(args.data)
    args.out = path_arg(args.out)
    model = load_model(args.model)
    card = load_card(args.model)
    id_col = args.id_col or card["model"].get("id_col")
    df = read_table(args.data)
    if not id_col:  # no id column: rows are named by their number in the file (a free column name)
        id_col = next(n for n in (ROW_COLUMN, f"{ROW_COLUMN}_number", f"_{ROW_COLUMN}") if n not in df.columns)
        df.insert(0, id_col, range(1, len(df) + 1))
    top = args.reasons_top
    top = int(top) if top is not None and top >= 1 and float(top).is_integer() else top
    scored = score(model, df, id_col, reasons=args.reasons, reasons_top=top, strict=args.strict, lang=args.lang,
                   scope="scored", progress=not args.no_progress)
    write_table(scored, args.out)
    print(t("model.report.scored", args.lang, n=len(scored), path=args.out))
    _record_history(args, scored)
    return 0


def _record_history(args, scored) -> None:
    """Append the run's score distribution to the workspace's score history (inside a workspace only)."""
    from workbench.monitoring import record_scores
    from workbench.workspace import cli_workspace

    ws = cli_workspace(hint=False)
    if ws.config_file is not None:
        record_scores(ws.runs, scored["score"], kind="generic", model=args.model, source=str(args.data))


def _report(args) -> int:
    import pandas as pd

    from workbench.workspace import path_arg

    args.model = path_arg(args.model)
    args.data = path_arg(args.data)
    from workbench.i18n import t
    from workbench.models.generic import encode_target
    from workbench.models.registry import load_card, load_model

    card = load_card(args.model)
    metrics = card["metrics"]
    out: dict = {"label": card["label"], "model": {k: card["model"].get(k) for k in
                                                   ("best_iteration", "params", "fingerprint", "versions",
                                                    "created_at", "id_col", "training_window")}}
    holdout = metrics.get("holdout") or {}
    if holdout:
        out["summary"] = metrics.get("summary")
        out["gains"] = holdout.get("model", {}).get("gains")
    if args.data is not None:
        from workbench.metrics.classification import evaluate_classifier

        target = args.target or card["label"].get("target")
        positive = args.positive if args.positive is not None else card["label"].get("positive")
        if target is None or positive is None:
            raise ParameterError.from_words("errors.cli.need_target")
        df = read_table(args.data)
        if target not in df.columns:
            raise ParameterError.from_words("errors.cli.target_missing", column=repr(target), path=repr(str(args.data)),
                                                columns=list(map(str, df.columns)))
        df = df[df[target].notna()]
        y, _ = encode_target(df[target], positive, column=target)
        model = load_model(args.model)
        s = model.predict_proba(df)[:, 1]
        res = evaluate_classifier(y, s, list_size=args.list_size)
        out["new_data"] = {k: v for k, v in res.items() if k not in ("gains", "calibration")}
        out["new_data_gains"] = res["gains"]
        out["new_data_calibration"] = res["calibration"]
    if args.json:
        out["rules"] = card.get("rules")
        out["importance"] = card.get("importance")
        _print_json(out)
        return 0
    lang = args.lang
    print(t("model.report.title", lang))
    if holdout:
        share = metrics.get("settings", {}).get("holdout", 0.2)
        print("\n" + t("model.report.holdout", lang, share=_share(share)))
        print(_summary_text(pd.DataFrame(metrics["summary"]), lang))
        print("\n" + t("model.report.gains", lang))
        print(_gains_text(out["gains"], lang))
    if args.data is not None:
        nd = out["new_data"]
        print("\n" + t("model.report.new_data", lang))
        summary = pd.DataFrame([{"model": "model", "auc": nd["auc"], "pr_auc": nd["pr_auc"], "ks": nd["ks"],
                                 "lift": nd["at_list"]["lift"], "capture": nd["at_list"]["capture"],
                                 "list_share": nd["at_list"]["share"], "brier": nd["brier"]}])
        print(_summary_text(summary, lang))
        print("\n" + t("model.report.gains", lang))
        print(_gains_text(out["new_data_gains"], lang))
    if card.get("importance"):
        imp = pd.DataFrame(card["importance"]).head(10)
        print("\n" + t("model.report.importance", lang))
        print(imp.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if card.get("rules"):
        print("\n" + t("model.report.rules", lang))
        print(_rules_text(card["rules"], lang))
    return 0



def _load_scorer(folder):
    """The model of a folder, for its scores: a credit model (``credit.json``) or a target model."""
    from workbench.credit.model import is_credit_model, load_credit_model
    from workbench.models.registry import load_model

    return load_credit_model(folder) if is_credit_model(folder) else load_model(folder)


def _monitor(args) -> int:
    """``workbench model monitor`` (the handler lives in :mod:`workbench.commands.model_monitor`)."""
    from workbench.commands.model_monitor import monitor

    return monitor(args)


def _export_sql(args) -> int:
    from workbench.credit.model import is_credit_model
    from workbench.models.sql import export_model_sql
    from workbench.workspace import path_arg

    args.model = path_arg(args.model)
    out = path_arg(args.out) if args.out is not None else None
    export = export_model_sql
    if is_credit_model(args.model):  # a credit model folder: segment, P(bad) and grade
        from workbench.credit.sql import export_credit_sql as export
    sql = export(args.model, dialect=args.dialect, table=args.table, id_col=args.id_col, out=out)
    if out is None:
        print(sql + ";")
    else:
        print(f"{out}", file=sys.stderr)
    return 0
