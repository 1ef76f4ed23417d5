"""``python -m deras`` runs the CLI."""

from deras._cli.main import main

if __name__ == "__main__":
    main()
