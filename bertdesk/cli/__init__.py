"""The command line, `python -m bertdesk CMD ...` and `bertdesk-cli`: `main` runs one command in-process,
`process_main` as a process of its own, `build_parser` is the parser with every subcommand.

`program` runs a command and maps what goes wrong to exit codes; `output` and `arguments` are the toolkit the
command modules (`*_command(s)`) share. Importing this package imports no model code: each command imports what it
runs when it runs.
"""

from bertdesk.cli.program import build_parser, main, process_main

__all__ = ["build_parser", "main", "process_main"]
