"""The ``pve`` command line (also ``python -m bench``): ``main`` runs a command; one module per job
beside it (parser: the grammar; run, cost, simulate, report, reproduce, aws: the commands; args,
output, exits: what they share)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape

from bench.cli.exits import EXIT_USAGE
from bench.cli.output import make_console
from bench.cli.parser import build_parser

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    import signal
    import threading

    from bench.errors import InputError, Interrupted
    from event_handlers.runtime.latency import ProfileError

    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR, format="%(levelname)s %(name)s: %(message)s"
    )
    console = make_console()  # a terminal's width, or COLUMNS; logs and pipes get whole rows
    func: Callable[[argparse.Namespace, Console], int] = args.func

    def on_sigterm(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    def redeliver(hook: Any) -> None:
        """A stop raised inside a callback (a weakref's, a __del__) is swallowed: send it again a
        moment later, from another thread, so it lands in ordinary code (not in this hook)."""
        if isinstance(hook.exc_value, KeyboardInterrupt):
            signum = getattr(hook.exc_value, "signum", signal.SIGINT)
            threading.Timer(0.01, signal.raise_signal, (signum,)).start()
            return
        unraisable(hook)

    # SIGTERM (timeout, CI, a container stop) unwinds like Ctrl-C: temp folders cleaned, partial results
    # written and marked incomplete; exit 128 + the signal's number, as a shell reports it
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, on_sigterm) if main_thread else None
    unraisable, sys.unraisablehook = sys.unraisablehook, redeliver
    try:
        return func(args, console)
    except (InputError, ProfileError) as exc:
        text = escape(str(exc))  # a message may hold [brackets] (a TOML section, a list): not markup
        Console(stderr=True).print(f"[red]error:[/] {text}", highlight=False, soft_wrap=True)  # one line
        return EXIT_USAGE
    except Exception as exc:
        unreachable = _unreachable(exc)
        if unreachable is None:
            raise  # a bug: a traceback
        Console(stderr=True).print(f"[red]error:[/] {escape(unreachable)}", highlight=False, soft_wrap=True)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        Console(stderr=True).print(f"[red]interrupted ({signal.Signals(signum).name})[/]")
        return 128 + int(signum)
    finally:
        sys.unraisablehook = unraisable
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


def _unreachable(exc: BaseException) -> str | None:
    """One line for an endpoint or proxy that cannot be reached (botocore's connection errors,
    anywhere in the exception's chain), naming it; None for anything else. botocore is only
    looked up if a command already imported it."""
    errors = sys.modules.get("botocore.exceptions")
    if errors is None:
        return None
    kinds = (errors.EndpointConnectionError, errors.ProxyConnectionError, errors.ConnectTimeoutError)
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, kinds):
            target = current.kwargs.get("proxy_url") or current.kwargs.get("endpoint_url") or "?"
            what = "the proxy" if isinstance(current, errors.ProxyConnectionError) else "the endpoint"
            return (
                f"cannot reach {what} {target} ({type(current).__name__}): check --endpoint-url, "
                "--region, the network and HTTPS_PROXY/HTTP_PROXY"
            )
        current = current.__cause__ or current.__context__
    return None
