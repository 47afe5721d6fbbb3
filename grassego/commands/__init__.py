"""Subcommands of the ``grassego`` CLI: one module each, exposing ``register(subparsers)``."""
