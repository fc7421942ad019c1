"""What people and machines read on stderr: log events, their sentences, colour.

May import: errors.
"""
