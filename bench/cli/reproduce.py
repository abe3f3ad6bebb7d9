"""``pve reproduce``: every reference result again, by running ``pve`` itself step by step."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from bench.cli.exits import EXIT_OK


def cmd_reproduce(args: argparse.Namespace, console: Console) -> int:
    from bench.cli import main  # the steps are pve commands, run in this process
    from bench.reproduce import blocks, execute_notebooks, run_steps, steps, update_readme
    from bench.results.constraints import check_constraints, write_pins

    root = Path(args.out)
    if args.list:
        for step in steps(str(root)):
            console.print(step.command, highlight=False)
        return EXIT_OK
    worst = EXIT_OK
    pinned = check_constraints()
    if not pinned.matches and not args.pin:
        names = ", ".join(f"{k} {v[0]} (pinned {v[1]})" for k, v in list(pinned.differs.items())[:5])
        console.print(
            f"[yellow]note:[/] this environment differs from {pinned.file} ({names or 'no file'}); "
            "results may differ from the reference (install with -c constraints.txt, or pass --pin)",
            highlight=False,
        )
    if not args.findings_only:
        worst = run_steps(root, args.only, main, lambda line: console.print(line, highlight=False))
    readme = Path(args.readme)
    if readme.exists():
        changed = update_readme(readme, blocks(root))
        console.print(f"{readme}: findings {'updated' if changed else 'unchanged'} from {root}")
    if args.notebooks:
        for path in execute_notebooks(Path(args.notebooks_dir)):
            console.print(f"executed {path}", highlight=False)
    if args.pin:
        console.print(f"pinned this environment's versions in {write_pins()}", highlight=False)
    return worst
