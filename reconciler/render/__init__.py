"""A plan or a booth in other forms: plan text and JSON, docker CLI commands, Kubernetes manifests.

Pure. May import: core, config, engine.remote, errors, ui.
"""
