"""A Chinese command line speaks Chinese throughout: errors worded by the label catalogue (zh and en).

Names of tables, columns, parameters and options, paths and values stay as they are; the words around
them come from ``workbench/i18n/labels/errors_cli.yaml`` (the English text is the message as raised).
"""
from __future__ import annotations

import re

import pandas as pd
import pytest

from workbench.checks import check_choice, check_int, check_num, require_columns, require_complete
from workbench.cli import main
from workbench.errors import DataValidationError, ParameterError, error_text

#: Two English words in a row outside quotes, backquotes, brackets and options: prose that leaked.
_ENGLISH = re.compile(r"\b[A-Za-z]{2,}\s+[A-Za-z]{2,}\b")


def _prose(text: str) -> str:
    """``text`` without what keeps its own spelling: quoted values, `commands`, [lists], --options, paths."""
    text = re.sub(r"'[^']*'|`[^`]*`|\[[^\]]*\]|--[a-z-]+|/\S+", " ", text)
    return text


@pytest.fixture(autouse=True)
def _default_language(monkeypatch):
    monkeypatch.delenv("WORKBENCH_LANG", raising=False)


def _err(capsys, *argv, rc: int = 1) -> str:
    capsys.readouterr()
    assert main(list(argv)) == rc
    return capsys.readouterr().err.strip()


@pytest.mark.parametrize("argv, zh, en", [
    (["deploy", "nginx", "--upstreams", "bad"], "HOST:PORT 形式的地址，端口为 1 到 65535",
     "HOST:PORT with a port from 1 to 65535"),
    (["deploy", "nginx", "--upstreams", "127.0.0.1:8867,127.0.0.1:8867"], "127.0.0.1:8867 出现了两次",
     "127.0.0.1:8867 is given twice"),
    (["demo", "--data", "/no/such/province"], "必须是已存在的全省数据表文件夹", "must be an existing folder"),
    (["demo", "--executed", "2"], "活动期中已执行的比例，在 (0, 1] 之间", "a share of the campaign period in (0, 1]"),
])
def test_a_chinese_command_line_error_has_no_english_inside(capsys, argv, zh, en):
    text = _err(capsys, *argv)
    assert text.startswith("错误：") and zh in text and "Traceback" not in text
    assert not _ENGLISH.search(_prose(text)), text
    text = _err(capsys, *argv, "--lang", "en")
    assert text.startswith("error: ") and en in text


def test_a_missing_input_names_the_option_and_what_it_is(capsys, tmp_path):
    missing = tmp_path / "no-spec.yaml"
    text = _err(capsys, "campaign", "plan", "--spec", str(missing), "--scores", str(missing), "--out",
                str(tmp_path / "plan"))
    assert text == f"错误：--spec 指定的方案文件 {str(missing)!r} 不存在。"


def _raise(exc: Exception):
    raise exc


@pytest.mark.parametrize("raise_it, zh, en", [
    (lambda: check_int("n_bins", -1, 0), "参数 'n_bins' 的取值不符合要求：应为不小于 0 的整数，实际为 -1。",
     "The 'n_bins' parameter must be an integer >= 0. Got -1 instead."),
    (lambda: check_num("lag_ratio", 1.5, 0, 1, lo_open=True), "应为(0, 1] 范围内的有限数值，实际为 1.5",
     "must be a finite number in (0, 1]. Got 1.5"),
    (lambda: check_choice("language", "fr", ["zh", "en"]), "应为['zh', 'en'] 之一，实际为 'fr'",
     "must be one of ['zh', 'en']. Got 'fr'"),
    (lambda: _raise(ParameterError.invalid("kind", "one of ['a', 'b']", "c")), "应为['a', 'b'] 之一",
     "must be one of ['a', 'b']"),
    (lambda: require_columns(pd.DataFrame({"a": [1]}), "members", ["a", "branch_id"]),
     "表 members 缺少列 ['branch_id']：应有 ['a', 'branch_id']，实际为 ['a']。",
     "members: missing column(s) ['branch_id']; expected ['a', 'branch_id'], found ['a']"),
    (lambda: require_complete(pd.DataFrame({"a": [None, 1.0], "b": [None, None]}), "scores", ["a", "b"]),
     "表 scores：列 'a' 有 1 个缺失值；列 'b' 有 2 个缺失值。",
     "scores: column 'a' has 1 missing value(s); column 'b' has 2 missing value(s)"),
])
def test_checks_are_worded_in_the_users_language_and_raised_in_english(raise_it, zh, en):
    with pytest.raises((ParameterError, DataValidationError)) as caught:
        raise_it()
    assert en in str(caught.value)                       # what callers and logs read, as before
    assert zh in error_text(caught.value, "zh") and en in error_text(caught.value, "en")
    assert not _ENGLISH.search(_prose(error_text(caught.value, "zh")))


def test_a_pickled_error_keeps_its_words():
    import pickle

    with pytest.raises(ParameterError) as caught:
        check_int("seed", -5, 0)
    again = pickle.loads(pickle.dumps(caught.value))
    assert error_text(again, "zh") == error_text(caught.value, "zh") and "不小于 0 的整数" in error_text(again, "zh")


def test_each_error_phrase_has_the_same_blanks_in_both_languages():
    import string
    from pathlib import Path

    import yaml

    import workbench.i18n

    entries = yaml.safe_load((Path(workbench.i18n.__file__).parent / "labels" / "errors_cli.yaml").read_text("utf-8"))
    blanks = {key: {lang: {f for _, f, _, _ in string.Formatter().parse(text) if f} for lang, text in words.items()}
              for key, words in entries.items()}
    assert {key for key, b in blanks.items() if b["zh"] != b["en"]} == set()
    assert not any({"key", "lang"} & b["en"] for b in blanks.values())   # the names workbench.i18n.t takes itself


def test_outside_a_workspace_the_missing_data_option_is_said_in_chinese(capsys, tmp_path, monkeypatch):
    from workbench.workspace import ENV_VAR

    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    text = _err(capsys, "data", "validate", rc=2)                          # data validate's usage error
    assert text.splitlines()[-1] == (f"错误：在工作区之外必须给出 'SOURCE'（{str(tmp_path)!r} 及其上级文件夹中都没有 "
                                     "workbench.toml）：请给出全省数据表所在的文件夹，或用 `workbench init DIR --data "
                                     "PATH` 创建一个工作区。")


@pytest.mark.parametrize("argv, zh, en", [
    (["data", "validate", "--data", "x"], "无法识别的参数：--data", "unrecognized arguments: --data"),
    (["model", "train", "--data", "x.csv"], "缺少必需的参数：--target, --positive, --out",
     "the following arguments are required: --target, --positive, --out"),
    (["model", "train", "--data", "x.csv", "--target", "y", "--positive", "1", "--out", "m", "--holdout", "abc"],
     "参数 --holdout 的取值 'abc' 无效，应为数值", "argument --holdout: invalid float value: 'abc'"),
    (["serve", "--port"], "参数 --port 后面需要一个值", "argument --port: expected one argument"),
    (["data", "frobnicate"], "参数 VERB 的取值 'frobnicate' 无效，可选：'validate', 'describe'",
     "argument VERB: invalid choice: 'frobnicate' (choose from 'validate', 'describe')"),
])
def test_argparse_complaints_are_in_the_users_language(capsys, argv, zh, en):
    """What argparse itself refuses (unknown option, missing or malformed argument) is worded like every other
    error: Chinese by default, English with --lang en; option names and values stay as typed."""
    for lang, words in (("zh", zh), ("en", en)):
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_:
            main([*argv, "--lang", lang] if lang == "en" else argv)
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith("usage: ")                                  # argparse's usage line, as it prints it
        last = err.strip().splitlines()[-1]
        assert last.startswith(("错误：" if lang == "zh" else "error: ") + words), last
        if lang == "zh":
            assert not _ENGLISH.search(_prose(last.replace("VERB", ""))), last   # no English prose left
