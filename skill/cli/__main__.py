"""`python -m skill.cli`: the `backcoach` command."""

from skill.cli.main import main

raise SystemExit(main())
