"""The workspace: discovery, resolution against its root, ``workbench init``, bad configs (nothing written)."""
from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.errors import ParameterError, WorkspaceError
from workbench.workspace import (
    CONFIG_FILE, ENV_VAR, STORE_ENV, check_store_url, cli_workspace, config_text, data_arg, find_root,
    find_workspace, init_workspace, load_workspace, path_arg, store_arg, workspace_data, workspace_paths,
    workspace_store,
)

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_data" / "province"


@pytest.fixture(autouse=True)
def _no_workspace_env(monkeypatch):
    for var in (ENV_VAR, STORE_ENV, "WORKBENCH_LANG"):
        monkeypatch.delenv(var, raising=False)


def write_config(root: Path, **values: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    body = "".join(f'{k} = "{v}"\n' for k, v in values.items())
    path = root / CONFIG_FILE
    path.write_text(f"[workspace]\n{body}", encoding="utf-8")
    return path


def digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(folder.rglob("*"))}


# ----------------------------------------------------------------- discovery
def test_the_repository_is_the_sample_workspace(monkeypatch):
    monkeypatch.chdir(REPO / "templates")
    ws = find_workspace()
    assert ws.root == REPO and ws.config_file == REPO / CONFIG_FILE
    assert ws.data == SAMPLE and ws.run_path() == REPO / "runs" / "lab"
    assert ws.store_url == f"sqlite:///{(REPO / 'runs' / 'store.sqlite').as_posix()}"


def test_walks_up_from_a_sub_folder_and_the_variable_wins(tmp_path, monkeypatch):
    outer = tmp_path / "outer"
    write_config(outer, data=str(SAMPLE))
    deep = outer / "a" / "b"
    deep.mkdir(parents=True)
    assert find_root(deep) == outer
    other = tmp_path / "other"
    write_config(other, data=str(SAMPLE))
    monkeypatch.setenv(ENV_VAR, str(other))
    assert find_root(deep) == other
    monkeypatch.setenv(ENV_VAR, str(deep))
    with pytest.raises(WorkspaceError, match=r"\$WORKBENCH_WORKSPACE names .* which is not a workspace"):
        find_root(outer)


def test_pyproject_tool_table_is_a_workspace(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.workbench]\ndata = "extract"\n'
                                             'run = "mine"\n', encoding="utf-8")
    (tmp_path / "sub").mkdir()
    ws = find_workspace(tmp_path / "sub")
    assert ws.root == tmp_path and ws.config_file == tmp_path / "pyproject.toml"
    assert ws.data == tmp_path / "extract" and ws.run_path() == tmp_path / "runs" / "mine"


def test_a_pyproject_without_the_table_is_not_a_workspace(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    assert find_workspace(tmp_path) is None


def test_unknown_key_and_bad_language_are_named(tmp_path):
    path = write_config(tmp_path, data="d", dta="x")
    with pytest.raises(WorkspaceError, match=r"unknown key\(s\) \['dta'\].*'data', 'store'"):
        load_workspace(tmp_path)
    path.write_text('[workspace]\ndata = "d"\nlanguage = "fr"\n', encoding="utf-8")
    with pytest.raises(WorkspaceError, match="'language' key .* must be one of \\['zh', 'en'\\]. Got 'fr'"):
        load_workspace(tmp_path)
    path.write_text('[workspace\ndata = "d"\n', encoding="utf-8")
    with pytest.raises(WorkspaceError, match="is not valid TOML"):
        load_workspace(tmp_path)


# ----------------------------------------------------------------- resolution against the root
def test_relative_store_url_is_the_roots_from_any_folder(tmp_path, monkeypatch):
    write_config(tmp_path / "ws", data=str(SAMPLE))
    sub = tmp_path / "ws" / "runs" / "demo" / "apps"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    expected = f"sqlite:///{(tmp_path / 'ws' / 'runs' / 'demo' / 'store.sqlite').as_posix()}"
    assert store_arg("sqlite:///runs/demo/store.sqlite") == expected
    assert workspace_store("sqlite:///runs/demo/store.sqlite") == expected
    monkeypatch.setenv(STORE_ENV, "sqlite:///runs/demo/store.sqlite")  # the variable: resolved the same way
    assert store_arg(None) == expected and workspace_store("") == expected
    assert path_arg("runs/x") == tmp_path / "ws" / "runs" / "x"
    assert store_arg("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def test_cli_reads_the_store_of_the_workspace_from_any_folder(tmp_path, monkeypatch, capsys):
    root = tmp_path / "ws"
    write_config(root, data=str(SAMPLE))
    (root / "work" / "deep").mkdir(parents=True)
    monkeypatch.chdir(root / "work" / "deep")
    assert main(["users", "list", "--store", "sqlite:///runs/demo/store.sqlite", "--lang", "en"]) == 0
    assert (root / "runs" / "demo" / "store.sqlite").is_file()
    assert not (root / "work" / "deep" / "runs").exists()
    assert main(["campaign", "list", "--lang", "en"]) == 0  # default: the workspace's store
    assert (root / "runs" / "store.sqlite").is_file()
    assert not (root / "work" / "deep" / "runs").exists()
    capsys.readouterr()


def test_outside_a_workspace_the_working_folder_with_a_hint(tmp_path, monkeypatch, capsys):
    import workbench.workspace as wsmod

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(wsmod, "_HINTED", [])
    monkeypatch.setenv("WORKBENCH_LANG", "en")
    ws = cli_workspace()
    assert ws.root == tmp_path.resolve() and ws.config_file is None
    assert "no workbench.toml" in capsys.readouterr().err
    monkeypatch.setattr(wsmod, "_HINTED", [])
    monkeypatch.setenv("WORKBENCH_LANG", "zh")      # the hint speaks the command line's language
    cli_workspace()
    assert "没有 workbench.toml" in capsys.readouterr().err
    with pytest.raises(ParameterError, match="'--data' option is required outside a workspace"):
        data_arg(None, ws)


def test_template_resolution(tmp_path, monkeypatch):
    root = tmp_path / "ws"
    write_config(root, data=str(SAMPLE), run="mine")
    (root / "copies").mkdir()
    monkeypatch.chdir(root / "copies")
    assert workspace_data("") == str(SAMPLE)
    assert workspace_paths("", "") == (str(SAMPLE), str(root / "runs" / "mine"))
    _, run_dir, store = workspace_paths("", "runs/x", "")
    assert (run_dir, store) == (str(root / "runs" / "x"), f"sqlite:///{(root / 'runs' / 'store.sqlite').as_posix()}")
    with pytest.raises(ParameterError, match="'data' parameter must be an existing folder.*'nope' \\(resolved to"):
        workspace_data("nope")


def test_template_resolution_without_a_workspace_names_the_parameter(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(WorkspaceError, match="The 'data' parameter is empty.*no workspace was found.*workbench init"):
        workspace_paths("", "")
    with pytest.raises(WorkspaceError, match="The 'run_dir' parameter is empty"):
        workspace_paths(str(SAMPLE), "")
    with pytest.raises(WorkspaceError, match="The 'store' parameter is empty"):
        workspace_store("")
    assert workspace_paths(str(SAMPLE), "out") == (str(SAMPLE), str(tmp_path / "out"))


def test_templates_resolve_in_one_line_after_setup():
    import nbformat

    for path in sorted((REPO / "templates").glob("*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        assert nb.metadata.kernelspec.name == "workbench", path.name
        assert nb.metadata.kernelspec.display_name == "Python (workbench)", path.name
        params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        names = {line.split(" = ")[0]: line for line in params.source.split("\n")}
        for name in ("data", "run_dir", "store", "store_url"):
            if name in names:
                assert names[name].startswith(f'{name} = ""  #'), (path.name, names[name])
        if "language" in names and path.stem != "05_campaign_monitoring":
            assert names["language"].startswith('language = "zh"')
        sources = [c.source.split("\n") for c in nb.cells if c.cell_type == "code"]
        setup_lines = next(lines for lines in sources if any(line.startswith("setup(") for line in lines))
        after = setup_lines[next(i for i, line in enumerate(setup_lines) if line.startswith("setup(")) + 1]
        assert "workspace_" in after, (path.name, after)


# ----------------------------------------------------------------- bad configs: which key, file, value, fix
def test_missing_data_folder_names_key_file_path_and_fix(tmp_path, monkeypatch):
    cfg = write_config(tmp_path / "ws", data="extracts/2026-10")
    monkeypatch.chdir(tmp_path / "ws")
    before = digest(tmp_path)
    with pytest.raises(WorkspaceError) as info:
        data_arg(None)
    text = str(info.value)
    assert "'data' key" in text and str(cfg) in text and str(tmp_path / "ws" / "extracts" / "2026-10") in text
    assert "Set data in workbench.toml" in text
    assert info.value.key == "data" and info.value.config_file == cfg
    assert main(["features", "build", "--snapshot", "2026-10", "--out", "f.parquet"]) == 1
    assert main(["data", "validate"]) == 2
    assert digest(tmp_path) == before


@pytest.mark.parametrize("url, found", [
    ("mysql://u@h/db", "must be a SQLite or PostgreSQL store URL"),
    ("not a url", "it is not a URL"),
    ("sqlite:///runs/taken/store.sqlite", "is a file, so the folder of the store cannot be created"),
    ("sqlite:///notes.txt", "the file is not a SQLite database"),
    ("postgresql+psycopg://nobody@127.0.0.1:1/db", "cannot be reached"),
])
def test_unusable_store_names_key_file_url_and_fix(tmp_path, monkeypatch, capsys, url, found):
    root = tmp_path / "ws"
    cfg = write_config(root, data=str(SAMPLE), store=url)
    (root / "runs").mkdir()
    (root / "runs" / "taken").write_text("a file where the store's folder should be", encoding="utf-8")
    (root / "notes.txt").write_text("not a database", encoding="utf-8")
    monkeypatch.chdir(root)
    before = digest(tmp_path)
    with pytest.raises(WorkspaceError, match=found) as info:
        store_arg(None)
    assert "'store' key" in str(info.value) and str(cfg) in str(info.value) and "Set store in workbench.toml" in str(
        info.value)
    for argv in (["campaign", "list"], ["users", "list"], ["app", "publish", "--campaign", "1"]):
        assert main(argv) == 1
        assert "'store' key" in capsys.readouterr().err
    assert digest(tmp_path) == before


def test_check_store_accepts_a_new_or_existing_sqlite_file(tmp_path):
    url = check_store_url("sqlite:///a/b/store.sqlite", root=tmp_path)
    assert url == f"sqlite:///{(tmp_path / 'a' / 'b' / 'store.sqlite').as_posix()}"
    assert not (tmp_path / "a").exists()  # checking creates nothing
    sqlite3.connect(tmp_path / "s.sqlite").execute("create table t (x)").connection.commit()
    assert check_store_url("sqlite:///s.sqlite", root=tmp_path).endswith("/s.sqlite")


# ----------------------------------------------------------------- workbench init
def test_init_writes_a_config_that_loads_back(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "extract").symlink_to(SAMPLE, target_is_directory=True)
    assert main(["init", "ws", "--data", "extract", "--language", "en"]) == 0
    ws = load_workspace(tmp_path / "ws")
    assert ws.data == (tmp_path / "extract").resolve() and ws.language == "en"
    assert ws.store_url == f"sqlite:///{(tmp_path / 'ws' / 'runs' / 'store.sqlite').as_posix()}"
    assert "Workspace created" in capsys.readouterr().out
    assert not (tmp_path / "ws" / "runs").exists()  # the store is made when first used


def test_init_records_data_inside_the_workspace_relative(tmp_path):
    (tmp_path / "ws" / "extract").mkdir(parents=True)
    path = init_workspace(tmp_path / "ws", tmp_path / "ws" / "extract")
    assert 'data = "extract"' in path.read_text(encoding="utf-8")
    assert path.read_text(encoding="utf-8") == config_text("extract")


def test_init_refuses_to_overwrite(tmp_path, capsys):
    cfg = write_config(tmp_path, data="x")
    text = cfg.read_text(encoding="utf-8")
    assert main(["init", str(tmp_path), "--data", str(SAMPLE)]) == 1
    assert "already is a workspace" in capsys.readouterr().err
    assert cfg.read_text(encoding="utf-8") == text


@pytest.mark.parametrize("args, key", [
    (["--data", "missing"], "'data' key"),
    (["--data", str(SAMPLE), "--store", "oracle://x/y"], "'store' key"),
    (["--data", str(SAMPLE), "--store", "postgresql://nobody@127.0.0.1:1/db"], "cannot be reached"),
])
def test_init_writes_nothing_on_a_bad_value(tmp_path, monkeypatch, capsys, args, key):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keep.txt").write_text("x", encoding="utf-8")
    before = digest(tmp_path)
    assert main(["init", "new_ws", *args]) == 1
    assert key in capsys.readouterr().err
    assert digest(tmp_path) == before


def test_relative_store_url_from_any_folder_in_a_new_process(tmp_path):
    """`workbench users list --store sqlite:///runs/demo/store.sqlite` run in a sub-folder opens the root's file."""
    init_workspace(tmp_path / "ws", SAMPLE)
    sub = tmp_path / "ws" / "runs" / "demo" / "apps"
    sub.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in (ENV_VAR, STORE_ENV)}
    result = subprocess.run([sys.executable, "-m", "workbench", "users", "list", "--store",
                             "sqlite:///runs/demo/store.sqlite"], cwd=sub, env=env, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "ws" / "runs" / "demo" / "store.sqlite").is_file()
    assert not (sub / "runs").exists()


def test_served_apps_get_the_workspace_store_as_an_absolute_url(tmp_path, monkeypatch):
    """App kernels run in the apps folder: a relative URL there made a stray store (runs/demo/apps/runs/...)."""
    from workbench.apps.server import ServeSettings, served_store_url

    root = tmp_path / "ws"
    write_config(root, data=str(SAMPLE))
    (root / "elsewhere").mkdir()
    monkeypatch.chdir(root / "elsewhere")
    settings = ServeSettings(apps_dir=root / "runs" / "demo" / "apps", state_dir=root / "runs" / "serve",
                             store_url="sqlite:///runs/demo/store.sqlite")
    assert served_store_url(settings) == f"sqlite:///{(root / 'runs' / 'demo' / 'store.sqlite').as_posix()}"
    monkeypatch.setenv(STORE_ENV, "sqlite:///runs/x.sqlite")
    assert served_store_url(ServeSettings(apps_dir=root / "a", state_dir=root / "s")) == \
        f"sqlite:///{(root / 'runs' / 'x.sqlite').as_posix()}"
