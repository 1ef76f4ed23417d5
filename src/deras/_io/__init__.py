"""Built-in IO managers."""
