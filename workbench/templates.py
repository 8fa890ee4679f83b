"""Templated notebooks: find them, copy one to adapt, run one into a report.

A template is a notebook in the repository's ``templates/`` folder (or the
folder named by the ``WORKBENCH_TEMPLATES`` environment variable).  Its first
code cell is tagged ``parameters`` and holds one ``name = default  # meaning``
line per parameter (papermill's convention); the rest are narrative and calls
of the package (see :mod:`workbench.notebook`).

:func:`run_template` checks the parameters against that cell, executes the
notebook in a real kernel with papermill and writes an HTML report without
code (plotly.js embedded once, so the report works offline).

Examples
--------
>>> from workbench.templates import list_templates, run_template
>>> [info.name for info in list_templates()]                      # doctest: +SKIP
['00_hello']
>>> run_template("00_hello", {"data": "sample_data/province"}, "runs/hello")  # doctest: +SKIP
RunResult(name='00_hello', notebook=PosixPath('runs/hello/00_hello.ipynb'), ...)
"""
from __future__ import annotations

import ast
import difflib
import io
import json
import numbers
import os
import shutil
import tempfile
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from workbench.errors import DestinationExistsError, ParameterError, TemplateError  # noqa: F401 (errors re-exported)
from workbench.i18n import LANGUAGES, catalogue, get_language

__all__ = [
    "TEMPLATES_ENV",
    "DEFAULT_KERNEL",
    "TemplateError",
    "DestinationExistsError",
    "TemplateInfo",
    "TemplateParameter",
    "RunResult",
    "templates_dir",
    "list_templates",
    "find_template",
    "find_notebook",
    "read_notebook",
    "template_parameters",
    "parse_parameters",
    "coerce_parameters",
    "new_template",
    "run_template",
    "export_html",
]

#: Environment variable naming another folder of templates.
TEMPLATES_ENV = "WORKBENCH_TEMPLATES"
#: The tag of a template's parameters cell, and the tag papermill gives the cell it injects.
PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
#: Cells with this tag are left out of the HTML report.
REMOVE_TAG = "remove_cell"
#: The kernel a template runs in unless told otherwise: the python3 kernel of the running
#: interpreter (jupyter_client starts it with ``sys.executable``, so it sees this workbench).
DEFAULT_KERNEL = "python3"
# The lab template without the CDN scripts (require.js, MathJax, mermaid) nbconvert adds:
# a report needs none of them and must open without network.
_OFFLINE_REPORT_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


@dataclass(frozen=True)
class TemplateParameter:
    """One parameter of a template, as its parameters cell declares it.

    Parameters
    ----------
    name : str
        The variable name.
    default : object
        The default value (a Python literal); its type is the type values are coerced to.
    help : str
        The comment after the assignment (what the parameter means).
    """

    name: str
    default: object
    help: str = ""

    @property
    def type_name(self) -> str:
        """Name of the default's type (``"NoneType"`` when the default is ``None``)."""
        return type(self.default).__name__


@dataclass(frozen=True)
class TemplateInfo:
    """A template found in the templates folder."""

    name: str
    title: str
    description: str
    path: Path


@dataclass(frozen=True)
class RunResult:
    """Where a run of a template wrote its output."""

    name: str
    notebook: Path
    html: Path
    parameters: dict = field(default_factory=dict)


# ----------------------------------------------------------------- finding templates
def templates_dir() -> Path:
    """The folder templates are looked up in.

    ``$WORKBENCH_TEMPLATES`` when set, else the ``templates/`` folder of the
    repository this package is installed from.
    """
    override = os.environ.get(TEMPLATES_ENV)
    if override:
        return Path(override).expanduser()
    return Path(__file__).resolve().parent.parent / "templates"


def _template_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))


def find_template(name_or_path: str | os.PathLike) -> Path:
    """The notebook of a template, given its name (``"00_hello"``) or a path to a notebook.

    Raises
    ------
    ParameterError
        When neither a notebook at that path nor a template of that name exists;
        the message lists the available templates.
    """
    return find_notebook(name_or_path, templates_dir(), [p.stem for p in _template_files(templates_dir())],
                         parameter="template", kind="templates")


def find_notebook(name_or_path: str | os.PathLike, folder: Path, available: list[str], *, parameter: str,
                  kind: str) -> Path:
    """A notebook by path, or by name (``"00_hello"``) in ``folder`` (templates, app notebooks).

    Raises
    ------
    ParameterError
        Naming ``parameter``, the ``available`` names of ``kind`` in ``folder`` and the closest match.
    """
    candidate = Path(name_or_path)
    if candidate.suffix == ".ipynb" and candidate.is_file():
        return candidate
    stem = candidate.name[:-len(".ipynb")] if candidate.name.endswith(".ipynb") else candidate.name
    if candidate.parent == Path(".") and (folder / f"{stem}.ipynb").is_file():
        return folder / f"{stem}.ipynb"
    close = difflib.get_close_matches(str(name_or_path), available, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ParameterError(
        f"The {parameter!r} parameter must be a notebook file or one of the {kind} in {folder}: "
        f"{available}. Got {str(name_or_path)!r} instead.{hint}"
    )


def read_notebook(path: Path, error: type[Exception], what: str):
    """The notebook at ``path`` (nbformat v4), or ``error`` saying ``"<what> '<path>' is not a readable
    notebook: <reason>"``."""
    import nbformat

    try:
        return nbformat.read(str(path), as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types for a bad file
        raise error(f"{what} {str(path)!r} is not a readable notebook: {exc}") from exc


def _read(path: Path):
    return read_notebook(path, TemplateError, "template")


def _label(value, lang: str) -> str:
    """A metadata entry: a catalogue key, a ``{lang: text}`` mapping or plain text."""
    if isinstance(value, Mapping):
        return str(value.get(lang) or next(iter(value.values()), ""))
    text = str(value or "")
    entry = catalogue().get(text)
    return entry[lang] if entry else text


def _title_and_description(nb, lang: str) -> tuple[str, str]:
    meta = nb.metadata.get("workbench", {}) or {}
    title = _label(meta.get("title"), lang)
    description = _label(meta.get("description"), lang)
    if not (title and description):
        for cell in nb.cells:
            if cell.cell_type != "markdown":
                continue
            lines = [ln.strip() for ln in cell.source.splitlines() if ln.strip()]
            heads = [ln.lstrip("#").strip() for ln in lines if ln.startswith("#")]
            prose = [ln for ln in lines if not ln.startswith("#")]
            title = title or (heads[0] if heads else "")
            description = description or (prose[0] if prose else "")
            break
    return title, description


def list_templates(lang: str | None = None) -> list[TemplateInfo]:
    """The templates of :func:`templates_dir`, sorted by name.

    Parameters
    ----------
    lang : {"zh", "en"}, optional
        Language of titles and descriptions; the current one when omitted.

    Returns
    -------
    list of TemplateInfo
        Title and one-line description come from the notebook metadata
        ``{"workbench": {"title": ..., "description": ...}}`` (catalogue keys,
        ``{lang: text}`` or text), else from the first Markdown cell.
    """
    lang = lang or get_language()
    infos = []
    for path in _template_files(templates_dir()):
        title, description = _title_and_description(_read(path), lang)
        infos.append(TemplateInfo(path.stem, title or path.stem, description, path))
    return infos


# ----------------------------------------------------------------- parameters
def parse_parameters(source: str, template: str = "template") -> dict[str, TemplateParameter]:
    """Parse a parameters cell: one ``name = default  # meaning`` per line.

    Parameters
    ----------
    source : str
        The cell's source.
    template : str
        The template's name, for error messages.

    Raises
    ------
    TemplateError
        When the cell holds anything but assignments of literals to names.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise TemplateError(f"the parameters cell of {template!r} is not valid Python: {exc}") from exc
    comments: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
    found: dict[str, TemplateParameter] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, value = node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name, value = node.target.id, node.value
        else:
            raise TemplateError(
                f"the parameters cell of {template!r}, line {node.lineno}: expected `name = default  # meaning`, "
                f"got {ast.get_source_segment(source, node)!r}"
            )
        try:
            default = ast.literal_eval(value)
        except ValueError:
            raise TemplateError(
                f"the parameters cell of {template!r}, line {node.lineno}: the default of {name!r} must be a literal "
                f"(str, int, float, bool, None, list, dict); got {ast.get_source_segment(source, value)!r}"
            ) from None
        found[name] = TemplateParameter(name, default, comments.get(node.lineno, ""))
    return found


def _parameters_cell(nb):
    for cell in nb.cells:
        if cell.cell_type == "code" and PARAMETERS_TAG in cell.get("metadata", {}).get("tags", []):
            return cell
    return None


def template_parameters(name_or_path: str | os.PathLike) -> dict[str, TemplateParameter]:
    """The parameters a template declares in its ``parameters``-tagged cell (empty when it has none)."""
    path = find_template(name_or_path)
    cell = _parameters_cell(_read(path))
    return parse_parameters(cell.source, path.stem) if cell is not None else {}


_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


def _coerce(name: str, value, default):
    """``value`` converted to the type of ``default`` (strings as typed on a command line)."""
    if isinstance(default, bool):
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        if isinstance(value, bool) or type(value).__name__ == "bool_":
            return bool(value)
        raise ParameterError.invalid(name, "a boolean (true/false, yes/no, 1/0)", value)
    if isinstance(default, int):
        try:
            if isinstance(value, str):
                return int(value.strip())
            if isinstance(value, numbers.Integral) and not isinstance(value, bool):
                return int(value)
        except ValueError:
            pass
        raise ParameterError.invalid(name, f"an integer (the default is {default!r})", value)
    if isinstance(default, float):
        try:
            if isinstance(value, str):
                return float(value.strip())
            if isinstance(value, numbers.Real) and not isinstance(value, bool):
                return float(value)
        except ValueError:
            pass
        raise ParameterError.invalid(name, f"a number (the default is {default!r})", value)
    if isinstance(default, str):
        if isinstance(value, (str, os.PathLike)):
            return os.fspath(value)
        raise ParameterError.invalid(name, f"a string (the default is {default!r})", value)
    if isinstance(default, (list, tuple, dict)):
        kind = dict if isinstance(default, dict) else list
        if isinstance(value, str):
            parsed = None
            for parse in (json.loads, ast.literal_eval):
                try:
                    parsed = parse(value)
                    break
                except (ValueError, SyntaxError):
                    continue
            if parsed is None and kind is list:
                parsed = [part.strip() for part in value.split(",") if part.strip()]
            value = parsed
        if kind is list and isinstance(value, (list, tuple)):
            return list(value)
        if kind is dict and isinstance(value, Mapping):
            return dict(value)
        raise ParameterError.invalid(name, f"a {kind.__name__} (the default is {default!r})", value)
    # default None: keep what was given; a string that reads as a literal becomes that literal
    if isinstance(value, str):
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
    return value


def coerce_parameters(declared: Mapping[str, TemplateParameter], values: Mapping[str, object] | None,
                      template: str = "template") -> dict[str, object]:
    """Check parameter names against a template's and convert values to the defaults' types.

    Parameters
    ----------
    declared : mapping
        What :func:`template_parameters` returned.
    values : mapping, optional
        ``{name: value}``; strings (as typed on a command line) are converted to the
        type of the parameter's default (``"5"`` -> ``5``, ``"yes"`` -> ``True``,
        ``"a,b"`` or ``'["a", "b"]'`` -> ``["a", "b"]``).
    template : str
        The template's name, for error messages.

    Raises
    ------
    ParameterError
        When a name is not a parameter of the template (the message lists the
        allowed names) or a value cannot be converted.
    """
    out: dict[str, object] = {}
    for name, value in (values or {}).items():
        if name not in declared:
            close = difflib.get_close_matches(name, list(declared), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ParameterError(
                f"Template {template!r} has no parameter {name!r}; its parameters are {sorted(declared)}.{hint}"
            )
        out[name] = _coerce(name, value, declared[name].default)
    if "language" in out and out["language"] not in LANGUAGES:
        raise ParameterError.invalid("language", f"one of {list(LANGUAGES)}", out["language"])
    return out


# ----------------------------------------------------------------- copying and running
def new_template(name: str, dest: str | os.PathLike) -> Path:
    """Copy a template for an analyst to adapt.

    Parameters
    ----------
    name : str
        Template name (or path to a notebook).
    dest : path
        A folder (the copy keeps the template's file name) or a ``.ipynb`` path.

    Returns
    -------
    pathlib.Path
        The new notebook.

    Raises
    ------
    ParameterError
        When the template does not exist.
    DestinationExistsError
        When the destination notebook already exists (nothing is overwritten).
    """
    source = find_template(name)
    dest = Path(dest)
    target = dest if dest.suffix == ".ipynb" else dest / source.name
    if target.exists():
        raise DestinationExistsError(
            f"{str(target)!r} already exists; choose another destination (a copy never overwrites a notebook)."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def _check_kernel(kernel_name: str) -> None:
    from jupyter_client.kernelspec import KernelSpecManager

    available = sorted(KernelSpecManager().find_kernel_specs())
    if kernel_name not in available:
        raise ParameterError(
            f"The 'kernel_name' parameter must be one of the installed kernels {available}. "
            f"Got {kernel_name!r} instead. (The Makefile installs the 'workbench' kernel: "
            "`python -m ipykernel install --sys-prefix --name workbench`.)"
        )


def export_html(notebook: str | os.PathLike, html_path: str | os.PathLike, *, title: str | None = None,
                language: str | None = None) -> Path:
    """Write an executed notebook as an HTML report without code.

    Code cells' input, prompts, the parameters cells, cells tagged
    ``remove_cell`` and code cells without output are left out; Markdown
    titles and every output stay.  The report loads nothing from the network:
    plotly.js is embedded by the figure renderer of :mod:`workbench.notebook`,
    and nbconvert's CDN scripts (require.js, MathJax, mermaid) are dropped.

    Parameters
    ----------
    notebook : path
        The executed notebook.
    html_path : path
        Where to write the report.
    title : str, optional
        The page title (default: the notebook's file name).
    language : {"zh", "en"}, optional
        Declared language of the page.
    """
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook), as_version=4)
    drop = {PARAMETERS_TAG, INJECTED_TAG, REMOVE_TAG}
    nb.cells = [
        c for c in nb.cells
        if not drop & set(c.get("metadata", {}).get("tags", []))
        and not (c.cell_type == "code" and not c.get("outputs"))
    ]
    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        language_code=language or "en",  # ISO 639-1, as nbconvert wants
    )
    exporter.raw_template = _OFFLINE_REPORT_TEMPLATE
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title or Path(notebook).stem}})
    html_path = Path(html_path)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(body, encoding="utf-8")
    return html_path


def _failure(exc, name: str, out_nb: Path) -> TemplateError:
    source = (getattr(exc, "source", "") or "").strip().splitlines()
    first = source[0] if source else ""
    index = getattr(exc, "cell_index", None)
    return TemplateError(
        f"template {name!r} failed in cell {index} of the executed notebook "
        f"(execution count {getattr(exc, 'exec_count', None)}, "
        f"starting `{first}`): {exc.ename}: {exc.evalue}. "
        f"The executed notebook, with the full traceback, is kept at {out_nb}",
        notebook=out_nb, cell_index=index, ename=exc.ename, evalue=exc.evalue,
    )


def _private_kernel_manager(folder: str) -> type:
    """A kernel manager class whose kernels talk over Unix sockets in ``folder`` (a private temporary folder).

    The template's kernel is reachable by nobody else on the machine (the folder
    is the user's own, mode 0700) instead of listening on loopback TCP ports -
    and ipykernel no longer warns at every run that its TCP channels are
    unencrypted.  nbclient creates, owns and shuts down the kernel as usual.
    """
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class PrivateKernelManager(AsyncKernelManager):
        @default("transport")
        def _default_transport(self):
            return "ipc"

        @default("connection_file")
        def _default_connection_file(self):
            return os.path.join(folder, "kernel.json")

    return PrivateKernelManager


def run_template(name_or_path: str | os.PathLike, parameters: Mapping[str, object] | None = None,
                 out_dir: str | os.PathLike = "runs", *, kernel_name: str | None = None,
                 language: str | None = None, progress: bool = True) -> RunResult:
    """Execute a template in a real kernel and write the executed notebook and an HTML report.

    Parameters
    ----------
    name_or_path : str or path
        Template name (``"00_hello"``) or a notebook file.
    parameters : mapping, optional
        ``{name: value}`` for the template's parameters cell; strings are
        converted to the defaults' types (see :func:`coerce_parameters`).
    out_dir : path
        Folder of the outputs ``<name>.ipynb`` and ``<name>.html`` (created; earlier
        outputs of the same template are replaced).  For a template with a ``run_dir``
        parameter it is also the run folder (``run_dir``, as an absolute path) unless
        ``parameters`` name another; the run is recorded in that folder's manifest
        (:class:`workbench.runs.RunFolder`).
    kernel_name : str, optional
        Jupyter kernel to run in (default :data:`DEFAULT_KERNEL`, i.e. this interpreter).
    language : {"zh", "en"}, optional
        Shortcut for the template's ``language`` parameter (wins over ``parameters["language"]``).
    progress : bool
        Show papermill's tqdm progress bar over the cells.

    Returns
    -------
    RunResult
        Paths of the executed notebook and the HTML report, and the parameters used.

    Raises
    ------
    ParameterError
        Unknown template, unknown parameter (the message lists the allowed
        names), a value of the wrong type, an unknown language or kernel.
    TemplateError
        A cell failed; the message names the template, the cell and the
        exception, and the executed notebook is kept for inspection.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    path = find_template(name_or_path)
    name = path.stem
    declared = template_parameters(path)
    values = coerce_parameters(declared, parameters, name)
    if "run_dir" in declared and "run_dir" not in (parameters or {}):
        values["run_dir"] = str(Path(out_dir).resolve())   # the output folder is the run folder
    if language is not None:
        if "language" not in declared:
            raise ParameterError(f"Template {name!r} has no 'language' parameter; its parameters are "
                                 f"{sorted(declared)}.")
        values.update(coerce_parameters(declared, {"language": language}, name))
    kernel = kernel_name or DEFAULT_KERNEL
    _check_kernel(kernel)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    out_nb, out_html = out / f"{name}.ipynb", out / f"{name}.html"
    if out_nb.resolve() == path.resolve():
        raise ParameterError.invalid("out_dir", "a folder other than the template's own", str(out_dir))
    try:
        with tempfile.TemporaryDirectory(prefix="wb-kernel-") as private:
            pm.execute_notebook(str(path), str(out_nb), parameters=values, kernel_name=kernel,
                                progress_bar=progress, log_output=False,
                                kernel_manager_class=_private_kernel_manager(private))
    except PapermillExecutionError as exc:
        raise _failure(exc, name, out_nb) from None
    except Exception as exc:  # the kernel died or timed out: nbclient's own exception types
        if not type(exc).__module__.startswith(("nbclient", "jupyter_client")):
            raise
        raise TemplateError(
            f"template {name!r} could not run in kernel {kernel!r}: {type(exc).__name__}: {exc}. "
            f"What was executed is kept at {out_nb}", notebook=out_nb,
        ) from exc
    used_language = values.get("language", declared["language"].default if "language" in declared else None)
    title = _title_and_description(_read(path), used_language or get_language())[0] or name
    export_html(out_nb, out_html, title=title, language=used_language)
    if values.get("run_dir"):
        from workbench.runs import RunFolder, resolve_run_dir

        RunFolder(resolve_run_dir(values["run_dir"])).finish(name, parameters=values, outputs=(out_nb, out_html))
    return RunResult(name, out_nb, out_html, values)
