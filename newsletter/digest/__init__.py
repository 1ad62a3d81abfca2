"""Digests: the schema, the writers that fill it, and the build step that stores it."""
