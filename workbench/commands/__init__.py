"""Command-line nouns; see :mod:`workbench.cli`."""

#: Help of every ``--store`` option (the commands prefix what the store is for).  Kept here, not in
#: :mod:`workbench.workspace`, whose SQLAlchemy import the parser must not pay for at start-up.
STORE_HELP = ("store URL (default: $WORKBENCH_STORE_URL, else the workspace's store in workbench.toml; "
              "a relative SQLite path is the workspace folder's)")
