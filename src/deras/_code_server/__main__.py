"""``python -m deras._code_server``: see ``server.py``."""

from deras._code_server.server import main

if __name__ == "__main__":
    main()
