from __future__ import annotations

import pytest

from deploytag.core.errors import PlanError
from deploytag.core.templates import PLACEHOLDERS, placeholders_in, render


def test_renders_every_placeholder() -> None:
    values = {name: name.lower() for name in PLACEHOLDERS}
    template = "-".join("{." + name + "}" for name in PLACEHOLDERS)
    assert render(template, values) == "-".join(v for v in values.values())


@pytest.mark.parametrize("bad", ["{Branch}", "{.branch}", "{.Brnch}", "{ .Nope }", "x{.Branch", "x}y"])
def test_malformed_or_unknown_is_an_error(bad: str) -> None:
    with pytest.raises(PlanError):
        placeholders_in(bad)


def test_plain_text_has_no_placeholders() -> None:
    assert placeholders_in("static-name") == []
