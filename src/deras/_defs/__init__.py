"""Authoring objects: what users write (assets, checks, resources, jobs, definitions)."""
