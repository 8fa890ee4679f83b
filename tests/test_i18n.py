import pytest

from workbench.errors import ParameterError
from workbench.i18n import LANGUAGES, catalogue, get_language, labels_for, set_language, t


def test_every_label_has_every_language_and_no_empty_text():
    cat = catalogue()
    assert cat, "the catalogue is empty"
    for key, entry in cat.items():
        assert set(entry) == set(LANGUAGES), key
        assert all(entry[lang].strip() for lang in LANGUAGES), key


def test_chinese_is_the_default_and_english_is_served():
    assert t("brand.gotone", lang="zh") == "全球通"
    assert t("brand.gotone", lang="en") == "GoTone"


def test_set_language_changes_default(monkeypatch):
    monkeypatch.delenv("WORKBENCH_LANG", raising=False)
    try:
        set_language("en")
        assert get_language() == "en"
        assert t("common.yes") == "Yes"
    finally:
        import workbench.i18n as i18n

        i18n._current = None
    assert get_language() == "zh"


def test_unknown_language_and_key_are_named():
    with pytest.raises(ParameterError, match="'language' parameter must be one of .* Got 'fr'"):
        t("common.yes", lang="fr")
    with pytest.raises(KeyError, match="no.such.label"):
        t("no.such.label")


def test_labels_for_prefix():
    brands = labels_for("brand", lang="en")
    assert brands["mzone"] == "M-Zone"
    assert "gotone" in brands and "easyown" in brands
