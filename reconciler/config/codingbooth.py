"""CodingBooth's image contract and its defaults, so a real ``.booth/`` folder runs as
CodingBooth runs it.

Facts from CodingBooth 0.13 (``cli/src/pkg/booth/*.go``): which image a booth runs
(``image`` > ``dockerfile`` > ``<code>/.booth/Dockerfile`` > the prebuilt image), how a
local image is built and tagged, the environment its entrypoint reads (``HOST_UID``,
``HOST_GID``, ``TZ``, ``CB_*``), ``-w /home/coder/code``, the ``.env`` default, the
timezone and user detection. Pure functions of their arguments; the config module reads
the host and the files.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

from reconciler.errors import ConfigError
from reconciler.files import existing_file, user_path
from reconciler.image.context import BuildFingerprint, BuildInputs

PREBUILT_REPO = "nawaman/codingbooth"
LOCAL_REPO = "codingbooth-local"
SETUPS_DIR = "/opt/codingbooth/setups"
# The CodingBooth release whose images and contract this booth targets: its image
# version when `version` is not set (`nawaman/codingbooth:base-0.13.0`), as CodingBooth
# 0.13 itself uses its own version. Change it with the release that moves to another.
CODINGBOOTH_VERSION = "0.13.0"
DEFAULT_VERSION = CODINGBOOTH_VERSION
ENV_FILE_DISABLED = "-"


@attrs.frozen
class BuildSpec:
    """A booth image booth builds: from where, how, and under which tag; ``fingerprint``
    hashes its inputs (set by the config once it has read them; ``inputs`` holds all but
    the context's hash, for a caller that walks the context later)."""

    tag: str
    dockerfile: str
    context: str
    build_args: tuple[tuple[str, str], ...]
    fingerprint: BuildFingerprint | None = None
    bases: tuple[str, ...] = ()  # the images its FROM lines name (``pull = true`` pulls them)
    inputs: BuildInputs | None = attrs.field(default=None, eq=False, repr=False)


def find_dockerfile(code: Path, dockerfile: str | None, where: str) -> Path | None:
    """CodingBooth's ``normalizeDockerFile``: ``dockerfile`` (a file, or a directory that
    holds ``.booth/Dockerfile``; relative to the code directory), else
    ``<code>/.booth/Dockerfile`` when it exists, else none (the prebuilt image)."""
    if dockerfile:
        path = user_path(dockerfile, f"{where}: dockerfile")
        path = path if path.is_absolute() else code / path
        nested = path / ".booth" / "Dockerfile"
        if path.is_dir() and nested.is_file():
            return nested
        if not path.is_file():
            raise ConfigError(f"{where}: dockerfile {dockerfile!r} is not a file ({path})")
        return path
    default = code / ".booth" / "Dockerfile"
    return existing_file(default, str(default))


def build_args(words: Sequence[str], where: str) -> tuple[tuple[str, str], ...]:
    """``build-args`` as CodingBooth passes them to ``docker build``: ``--build-arg K=V``
    (or ``--build-arg=K=V``) pairs. Any other build flag is refused by name: booth builds
    through the Engine API, where a flag it does not know would be silently lost."""
    pairs: list[tuple[str, str]] = []
    index = 0
    while index < len(words):
        word = words[index]
        if word == "--build-arg":
            if index + 1 >= len(words):
                raise ConfigError(f"{where}: --build-arg is missing its value")
            value, index = words[index + 1], index + 2
        elif word.startswith("--build-arg="):
            value, index = word.removeprefix("--build-arg="), index + 1
        else:
            raise ConfigError(f"{where}: {word!r} {_build_flag_hint(word)}")
        name, has_value, text = value.partition("=")
        if not name:
            raise ConfigError(f"{where}: --build-arg {value!r}: expected NAME=VALUE")
        pairs.append((name, text if has_value else ""))
    return tuple(pairs)


# docker build flags with a booth setting of their own; every other one is refused as a
# flag booth does not pass to the Engine API's build (it would be dropped silently).
_BUILD_FLAG_HINTS = {
    "--pull": "is booth's `pull = true` (or --pull)",
    "--file": "is booth's `dockerfile` key",
    "-f": "is booth's `dockerfile` key",
    "--tag": "is booth's to set (codingbooth-local:<project>-<variant>-<version>)",
    "-t": "is booth's to set (codingbooth-local:<project>-<variant>-<version>)",
}


def _build_flag_hint(word: str) -> str:
    """Why a word of ``build-args`` other than ``--build-arg`` is refused, by name."""
    flag = word.partition("=")[0]
    if flag in _BUILD_FLAG_HINTS:
        return f"is not supported in build-args: it {_BUILD_FLAG_HINTS[flag]}"
    if flag.startswith("-"):
        return (
            "is a docker build flag booth does not pass to the engine's build (only "
            "--build-arg NAME=VALUE is); build the image yourself and set `image` instead"
        )
    return "is not supported; build-args takes --build-arg NAME=VALUE"


def build_spec(
    *,
    code: Path,
    dockerfile: Path,
    project: str,
    variant: str,
    version: str,
    user_args: Sequence[tuple[str, str]],
) -> BuildSpec:
    """The build CodingBooth runs: ``docker build -f <Dockerfile> -t
    codingbooth-local:<project>-<variant>-<version> --build-arg CB_VARIANT_TAG=…
    --build-arg CB_VERSION_TAG=… --build-arg CB_SETUPS=… <build-args…> <code dir>``."""
    args = {
        "CB_VARIANT_TAG": variant,
        "CB_VERSION_TAG": version,
        "CB_SETUPS": SETUPS_DIR,
        **dict(user_args),
    }
    return BuildSpec(
        tag=f"{LOCAL_REPO}:{project}-{variant}-{version}",
        dockerfile=str(dockerfile),
        context=str(code),
        build_args=tuple(args.items()),
    )


def prebuilt_image(variant: str, version: str) -> str:
    return f"{PREBUILT_REPO}:{variant}-{version}"


def default_env_file(code: Path, setting: str | None) -> str | None:
    """``env-file``: unset means ``<code>/.env`` when it exists; ``-`` turns it off."""
    if setting == ENV_FILE_DISABLED:
        return None
    if setting:
        return setting
    candidate = existing_file(code / ".env", str(code / ".env"))
    return str(candidate) if candidate is not None else None


@attrs.frozen
class HostIdentity:
    """Who runs booth, as the booth's entrypoint maps its user (``HOST_UID``/``HOST_GID``)."""

    uid: str
    gid: str
    timezone: str


def detect_host(env: Mapping[str, str], localtime: Path = Path("/etc/localtime")) -> HostIdentity:
    """CodingBooth's ``GetHostUID``/``GetHostGID``/``DetectTimezone``: the invoking user,
    and ``TIMEZONE``, ``TZ``, the zone ``/etc/localtime`` names, else UTC. Its
    environment settings (``CB_HOST_UID``, ``CB_HOST_GID``, ``CB_TIMEZONE``) come first."""
    timezone = (
        env.get("CB_TIMEZONE")
        or env.get("TIMEZONE")
        or env.get("TZ")
        or _zone_of(localtime)
        or "UTC"
    )
    uid = env.get("CB_HOST_UID") or str(os.getuid())
    gid = env.get("CB_HOST_GID") or str(os.getgid())
    return HostIdentity(uid, gid, timezone)


def _zone_of(localtime: Path) -> str | None:
    try:
        target = os.readlink(localtime)
    except OSError:
        return None
    _, marker, zone = target.partition("zoneinfo/")
    return zone if marker and zone else None


@attrs.frozen
class Contract:
    """The inputs of the environment CodingBooth's entrypoint reads."""

    name: str
    project: str
    port: int
    image: str
    variant: str
    version: str
    code_dir: str
    config_file: str
    dind: bool
    dockerfile: str
    env_file: str
    port_setting: str
    host: HostIdentity
    startup: str = ""


def contract_env(contract: Contract) -> list[str]:
    """``-e`` pairs CodingBooth puts before the run-args (so a run-arg ``-e`` overrides
    them). Left out on purpose: values of one invocation, not of the booth (``CB_VERBOSE``,
    ``CB_DAEMON``, ``CB_RUNMODE``, ``CB_KEEP_ALIVE``, ``CB_PULL``, ``CB_SILENCE_BUILD``,
    the CodingBooth CLI's own paths): they would change the spec, and so replace the
    booth, between ``booth apply -v`` and ``booth apply``."""
    c = contract
    pairs = {
        "HOST_UID": c.host.uid,
        "HOST_GID": c.host.gid,
        "CB_SETUPS": SETUPS_DIR,
        "CB_CONTAINER_NAME": c.name,
        "CB_HOST_PORT": str(c.port),
        "CB_IMAGE_NAME": c.image,
        "CB_VARIANT_TAG": c.variant,
        "CB_VERSION_TAG": c.version,
        "CB_CODE_PATH": c.code_dir,
        "CB_CODE_PORT": "10000",
        "CB_CONFIG_FILE": c.config_file,
        "CB_DIND": "true" if c.dind else "false",
        "CB_DOCKERFILE": c.dockerfile,
        "CB_PROJECT_NAME": c.project,
        "CB_TIMEZONE": c.host.timezone,
        "CB_PORT": c.port_setting,
        "CB_ENV_FILE": c.env_file,
        "CB_HOST_UID": c.host.uid,
        "CB_HOST_GID": c.host.gid,
    }
    if c.startup:
        pairs["CB_STARTUP"] = c.startup
    return [f"{key}={value}" for key, value in pairs.items()]


def login_shell_command(words: Sequence[str]) -> tuple[str, ...] | None:
    """CodingBooth's ``bash -lc`` of the words joined by spaces: shell syntax works, and a
    login shell's PATH (``/etc/profile.d``, where its setups install tools) applies. No
    words: the image's own command."""
    return ("bash", "-lc", " ".join(words)) if words else None
