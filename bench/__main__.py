"""``python -m bench`` is the ``pve`` command."""

from bench.cli import main

raise SystemExit(main())
