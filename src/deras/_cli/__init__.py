"""The ``deras`` command line."""
