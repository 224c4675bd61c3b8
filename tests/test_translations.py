"""The German catalogue is complete: no string is left untranslated or fuzzy.

After adding strings, run ``makemessages -l de --no-obsolete`` (from backorders/), translate every
new or fuzzy entry, then ``compilemessages -l de``. A small parser of the standard library only
(no polib): entries are blank-line separated; flags are ``#,`` lines; strings are ``"..."`` lines.
"""

import ast
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parent.parent / "backorders" / "locale"
CATALOGUE = LOCALE / "de" / "LC_MESSAGES" / "django.po"


def po_entries(path: Path) -> list[dict[str, object]]:
    """Each entry of a .po file: its msgid and context, its msgstr values (one per plural form)
    and flags."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        flags: set[str] = set()
        field = None
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("#,"):
                flags.update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#~"):
                field = None  # an obsolete entry: makemessages --no-obsolete drops these
            elif line.startswith("#") or not line:
                continue
            elif line.startswith('"'):
                if field is not None:
                    fields[field] += ast.literal_eval(line)
            else:
                field, _, value = line.partition(" ")
                fields[field] = ast.literal_eval(value)
        if "msgid" in fields:
            entries.append(
                {
                    "msgid": fields["msgid"],
                    "msgctxt": fields.get("msgctxt"),
                    "msgstr": [value for key, value in fields.items() if key.startswith("msgstr")],
                    "flags": flags,
                }
            )
    return entries


def test_the_parser_reads_wrapped_plural_and_fuzzy_entries(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: de\\n"\n\n'
        '#: a.py:1\n#, fuzzy, python-format\n#| msgid "old"\nmsgid ""\n"two "\n"lines"\nmsgstr "zwei"\n\n'
        'msgid "one"\nmsgid_plural "many"\nmsgstr[0] "eins"\nmsgstr[1] ""\n',
        encoding="utf-8",
    )
    header, wrapped, plural = po_entries(po)
    assert header["msgid"] == "" and header["msgstr"] == ["Language: de\n"]
    assert wrapped == {
        "msgid": "two lines",
        "msgctxt": None,
        "msgstr": ["zwei"],
        "flags": {"fuzzy", "python-format"},
    }
    assert plural["msgstr"] == ["eins", ""]


@pytest.mark.parametrize("language", ["de"])
def test_every_string_is_translated_and_none_is_fuzzy(language):
    entries = po_entries(LOCALE / language / "LC_MESSAGES" / "django.po")
    assert len(entries) > 100, "the catalogue was not found or not parsed"
    untranslated = [e["msgid"] for e in entries if e["msgid"] and not all(e["msgstr"])]
    fuzzy = [e["msgid"] for e in entries if e["msgid"] and "fuzzy" in e["flags"]]
    assert not untranslated, f"untranslated in {language}: {untranslated}"
    assert not fuzzy, f"fuzzy in {language}: {fuzzy}"


def test_the_compiled_catalogue_is_not_older_than_its_source():
    """The .mo Django reads is compiled from the current .po (compilemessages -l de)."""
    import gettext

    with CATALOGUE.with_suffix(".mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    for entry in po_entries(CATALOGUE):
        if entry["msgid"] and len(entry["msgstr"]) == 1:
            if entry["msgctxt"] is not None:
                found = compiled.pgettext(entry["msgctxt"], entry["msgid"])
            else:
                found = compiled.gettext(entry["msgid"])
            assert found == entry["msgstr"][0], entry["msgid"]


def test_the_apps_wording_wins_over_djangos_in_german(settings):
    """Django's admin and auth catalogues translate some of the app's words otherwise; the app
    is listed first in INSTALLED_APPS so that its own wording shows."""
    from django.utils import translation

    with translation.override("de"):
        assert translation.gettext("History") == "Verlauf"
        assert translation.gettext("No, take me back") == "Nein, zurück"


PROJECT_CATALOGUE = LOCALE.parent.parent / "locale" / "de" / "LC_MESSAGES" / "django.po"


def test_the_projects_own_catalogue_is_complete_and_compiled():
    """The standalone project's pages (the demo store) have their own catalogue (LOCALE_PATHS):
    makemessages -l de -i backorders -i .venv -i tests -i bench -i var, from the project root."""
    import gettext

    entries = [e for e in po_entries(PROJECT_CATALOGUE) if e["msgid"]]
    assert len(entries) > 20
    assert not [e["msgid"] for e in entries if not all(e["msgstr"]) or "fuzzy" in e["flags"]]
    with PROJECT_CATALOGUE.with_suffix(".mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    for entry in entries:
        if len(entry["msgstr"]) == 1:
            assert compiled.gettext(entry["msgid"]) == entry["msgstr"][0], entry["msgid"]
