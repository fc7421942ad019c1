"""``booth list`` and the URLs of ``booth status``, from engine documents (pure)."""

from __future__ import annotations

import json

from reconciler.app.listing import age, booth_rows, render_json, render_text
from reconciler.core.status import urls


def container(name: str, instance: str, role: str, state: str = "running", **extra: object):
    labels = {
        "io.codingbooth.managed": "true",
        "io.codingbooth.instance": instance,
        "io.codingbooth.role": role,
        "io.codingbooth.code-dir": f"/src/{instance}",
    }
    return {"Names": [f"/{name}"], "Labels": labels, "State": state, "Created": 1000, **extra}


PORTS = [
    {"IP": "0.0.0.0", "PrivatePort": 10000, "PublicPort": 10000, "Type": "tcp"},
    {"IP": "::", "PrivatePort": 10000, "PublicPort": 10000, "Type": "tcp"},
    {"IP": "127.0.0.1", "PrivatePort": 53, "PublicPort": 5353, "Type": "udp"},
    {"PrivatePort": 2375, "Type": "tcp"},  # exposed, not published
]


def test_one_row_per_instance_named_after_its_booth_container() -> None:
    rows = booth_rows(
        [
            container("web-dind", "web", "sidecar", Ports=PORTS),
            container("web", "web", "booth", Created=900),
            container("api", "api", "booth", state="exited"),
            container("stray", "", "booth"),  # no instance label: not a booth of ours
        ]
    )
    assert [(r.name, r.instance, r.code_dir, r.state) for r in rows] == [
        ("api", "api", "/src/api", "exited"),
        ("web", "web", "/src/web", "running"),
    ]
    web = rows[1]
    assert web.urls == ("http://127.0.0.1:10000",)
    assert web.created == 900
    assert web.containers == (("booth", "web", "running"), ("sidecar", "web-dind", "running"))


def test_mixed_states_are_counted_and_a_booth_less_instance_keeps_its_label() -> None:
    (row,) = booth_rows([container("x-dind", "x", "sidecar", state="exited")])
    assert row.name == "x"
    (row,) = booth_rows([container("y", "y", "booth"), container("y-d", "y", "sidecar", "exited")])
    assert row.state == "exited(1), running(1)"


def test_urls_of_published_tcp_ports_only() -> None:
    assert urls(
        [
            "0.0.0.0:8080:80/tcp",
            ":::8080:80/tcp",
            "127.0.0.1:3000:3000/tcp",
            "127.0.0.1:5353:53/udp",
            "::1:9000:9000/tcp",
        ]
    ) == ("http://127.0.0.1:3000", "http://127.0.0.1:8080", "http://[::1]:9000")


def test_age_is_the_largest_whole_unit() -> None:
    assert [age(0, now) for now in (5, 59, 60, 3599, 3600, 86400 * 3)] == [
        "5s",
        "59s",
        "1m",
        "59m",
        "1h",
        "3d",
    ]
    assert age(100, 50) == "0s"  # a clock behind the engine's


def test_text_and_json() -> None:
    rows = booth_rows([container("web", "web", "booth", Ports=PORTS)])
    assert render_text(rows, now=1060) == (
        "NAME  CODE DIR  STATE    AGE  URLS\nweb   /src/web  running  1m   http://127.0.0.1:10000\n"
    )
    assert render_text([], now=0) == "No booths on this engine.\n"
    (document,) = json.loads(render_json(rows, now=1060))
    assert document["urls"] == ["http://127.0.0.1:10000"] and document["age_seconds"] == 60
    assert "\033[" in render_text(rows, now=1060, coloured=True)
