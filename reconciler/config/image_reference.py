"""Image references, as distribution/reference (vendored by the docker CLI) reads them.

``image = "zz zz"`` or ``"Ubuntu"`` used to pass ``plan`` and fail at the engine's pull or
create; ``ParseNormalizedNamed`` refuses them first there, and so does booth here.
"""

from __future__ import annotations

import re

from reconciler.config.reader import KeyReader

# distribution/reference regexp.go, composed the same way.
_ALPHANUMERIC = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[(?:[a-fA-F0-9:]+)\])(?::[0-9]+)?"
_PATH_COMPONENT = rf"{_ALPHANUMERIC}(?:{_SEPARATOR}{_ALPHANUMERIC})*"
_REMOTE_NAME = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
REFERENCE = re.compile(
    rf"(?P<name>(?:{_DOMAIN}/)?{_REMOTE_NAME})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?",
    re.ASCII,
)
_IMAGE_ID = re.compile(r"(?:sha256:)?[a-f0-9]{64}")
NAME_TOTAL_LENGTH_MAX = 255


def reference_problem(image: str) -> str | None:
    """Why ``image`` is not an image reference (None: it is one). An image ID
    (``sha256:…`` or 64 hex digits) is accepted: ``docker run`` takes it too."""
    if _IMAGE_ID.fullmatch(image):
        return None
    match = REFERENCE.fullmatch(image)
    if match is None:
        lowered = REFERENCE.fullmatch(_lower_path(image))
        if lowered is not None:
            return "a repository name must be lowercase"
        return (
            "expected an image reference such as ubuntu:24.04 or "
            "team/tool@sha256:… (lowercase letters, digits, "
            "separators . _ __ -, no spaces)"
        )
    if len(match.group("name")) > NAME_TOTAL_LENGTH_MAX:
        return f"the repository name is longer than {NAME_TOTAL_LENGTH_MAX} characters"
    return None


def _lower_path(image: str) -> str:
    """``image`` with its path (not its domain or tag) lowercased, to tell an upper-case
    name apart from one that is wrong in other ways."""
    head, slash, rest = image.partition("/")
    looks_like_domain = slash and ("." in head or ":" in head or head == "localhost")
    body = rest if looks_like_domain else image
    name, colon, tag = body.partition(":")
    lowered = name.lower() + colon + tag
    return f"{head}/{lowered}" if looks_like_domain else lowered


def image_reference(reader: KeyReader, key: str, default: str) -> str:
    """The config key ``key``: a non-empty image reference the engine can pull and
    create from."""
    value = reader.string(key, default)
    if not value.strip():
        raise reader.fail(key, "a non-empty string")
    problem = reference_problem(value)
    if problem is not None:
        raise reader.fail(key, f"an image reference ({problem})")
    return value
