"""Edges of the pure core that mutation testing (tools/mutation.sh) found untested."""

from __future__ import annotations

import pytest
from booth_builders import config_from_toml

from reconciler.config.runargs.routing import ContainerFields
from reconciler.errors import ConfigError


def test_container_fields_get_returns_the_given_default() -> None:
    assert ContainerFields({}).get("User", "nobody") == "nobody"
    assert ContainerFields({"User": "coder"}).get("User", "nobody") == "coder"


def test_container_fields_with_values_is_a_new_value() -> None:
    fields = ContainerFields({"User": "coder", "Tty": False})
    changed = fields.with_values(Tty=True, OpenStdin=True)
    assert changed == ContainerFields({"User": "coder", "Tty": True, "OpenStdin": True})
    assert fields == ContainerFields({"User": "coder", "Tty": False})


@pytest.mark.parametrize(("length", "shown_whole"), [(58, True), (59, False)])
def test_a_wrong_value_is_shown_whole_up_to_sixty_characters(
    length: int, shown_whole: bool
) -> None:
    value = "x" * length  # written as TOML, it is length + 2 characters
    with pytest.raises(ConfigError) as caught:
        config_from_toml(f'port = "{value}"\n')
    message = str(caught.value)
    assert (f'"{value}"' in message) is shown_whole, message
    assert message.endswith("...") is not shown_whole


@pytest.mark.parametrize(
    "specs", [("8080:80", "127.0.0.1:8080:81"), ("127.0.0.1:8080:81", "8080:80")]
)
def test_the_default_address_clashes_with_a_specific_one_in_either_order(
    specs: tuple[str, str],
) -> None:
    words = ", ".join(f'"-p", "{spec}"' for spec in specs)
    with pytest.raises(ConfigError, match="8080"):
        config_from_toml(f'host-ip = ""\nrun-args = [{words}]\n')
