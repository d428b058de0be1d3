"""output.render: one interface over the format modules; a format is one module with a render_<kind> per result."""

from __future__ import annotations

import io

import pytest

from kubectl_netsso import output
from kubectl_netsso.errors import EXIT_USAGE, NetssoError


def test_every_format_module_shows_paths_and_the_rule_formats_show_compact() -> None:
    assert output.formats("paths") == ["table", "wide", "matrix", "json", "yaml", "csv", "markdown", "dot"]
    assert output.formats("compact") == ["table", "wide", "json", "yaml", "csv", "markdown"]


def test_a_format_that_cannot_show_a_result_is_a_usage_error_naming_those_that_can() -> None:
    with pytest.raises(NetssoError) as err:
        output.render(object(), "matrix", kind="compact", out=io.StringIO())
    assert err.value.exit_code == EXIT_USAGE and err.value.hint is not None and "-o csv" in err.value.hint
    assert output.renderer("compact", "no-such-format") is None


def test_a_document_is_printed_as_json_or_yaml_and_left_to_the_caller_otherwise() -> None:
    out = io.StringIO()
    assert output.render({"a": "\x1b[2J"}, "json", out=out) and out.getvalue() == '{\n  "a": "\\u001b[2J"\n}\n'
    out = io.StringIO()
    assert output.render({"a": 1}, "yaml", out=out) and out.getvalue() == "a: 1\n"
    assert output.render({"a": 1}, "table") is False
