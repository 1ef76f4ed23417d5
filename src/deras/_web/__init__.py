"""The web UI and HTTP API (``deras web``, ``deras dev``).

Server-rendered pages with small vanilla JS modules over a JSON API under ``/api/v1``. The web
server never imports user code: it reads the instance through ``deras._instance.views`` and
what a code location defines through ``deras._snapshot`` (built in a code server process).
"""
