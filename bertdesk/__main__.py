"""`python -m bertdesk ...` runs the command line."""

from bertdesk.cli import main

raise SystemExit(main())
