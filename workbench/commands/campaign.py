"""``workbench campaign plan | release | export | list`` - campaigns from the command line.

``plan`` turns a spec file, a scores file and the province data into a plan
folder (:meth:`workbench.campaign.planning.CampaignPlan.save`); ``release``
writes a plan folder to the campaign store (a new campaign, or with
``--campaign`` its next version); ``export`` writes one branch's list of one
channel to CSV or Excel, audit-logged by the store, with phone numbers masked
unless the role may see them; ``list`` shows the store's campaigns.

The command line acts as :data:`workbench.store.SYSTEM_USER` unless ``--as``
names a user of the store: whoever can run it can already open the store's
database.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from workbench.commands import STORE_HELP
from workbench.i18n import LANGUAGES

__all__ = ["register"]

_ROLES = ("executor", "branch_manager", "province_manager", "analyst", "admin")  # = workbench.campaign.KNOWN_ROLES
_FORMATS = ("csv", "xlsx")


def _lang(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", choices=LANGUAGES, help="language of the messages (default: $WORKBENCH_LANG or zh)")


def register(subparsers) -> None:
    """Add ``campaign`` and its verbs to the ``workbench`` parser."""
    parser = subparsers.add_parser(
        "campaign", help="plan, release, export and list campaigns",
        description="Campaign design from the command line: plan a campaign from a spec and model scores, "
                    "release it to the campaign store, export branch lists, list the store's campaigns.",
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    parser.set_defaults(func=lambda args: _usage(parser))

    p = verbs.add_parser(
        "plan", help="plan a campaign into a folder (nothing is released)",
        description="Eligibility (contact policy), target list, stratified control, channel plan under the "
                    "capacities and the budget, executors and list rows; written to --out for review and "
                    "`workbench campaign release`.",
        epilog="example: workbench campaign plan --spec spec.yaml --scores runs/demo/scores.parquet "
               "--data sample_data/province --goal runs/demo/goal.json --out runs/plan1",
    )
    p.add_argument("--spec", required=True, metavar="FILE", help="campaign spec (.json, .yaml or .yml; "
                   "the fields of workbench.campaign.CampaignSpec)")
    p.add_argument("--scores", required=True, metavar="FILE", help="model scores (.parquet or .csv): "
                   "subscriber_id, score and optionally reason_1.. and edition")
    p.add_argument("--data", metavar="DIR", help="folder (or DuckDB file) of the province tables (default: the "
                   "workspace's data)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder the plan is written to")
    p.add_argument("--as-of", metavar="DATE", help="day the contact policy is evaluated (default: the spec's "
                   "goal.period_start)")
    rate = p.add_mutually_exclusive_group()
    rate.add_argument("--goal", metavar="FILE", help="goal.json of template 02: the scores are recalibrated so that "
                      "its look-alikes convert at its expected rate over the response window")
    rate.add_argument("--baseline-rate", type=float, metavar="RATE", help="mean response rate of the list "
                      "without contact; the scores are recalibrated to it (without --goal or --baseline-rate the "
                      "scores are taken as response rates)")
    p.add_argument("--store", metavar="URL", help="store to read recorded contacts and executors from "
                   "(default: none; no contact history, placeholder executors)")
    p.add_argument("--dnd", metavar="FILE", help="do-not-disturb list (.csv or .parquet with subscriber_id)")
    p.add_argument("--executors-per-branch", type=int, default=2, metavar="N",
                   help="placeholder executors of a branch the store names none for (default: 2)")
    p.add_argument("--no-progress", action="store_true", help="do not show progress bars")
    _lang(p)
    p.set_defaults(func=_plan)

    p = verbs.add_parser(
        "release", help="release a plan folder to the campaign store",
        description="Write the plan's spec and list to the store in one transaction. A released list never "
                    "changes: --campaign ID releases the plan as that campaign's next version.",
        epilog="example: workbench campaign release --plan runs/plan1 --store sqlite:///runs/store.sqlite --as analyst",
    )
    p.add_argument("--plan", required=True, metavar="DIR", help="folder written by `workbench campaign plan`")
    p.add_argument("--store", metavar="URL", help=STORE_HELP)
    p.add_argument("--as", dest="user", required=True, metavar="USER",
                   help="store user releasing it (role analyst or admin), or 'system'")
    p.add_argument("--campaign", type=int, metavar="ID", help="release as the next version of this campaign")
    _lang(p)
    p.set_defaults(func=_release)

    p = verbs.add_parser(
        "export", help="export one branch's list of one channel (audit-logged)",
        description="Write the target rows of one branch and channel to CSV (UTF-8, opens in Excel) or Excel. "
                    "Phone numbers are masked unless --role may see them and --data gives the numbers; the store "
                    "logs every export.",
        epilog="example: workbench campaign export --campaign 1 --branch hami --channel outbound_call "
               "--format xlsx --role executor --data sample_data/province --out hami_calls.xlsx",
    )
    p.add_argument("--campaign", type=int, required=True, metavar="ID",
                   help="campaign id (see `workbench campaign list`)")
    p.add_argument("--version", type=int, metavar="N", help="released version (default: the newest)")
    p.add_argument("--branch", required=True, metavar="BRANCH_ID", help="branch code, e.g. hami")
    p.add_argument("--channel", required=True, metavar="CHANNEL", help="channel, e.g. outbound_call or sms")
    p.add_argument("--format", dest="fmt", required=True, choices=_FORMATS, help="file format")
    p.add_argument("--role", required=True, choices=_ROLES, help="role of the person the file is for: only "
                   "'executor' gets full phone numbers")
    p.add_argument("--out", required=True, metavar="FILE", help="file to write (the suffix follows --format)")
    p.add_argument("--data", metavar="DIR", help="province data holding the full phone numbers (only used "
                   "for a role that may see them)")
    p.add_argument("--store", metavar="URL", help=STORE_HELP)
    p.add_argument("--as", dest="user", default="system", metavar="USER",
                   help="store user exporting (default: system); the store limits rows to their scope")
    p.add_argument("--headers", choices=LANGUAGES, help="column headers in this language (default: column names)")
    _lang(p)
    p.set_defaults(func=_export)

    p = verbs.add_parser("list", help="list the store's campaigns",
                         description="Every campaign of the store, newest first: status, newest released "
                                     "version and its number of members.")
    p.add_argument("--store", metavar="URL", help=STORE_HELP)
    _lang(p)
    p.set_defaults(func=_list)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _existing(path: str, option: str, what: str) -> Path:
    """``path`` when it exists; ``what`` names it (``errors.cli.what.*``: spec, scores, goal, dnd, plan, data)."""
    from workbench.errors import ParameterError, Words
    from workbench.workspace import path_arg

    p = path_arg(path)
    if not p.exists():
        raise ParameterError.from_words("errors.cli.missing_path", option=option, what=Words(f"errors.cli.what.{what}"),
                                        path=repr(path))
    return p


def _read_spec(path: Path):
    from workbench.campaign import CampaignSpec
    from workbench.errors import ParameterError, Words

    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    if suffix == ".json":
        return CampaignSpec.from_json(text)
    if suffix in (".yaml", ".yml"):
        return CampaignSpec.from_yaml(text)
    raise ParameterError.invalid("--spec", Words("errors.allowed.spec_file"), str(path))


def _read_ids(path: Path):
    from workbench.data.files import read_table

    return read_table(path, parameter="--dnd", allow_empty=True)


def _plan(args) -> int:
    import json

    from workbench.campaign.executors import executor_roster
    from workbench.campaign.from_goal import baseline_from_goal
    from workbench.campaign.planning import plan_campaign, read_scores
    from workbench.errors import ParameterError, Words
    from workbench.i18n import t
    from workbench.store import Store
    from workbench.workspace import data_arg, path_arg, store_arg

    spec = _read_spec(_existing(args.spec, "--spec", "spec"))
    scores = read_scores(_existing(args.scores, "--scores", "scores"))
    data = data_arg(args.data)
    baseline, size = args.baseline_rate, None
    if args.goal:
        goal = json.loads(_existing(args.goal, "--goal", "goal").read_text(encoding="utf-8"))
        baseline, size = baseline_from_goal(goal, spec.response_window_days)
    dnd = _read_ids(_existing(args.dnd, "--dnd", "dnd")) if args.dnd else None
    out = path_arg(args.out)
    if out.exists() and not out.is_dir():
        raise ParameterError.invalid("--out", Words("errors.allowed.folder"), str(out))
    store = Store(store_arg(args.store), progress=False) if args.store else None
    try:
        roster = executor_roster(spec.target.branches or spec.campaign_branches, store=store,
                                 per_branch=args.executors_per_branch)
        plan = plan_campaign(spec, scores, data, as_of=args.as_of or spec.goal.period_start, executors=roster,
                             store=store, dnd=dnd, baseline_rate=baseline, baseline_size=size, lang=args.lang,
                             progress=not args.no_progress)
    finally:
        if store is not None:
            store.close()
    plan.save(out)
    s = plan.summary
    print(t("campaign.cli.planned", lang=args.lang, folder=str(out), listed=s["listed"], contacted=s["contacted"],
            control=s["control_released"], orders=s["expected_orders"], cost=s["cost"]))
    if plan.power is not None and not plan.power.ok:
        print(plan.power.message)
    return 0


def _release(args) -> int:
    from workbench.campaign.planning import CampaignPlan, release, store_user
    from workbench.i18n import t
    from workbench.store import Store
    from workbench.workspace import store_arg

    plan = CampaignPlan.load(_existing(args.plan, "--plan", "plan"))
    with Store(store_arg(args.store), progress=False) as store:
        user = store_user(store, args.user)
        done = release(plan, store, user, campaign_id=args.campaign)
    print(t("campaign.cli.released", lang=args.lang, campaign=done.campaign_id, version=done.version,
            members=done.member_count))
    return 0


def _export(args) -> int:
    from workbench.campaign import LIST_COLUMNS, can_see_numbers, export_list
    from workbench.campaign.planning import store_user
    from workbench.errors import ParameterError, Words
    from workbench.i18n import t
    from workbench.store import Store
    from workbench.workspace import path_arg, store_arg

    out = path_arg(args.out)
    suffix = f".{args.fmt}"
    if out.suffix == "":
        out = out.with_suffix(suffix)
    elif out.suffix.lower() != suffix:
        raise ParameterError.invalid("--out", Words("errors.allowed.out_suffix", suffix=suffix), str(out))
    numbers_allowed = can_see_numbers(args.role)
    data = _existing(args.data, "--data", "data") if args.data else None
    masked = not (numbers_allowed and data is not None)
    purpose = f"{args.fmt} file {out.name} for role {args.role} ({'masked' if masked else 'full'} numbers)"
    with Store(store_arg(args.store), progress=False) as store:
        user = store_user(store, args.user)
        frame = store.export_list(user, args.campaign, version=args.version, branch_id=args.branch,
                                  channel=args.channel, purpose=purpose)
    rows = frame[["member_id", *[c for c in LIST_COLUMNS if c != "group"]]]
    msisdn = None
    if not masked and len(rows):
        from workbench.campaign.inputs import phone_numbers

        msisdn = phone_numbers(data, rows["subscriber_id"].astype("int64").to_numpy())
    result = export_list(rows, out, role=args.role, msisdn=msisdn, lang=args.headers)
    print(t("campaign.cli.exported", lang=args.lang, rows=result.rows, path=result.path,
            numbers=t("campaign.cli.masked" if result.masked else "campaign.cli.unmasked", lang=args.lang),
            sha256=result.sha256[:16]))
    if numbers_allowed and data is None:
        print(t("campaign.cli.no_numbers", lang=args.lang))
    return 0


def _list(args) -> int:
    from workbench.i18n import t
    from workbench.store import SYSTEM_USER, Store
    from workbench.workspace import store_arg

    with Store(store_arg(args.store), progress=False) as store:
        campaigns = store.visible_campaigns(SYSTEM_USER)
    if campaigns.empty:
        print(t("campaign.cli.none", lang=args.lang))
        return 0
    cols = ["campaign_id", "name", "product", "owner", "status", "version", "member_count", "released_at"]
    table = campaigns[cols].copy()
    table["status"] = [t(f"store.status.{s}", lang=args.lang) for s in table["status"]]
    table["version"] = table["version"].astype("Int64").astype("str").fillna("-")
    table["member_count"] = table["member_count"].astype("Int64").astype("str").fillna("-")
    table["released_at"] = [str(v)[:19] if v is not None and str(v) not in ("None", "NaT", "nan") else "-"
                            for v in table["released_at"]]
    table.columns = [t(f"campaign.cli.col.{c}", lang=args.lang) for c in cols]
    print(table.to_string(index=False))
    return 0
