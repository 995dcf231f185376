"""Settings a client sends reach the server as valid values or as a one-line problem, never a crash."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import math

import pytest

from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.knobs import CANDIDATES, MAX_TOKENS
from bashcoder.server.settings import (
    CLIENT_KEYS,
    SECTION,
    SETTING_KEYS,
    ServerSettings,
    parse_settings,
)

DEFAULTS = ServerSettings()


def test_defaults_are_the_documented_ones() -> None:
    assert DEFAULTS == ServerSettings(
        model=None,
        device=None,
        temperature=0.0,
        top_k=40,
        top_p=0.95,
        max_tokens=64,
        time_budget_ms=100,
        candidates=1,
        rerank=True,
        mode="auto",
        enabled=True,
    )


def test_every_field_has_a_wire_name_and_a_docstring() -> None:
    assert SETTING_KEYS == (
        "model",
        "device",
        "temperature",
        "topK",
        "topP",
        "maxTokens",
        "timeBudgetMs",
        "candidates",
        "rerank",
        "mode",
        "enabled",
    )
    assert len(dataclasses.fields(ServerSettings)) == len(SETTING_KEYS)
    assert not CLIENT_KEYS & set(SETTING_KEYS)
    body = ast.parse(inspect.getsource(ServerSettings)).body[0].body  # type: ignore[attr-defined]
    documented = [
        node.target.id
        for node, after in zip(body, body[1:], strict=False)
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and isinstance(after, ast.Expr)
        and isinstance(after.value, ast.Constant)
        and isinstance(after.value.value, str)
    ]
    assert documented == [field.name for field in dataclasses.fields(ServerSettings)]


def test_settings_are_keyword_only_and_frozen() -> None:
    with pytest.raises(TypeError):
        ServerSettings("model-dir")  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULTS.temperature = 1.0  # type: ignore[misc]


def test_nothing_sent_gives_the_base_without_problems() -> None:
    assert parse_settings(None) == (DEFAULTS, [])
    assert parse_settings({}) == (DEFAULTS, [])
    assert parse_settings({SECTION: None}) == (DEFAULTS, [])
    # Neovim sends an empty Lua table as [].
    assert parse_settings([]) == (DEFAULTS, [])
    assert parse_settings({SECTION: []}) == (DEFAULTS, [])
    base = ServerSettings(device="cpu")
    assert parse_settings(None, base) == (base, [])


FULL = {
    "model": "/models/bashcoder-tiny",
    "device": "cuda",
    "temperature": 0.7,
    "topK": 0,
    "topP": 1,
    "maxTokens": 512,
    "timeBudgetMs": 0,
    "candidates": 8,
    "rerank": False,
    "mode": "block",
    "enabled": False,
}
FULL_SETTINGS = ServerSettings(
    model="/models/bashcoder-tiny",
    device="cuda",
    temperature=0.7,
    top_k=0,
    top_p=1.0,
    max_tokens=512,
    time_budget_ms=0,
    candidates=8,
    rerank=False,
    mode="block",
    enabled=False,
)


@pytest.mark.parametrize("raw", [FULL, {SECTION: FULL}], ids=["bare", "wrapped"])
def test_both_the_wrapped_and_the_bare_section_are_read(raw: dict[str, object]) -> None:
    assert parse_settings(raw) == (FULL_SETTINGS, [])


def test_other_sections_beside_ours_are_left_alone() -> None:
    settings, problems = parse_settings({SECTION: {"mode": "line"}, "editor": {"tabSize": 4}})
    assert settings.mode == "line"
    assert problems == []


def test_absent_keys_keep_the_base_value() -> None:
    base = ServerSettings(device="cpu", candidates=5)
    settings, problems = parse_settings({"temperature": 0}, base)
    assert problems == []
    assert settings == dataclasses.replace(base, temperature=0.0)


def test_client_only_keys_are_accepted_silently() -> None:
    settings, problems = parse_settings({key: "x" for key in CLIENT_KEYS})
    assert (settings, problems) == (DEFAULTS, [])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"model": ""}, {"model": None}),
        ({"model": None}, {"model": None}),
        ({"device": "auto"}, {"device": None}),
        ({"device": ""}, {"device": None}),
        ({"device": None}, {"device": None}),
        ({"device": "mps"}, {"device": "mps"}),
        ({"temperature": 0}, {"temperature": 0.0}),
        ({"temperature": 2}, {"temperature": 2.0}),
        ({"topK": 40.0}, {"top_k": 40}),
        ({"topP": 0.01}, {"top_p": 0.01}),
        ({"maxTokens": 1}, {"max_tokens": 1}),
        ({"candidates": 1}, {"candidates": 1}),
        ({"mode": "line"}, {"mode": "line"}),
        ({"mode": "auto"}, {"mode": "auto"}),
    ],
)
def test_edge_values_are_accepted_and_normalised(raw: dict[str, object], expected: dict[str, object]) -> None:
    settings, problems = parse_settings(raw)
    assert problems == []
    assert settings == dataclasses.replace(DEFAULTS, **expected)
    for attr, value in expected.items():
        assert type(getattr(settings, attr)) is type(value)


@pytest.mark.parametrize(
    ("key", "value", "shown", "valid"),
    [
        ("model", 3, "3", "path to a model directory"),
        ("device", "tpu", '"tpu"', '"cuda", "mps", "cpu"'),
        ("temperature", 2.5, "2.5", "from 0 to 2"),
        ("temperature", -0.1, "-0.1", "from 0 to 2"),
        ("temperature", "0.2", '"0.2"', "from 0 to 2"),
        ("temperature", math.nan, "NaN", "from 0 to 2"),
        ("temperature", True, "true", "from 0 to 2"),
        ("topK", -1, "-1", ">= 0"),
        ("topK", 1.5, "1.5", ">= 0"),
        ("topP", 0, "0", "above 0 and up to 1"),
        ("topP", 1.01, "1.01", "above 0 and up to 1"),
        ("maxTokens", 0, "0", f"from 1 to {MAX_TOKENS.hi:g}"),
        ("maxTokens", MAX_TOKENS.hi + 1, f"{MAX_TOKENS.hi + 1:g}", f"from 1 to {MAX_TOKENS.hi:g}"),
        ("timeBudgetMs", -1, "-1", "from 0 to 60000"),
        ("timeBudgetMs", "100ms", '"100ms"', "from 0 to 60000"),
        ("candidates", CANDIDATES.hi + 1, f"{CANDIDATES.hi + 1:g}", f"from 1 to {CANDIDATES.hi:g}"),
        ("candidates", None, "null", f"from 1 to {CANDIDATES.hi:g}"),
        ("mode", "Block", '"Block"', '"line", "block", "auto"'),
        ("mode", ["line"], '["line"]', '"line", "block", "auto"'),
        ("enabled", "yes", '"yes"', "true or false"),
        ("enabled", 1, "1", "true or false"),
    ],
)
def test_an_invalid_value_falls_back_with_a_message_naming_key_value_and_range(
    key: str, value: object, shown: str, valid: str
) -> None:
    others = {"candidates": 2} if key != "candidates" else {"mode": "line"}
    settings, problems = parse_settings({key: value, **others})
    # The other, valid keys still apply; only the bad one falls back.
    assert settings == parse_settings(others)[0]
    assert len(problems) == 1
    message = problems[0]
    assert "\n" not in message
    assert message.startswith(f"bashcoder.{key}: {shown} is invalid")
    assert valid in message


def test_an_invalid_value_falls_back_to_the_base_not_to_the_default() -> None:
    base = ServerSettings(temperature=0.8)
    settings, problems = parse_settings({"temperature": 9}, base)
    assert settings.temperature == 0.8
    assert problems[0].endswith("using 0.8")


def test_unknown_keys_are_reported_with_a_hint_and_ignored() -> None:
    settings, problems = parse_settings({"top_k": 10, "temprature": 1, "colour": "red"})
    assert settings == DEFAULTS
    assert len(problems) == 3
    assert problems[0].startswith("bashcoder.top_k: unknown setting") and "did you mean topK?" in problems[0]
    assert "did you mean temperature?" in problems[1]
    assert "did you mean" not in problems[2] and "known settings: model, device" in problems[2]


@pytest.mark.parametrize("raw", [[1, 2], "mode=line", 3, True, {SECTION: "line"}])
def test_a_section_that_is_not_an_object_gives_defaults_and_one_problem(raw: object) -> None:
    settings, problems = parse_settings(raw)
    assert settings == DEFAULTS
    assert len(problems) == 1 and problems[0].startswith("bashcoder: settings must be an object")


def test_a_huge_value_is_shown_shortened_on_one_line() -> None:
    _, problems = parse_settings({"mode": "x\n" * 10_000})
    assert len(problems) == 1 and "\n" not in problems[0] and len(problems[0]) < 200


def test_constructing_invalid_settings_directly_raises_a_user_facing_error() -> None:
    with pytest.raises(
        BashcoderError, match=r"ServerSettings\.top_p=0 is invalid: expected a number above 0"
    ):
        ServerSettings(top_p=0)
    assert ServerSettings(top_k=40.0).top_k == 40  # type: ignore[arg-type]
    assert isinstance(ServerSettings(top_k=40.0).top_k, int)  # type: ignore[arg-type]
