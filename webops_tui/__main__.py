"""`python -m webops_tui` runs the same CLI as the `webops` console script."""

from webops_tui.cli import main

raise SystemExit(main())
