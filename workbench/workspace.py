"""The analyst's workspace: one folder whose ``workbench.toml`` names the data, the store, the runs.

Every command, template and app finds the workspace the way git finds a repository: from
``$WORKBENCH_WORKSPACE`` when it is set, else by walking up from the folder it runs in to the first
folder holding ``workbench.toml`` (or a ``pyproject.toml`` with a ``[tool.workbench]`` table).
Every relative path of the config, and every relative SQLite store URL, is resolved against the
workspace root — never against a kernel's working folder — so a template opened in JupyterLab from
``templates/`` or from a copy in any sub-folder reads the same data and store as the CLI.

The config (all keys optional but ``data``)::

    [workspace]
    data = "sample_data/province"          # folder (or DuckDB file) of the province tables
    store = "sqlite:///runs/store.sqlite"  # campaign store URL; a relative SQLite path is the root's
    runs = "runs"                          # root of the run folders
    run = "lab"                            # run folder (under runs) of templates opened in JupyterLab
    language = "zh"                        # zh or en

The repository itself is a workspace for the sample province; ``workbench init DIR --data PATH``
makes a new one (:func:`init_workspace`).

Precedence of the store: an explicit URL, else ``$WORKBENCH_STORE_URL`` (``workbench serve`` sets it for
its app kernels), else the config's ``store``.  A config that names a missing data folder or an unusable
store raises :class:`~workbench.errors.WorkspaceError` naming the key, the config file, the value found
and the fix (:func:`check_data`, :func:`check_store_url`); checking writes nothing.

Templates resolve their parameters in one line after ``setup(language)``::

    data, run_dir = workspace_paths(data, run_dir)          # "" -> the workspace's data / run folder
    data, run_dir, store = workspace_paths(data, run_dir, store)
    store_url = workspace_store(store_url)
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from workbench.errors import ParameterError, Words, WorkspaceError

__all__ = [
    "CONFIG_FILE",
    "ENV_VAR",
    "DEFAULTS",
    "KEYS",
    "STORE_ENV",
    "Workspace",
    "find_root",
    "find_workspace",
    "load_workspace",
    "require_workspace",
    "cli_workspace",
    "resolve_store_url",
    "check_data",
    "check_store_url",
    "init_workspace",
    "config_text",
    "workspace_paths",
    "workspace_data",
    "workspace_store",
    "path_arg",
    "data_arg",
    "store_arg",
]

#: Name of the workspace config file.
CONFIG_FILE = "workbench.toml"
#: Environment variable naming the workspace root (wins over the walk up from the working folder).
ENV_VAR = "WORKBENCH_WORKSPACE"
#: Values of the keys a config leaves out.
DEFAULTS: dict[str, str] = {
    "store": "sqlite:///runs/store.sqlite",
    "runs": "runs",
    "run": "lab",
    "language": "zh",
}
#: Keys a ``[workspace]`` table may hold.
KEYS: tuple[str, ...] = ("data", "store", "runs", "run", "language")
#: Environment variable of the store URL (the same as :data:`workbench.store.STORE_URL_ENV`).
STORE_ENV = "WORKBENCH_STORE_URL"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_STORE_BACKENDS = ("sqlite", "postgresql")


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(f"The workspace config {str(path)!r} is not valid TOML: {exc}. Fix the file "
                             "(see `workbench init --help` for its keys).", config_file=path) from None


def _config_table(folder: Path) -> tuple[Path, dict] | None:
    """``(config file, [workspace] table)`` of ``folder``, or ``None`` when it is no workspace."""
    toml = folder / CONFIG_FILE
    if toml.is_file():
        return toml, dict(_read_toml(toml).get("workspace", {}))
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        table = _read_toml(pyproject).get("tool", {}).get("workbench")
        if table is not None:
            return pyproject, dict(table)
    return None


def _check_table(table: dict, config_file: Path | None) -> dict[str, str]:
    """The table's values as strings; unknown keys, non-string values and a bad language are errors."""
    from workbench.i18n import LANGUAGES

    where = str(config_file) if config_file else "the workspace config"
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise WorkspaceError(f"The workspace config {where!r} has unknown key(s) {unknown}; the keys are "
                             f"{list(KEYS)}. Remove or rename them.", key=unknown[0], config_file=config_file)
    for key, value in table.items():
        if not isinstance(value, str) or not value.strip():
            raise WorkspaceError(f"The {key!r} key of the workspace config {where!r} must be a non-empty string. "
                                 f"Got {value!r} instead.", key=key, config_file=config_file)
    language = table.get("language", DEFAULTS["language"])
    if language not in LANGUAGES:
        raise WorkspaceError(f"The 'language' key of the workspace config {where!r} must be one of "
                             f"{list(LANGUAGES)}. Got {language!r} instead.", key="language", config_file=config_file)
    return dict(table)


def find_root(start: str | os.PathLike | None = None) -> Path | None:
    """The workspace root: ``$WORKBENCH_WORKSPACE``, else the first folder from ``start`` (default
    the working folder) upwards holding a workspace config; ``None`` when there is none.

    Raises
    ------
    WorkspaceError
        When ``$WORKBENCH_WORKSPACE`` names a folder that is not a workspace.
    """
    env = os.environ.get(ENV_VAR)
    if env:
        root = Path(env).expanduser().resolve()
        if not root.is_dir() or _config_table(root) is None:
            raise WorkspaceError(f"${ENV_VAR} names {str(root)!r}, which is not a workspace (no folder holding a "
                                 f"{CONFIG_FILE} or a pyproject.toml with [tool.workbench]). Point it at your "
                                 "workspace, unset it, or create one with `workbench init DIR --data PATH`.",
                                 key=ENV_VAR)
        return root
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if _config_table(folder) is not None:
            return folder
    return None


def resolve_store_url(url: str, root: str | os.PathLike) -> str:
    """``url`` with a relative SQLite path made absolute against ``root``; other URLs unchanged."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() == "sqlite" and database not in (None, "", ":memory:") \
            and not Path(database).is_absolute():
        return parsed.set(database=(Path(root) / database).resolve().as_posix()).render_as_string(
            hide_password=False)
    return url


@dataclass(frozen=True)
class Workspace:
    """A workspace: its root, config file and the config's values resolved against the root.

    Attributes
    ----------
    root : Path
        The workspace folder.
    config_file : Path or None
        ``workbench.toml`` (or ``pyproject.toml``) the values come from.
    data : Path
        Folder (or DuckDB file) of the province tables.
    store_url : str
        Campaign store URL (a SQLite path absolute).
    runs : Path
        Root of the run folders.
    run : str
        Name of the run folder (under ``runs``) that templates use when ``run_dir`` is empty.
    language : str
        Default language of reports and apps.
    """

    root: Path
    config_file: Path | None
    data: Path
    store_url: str
    runs: Path
    run: str
    language: str

    def path(self, value: str | os.PathLike) -> Path:
        """``value`` resolved against the root (an absolute path stays as it is)."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.root / p).resolve()

    def data_path(self, value: str | os.PathLike | None = None) -> Path:
        """The data of a parameter: empty means the workspace's data."""
        return self.path(value) if value else self.data

    def run_path(self, value: str | os.PathLike | None = None) -> Path:
        """The run folder of a parameter: empty means ``<runs>/<run>``."""
        return self.path(value) if value else self.runs / self.run

    def store(self, value: str | None = None) -> str:
        """The store URL of a parameter: empty means ``$WORKBENCH_STORE_URL`` when set, else the workspace's
        store; a relative SQLite path is the root's."""
        value = value or os.environ.get(STORE_ENV)
        return resolve_store_url(value, self.root) if value else self.store_url

    @property
    def where(self) -> str:
        """The config file (or the root, when it has none) for messages."""
        return str(self.config_file or self.root)


def load_workspace(root: str | os.PathLike) -> Workspace:
    """The workspace whose root is ``root`` (defaults where it has no config)."""
    root = Path(root).expanduser().resolve()
    found = _config_table(root)
    config_file, table = found if found is not None else (None, {})
    values = {**DEFAULTS, **_check_table(table, config_file)}
    ws = Workspace(root=root, config_file=config_file, data=Path(), store_url="", runs=Path(),
                   run=values["run"], language=values["language"])
    try:
        store_url = resolve_store_url(values["store"], root)
    except ArgumentError:
        raise WorkspaceError(
            f"The 'store' key of the workspace config {ws.where!r} must be a SQLite or PostgreSQL store URL. Got "
            f"{values['store']!r} instead: it is not a URL. Set store in {Path(ws.where).name} to a reachable "
            "store (e.g. sqlite:///runs/store.sqlite, relative to the workspace folder, or "
            "postgresql+psycopg://user@host/db).", key="store", config_file=config_file) from None
    return Workspace(
        root=root,
        config_file=config_file,
        data=ws.path(values.get("data", "data")),
        store_url=store_url,
        runs=ws.path(values["runs"]),
        run=values["run"],
        language=values["language"],
    )


def find_workspace(start: str | os.PathLike | None = None) -> Workspace | None:
    """The workspace around ``start`` (see :func:`find_root`), or ``None`` outside any workspace."""
    root = find_root(start)
    return None if root is None else load_workspace(root)


def require_workspace(start: str | os.PathLike | None = None, *, parameter: str = "data") -> Workspace:
    """The workspace around ``start`` (see :func:`find_root`).

    Raises
    ------
    WorkspaceError
        When there is none; the message names ``parameter`` (the value that needed the workspace).
    """
    ws = find_workspace(start)
    if ws is None:
        here = Path(start or os.getcwd()).resolve()
        raise WorkspaceError(
            f"The {parameter!r} parameter is empty, which means the workspace's value, but no workspace was found: "
            f"neither ${ENV_VAR} is set nor does {str(here)!r} or a folder above it hold a {CONFIG_FILE}. Give "
            f"{parameter!r} a value, set ${ENV_VAR} to your workspace, or create one with "
            "`workbench init DIR --data PATH`.", key=parameter)
    return ws


_HINTED: list[bool] = []


def cli_workspace(start: str | os.PathLike | None = None, *, hint: bool = True) -> Workspace:
    """The workspace of a command: the one around the working folder, else the working folder itself with
    the default config (the behaviour before workspaces) and, once per process, a one-line hint on stderr."""
    ws = find_workspace(start)
    if ws is not None:
        return ws
    here = Path(start or os.getcwd()).resolve()
    if hint and not _HINTED:
        import sys

        _HINTED.append(True)
        from workbench.i18n import t

        print(t("workspace.hint.none", config=CONFIG_FILE, folder=here, env=ENV_VAR), file=sys.stderr)
    return load_workspace(here)


def check_data(path: str | os.PathLike, *, key: str = "data", config_file: str | os.PathLike | None = None,
               given: str | None = None) -> Path:
    """``path`` when it is an existing folder or file of province tables.

    Parameters
    ----------
    path : path
        The resolved path.
    key : str
        The config key or parameter it comes from (named in the message).
    config_file : path, optional
        The config file that names it; without one the message speaks of a parameter.
    given : str, optional
        The value as written, when it differs from ``path``.

    Raises
    ------
    WorkspaceError
        When it comes from a config file and does not exist.
    ParameterError
        When it is a parameter's value and does not exist.
    """
    p = Path(path)
    if p.exists():
        return p
    shown = (Words("errors.workspace.resolved", given=repr(given), path=repr(str(p))) if given and given != str(p)
             else repr(str(p)))
    if config_file is not None:
        exc = WorkspaceError.from_words("errors.workspace.data_missing", setting=repr(key), name=key, shown=shown,
                                        config=repr(str(config_file)), file=Path(config_file).name)
        exc.key, exc.config_file = key, Path(config_file)
        raise exc
    raise ParameterError.from_words("errors.workspace.data_parameter_missing", setting=repr(key), shown=shown)


def _sqlite_problem(database: str) -> str | None:
    """Why a SQLite store file cannot be used, or ``None``."""
    p = Path(database)
    if p.exists():
        if not p.is_file():
            return "it is a folder, not a file"
        with p.open("rb") as fh:
            head = fh.read(len(_SQLITE_MAGIC))
        if head and head != _SQLITE_MAGIC:
            return "the file is not a SQLite database"
        return None if os.access(p, os.R_OK | os.W_OK) else "the file cannot be read and written"
    folder = p.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        return f"{str(folder)!r} is a file, so the folder of the store cannot be created"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {str(folder)!r} is not writable"
    return None


def check_store_url(url: str, *, key: str = "store", config_file: str | os.PathLike | None = None,
                    root: str | os.PathLike | None = None, timeout: float = 5.0) -> str:
    """``url`` (a relative SQLite path made absolute against ``root``) when it names a usable store.

    A SQLite store is usable when its file is a SQLite database (or can be created: its nearest existing
    folder is writable); a PostgreSQL store when a connection opens within ``timeout`` seconds.  Nothing
    is written: no file, no folder, no table.

    Raises
    ------
    WorkspaceError
        When the URL is not a SQLite or PostgreSQL URL, or the store cannot be reached; the message names
        ``key``, ``config_file`` (or the parameter), the URL and how to fix it.
    """
    where = (f"The {key!r} key of the workspace config {str(config_file)!r}" if config_file is not None
             else f"The {key!r} parameter")
    fix = (f"Set {key} in {Path(config_file).name} to a reachable store (e.g. sqlite:///runs/store.sqlite, "
           "relative to the workspace folder, or postgresql+psycopg://user@host/db)" if config_file is not None
           else "Give a reachable store URL (e.g. sqlite:///runs/store.sqlite or postgresql+psycopg://user@host/db)")
    cfg = Path(config_file) if config_file is not None else None
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise WorkspaceError(f"{where} must be a SQLite or PostgreSQL store URL. Got {url!r} instead: it is not a "
                             f"URL. {fix}.", key=key, config_file=cfg) from None
    backend = parsed.get_backend_name()
    shown = parsed.render_as_string(hide_password=True)
    if backend not in _STORE_BACKENDS:
        raise WorkspaceError(f"{where} must be a SQLite or PostgreSQL store URL (one of {list(_STORE_BACKENDS)}). "
                             f"Got {shown!r} instead. {fix}.", key=key, config_file=cfg)
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise WorkspaceError(f"{where} must name a SQLite file (sqlite:///path/store.sqlite). Got {shown!r} "
                                 f"instead: an in-memory store keeps nothing. {fix}.", key=key, config_file=cfg)
        url = resolve_store_url(url, root) if root is not None else url
        problem = _sqlite_problem(make_url(url).database)
        if problem:
            raise WorkspaceError(f"{where} names the store {make_url(url).render_as_string(hide_password=True)!r}, "
                                 f"which cannot be used: {problem}. {fix}.", key=key, config_file=cfg)
        return url
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        engine = create_engine(parsed, connect_args={"connect_timeout": max(1, int(timeout))})
        try:
            with engine.connect():
                pass
        finally:
            engine.dispose()
    except (SQLAlchemyError, ImportError) as exc:  # refused, unknown host, authentication; no driver
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WorkspaceError(f"{where} names the store {shown!r}, which cannot be reached: {type(exc).__name__}: "
                             f"{first}. {fix}, or start the database server.", key=key, config_file=cfg) from None
    return url


def _toml_string(value: str) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def config_text(data: str, *, store: str = DEFAULTS["store"], runs: str = DEFAULTS["runs"],
                run: str = DEFAULTS["run"], language: str = DEFAULTS["language"]) -> str:
    """The text of a ``workbench.toml`` holding these values."""
    lines = [
        "# A workbench workspace (see `workbench init --help`); relative paths and SQLite URLs are this folder's.",
        "[workspace]",
        f"data = {_toml_string(data)}  # folder (or DuckDB file) of the province tables",
        f"store = {_toml_string(store)}  # campaign store shared by the commands, templates and apps",
        f"runs = {_toml_string(runs)}  # root of the run folders",
        f"run = {_toml_string(run)}  # run folder (under runs) of templates opened in JupyterLab",
        f"language = {_toml_string(language)}  # zh or en",
    ]
    return "\n".join(lines) + "\n"


def init_workspace(root: str | os.PathLike, data: str | os.PathLike, *, store: str | None = None,
                   language: str | None = None, check_store: bool = True) -> Path:
    """Create a workspace: write ``root/workbench.toml`` after checking its values; returns its path.

    Parameters
    ----------
    root : path
        The workspace folder (created when missing).
    data : path
        Folder (or DuckDB file) of the province tables.  A relative path is the current folder's (as a
        shell completes it); the config records it relative to ``root`` when it lies inside, else absolute.
    store : str, optional
        Campaign store URL (default ``sqlite:///runs/store.sqlite``: a file in the workspace); a relative
        SQLite path is the workspace's.
    language : {"zh", "en"}, optional
        Default language (default zh).
    check_store : bool
        Check that the store can be reached (a PostgreSQL server must answer).

    Raises
    ------
    WorkspaceError
        ``root`` already is a workspace (nothing is overwritten), the data does not exist, the store URL is
        invalid or unreachable, or the language is unknown.  Nothing is written then.
    """
    from workbench.i18n import LANGUAGES

    root = Path(root).expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise WorkspaceError(f"The workspace folder {str(root)!r} is a file; choose a folder.", key="root")
    found = _config_table(root) if root.is_dir() else None
    if found is not None:
        raise WorkspaceError(f"{str(root)!r} already is a workspace ({found[0]}); a workspace config is never "
                             "overwritten. Edit that file, or choose another folder.", key="root",
                             config_file=found[0])
    language = language or DEFAULTS["language"]
    if language not in LANGUAGES:
        raise WorkspaceError(f"The 'language' of a workspace must be one of {list(LANGUAGES)}. Got {language!r} "
                             "instead.", key="language")
    config_file = root / CONFIG_FILE
    data_path = Path(data).expanduser().resolve()
    if not data_path.exists():
        raise WorkspaceError(
            f"The 'data' key of the new workspace config {str(config_file)!r} must name an existing folder (or "
            f"DuckDB file) of province tables. Got {str(data)!r} (resolved to {str(data_path)!r}) instead: it does "
            "not exist. Pass --data the folder of your extract (a relative path is the current folder's).",
            key="data", config_file=config_file)
    written_data = data_path.relative_to(root).as_posix() if data_path.is_relative_to(root) else data_path.as_posix()
    store = store or DEFAULTS["store"]
    if check_store:
        check_store_url(store, config_file=config_file, root=root)
    else:
        try:
            make_url(store)
        except ArgumentError:
            raise WorkspaceError(f"The 'store' key of the new workspace config {str(config_file)!r} must be a store "
                                 f"URL. Got {store!r} instead.", key="store", config_file=config_file) from None
    root.mkdir(parents=True, exist_ok=True)
    text = config_text(written_data, store=store, language=language)
    with config_file.open("x", encoding="utf-8") as fh:  # "x": never overwrite, even in a race
        fh.write(text)
    return config_file


# ----------------------------------------------------------------- templates: one resolution line
def workspace_data(data: str | os.PathLike = "") -> str:
    """The ``data`` parameter of a template resolved: empty means the workspace's data; a relative path is
    the workspace root's (outside a workspace, the working folder's).

    Raises
    ------
    WorkspaceError
        ``data`` is empty and there is no workspace, or the config's ``data`` does not exist.
    ParameterError
        The given folder does not exist.
    """
    value = os.fspath(data) if data else ""
    ws = find_workspace() if value else require_workspace(parameter="data")
    if not value:
        return str(check_data(ws.data, key="data", config_file=ws.config_file or ws.root / CONFIG_FILE))
    path = ws.path(value) if ws is not None else Path(value).expanduser().resolve()
    return str(check_data(path, key="data", given=value))


def workspace_store(store: str = "") -> str:
    """A template's store URL resolved: empty means ``$WORKBENCH_STORE_URL`` when set (``workbench serve``
    sets it), else the workspace's store; a relative SQLite path is the workspace root's.

    Raises
    ------
    WorkspaceError
        ``store`` is empty, ``$WORKBENCH_STORE_URL`` unset and there is no workspace; or the workspace's
        store is not a usable store URL.
    """
    value = store or os.environ.get(STORE_ENV) or ""
    if value:
        ws = find_workspace()
        return resolve_store_url(value, ws.root if ws is not None else Path.cwd())
    ws = require_workspace(parameter="store")
    return check_store_url(ws.store_url, config_file=ws.config_file or ws.root / CONFIG_FILE, root=ws.root)


def workspace_paths(data: str | os.PathLike = "", run_dir: str | os.PathLike = "", store: str | None = None):
    """A template's ``data``, ``run_dir`` (and ``store``) resolved against the workspace.

    Found from the kernel's working folder upwards or ``$WORKBENCH_WORKSPACE``, so a template runs the
    same from ``templates/``, from a copy anywhere in the workspace, or under papermill.

    Parameters
    ----------
    data : str
        Empty: the workspace's data (``data`` of ``workbench.toml``); else a path (relative: the root's).
    run_dir : str
        Empty: the workspace's run folder ``<runs>/<run>`` (``runs/lab``); else a path (relative: the root's).
    store : str, optional
        Given (even empty): also resolve the store (see :func:`workspace_store`) and return it third.

    Returns
    -------
    tuple of str
        ``(data, run_dir)`` or ``(data, run_dir, store)``; absolute paths.

    Raises
    ------
    WorkspaceError
        An empty value without a workspace (the message names the parameter), or a config naming a missing
        data folder or an unusable store.
    ParameterError
        A given data folder that does not exist.

    Examples
    --------
    >>> data, run_dir = workspace_paths(data, run_dir)    # doctest: +SKIP
    """
    resolved_data = workspace_data(data)
    value = os.fspath(run_dir) if run_dir else ""
    ws = find_workspace() if value else require_workspace(parameter="run_dir")
    if not value:
        resolved_run = ws.run_path()
    else:
        resolved_run = ws.path(value) if ws is not None else Path(value).expanduser().resolve()
    out = (resolved_data, str(resolved_run))
    return out if store is None else (*out, workspace_store(store))


# ----------------------------------------------------------------- the command line's defaults
def path_arg(value: str | os.PathLike | None, ws: Workspace | None = None) -> Path | None:
    """A command's path option resolved against the workspace root (``None`` stays ``None``)."""
    if value is None or value == "":
        return None
    return (ws or cli_workspace()).path(value)


def data_arg(value: str | os.PathLike | None, ws: Workspace | None = None, *, option: str = "--data") -> Path:
    """A command's province data: ``value`` resolved against the workspace root, else the workspace's data.

    Raises
    ------
    WorkspaceError
        No value and the config's ``data`` does not exist (the message names the key and the file).
    ParameterError
        No value outside a workspace, or the given folder does not exist.
    """
    ws = ws or cli_workspace()
    if value:
        return check_data(ws.path(value), key=option, given=os.fspath(value))
    if ws.config_file is None:
        raise ParameterError.from_words("errors.workspace.data_option_required", option=repr(option),
                                        config=CONFIG_FILE, root=repr(str(ws.root)))
    return check_data(ws.data, key="data", config_file=ws.config_file)


def store_arg(value: str | None, ws: Workspace | None = None) -> str:
    """A command's store URL: ``value``, else ``$WORKBENCH_STORE_URL``, else the workspace's store (checked);
    a relative SQLite path is the workspace root's, so every folder reaches the same store.

    Raises
    ------
    WorkspaceError
        The config's store is not a SQLite or PostgreSQL URL or cannot be reached (nothing is written).
    """
    ws = ws or cli_workspace()
    if value or os.environ.get(STORE_ENV):
        return ws.store(value)
    if ws.config_file is None:
        return ws.store_url
    return check_store_url(ws.store_url, config_file=ws.config_file, root=ws.root)
