"""``workbench users add | list | deactivate`` - who may sign in to the apps.

The command line acts as :data:`workbench.store.SYSTEM_USER` (an admin): whoever
can run it can already open the store's database.  Every change is audit-logged.
"""
from __future__ import annotations

import argparse
import sys

from workbench.commands import STORE_HELP
from workbench.i18n import LANGUAGES

__all__ = ["register"]

_ROLES = ("executor", "branch_manager", "province_manager", "analyst", "admin")  # = workbench.store.ROLES


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", metavar="URL", help=STORE_HELP)
    p.add_argument("--lang", choices=LANGUAGES, help="language of the messages (default: $WORKBENCH_LANG or zh)")


def register(subparsers) -> None:
    """Add ``users`` and its verbs to the ``workbench`` parser."""
    parser = subparsers.add_parser(
        "users", help="add, list and deactivate the people who sign in to the apps",
        description="Users of the campaign store: role, branch and an argon2 password hash (never the password).",
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    parser.set_defaults(func=lambda args: _usage(parser))

    p = verbs.add_parser(
        "add", help="add a user",
        description="Add a user. The password is read from standard input with --password-stdin, "
                    "else asked for twice on the terminal.",
        epilog="example: echo 's3cret-pass' | workbench users add li_wei --role executor --branch hami "
               "--password-stdin",
    )
    p.add_argument("name", metavar="NAME", help="sign-in name (the name lists assign rows to)")
    p.add_argument("--role", required=True, choices=_ROLES, help="what the user may see and do")
    p.add_argument("--branch", metavar="BRANCH_ID", help="branch code; required for executor and branch_manager")
    p.add_argument("--display-name", default="", metavar="TEXT", help="name shown on screens")
    p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    _common(p)
    p.set_defaults(func=_add)

    p = verbs.add_parser("list", help="list the users (never their hashes)",
                         description="List every user with role, branch and whether the account is active.")
    _common(p)
    p.set_defaults(func=_list)

    p = verbs.add_parser("deactivate", help="stop a user from signing in",
                         description="Deactivate a user: sign-in and every store call are refused at once.")
    p.add_argument("name", metavar="NAME", help="sign-in name")
    _common(p)
    p.set_defaults(func=_deactivate)


def _store(args) -> str:
    from workbench.workspace import store_arg

    return store_arg(args.store)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _password(args) -> str:
    from workbench.errors import ParameterError
    from workbench.i18n import t

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass(t("store.cli.password_prompt", lang=args.lang))
    if getpass.getpass(t("store.cli.password_again", lang=args.lang)) != first:
        raise ParameterError(t("store.cli.password_mismatch", lang=args.lang))
    return first


def _add(args) -> int:
    from workbench.i18n import t
    from workbench.store import SYSTEM_USER, Store

    password = _password(args)
    with Store(_store(args), progress=False) as store:
        user = store.add_user(SYSTEM_USER, args.name, args.role, password=password, branch_id=args.branch,
                              display_name=args.display_name)
    print(t("store.cli.added", lang=args.lang, name=user.name, role=t(f"store.role.{user.role}", lang=args.lang)))
    return 0


def _list(args) -> int:
    from workbench.i18n import t
    from workbench.store import SYSTEM_USER, Store

    with Store(_store(args), progress=False) as store:
        users = store.list_users(SYSTEM_USER)
    if users.empty:
        print(t("store.cli.none", lang=args.lang))
        return 0
    yes, no = t("common.yes", lang=args.lang), t("common.no", lang=args.lang)
    table = users.assign(
        role=[t(f"store.role.{r}", lang=args.lang) for r in users["role"]],
        branch_id=users["branch_id"].fillna(""),
        active=[yes if a else no for a in users["active"]],
    )[["name", "display_name", "role", "branch_id", "active"]]
    table.columns = [t(f"store.cli.{c}", lang=args.lang) for c in ("name", "display_name", "role", "branch", "active")]
    print(table.to_string(index=False))
    return 0


def _deactivate(args) -> int:
    from workbench.i18n import t
    from workbench.store import SYSTEM_USER, Store

    with Store(_store(args), progress=False) as store:
        store.set_active(SYSTEM_USER, args.name, False)
    print(t("store.cli.deactivated", lang=args.lang, name=args.name))
    return 0
