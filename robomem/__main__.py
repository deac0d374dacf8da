"""``python -m robomem``: the same command line as the ``robomem`` console script."""

from robomem.cli.main import main

raise SystemExit(main())
