"""`python -m bertdesk ...` runs the command line."""

from bertdesk.cli import process_main

raise SystemExit(process_main())
