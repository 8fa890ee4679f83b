"""``workbench serve`` - serve the campaign apps with Voila on 127.0.0.1, behind sign-in.

``workbench serve [--port N] [--store URL] [--apps DIR] [--state DIR] [--lang zh|en]
[--cookie-hours H] [--cull-idle-timeout S] [--cull-interval S] [--kernel-pool N]
[--max-kernels-per-user N] [--max-kernels N] [--cookie-secret FILE] [--behind-proxy] [--identity-provider CLASS]
[--reveal-daily-cap N] [--managers-record-for-executors on|off]``

Sources are stripped and tracebacks hidden; users sign in with their name and
password from the campaign store (``workbench users add``); idle kernels are
culled.  Several servers behind nginx share one store and one ``--cookie-secret`` and run
``--behind-proxy`` (``workbench deploy nginx``, docs/deploy.md).  See :mod:`workbench.apps.server`.
"""
from __future__ import annotations

from workbench.commands import STORE_HELP
from workbench.i18n import LANGUAGES

__all__ = ["register", "DEFAULTS", "policy_environ"]

#: Defaults of the options; equal to :class:`workbench.apps.server.ServeSettings`'s (a test keeps them in step).
DEFAULTS: dict[str, object] = {
    "port": 8866, "apps": "runs/apps", "state": "runs/serve", "cookie_hours": 8.0,
    "cull_idle_timeout": 1800, "cull_interval": 60, "kernel_pool": 1, "max_kernels_per_user": 3,
    "max_kernels": 40, "identity_provider": "workbench.apps.identity.StoreIdentityProvider",
}


def register(subparsers) -> None:
    """Add ``serve`` to the ``workbench`` parser."""
    p = subparsers.add_parser(
        "serve", help="serve the campaign apps (Voila) on 127.0.0.1 with sign-in",
        description="Serve the apps folder with Voila on 127.0.0.1 only: users sign in with the name and "
                    "password stored in the campaign store, each sees what their role and branch allow, "
                    "sources are stripped, tracebacks hidden and idle kernels culled.",
        epilog="example: workbench serve --port 8866 --store sqlite:///runs/store.sqlite --apps runs/apps",
    )
    p.add_argument("--port", type=int, default=DEFAULTS["port"], metavar="N",
                   help=f"port on 127.0.0.1 (default {DEFAULTS['port']})")
    p.add_argument("--store", metavar="URL",
                   help=f"campaign {STORE_HELP}")
    p.add_argument("--apps", default=DEFAULTS["apps"], metavar="DIR",
                   help=f"folder of the app notebooks to serve (default {DEFAULTS['apps']}; relative paths are "
                        "the workspace folder's)")
    p.add_argument("--state", default=DEFAULTS["state"], metavar="DIR",
                   help=f"folder of the cookie secret and generated configuration, outside --apps "
                        f"(default {DEFAULTS['state']})")
    p.add_argument("--lang", choices=LANGUAGES, help="language of pages and apps (default $WORKBENCH_LANG or zh)")
    p.add_argument("--cookie-hours", type=float, default=DEFAULTS["cookie_hours"], metavar="H",
                   help=f"hours a sign-in lasts (default {DEFAULTS['cookie_hours']})")
    p.add_argument("--cull-idle-timeout", type=int, default=DEFAULTS["cull_idle_timeout"], metavar="S",
                   help=f"shut down a kernel idle for S seconds, 0 = never (default {DEFAULTS['cull_idle_timeout']})")
    p.add_argument("--cull-interval", type=int, default=DEFAULTS["cull_interval"], metavar="S",
                   help=f"seconds between checks for idle kernels (default {DEFAULTS['cull_interval']})")
    p.add_argument("--kernel-pool", type=int, default=DEFAULTS["kernel_pool"], metavar="N",
                   help=f"kernels kept warmed up for the next pages, 0 = none (default {DEFAULTS['kernel_pool']})")
    p.add_argument("--max-kernels-per-user", type=int, default=DEFAULTS["max_kernels_per_user"], metavar="N",
                   help="app pages (kernels) one user may hold at once; a reload of the same app takes over its "
                        f"kernel (default {DEFAULTS['max_kernels_per_user']})")
    p.add_argument("--max-kernels", type=int, default=DEFAULTS["max_kernels"], metavar="N",
                   help="app pages (kernels, ~150-200 MiB each) the server holds at once; more get a 'server full' "
                        f"page (default {DEFAULTS['max_kernels']})")
    p.add_argument("--cookie-secret", metavar="FILE",
                   help="file of the secret signing the session cookies, made (mode 600) if missing; servers behind "
                        "one nginx share one, so a sign-in is valid on all (default: cookie_secret in --state)")
    p.add_argument("--behind-proxy", action="store_true",
                   help="behind nginx (workbench deploy nginx): take the client's address and scheme from its "
                        "X-Real-IP / X-Forwarded-* headers (sign-in throttling per client, Secure cookie behind TLS)")
    p.add_argument("--identity-provider", metavar="CLASS", default=DEFAULTS["identity_provider"],
                   help="dotted name of the sign-in class: StoreIdentityProvider or a subclass (an operator's LDAP "
                        "or SSO, docs/deploy.md)")
    p.add_argument("--reveal-daily-cap", type=int, metavar="N",
                   help="full phone numbers one user may reveal in the worklist per province day, 0 = none "
                        "(default $WORKBENCH_REVEAL_DAILY_CAP, else 200)")
    p.add_argument("--managers-record-for-executors", choices=("on", "off"),
                   help="whether a branch manager may record a result on a customer of one of the branch's "
                        "executors, on the executor's behalf (default $WORKBENCH_MANAGERS_RECORD_FOR_EXECUTORS, "
                        "else off)")
    p.add_argument("--fast-passwords", action="store_true", help="minimal argon2 cost (tests only)")
    p.set_defaults(func=_serve)


def policy_environ(reveal_daily_cap: int | None = None, managers_record_for_executors: str | None = None,
                   environ=None) -> dict[str, str]:
    """The access-policy variables ``workbench serve --reveal-daily-cap/--managers-record-for-executors`` set.

    A flag given overrides its environment variable (``$WORKBENCH_REVEAL_DAILY_CAP``,
    ``$WORKBENCH_MANAGERS_RECORD_FOR_EXECUTORS``); one left out keeps the variable (or the default).  The server
    puts them in its environment before it starts, so its store and every app kernel it starts read the same
    :class:`workbench.store.access.AccessPolicy`.

    Parameters
    ----------
    reveal_daily_cap : int, optional
    managers_record_for_executors : {"on", "off"}, optional
    environ : mapping, optional
        The environment checked with the flags (default ``os.environ``).

    Returns
    -------
    dict
        The variables to set (only those of the flags given).

    Raises
    ------
    ParameterError
        A negative cap (naming ``--reveal-daily-cap``), or a bad value of a variable a flag does not override.
    """
    import os

    from workbench.errors import ParameterError
    from workbench.store.access import MANAGERS_RECORD_ENV, REVEAL_CAP_ENV, AccessPolicy

    updates: dict[str, str] = {}
    if reveal_daily_cap is not None:
        if isinstance(reveal_daily_cap, bool) or not isinstance(reveal_daily_cap, int) or reveal_daily_cap < 0:
            from workbench.checks import range_text

            raise ParameterError.invalid("--reveal-daily-cap", range_text("an integer", 0), reveal_daily_cap)
        updates[REVEAL_CAP_ENV] = str(reveal_daily_cap)
    if managers_record_for_executors is not None:
        if managers_record_for_executors not in ("on", "off"):
            raise ParameterError.invalid("--managers-record-for-executors", "one of ['on', 'off']",
                                         managers_record_for_executors)
        updates[MANAGERS_RECORD_ENV] = "1" if managers_record_for_executors == "on" else "0"
    AccessPolicy.from_env({**(os.environ if environ is None else environ), **updates})   # the whole policy checked
    return updates


def _serve(args) -> int:
    import os

    from workbench.apps.server import ServeSettings, serve
    from workbench.workspace import cli_workspace, path_arg, store_arg

    os.environ.update(policy_environ(args.reveal_daily_cap, args.managers_record_for_executors))
    ws = cli_workspace()
    settings = ServeSettings(
        port=args.port, apps_dir=path_arg(args.apps, ws), state_dir=path_arg(args.state, ws),
        store_url=store_arg(args.store, ws),
        cookie_hours=args.cookie_hours, cull_idle_timeout=args.cull_idle_timeout,
        cull_interval=args.cull_interval, kernel_pool=args.kernel_pool, language=args.lang,
        max_kernels_per_user=args.max_kernels_per_user, max_kernels=args.max_kernels,
        fast_passwords=args.fast_passwords, behind_proxy=args.behind_proxy, identity_provider=args.identity_provider,
        cookie_secret=path_arg(args.cookie_secret, ws),
    )
    serve(settings)
    return 0
