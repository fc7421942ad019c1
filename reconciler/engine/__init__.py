"""The engine seam and the engines behind it: Docker over the SDK or a Unix socket, Podman, in
memory.

The only package that talks to an engine. May import: core, errors, ui.
"""
