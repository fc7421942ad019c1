"""The config keys CodingBooth users bring: image build, ``.env``, ``~``/``$VAR``,
``common-args``, the image contract's identity keys, run modes.

Read at the boundary, like the rest of the config: files are read and fingerprinted
here, so the builder and the plan stay pure functions of the result. The one exception
is asked for: with ``walk_context=False`` the build context's walk is left to the
caller (``BuildSpec.inputs``), which runs it alongside the engine's requests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

from reconciler.config import codingbooth
from reconciler.config.codingbooth import BuildSpec, HostIdentity
from reconciler.config.expand import expand
from reconciler.config.reader import KeyReader
from reconciler.config.runargs.routing import Word, words_from
from reconciler.image.context import build_inputs, read_dockerfile
from reconciler.image.dockerfile import base_images, trigger_bases

PARITY_KEYS = (
    "version",
    "dockerfile",
    "build-args",
    "common-args",
    "env-file",
    "host-uid",
    "host-gid",
    "timezone",
    "startup",
    "silence-build",
    "keep-alive",
    "daemon",
)


@attrs.frozen
class Parity:
    """What CodingBooth's keys add to a booth."""

    version: str
    image: str
    build: BuildSpec | None
    words_before: tuple[Word, ...]  # common-args and the env file, before run-args
    host: HostIdentity
    env_file: str
    startup: str
    silence_build: bool
    keep_alive: bool
    daemon: bool
    warnings: tuple[str, ...]


def expanded_list(
    reader: KeyReader, key: str, env: Mapping[str, str], *, allow_joined: bool = True
) -> tuple[tuple[str, ...] | None, list[str]]:
    """A list key with ``~`` and ``$VAR`` expanded in every element, as CodingBooth does,
    and a warning for each unset variable it used."""
    values = reader.string_list(key, allow_joined=allow_joined)
    if values is None:
        return None, []
    out, warnings = [], []
    for value in values:
        result = expand(value, env)
        out.append(result.value)
        warnings += [
            f"{reader.at(key)}: {key}: ${name} is not set (expanded to nothing)"
            for name in result.unset
        ]
    return tuple(out), warnings


def read_parity(
    reader: KeyReader,
    *,
    code: Path,
    env: Mapping[str, str],
    project: str,
    variant: str,
    image_key: str | None,
    cli_build_args: Sequence[str] = (),
    walk_context: bool = True,
) -> Parity:
    version = _string(reader, "version", codingbooth.DEFAULT_VERSION)
    common, warnings = expanded_list(reader, "common-args", env)
    build_words, build_warnings = expanded_list(reader, "build-args", env)
    warnings += build_warnings
    build = None
    image = image_key or codingbooth.prebuilt_image(variant, version)
    if not image_key:
        dockerfile = codingbooth.find_dockerfile(
            code, _optional(reader, "dockerfile"), reader.at("dockerfile")
        )
        if dockerfile is not None:
            words = (*(build_words or ()), *cli_build_args)
            pairs = codingbooth.build_args(words, f"{reader.at('build-args')}")
            spec = codingbooth.build_spec(
                code=code,
                dockerfile=dockerfile,
                project=project,
                variant=variant,
                version=version,
                user_args=pairs,
            )
            content = read_dockerfile(dockerfile)
            inputs = build_inputs(code, dockerfile, dict(spec.build_args), content=content)
            text = content.decode("utf-8", "replace")
            bases = base_images(text, dict(spec.build_args))
            inputs = attrs.evolve(inputs, trigger_bases=trigger_bases(text, dict(spec.build_args)))
            build = attrs.evolve(spec, inputs=inputs, bases=bases)
            if walk_context:
                build = attrs.evolve(build, fingerprint=inputs.fingerprint(inputs.walk.digest()))
            image = spec.tag
    env_file = codingbooth.default_env_file(code, _optional(reader, "env-file"))
    before: list[Word] = []
    if common:
        before += words_from(common, f"{reader.where} common-args")
    if env_file:
        before += words_from(("--env-file", env_file), f"{reader.where} env-file")
    detected = codingbooth.detect_host(env)
    host = HostIdentity(
        uid=_identity(reader, "host-uid", detected.uid),
        gid=_identity(reader, "host-gid", detected.gid),
        timezone=_string(reader, "timezone", detected.timezone),
    )
    return Parity(
        version=version,
        image=image,
        build=build,
        words_before=tuple(before),
        host=host,
        env_file=env_file or "",
        startup=_string(reader, "startup", ""),
        silence_build=reader.boolean("silence-build", False),
        keep_alive=reader.boolean("keep-alive", False),
        daemon=reader.boolean("daemon", False),
        warnings=tuple(warnings),
    )


def _optional(reader: KeyReader, key: str) -> str | None:
    return reader.string(key, "") or None


def _string(reader: KeyReader, key: str, default: str) -> str:
    """A string key; when given, not blank."""
    value = reader.string(key, default)
    if key in reader.raw and not value.strip():
        raise reader.fail(key, "a non-empty string")
    return value


def _identity(reader: KeyReader, key: str, default: str) -> str:
    """``host-uid``/``host-gid``: a number, as a string or an integer (CodingBooth takes
    the string form; TOML users write either)."""
    value = reader.raw.get(key, default)
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not text.isascii() or not text.isdigit():
        raise reader.fail(key, "a numeric id")
    return text
