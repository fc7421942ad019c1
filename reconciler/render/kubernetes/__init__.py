"""Kubernetes manifests of a booth's graph.

Pure. May import: core, errors.
"""
