"""``pull = true`` against a real registry (Debian's ``docker-registry`` on 127.0.0.1):
the images are pulled again before planning, a booth created from an older image is
replaced (``image_updated``), a second pull changes nothing, a plan pulls only with
``--pull``, a failing pull changes nothing, and a build pulls its base image and is
rebuilt when a pull brings a newer one."""

from __future__ import annotations

import uuid

import pytest
from engine_support import (
    BUSYBOX_IMAGE,
    build_image,
    docker_cli,
    free_port,
    in_booth,
    remove_image,
)

pytestmark = pytest.mark.docker


def _version_image(client, version: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A tiny image holding ``/version``; its local tag and its ID."""
    tag = f"booth-test/pull-source:{uuid.uuid4().hex[:8]}-{version}"
    dockerfile = f"FROM {BUSYBOX_IMAGE}\nCOPY version /version\n"
    build_image(client, tag, dockerfile, {"version": f"{version}\n"})
    return tag, str(client.images.get(tag).id)


def _publish_update(registry, ref: str, old_tag: str, version: str = "2") -> str:  # type: ignore[no-untyped-def]
    """Push a changed image under ``ref``, then forget it here: this engine has only the
    old image under ``ref``, as a machine that pulled before the push. The new ID."""
    client = registry.client
    new_tag, new_id = _version_image(client, version)
    registry.push(new_tag, ref)
    remove_image(client, ref)
    remove_image(client, new_tag)  # the pull below must fetch it from the registry
    registry.tag(old_tag, ref)
    return new_id


def test_pull_replaces_a_booth_whose_image_was_updated_in_the_registry(
    make_booth, docker_client, local_registry
):
    ref = local_registry.ref("booth-test/pulled", uuid.uuid4().hex[:8])
    old_tag, old_id = _version_image(docker_client, "1")
    try:
        local_registry.push(old_tag, ref)
        b = make_booth(dind=False, image=ref, pull=True)
        b.ok("apply")
        assert b.container("booth")["Image"] == old_id
        assert b.plan_json("--pull")["steps"] == []  # the registry has what runs

        new_id = _publish_update(local_registry, ref, old_tag)
        plan = b.cli("plan", "--json")
        assert plan.rc == 0 and '"steps": []' in plan.stdout, plan.explain()
        assert "booth plan --pull" in plan.stderr  # pull = true, but a plan did not pull
        assert docker_client.images.get(ref).id == old_id  # nothing was pulled

        plan_doc = b.plan_json("--pull")
        booth = {c["resource"]: c for c in plan_doc["changes"]}["booth"]
        assert (booth["action"], booth["reason_code"], booth["reason"]) == (
            "replace",
            "image_updated",
            "image updated by pull",
        )
        assert {s["reason_code"] for s in plan_doc["steps"]} == {"image_updated"}
        assert docker_client.images.get(ref).id == new_id  # plan --pull pulled

        local_registry.tag(old_tag, ref)  # forget it again: apply must pull it itself
        applied = b.ok("apply")
        assert "image updated by pull" in applied.stdout
        assert b.container("booth")["Image"] == new_id
        assert in_booth(b.booth, "cat", "/version").stdout == "2\n"

        booth_id = b.container_id("booth")
        again = b.ok("apply")
        assert "No changes." in again.stdout
        assert b.container_id("booth") == booth_id

        # CodingBooth's command line: `booth --daemon` applies, pulling as the config says;
        # it never replaces a running booth (as `docker run --name` fails there), so the
        # update is taken once that booth has stopped.
        third_id = _publish_update(local_registry, ref, old_tag, version="3")
        refused = b.cli("--daemon")
        assert refused.rc == 1 and "running already" in refused.stderr, refused.explain()
        assert b.container("booth")["Image"] == new_id
        docker_cli("stop", b.booth)
        # Kept: the command runs in a login shell as CodingBooth runs it, and this busybox
        # image has no bash, so the booth ends at once (a daemon booth would be removed).
        b.ok("--daemon", "--keep-alive")
        assert b.container("booth")["Image"] == third_id
    finally:
        remove_image(docker_client, old_tag)


def test_without_pull_only_a_missing_image_is_pulled(make_booth, docker_client, local_registry):
    ref = local_registry.ref("booth-test/pulled", uuid.uuid4().hex[:8])
    old_tag, old_id = _version_image(docker_client, "1")
    try:
        local_registry.push(old_tag, ref)
        remove_image(docker_client, ref)  # only the registry has it under that name
        b = make_booth(dind=False, image=ref)
        b.ok("apply")
        assert docker_client.images.get(ref).id == old_id  # pulled, being missing
        assert b.container("booth")["Image"] == old_id
        _publish_update(local_registry, ref, old_tag)
        booth_id = b.container_id("booth")
        assert "No changes." in b.ok("apply").stdout
        assert b.container_id("booth") == booth_id
        assert docker_client.images.get(ref).id == old_id  # an image present is not pulled
    finally:
        remove_image(docker_client, old_tag)


def test_a_failing_pull_is_one_line_naming_the_image_and_changes_nothing(make_booth, docker_client):
    b = make_booth(dind=False, image=BUSYBOX_IMAGE)
    b.ok("apply")
    booth_id = b.container_id("booth")
    unreachable = f"127.0.0.1:{free_port()}/booth-test/pulled:gone"  # nothing listens there
    b.write_config(image=unreachable)
    for command in (("apply", "--pull"), ("plan", "--pull")):
        result = b.cli(*command)
        assert result.rc == 1, result.explain()
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith(f"booth: error: cannot pull image '{unreachable}' (")
        assert line.endswith("; nothing was changed")
        assert b.container_id("booth") == booth_id
        assert b.container("booth")["State"]["Running"]
    result = b.cli("plan", "--offline", "--pull")
    assert result.rc == 1 and result.stderr.startswith("booth: error: plan: --pull")


def test_a_build_with_pull_pulls_its_base_image_and_rebuilds_when_it_changes(
    make_booth, docker_client, local_registry
):
    ref = local_registry.ref("booth-test/pulled-base", uuid.uuid4().hex[:8])
    old_tag, _ = _version_image(docker_client, "1")
    b = make_booth(dind=False, pull=True)
    b.write_config(image=None)
    built = f"codingbooth-local:{b.path.name.lower()}-base-0.13.0"
    try:
        local_registry.push(old_tag, ref)
        _publish_update(local_registry, ref, old_tag)  # the base here is older than there
        (b.path / ".booth" / "Dockerfile").write_text(f"ARG BASE={ref}\nFROM $BASE\n")
        b.ok("apply")
        assert in_booth(b.booth, "cat", "/version").stdout == "2\n"
        first_build = str(docker_client.images.get(built).id)  # untagged by the rebuild
        assert b.plan_json("--pull")["steps"] == []  # the base it was built on is current

        second_tag, _ = _version_image(docker_client, "3")  # the base is updated again
        local_registry.push(second_tag, ref)
        remove_image(docker_client, second_tag)
        assert b.plan_json()["steps"] == []  # without a pull, nothing is known
        changes = {c["resource"]: c for c in b.plan_json("--pull")["changes"]}
        assert (changes["image"]["reason_code"], changes["image"]["reason"]) == (
            "image_updated",
            f"base image updated by pull: {ref}",
        )
        assert changes["booth"]["reason_code"] == "image_rebuilt"
        b.ok("apply")
        assert in_booth(b.booth, "cat", "/version").stdout == "3\n"
        assert "No changes." in b.ok("apply").stdout
    finally:
        b.ok("destroy")
        remove_image(docker_client, built)
        if "first_build" in locals():
            remove_image(docker_client, first_build)
        remove_image(docker_client, old_tag)
