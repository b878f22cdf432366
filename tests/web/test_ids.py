"""Ids in URLs are bounded to the primary keys' range: a larger number is a plain 404 on
every route and method (never a database error, never a 405)."""

from __future__ import annotations

import re

import pytest

from fundapp.app import RowIdConverter


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("1", True),
        ("2147483647", True),
        ("2147483648", False),
        ("1999999999", True),
        ("9999999999", False),
        ("0", False),
        ("007", False),
        ("1" + "0" * 20, False),
    ],
)
def test_the_id_pattern_is_exactly_1_to_2_pow_31_minus_1(text: str, valid: bool) -> None:
    assert bool(re.fullmatch(RowIdConverter.regex, text)) is valid


def test_every_route_with_an_id_answers_404_beyond_the_range(app, client) -> None:
    checked = 0
    for rule in app.url_map.iter_rules():
        ints = [name for name, conv in rule._converters.items() if isinstance(conv, RowIdConverter)]
        if not ints:
            continue
        for name in ints:
            values = {arg: 1 if arg in ints else "KEY" for arg in rule.arguments}
            values[name] = 2**31
            url = rule.build(values, append_unknown=False)[1]
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                response = client.open(url, method=method)
                assert response.status_code == 404, (method, url, response.status_code)
                checked += 1
    assert checked > 60  # the map is really being walked
