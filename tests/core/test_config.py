import math

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lawful.core.config import Config, ConfigError, load_toml, parse_sets, parse_value, resolve, write_toml


class Demo(Config):
    a: int = 1
    b: float = pydantic.Field(0.5, gt=0)
    name: str = "x"


def test_parse_value_types():
    assert parse_value("3") == 3 and isinstance(parse_value("3"), int)
    assert parse_value("0.185825") == 0.185825
    assert math.isinf(parse_value("inf"))
    assert parse_value("true") is True
    assert parse_value("omelyan") == "omelyan"
    assert parse_value("[1, 2]") == [1, 2]


@given(st.integers(-10**9, 10**9))
def test_parse_value_roundtrips_ints(n):
    assert parse_value(str(n)) == n


def test_precedence_and_dash_keys():
    cfg = resolve(Demo, {"a": 2, "b": 1.0}, {"a": 3, "b": None}, parse_sets(["name=y", "a=4"]))
    assert (cfg.a, cfg.b, cfg.name) == (4, 1.0, "y")


def test_unknown_key_lists_valid_ones():
    with pytest.raises(ConfigError, match=r"unknown config key 'c'; valid keys are: a, b, name"):
        resolve(Demo, {"c": 1})


def test_bad_value_names_key_and_value():
    with pytest.raises(ConfigError, match=r"b = -1.0: .*greater than 0"):
        resolve(Demo, {"b": -1.0})


def test_bad_set_syntax():
    with pytest.raises(ConfigError, match="key=value"):
        parse_sets(["novalue"])


def test_toml_roundtrip(tmp_path):
    cfg = resolve(Demo, {"a": 5, "b": 2.5})
    write_toml(cfg, tmp_path / "c.toml")
    assert resolve(Demo, load_toml(tmp_path / "c.toml")) == cfg


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_toml(tmp_path / "nope.toml")
    (tmp_path / "bad.toml").write_text("a = = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_toml(tmp_path / "bad.toml")


def test_a_run_stored_before_a_key_was_added_resumes_only_at_its_default():
    from lawful.core.config import check_same_run

    older = 'a = 1\nb = 0.5\n'  # written before "name" existed
    check_same_run(Demo(), older, "run")
    with pytest.raises(ValueError, match=r"name: 'x' there, 'y' here"):
        check_same_run(Demo(name="y"), older, "run")
    with pytest.raises(ValueError, match=r"a: 2 there, 1 here"):
        check_same_run(Demo(), 'a = 2\nb = 0.5\nname = "x"\n', "run")
