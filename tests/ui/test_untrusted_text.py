"""Issue 13: text from links, uploads and files is shown as text (no link, image, formula
or Markdown), and crafted uploads give an error box, never a traceback."""

from __future__ import annotations

import io
import json
import tomllib

import pandas as pd
import pytest
from openpyxl import load_workbook

from sizing.catalog import CONFIG_MAX_BYTES
from sizing.safe_text import WORD_JOINER as J
from sizing.safe_text import md_escape, spreadsheet_cell
from tests.adversarial.corpus import ROOT, config_cases
from ui import export

LINK = "[x](http://evil.example)"
IMAGE = "![i](http://evil.example/i.png)"


# ----------------------------------------------------------------------------- escaping
@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        (LINK, r"\[x\](http" + J + r"\://evil.example)"),
        (IMAGE, r"!\[i\](http" + J + r"\://evil.example/i.png)"),
        ("<img src=x onerror=alert(1)>", r"\<img src=x onerror=alert(1)>"),
        ("see www.evil.example", "see www" + J + ".evil.example"),
        ("mail a@evil.example", "mail a" + J + r"\@evil.example"),
        (":red[big] :material/home: :smile:", r"\:red\[big\] \:material/home: \:smile:"),
        ("# title\n- item\r\n> quote", r"\# title - item > quote"),
        (
            "$x^2$ ~~gone~~ `code` *em* _em_ a|b",
            r"\$x^2\$ \~\~gone\~\~ \`code\` \*em\* \_em\_ a\|b",
        ),
        ("bidi \u202eevil\u202c and \x1b[31mred\x1b[0m", r"bidi evil and \[31mred\[0m"),
    ],
)
def test_md_escape_leaves_no_markup(text, escaped):
    assert md_escape(text) == escaped


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("asus-gx10-1tb", "asus-gx10-1tb"),
        ("", ""),
        (-5, -5),
        (-2.5, -2.5),
        (0, 0),
        (True, True),
        (None, None),
    ],
)
def test_spreadsheet_cell_neutralises_formulas_and_keeps_numbers(value, cell):
    assert spreadsheet_cell(value) == cell


EVIL = pd.DataFrame(
    {
        "Platform": ['=HYPERLINK("http://evil.example","x")', "+cmd|x", "ok"],
        "Delta (CHF)": [-120, 35, 0],
        "Note": ["@A1", "-x", IMAGE],
    }
)


def test_csv_export_has_no_live_formula_and_numbers_stay_numbers():
    text = export.csv_bytes(EVIL).decode("utf-8")
    rows = list(pd.read_csv(io.StringIO(text), dtype=str).itertuples(index=False))
    assert rows[0] == ('\'=HYPERLINK("http://evil.example","x")', "-120", "'@A1")
    assert rows[1] == ("'+cmd|x", "35", "'-x")
    assert rows[2] == ("ok", "0", IMAGE)


def test_xlsx_export_stores_formula_text_as_text():
    wb = load_workbook(io.BytesIO(export.xlsx_bytes({"Sheet": EVIL})))
    ws = wb["Sheet"]
    first = ws["A2"]
    assert first.value == '=HYPERLINK("http://evil.example","x")'
    assert first.data_type == "s"
    assert first.quotePrefix  # text, never a formula
    assert ws["A3"].data_type == "s"
    assert ws["A3"].quotePrefix
    assert ws["B2"].value == -120
    assert ws["B2"].data_type == "n"  # a number stays a number
    assert not ws["A4"].quotePrefix  # plain text is left alone
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_markdown_export_escapes_cells_and_notes():
    doc = export.markdown_document("T", {"S": export.markdown_table(EVIL)}, notes=[LINK])
    assert "](http://" not in doc
    assert "![" not in doc.replace("!\\[", "")
    assert r"!\[i\](http" + J + r"\://evil.example/i.png)" in doc
    assert r"- \[x\](http" + J + r"\://evil.example)" in doc


# ----------------------------------------------------------------------------- the app
def test_link_parameters_are_shown_as_text(app):
    at = app(query={"model": LINK, "evil": IMAGE, "plan": IMAGE})
    assert not at.exception
    bodies = [w.value for w in at.warning]
    assert bodies, "no warning for the bad link parameters"
    text = " ".join(bodies)
    assert r"\[x\](http" + J + r"\://evil.example)" in text
    assert r"!\[i\](http" + J + r"\://evil.example/i.png)" in text
    assert "](http://" not in text


def test_upload_over_the_cap_is_refused_before_reading(app):
    at = app()
    at.file_uploader(key="w_upload").upload(
        "config.json", b" " * (CONFIG_MAX_BYTES + 1), "application/json"
    )
    at.run()
    assert not at.exception
    assert any("larger than the 16 MiB" in e.value for e in at.error)


def test_upload_cap_matches_streamlit_setting():
    """Streamlit refuses a larger upload before the app sees it (.streamlit/config.toml)."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] * 2**20 >= CONFIG_MAX_BYTES
    assert config["server"]["maxUploadSize"] == CONFIG_MAX_BYTES // 2**20


APP_CASES = {
    "zero-heads",
    "bool-layers",
    "hidden-1e400",
    "heads-huge-int",
    "non-utf8",
    "deep-array",
    "deep-object",
    "nul-bytes",
    "list-quant-method",
    "layers-nan",
}


@pytest.mark.parametrize(
    "case",
    [c for c in config_cases() if c.id.removeprefix("config-") in APP_CASES],
    ids=lambda c: c.id,
)
def test_crafted_upload_shows_one_error_box(app, case):
    at = app()
    at.file_uploader(key="w_upload").upload("config.json", case.data, "application/json")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    boxes = [e.value for e in at.error]
    assert len(boxes) == 1, boxes
    assert "config.json" in boxes[0], boxes
    assert "Traceback" not in boxes[0]
    assert "\n" not in boxes[0]


def test_upload_error_echoing_a_value_is_text(app):
    data = json.dumps({"model_type": IMAGE, "hidden_size": 64}).encode()
    at = app()
    at.file_uploader(key="w_upload").upload("config.json", data, "application/json")
    at.run()
    assert not at.exception
    (box,) = [e.value for e in at.error]
    assert "](http://" not in box
    assert "evil" in box
