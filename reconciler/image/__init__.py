"""The image booth builds: the Dockerfile read statically, the build context walked and hashed.

May import: errors, ui.
"""
