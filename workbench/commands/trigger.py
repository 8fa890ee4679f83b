"""``workbench trigger detect | wave | evaluate`` - handset-change trigger campaigns.

::

    workbench trigger detect   --day 2026-10-20 [--data DIR] [--window 10] [--min-days 7] [--out FILE] [--json]
    workbench trigger wave     --day 2026-10-20 [--data DIR] [--store URL] [--as USER] [--run-dir DIR]
    workbench trigger evaluate [--store URL] [--as USER] [--json]

``wave`` detects the day's stable changers, recommends each a service and
releases the wave as the trigger campaign's next version (a day already
released adds nothing); with ``--run-dir`` it also writes the SMS / WAP-Push
platform files (masked numbers) under ``triggers/<day>/``.  Heavy imports happen
inside the handlers.
"""
from __future__ import annotations

import json
import sys

from workbench.i18n import LANGUAGES

__all__ = ["register"]


def _errors():
    from workbench.errors import AccessDenied, DataValidationError, ParameterError, WorkspaceError

    return (ParameterError, DataValidationError, WorkspaceError, AccessDenied, FileNotFoundError)


def _lang(args) -> None:
    if getattr(args, "lang", None):
        from workbench.i18n import set_language

        set_language(args.lang)


def _detect(args) -> int:
    from workbench.data.files import write_table
    from workbench.report.t08 import detect_line
    from workbench.triggers import detect_changers
    from workbench.workspace import data_arg

    _lang(args)
    try:
        data = data_arg(args.data)
        found = detect_changers(data, args.day, window_days=args.window, min_active_days=args.min_days)
        if args.out:
            write_table(found, args.out, parameter="--out")
    except _errors() as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(found.to_json(orient="records", date_format="iso", force_ascii=False))
    else:
        print(detect_line(args.day, len(found), args.window, args.min_days))
    return 0


def _spec(args):
    from workbench.triggers import TriggerSpec

    return TriggerSpec(name=args.name) if args.name else TriggerSpec()


def _wave(args) -> int:
    from workbench.campaign.planning import store_user
    from workbench.report.t08 import funnel_table, wave_line
    from workbench.runs import RunFolder
    from workbench.store import Store
    from workbench.triggers import channel_files, run_wave
    from workbench.workspace import data_arg, store_arg

    _lang(args)
    try:
        data = data_arg(args.data)
        spec = _spec(args)
        with Store(store_arg(args.store), progress=False) as store:
            user = store_user(store, args.user)
            wave, release = run_wave(spec, data, args.day, store, user)
        folder = None
        if args.run_dir and release.created:
            folder = RunFolder(args.run_dir).save_wave(wave.day, channel_files(wave), wave.funnel)
    except _errors() as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(wave_line(release))
    if len(wave.funnel):
        print(funnel_table(wave.funnel).to_string(index=False))
    if folder is not None:
        from workbench.i18n import t

        print(t("triggers.wave.files", None, folder=str(folder)))
    return 0


def _evaluate(args) -> int:
    from workbench.campaign.planning import store_user
    from workbench.checks import jsonable
    from workbench.report.t08 import arms_table, extra_line
    from workbench.store import Store
    from workbench.triggers import evaluate_triggers, member_outcomes, wave_members
    from workbench.workspace import store_arg

    _lang(args)
    try:
        spec = _spec(args)
        with Store(store_arg(args.store), progress=False) as store:
            user = store_user(store, args.user)
            members = wave_members(store, user, spec.name)
            responses = store.responses(user, int(members["campaign_id"].iloc[0])) if len(members) else None
        if responses is None or members.empty:
            result = {"arms": None, "extra_uplift": None}
        else:
            result = evaluate_triggers(member_outcomes(members, responses))
    except _errors() as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        out = {k: v for k, v in result.items() if k != "arms"}
        out["arms"] = None if result["arms"] is None else result["arms"].to_dict(orient="records")
        print(json.dumps(jsonable(out), ensure_ascii=False, indent=2))
        return 0
    if result["arms"] is not None:
        print(arms_table(result["arms"]).to_string(index=False))
    print(extra_line(result))
    return 0


def register(subparsers) -> None:
    """Add ``trigger`` and its verbs to the ``workbench`` parser."""
    p = subparsers.add_parser("trigger", help="handset-change trigger campaigns: detect, release daily waves, "
                                              "evaluate")
    verbs = p.add_subparsers(dest="verb", metavar="VERB")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])

    def common(sp, store: bool):
        if store:
            sp.add_argument("--store", metavar="URL", help="campaign store (default: the workspace's)")
            sp.add_argument("--as", dest="user", default="system", metavar="USER",
                            help="store user (an analyst or admin to release; default: system)")
            sp.add_argument("--name", metavar="NAME", help="trigger campaign name (default: the spec's)")
        sp.add_argument("--lang", choices=LANGUAGES, help="language (default: $WORKBENCH_LANG or zh)")

    d = verbs.add_parser("detect", help="stable handset changers of a day",
                         description="New IMEIs whose first WINDOW days end on DAY, seen on at least MIN-DAYS of "
                                     "them, with no other IMEI after their first day.")
    d.add_argument("--day", required=True, metavar="YYYY-MM-DD", help="detection day")
    d.add_argument("--data", metavar="DIR", help="province folder (default: the workspace's data)")
    d.add_argument("--window", type=int, default=10, metavar="N", help="days that decide (default 10)")
    d.add_argument("--min-days", type=int, default=7, metavar="N", help="days the new IMEI must be seen (default 7)")
    d.add_argument("--out", metavar="FILE", help="also write the changers to this CSV/Parquet file")
    d.add_argument("--json", action="store_true", help="print the changers as JSON")
    common(d, store=False)
    d.set_defaults(func=_detect)

    w = verbs.add_parser("wave", help="detect, recommend and release one day's wave",
                         description="Detect the day's stable changers, recommend each a service and its channel, "
                                     "draw the comparison group and the controls, and release the wave as the "
                                     "trigger campaign's next version. A day already released adds nothing.")
    w.add_argument("--day", required=True, metavar="YYYY-MM-DD", help="wave day")
    w.add_argument("--data", metavar="DIR", help="province folder (default: the workspace's data)")
    w.add_argument("--run-dir", metavar="DIR", help="write the platform files under DIR/triggers/<day>/")
    common(w, store=True)
    w.set_defaults(func=_wave)

    e = verbs.add_parser("evaluate", help="uplift of changers vs similar non-changers, with CIs")
    e.add_argument("--json", action="store_true", help="print JSON")
    common(e, store=True)
    e.set_defaults(func=_evaluate)
