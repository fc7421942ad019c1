"""booth-reconciler: run a Docker-in-Docker developer booth as a small, declarative graph."""

__version__ = "0.1.0"
