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

The repository itself is a workspace for the sample province.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

__all__ = [
    "CONFIG_FILE",
    "ENV_VAR",
    "DEFAULTS",
    "Workspace",
    "find_root",
    "find_workspace",
    "load_workspace",
    "resolve_store_url",
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


def _config_table(folder: Path) -> tuple[Path, dict] | None:
    """``(config file, [workspace] table)`` of ``folder``, or ``None`` when it is no workspace."""
    toml = folder / CONFIG_FILE
    if toml.is_file():
        with toml.open("rb") as fh:
            return toml, dict(tomllib.load(fh).get("workspace", {}))
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        with pyproject.open("rb") as fh:
            table = tomllib.load(fh).get("tool", {}).get("workbench")
        if table is not None:
            return pyproject, dict(table)
    return None


def find_root(start: str | os.PathLike | None = None) -> Path | None:
    """The workspace root: ``$WORKBENCH_WORKSPACE``, else the first folder from ``start`` (default
    the working folder) upwards holding a workspace config; ``None`` when there is none."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser().resolve()
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
        """The store URL of a parameter: empty means the workspace's store."""
        return resolve_store_url(value, self.root) if value else self.store_url


def load_workspace(root: str | os.PathLike) -> Workspace:
    """The workspace whose root is ``root`` (defaults where it has no config)."""
    root = Path(root).expanduser().resolve()
    found = _config_table(root)
    config_file, table = found if found is not None else (None, {})
    values = {**DEFAULTS, **{k: str(v) for k, v in table.items()}}
    ws = Workspace(root=root, config_file=config_file, data=Path(), store_url="", runs=Path(),
                   run=values["run"], language=values["language"])
    return Workspace(
        root=root,
        config_file=config_file,
        data=ws.path(values.get("data", "data")),
        store_url=resolve_store_url(values["store"], root),
        runs=ws.path(values["runs"]),
        run=values["run"],
        language=values["language"],
    )


def find_workspace(start: str | os.PathLike | None = None) -> Workspace | None:
    """The workspace around ``start`` (see :func:`find_root`), or ``None`` outside any workspace."""
    root = find_root(start)
    return None if root is None else load_workspace(root)
