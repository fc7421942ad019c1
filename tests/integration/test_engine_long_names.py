"""A project name as long as booth allows (128 characters) applies with every endpoint.

The ``tls`` endpoint puts the instance in its certificates' common names, which X.509
caps at 64 characters: a longer name once failed after the sidecar was created, on
every apply. The CN is now cut and hashed (certificates.common_name); the inner daemon
still answers the booth, which the check of ``assert_converges`` proves.
"""

from __future__ import annotations

import uuid

import pytest
from engine_support import assert_converges, assert_destroy_leaves_nothing

from reconciler.config.booth_config import MAX_NAME

pytestmark = pytest.mark.docker


@pytest.mark.parametrize("endpoint", ["tls", "unix", "tcp"])
def test_the_longest_project_name_applies_with_every_endpoint(make_booth, endpoint):
    prefix = f"long-{uuid.uuid4().hex[:8]}-"
    b = make_booth(name=prefix + "n" * (MAX_NAME - len(prefix)), daemon_endpoint=endpoint)
    assert len(b.name) == MAX_NAME

    assert_converges(b)
    assert_converges(b)  # and again: nothing to do, no error
    assert_destroy_leaves_nothing(b)
