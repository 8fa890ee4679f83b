"""Templated notebooks: parameters, copying, running in a real kernel, HTML reports, CLI, demo,
and the narrative helpers of workbench.notebook."""
from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import workbench.i18n as i18n
from workbench import notebook as wnb
from workbench import templates as wt
from workbench.cli import main
from workbench.commands import demo
from workbench.data import BRANCHES, table
from workbench.errors import ParameterError
from workbench.i18n import t

HELLO = "00_hello"
PLOTLY_MARK = "* plotly.js v"  # the banner at the top of the embedded plotly.js


# ----------------------------------------------------------------- fixtures
@pytest.fixture(autouse=True)
def _clean_state(monkeypatch):
    """Each test starts in zh with the real templates folder and leaves global display state as it was."""
    monkeypatch.delenv("WORKBENCH_LANG", raising=False)
    monkeypatch.delenv(wt.TEMPLATES_ENV, raising=False)
    monkeypatch.setattr(i18n, "_current", None)
    renderer = pio.renderers.default
    options = {name: pd.get_option(name) for name in wnb.PANDAS_OPTIONS}
    yield
    pio.renderers.default = renderer
    for name, value in options.items():
        pd.set_option(name, value)


@pytest.fixture(scope="module")
def province(tmp_path_factory) -> Path:
    """A tiny province: 2 branches and 3 subscribers, as Parquet files."""
    folder = tmp_path_factory.mktemp("province")
    branches = table("branches")
    pd.DataFrame([(b, zh, en, b == BRANCHES[0][0]) for b, zh, en in BRANCHES[:2]],
                 columns=branches.column_names).to_parquet(folder / f"{branches.name}.parquet")
    subscribers = table("subscribers")
    pd.DataFrame({subscribers.primary_key[0]: [1, 2, 3]}).to_parquet(folder / f"{subscribers.name}.parquet")
    return folder


def _notebook(path: Path, parameters: str, *cells, metadata=None) -> Path:
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                                "language_info": {"name": "python"}, **(metadata or {})})
    nb.cells = [new_code_cell(parameters, metadata={"tags": ["parameters"]}), *cells]
    nbformat.write(nb, str(path))
    return path


@pytest.fixture
def own_templates(tmp_path, monkeypatch) -> Path:
    """A templates folder holding a copy of 00_hello and a template without metadata."""
    folder = tmp_path / "templates"
    folder.mkdir()
    shutil.copyfile(wt.templates_dir() / f"{HELLO}.ipynb", folder / f"{HELLO}.ipynb")
    _notebook(folder / "10_plain.ipynb", "n = 3  # how many", new_markdown_cell("# Plain title\n\nOne line about it."))
    monkeypatch.setenv(wt.TEMPLATES_ENV, str(folder))
    return folder


def _outputs(nb_path: Path) -> list[dict]:
    nb = nbformat.read(str(nb_path), as_version=4)
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def _markdown_outputs(nb_path: Path) -> list[str]:
    return [o["data"]["text/markdown"] for o in _outputs(nb_path) if "text/markdown" in o.get("data", {})]


@pytest.fixture(scope="module")
def demo_zh(province, tmp_path_factory):
    """The demo run through the API on the tiny province: 00_hello (in zh, its default) and a missing step.

    Returns the run results, what the demo printed and its output folder.  (One kernel run serves both
    the demo's tests and those of a template run, to keep the suite fast.)
    """
    out = tmp_path_factory.mktemp("demo_zh")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        results = demo.run_demo(province, out, steps=[HELLO, "99_not_written_yet"], progress=False)
    return results, printed.getvalue(), out


@pytest.fixture(scope="module")
def hello_zh(demo_zh):
    """The run of 00_hello in zh."""
    return demo_zh[0][0]


# ----------------------------------------------------------------- the test session's Jupyter
def test_jupyter_env_is_isolated_and_the_venv_kernel_is_reachable(jupyter_env):
    from jupyter_client.kernelspec import KernelSpecManager

    assert os.environ["JUPYTER_DATA_DIR"].startswith(str(jupyter_env))
    assert os.environ["IPYTHONDIR"].startswith(str(jupyter_env))
    specs = KernelSpecManager().find_kernel_specs()
    assert Path(specs[wt.DEFAULT_KERNEL]).resolve().is_relative_to(Path(sys.prefix).resolve())


# ----------------------------------------------------------------- finding and listing
def test_templates_dir_is_the_repository_folder_unless_overridden(tmp_path, monkeypatch):
    assert wt.templates_dir() == Path(wt.__file__).resolve().parent.parent / "templates"
    assert (wt.templates_dir() / f"{HELLO}.ipynb").is_file()
    monkeypatch.setenv(wt.TEMPLATES_ENV, str(tmp_path))
    assert wt.templates_dir() == tmp_path
    assert wt.list_templates() == []


def test_list_templates_reads_titles_from_metadata_or_first_markdown_cell(own_templates):
    zh = {i.name: i for i in wt.list_templates()}
    en = {i.name: i for i in wt.list_templates(lang="en")}
    assert list(zh) == [HELLO, "10_plain"]
    assert zh[HELLO].title == t("templates.hello.title", lang="zh")
    assert en[HELLO].title == "Hello, workbench"
    assert en[HELLO].description == t("templates.hello.description", lang="en")
    assert (zh["10_plain"].title, zh["10_plain"].description) == ("Plain title", "One line about it.")


def test_find_template_by_name_or_path_and_unknown_name(own_templates):
    assert wt.find_template(HELLO) == own_templates / f"{HELLO}.ipynb"
    assert wt.find_template(f"{HELLO}.ipynb") == own_templates / f"{HELLO}.ipynb"
    assert wt.find_template(own_templates / "10_plain.ipynb") == own_templates / "10_plain.ipynb"
    with pytest.raises(ParameterError, match=r"'template' parameter .*\['00_hello', '10_plain'\].*'00_helo'.*"
                                             r"Did you mean '00_hello'"):
        wt.find_template("00_helo")


# ----------------------------------------------------------------- parameters
def test_parse_parameters_reads_defaults_and_meanings():
    params = wt.parse_parameters('language = "zh"  # report language\nlimit: int = 5\nbranches = []  # which\n')
    assert list(params) == ["language", "limit", "branches"]
    assert params["language"] == wt.TemplateParameter("language", "zh", "report language")
    assert (params["limit"].default, params["limit"].help, params["limit"].type_name) == (5, "", "int")
    assert params["branches"].default == []


def test_hello_declares_language_and_data():
    params = wt.template_parameters(HELLO)
    assert {n: p.default for n, p in params.items()} == {"language": "zh", "data": ""}  # "": the workspace's
    assert all(p.help for p in params.values())


@pytest.mark.parametrize(("source", "message"), [
    ("import os", r"line 1: expected `name = default  # meaning`, got 'import os'"),
    ("x = 1\ndata = Path('x')", r"line 2: the default of 'data' must be a literal .* got \"Path\('x'\)\""),
    ("x = ", r"not valid Python"),
])
def test_parse_parameters_rejects_anything_but_literal_assignments(source, message):
    with pytest.raises(wt.TemplateError, match=message):
        wt.parse_parameters(source, "t")


def test_coerce_parameters_converts_command_line_strings_to_the_defaults_types():
    declared = wt.parse_parameters('n = 3\nx = 0.5\nflag = False\nname = "a"\nitems = []\nopt = None\nlanguage = "zh"')
    got = wt.coerce_parameters(declared, {"n": "12", "x": "2", "flag": "yes", "name": Path("p/q"),
                                          "items": "a, b", "opt": "7", "language": "en"})
    assert got == {"n": 12, "x": 2.0, "flag": True, "name": "p/q", "items": ["a", "b"], "opt": 7, "language": "en"}
    assert wt.coerce_parameters(declared, {"items": '["u", 1]', "opt": "text", "x": 3}) == {
        "items": ["u", 1], "opt": "text", "x": 3.0}


@pytest.mark.parametrize(("values", "message"), [
    ({"colour": "red"}, r"no parameter 'colour'; its parameters are \['flag', 'language', 'n'\]"),
    ({"nn": "1"}, r"no parameter 'nn'.*Did you mean 'n'"),
    ({"n": "three"}, r"'n' parameter must be an integer .* Got 'three'"),
    ({"n": 1.5}, r"'n' parameter must be an integer"),
    ({"flag": "maybe"}, r"'flag' parameter must be a boolean .* Got 'maybe'"),
    ({"language": "fr"}, r"'language' parameter must be one of \['zh', 'en'\]. Got 'fr'"),
])
def test_coerce_parameters_names_the_bad_parameter(values, message):
    declared = wt.parse_parameters('n = 3\nflag = False\nlanguage = "zh"')
    with pytest.raises(ParameterError, match=message):
        wt.coerce_parameters(declared, values, "t")


def test_run_template_rejects_bad_parameters_before_starting_a_kernel(tmp_path, own_templates):
    out = tmp_path / "out"
    with pytest.raises(ParameterError, match=r"Template '00_hello' has no parameter 'date'; its parameters are "
                                             r"\['data', 'language'\]. Did you mean 'data'"):
        wt.run_template(HELLO, {"date": "x"}, out)
    with pytest.raises(ParameterError, match=r"Template '10_plain' has no 'language' parameter"):
        wt.run_template("10_plain", {}, out, language="en")
    with pytest.raises(ParameterError, match=r"'kernel_name' parameter must be one of the installed kernels .*"
                                             r"Got 'no-such-kernel'"):
        wt.run_template(HELLO, {}, out, kernel_name="no-such-kernel")
    with pytest.raises(ParameterError, match=r"'out_dir' parameter must be a folder other than the template's own"):
        wt.run_template(HELLO, {}, own_templates)
    assert not out.exists()


# ----------------------------------------------------------------- copying
@pytest.mark.kernel
def test_template_kernel_talks_over_private_sockets_that_are_removed_after_the_run(tmp_path, own_templates, capfd):
    probe = new_code_cell("from ipykernel.kernelapp import IPKernelApp\n"
                          "app = IPKernelApp.instance()\nprint(app.transport, app.connection_file)")
    _notebook(own_templates / "11_probe.ipynb", "n = 1", probe)
    result = wt.run_template("11_probe", out_dir=tmp_path / "out", progress=False)
    transport, connection_file = _outputs(result.notebook)[0]["text"].split()
    assert transport == "ipc"
    folder = Path(connection_file).parent
    assert folder.name.startswith("wb-kernel-") and not folder.exists()
    assert "without encryption" not in capfd.readouterr().err


def test_new_template_copies_and_never_overwrites(tmp_path):
    copy = wt.new_template(HELLO, tmp_path / "mine")
    assert copy == tmp_path / "mine" / f"{HELLO}.ipynb"
    assert copy.read_bytes() == (wt.templates_dir() / f"{HELLO}.ipynb").read_bytes()
    named = wt.new_template(HELLO, tmp_path / "renamed.ipynb")
    assert named.is_file()
    copy.write_text("{}", encoding="utf-8")
    with pytest.raises(wt.DestinationExistsError, match=r"already exists; choose another destination"):
        wt.new_template(HELLO, tmp_path / "mine")
    assert copy.read_text(encoding="utf-8") == "{}"
    with pytest.raises(FileExistsError):  # what a caller outside the workbench would catch
        wt.new_template(HELLO, named)


# ----------------------------------------------------------------- running 00_hello in a real kernel
@pytest.mark.kernel
def test_run_writes_an_executed_notebook_with_outputs(hello_zh, province):
    assert hello_zh.notebook.is_file() and hello_zh.html.is_file()
    assert hello_zh.parameters == {"data": str(province)}
    nb = nbformat.read(str(hello_zh.notebook), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in code)
    calls = [c for c in code if not {"parameters", "injected-parameters"} & set(c.metadata.get("tags", []))
             and "setup(" not in c.source]  # setup displays nothing; plotly.js comes with the first figure
    assert len(calls) == 4 and all(c.outputs for c in calls)
    assert not [o for o in _outputs(hello_zh.notebook) if o["output_type"] == "error"]


@pytest.mark.kernel
def test_run_narrative_is_filled_with_the_numbers_of_the_data(hello_zh, province):
    expected = wnb.narrative("templates.hello.data", lang="zh", data=str(province), tables=2, rows=5)
    assert expected in _markdown_outputs(hello_zh.notebook)
    html = hello_zh.html.read_text(encoding="utf-8")
    assert "<strong>5</strong>" in html and t("templates.hello.kpi.rows", lang="zh") in html
    assert '<html lang="zh">' in html


@pytest.mark.kernel
def test_html_report_has_no_code_and_embeds_plotly_once(hello_zh):
    html = hello_zh.html.read_text(encoding="utf-8")
    for code in ("narrate", "data_overview", "kpi_cards", "workbench.notebook"):  # words of the code cells
        assert code not in html
    assert '<div class="jp-InputArea-editor' not in html and '<div class="highlight' not in html
    assert html.count(PLOTLY_MARK) == 1
    assert html.count('class="plotly-graph-div"') == 1
    assert not re.findall(r"<script[^>]+src=", html), "the report must not load scripts from elsewhere"
    assert "notebook_connected" not in html and "cdn.plot.ly/plotly" not in html
    assert t("templates.overview.title", lang="zh").encode("unicode_escape").decode() in html


@pytest.mark.kernel
def test_failed_cell_names_template_cell_and_exception_and_keeps_the_notebook(tmp_path):
    path = _notebook(tmp_path / "broken.ipynb", "x = 1  # a number",
                     new_code_cell("y = x * 10"), new_code_cell("raise ValueError(f'boom {y}')"))
    with pytest.raises(wt.TemplateError, match=r"template 'broken' failed in cell 3 .*starting `raise ValueError"
                                               r".*ValueError: boom 20.*kept at") as caught:
        wt.run_template(path, {"x": "2"}, tmp_path / "out", progress=False)
    err = caught.value
    assert (err.ename, err.evalue, err.cell_index) == ("ValueError", "boom 20", 3)
    assert err.notebook == tmp_path / "out" / "broken.ipynb" and err.notebook.is_file()
    assert [o["ename"] for o in _outputs(err.notebook) if o["output_type"] == "error"] == ["ValueError"]
    assert not (tmp_path / "out" / "broken.html").exists()


# ----------------------------------------------------------------- command line
def test_cli_list(capsys):
    assert main(["template", "list", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"00_hello\s+Hello, workbench - The smallest example template", out)


def test_cli_new_copies_then_refuses_to_overwrite(tmp_path, capsys):
    assert main(["template", "new", HELLO, str(tmp_path), "--lang", "en"]) == 0
    assert (tmp_path / f"{HELLO}.ipynb").is_file()
    assert "Template copied to" in capsys.readouterr().out
    assert main(["template", "new", HELLO, str(tmp_path)]) == 1
    assert "already exists" in capsys.readouterr().err


def test_cli_run_rejects_unknown_and_repeated_parameters(tmp_path, capsys):
    assert main(["template", "run", HELLO, "-p", "colour", "red", "--out", str(tmp_path)]) == 1
    assert re.search(r"no parameter 'colour'; its parameters are \['data', 'language'\]", capsys.readouterr().err)
    assert main(["template", "run", HELLO, "-p", "data", "a", "-p", "data", "b", "--out", str(tmp_path)]) == 1
    assert "给出了两次" in capsys.readouterr().err                 # the command line's language (zh by default)
    assert main(["template", "run", HELLO, "-p", "data", "a", "-p", "data", "b", "--out", str(tmp_path),
                 "--lang", "en"]) == 1
    assert "given twice" in capsys.readouterr().err


@pytest.mark.kernel
def test_cli_run_in_english_changes_the_narrative(province, tmp_path, capsys, hello_zh):
    rc = main(["template", "run", HELLO, "-p", "data", str(province), "--out", str(tmp_path), "--lang", "en",
               "--no-progress"])
    assert rc == 0
    out = capsys.readouterr().out
    assert f"HTML report: {tmp_path / (HELLO + '.html')}" in out
    en = _markdown_outputs(tmp_path / f"{HELLO}.ipynb")
    zh = _markdown_outputs(hello_zh.notebook)
    assert wnb.narrative("templates.hello.data", lang="en", data=str(province), tables=2, rows=5) in en
    assert len(en) == len(zh) and not set(en) & set(zh)
    assert "Rows in total" in (tmp_path / f"{HELLO}.html").read_text(encoding="utf-8")


# ----------------------------------------------------------------- demo
def test_demo_starts_with_hello():
    assert demo.DEMO_STEPS[0] == HELLO


def test_demo_without_data_says_run_make_sample(tmp_path, capsys):
    with pytest.raises(ParameterError, match=r"'data' parameter .* does not exist. Run `make sample`"):
        demo.run_demo(tmp_path / "missing", tmp_path / "out", progress=False)
    assert main(["demo", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "out")]) == 1
    assert "make sample" in capsys.readouterr().err


@pytest.mark.kernel
def test_demo_runs_each_step_and_skips_missing_templates(demo_zh):
    results, printed, out = demo_zh
    assert [r.name for r in results] == [HELLO]
    assert t("templates.demo.step", lang="zh", name=HELLO, path=out / f"{HELLO}.html") in printed
    assert t("templates.demo.skipped", lang="zh", name="99_not_written_yet") in printed
    assert t("templates.demo.done", lang="zh", count=1, folder=out) in printed
    assert sorted(p.name for p in out.iterdir()) == [f"{HELLO}.html", f"{HELLO}.ipynb"]


# ----------------------------------------------------------------- notebook helpers (in process)
def test_setup_sets_language_renderer_and_pandas_options():
    wnb.setup("en")
    assert i18n.get_language() == "en"
    assert pio.renderers.default == wnb.PLOTLY_RENDERER
    assert "notebook_connected" not in pio.renderers.default
    assert pd.get_option("display.max_columns") == wnb.PANDAS_OPTIONS["display.max_columns"]
    with pytest.raises(ParameterError, match=r"'language' parameter must be one of .* Got 'fr'"):
        wnb.setup("fr")


def test_offline_renderer_embeds_plotly_once_and_no_cdn():
    import plotly.io as pio

    wnb.setup("zh")
    renderer = pio.renderers[wnb.OFFLINE_RENDERER]
    fig_html = renderer.to_mimebundle(go.Figure(go.Bar(x=["a"], y=[1])).to_dict())["text/html"]
    assert "plotly-graph-div" in fig_html
    assert PLOTLY_MARK not in fig_html and "mathjax" not in fig_html.lower() and "cdn" not in fig_html


def test_narrative_fills_numbers_in_both_languages():
    assert wnb.narrative("templates.hello.data", lang="zh", data="d", tables=2, rows=12345) == (
        "数据源 `d` 中有 **2** 张数据模型中的表，共 **12,345** 行。")
    assert "**12,345** rows" in wnb.narrative("templates.hello.data", lang="en", data="d", tables=2, rows=12345)
    i18n.set_language("en")
    assert wnb.narrative("templates.hello.kpi.tables") == "Tables"


def test_narrative_names_missing_and_unused_values():
    with pytest.raises(ParameterError, match=r"'templates.hello.data' needs the values \['data', 'rows', 'tables'\]; "
                                             r"missing \['rows'\], not used \['row'\]"):
        wnb.narrative("templates.hello.data", data="d", tables=1, row=2)
    with pytest.raises(KeyError, match="no.such.key"):
        wnb.narrative("no.such.key")


def test_guide_html_is_a_box_with_heading_and_rendered_markdown():
    html = wnb.guide_html("templates.hello.guide.chart", lang="en")
    assert 'class="wb-guide"' in html and "A note for new analysts" in html
    assert "<code>make sample</code>" in html


def test_kpi_cards_html_formats_values():
    html = wnb.kpi_cards_html({"templates.hello.kpi.rows": 1234567, "templates.hello.kpi.tables": 0.0366,
                               "common.yes": True, "common.total": "n/a <x>"},
                              formats={"templates.hello.kpi.tables": "{:.1%}"}, lang="en")
    assert html.count('class="wb-kpi"') == 4
    for shown in ("Rows in total", "1,234,567", "3.7%", ">Yes<", "n/a &lt;x&gt;"):
        assert shown in html
    assert "2.50" in wnb.kpi_cards_html({"common.total": 2.5})


def test_kpi_cards_html_rejects_empty_and_unknown_formats():
    with pytest.raises(ParameterError, match=r"'values' parameter must be a non-empty mapping"):
        wnb.kpi_cards_html({})
    with pytest.raises(ParameterError, match=r"'formats' parameter names keys that are not in 'values': \['x'\]"):
        wnb.kpi_cards_html({"common.total": 1}, formats={"x": "{:.1%}"})


def test_show_rejects_what_is_not_a_figure():
    with pytest.raises(ParameterError, match=r"'fig' parameter must be a plotly.graph_objects.Figure. Got 'dict'"):
        wnb.show({"data": []})


def test_show_displays_several_figures_in_order_and_none_for_none(monkeypatch):
    shown = []
    monkeypatch.setattr(go.Figure, "show", lambda fig: shown.append(fig.layout.title.text))
    wnb.show()
    assert shown == []
    wnb.show(go.Figure(layout={"title": "a"}), go.Figure(layout={"title": "b"}))
    assert shown == ["a", "b"]
    with pytest.raises(ParameterError, match=r"'fig' parameter must be a plotly.graph_objects.Figure. Got 'int'"):
        wnb.show(go.Figure(layout={"title": "c"}), 3)
    assert shown == ["a", "b"]                       # nothing is shown when one of them is not a figure


def test_data_overview_counts_rows_per_table(province, tmp_path):
    overview = wnb.data_overview(province, lang="en")
    assert list(overview.columns) == list(wnb.OVERVIEW_COLUMNS)
    assert overview["table"].tolist() == ["branches", "subscribers"]
    assert overview["rows"].tolist() == [2, 3]
    assert overview["label"].tolist() == [table("branches").meaning, table("subscribers").meaning]
    assert wnb.overview_totals(overview) == {"tables": 2, "rows": 5}
    empty = wnb.data_overview(tmp_path / "missing")
    assert empty.empty and list(empty.columns) == list(wnb.OVERVIEW_COLUMNS)
    assert wnb.overview_totals(empty) == {"tables": 0, "rows": 0}


def test_overview_figure_draws_one_bar_per_table(province):
    overview = wnb.data_overview(province, lang="zh")
    fig = wnb.overview_figure(overview, lang="en")
    assert isinstance(fig, go.Figure)
    assert list(fig.data[0].y) == [2, 3]
    assert list(fig.data[0].x) == [table("branches").meaning_zh, table("subscribers").meaning_zh]
    assert fig.layout.title.text == "Rows in each table"
