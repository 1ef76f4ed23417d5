"""``--compat``: Airflow and Dagster code loads unchanged, its imports served by deras's names.

``modes.py`` reads the setting (``--compat``, ``DERAS_COMPAT``, ``compat:`` in deras.yaml);
``airflow_modules.py`` and ``dagster_modules.py`` map each module path of the other project to
the deras names it offers; ``finder.py`` serves those paths to user code as modules; an import
deras does not provide raises ``unsupported.UnsupportedImport`` (one line naming the module).

This package sits at the bottom of the layers: it imports nothing of deras but ``_core``. The
names it serves are looked up on the public package ``deras`` only when user code asks for
one, the surface ``import deras as dg`` gives, so it reaches past no layer (docs/internals.md).
"""
