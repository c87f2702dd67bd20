"""The `backcoach` command line: `main` (the console script) and the parser; commands live in `main` and `simulator`."""

from skill.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
