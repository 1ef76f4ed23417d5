"""The instance: one deras home (metadata database + local storage) and its Python API."""
