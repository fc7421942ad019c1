"""The Docker Engine API through docker-py (every transport: unix, tcp, TLS, ssh).

May import: engine, core, errors, ui.
"""
