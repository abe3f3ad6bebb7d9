"""The aws backend (issue 15): ``pve run --backend aws`` and ``pve aws plan|template|list|cleanup``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

from bench.cli.exits import EXIT_ERROR, EXIT_MISSED, EXIT_OK, EXIT_USAGE, ArgumentError
from bench.cli.output import (
    STDOUT,
    _command_line,
    _draw_after_run,
    _out_dir,
    _prepare_out,
    check_json_target,
    make_console,
    print_table,
    write_atomic,
    write_json,
)


def _aws_setup_error(message: str) -> Exception:
    """No credentials, or a missing file: an input problem of the caller's (exit 2)."""
    from bench.errors import InputError

    return InputError(message)


def _aws_factory(args: argparse.Namespace) -> Any:
    """Counted clients for ``--region`` from boto3's standard credential chain (nothing printed or kept)."""
    from botocore.exceptions import NoCredentialsError

    from bench.aws.plan import check_region
    from bench.live.clients import ApiCallCounter, ClientFactory

    factory = ClientFactory(
        ApiCallCounter(), endpoint_url=args.endpoint_url, region=check_region(args.region)
    )
    try:
        factory.client("sts", "setup").get_caller_identity()
    except NoCredentialsError:
        raise _aws_setup_error(
            "no AWS credentials found by boto3's standard chain (environment, ~/.aws, SSO, instance role)"
        ) from None
    return factory


def _account_of(factory: Any) -> str:
    return str(factory.client("sts", "setup").get_caller_identity()["Account"])


def cmd_aws_plan(args: argparse.Namespace, console: Console) -> int:
    from bench.aws.plan import build_plan
    from bench.aws.render import plan_lines
    from bench.scenario.spec import load_scenario

    if args.scenario is None and args.json not in (None, STDOUT):
        args.scenario, args.json = args.json, STDOUT  # the old spelling: `--json` a flag, then SCENARIO
    if args.scenario is None:
        raise ArgumentError("scenario", "give a bundled scenario name or a .toml path")
    check_json_target(args)
    plan = build_plan(load_scenario(args.scenario), region=args.region, account_id=args.account)
    if args.json:
        written = write_json(plan.as_dict(), args.json)
        if written is not None:
            make_console(stderr=True).print(f"wrote {written}", highlight=False)
        return EXIT_OK
    for line in plan_lines(plan):
        console.print(line, highlight=False, markup=False, soft_wrap=True)
    return EXIT_OK


def cmd_aws_template(args: argparse.Namespace, console: Console) -> int:
    """The template on stdout; with ``--out FILE``, written there with the function zip beside it."""
    from bench.aws.package import PackagingError
    from bench.aws.plan import build_plan
    from bench.aws.template import build_template, template_plan
    from bench.results.files import prepare_out_file
    from bench.scenario.spec import load_scenario

    scenario = load_scenario(args.scenario)
    if args.out:
        prepare_out_file(Path(args.out), flag="--out")
    plan = build_plan(scenario, region=args.region)
    document = build_template(template_plan(plan, scenario))
    err = make_console(stderr=True)
    if not args.out:
        write_json(document, STDOUT)
        err.print(
            f"{len(plan.resources)} resources; the function zip is written only with --out FILE (beside it)",
            highlight=False,
        )
        return EXIT_OK
    out = Path(args.out)
    try:
        package: bytes | None = _aws_package(args)(plan.runtime, _architecture(plan))
    except PackagingError as exc:
        package, reason = None, str(exc)
    write_json(document, str(out))
    err.print(f"wrote {out} ({len(plan.resources)} resources)", highlight=False)
    if package is None:
        err.print(f"[yellow]no function zip written:[/] {reason}", highlight=False)
    else:
        zipped = out.with_name(out.stem + "-function.zip")
        write_atomic(zipped, package)
        err.print(
            f"wrote {zipped}: upload it to S3 and pass its bucket and key as PackageBucket and PackageKey",
            highlight=False,
        )
    return EXIT_OK


def _architecture(plan: Any) -> str:
    from bench.aws.plan import ResourceKind

    functions = plan.of_kind(ResourceKind.FUNCTION)
    return str(functions[0].spec["architecture"]) if functions else "x86_64"


def _aws_package(args: argparse.Namespace) -> Callable[[str, str], bytes]:
    """The function zip builder: with --pillow-wheel, or this machine's Pillow if it fits (or on moto)."""
    from bench.aws.package import build_package, local_package

    wheel = Path(args.pillow_wheel) if getattr(args, "pillow_wheel", None) else None
    if wheel is not None and not wheel.is_file():
        raise _aws_setup_error(f"--pillow-wheel {wheel}: no such file")
    if wheel is None and getattr(args, "endpoint_url", None):
        return lambda runtime, architecture: local_package()
    return lambda runtime, architecture: build_package(runtime, architecture, wheel)


def cmd_aws_list(args: argparse.Namespace, console: Console) -> int:
    from bench.aws.deploy import Clients
    from bench.aws.inventory import find_resources
    from bench.aws.render import inventory_lines

    found = find_resources(Clients(_aws_factory(args)), args.region, args.run_id)
    for line in inventory_lines(found):
        console.print(line, highlight=False, markup=False)
    return EXIT_OK


def cmd_aws_cleanup(args: argparse.Namespace, console: Console) -> int:
    from bench.aws.deploy import Clients
    from bench.aws.inventory import delete_resources, find_resources
    from bench.aws.render import inventory_lines

    if args.run_id is None and not args.yes:
        Console(stderr=True).print(
            "[red]refused:[/] without --run-id this removes every pve run in the region (a run in progress "
            "too): add --yes",
            highlight=False,
        )
        return EXIT_USAGE
    clients = Clients(_aws_factory(args))
    found = find_resources(clients, args.region, args.run_id)
    for line in inventory_lines(found):
        console.print(line, highlight=False, markup=False)
    report = delete_resources(clients, found)
    left = find_resources(clients, args.region, args.run_id)
    console.print(f"cleanup: {len(report.deleted)} deleted, {len(left)} left", highlight=False)
    for error in report.errors:
        Console(stderr=True).print(f"[red]error:[/] {error}", highlight=False)
    return EXIT_OK if not left and not report.errors else EXIT_ERROR


def cmd_aws_doctor(args: argparse.Namespace, console: Console) -> int:
    """Is the account, region and machine ready for a first real run: one table, exit 0 or 2."""
    from botocore.exceptions import (
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        ReadTimeoutError,
    )
    from rich.table import Table

    from bench.aws.deploy import Clients
    from bench.aws.doctor import Caller, as_row, ready, run_checks
    from bench.aws.plan import check_region
    from bench.live.clients import ApiCallCounter, ClientFactory

    region = check_region(args.region)
    factory = ClientFactory(ApiCallCounter(), endpoint_url=args.endpoint_url, region=region, max_attempts=1)
    clients = Clients(factory)
    err = Console(stderr=True)
    where = args.endpoint_url or f"AWS ({region})"
    try:
        identity = clients("sts").get_caller_identity()
        caller = Caller(str(identity["Account"]), str(identity["Arn"]))
        wheel = Path(args.pillow_wheel) if args.pillow_wheel else None
        checks = run_checks(clients, region, caller, on_endpoint=args.endpoint_url is not None, wheel=wheel)
    except NoCredentialsError:
        err.print(
            "[red]not ready:[/] no AWS credentials found by boto3's standard chain",
            highlight=False,
            soft_wrap=True,
        )
        return EXIT_USAGE
    except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError) as exc:
        err.print(f"[red]not ready:[/] cannot reach AWS at {where}: {exc}", highlight=False, soft_wrap=True)
        return EXIT_USAGE
    table = Table(title=f"pve aws doctor: {where}", title_justify="left")
    for column in ("check", "result", "found", "what to fix"):
        table.add_column(column, overflow="fold")
    for check in checks:
        table.add_row(*as_row(check))
    console.print(table)
    if ready(checks):
        console.print("ready for a first run", highlight=False)
        return EXIT_OK
    err.print("[red]not ready:[/] fix the rows marked 'fix'", highlight=False)
    return EXIT_USAGE


def cmd_run_aws(args: argparse.Namespace, console: Console) -> int:
    from bench.aws.plan import ResourceKind, build_plan
    from bench.aws.render import plan_lines
    from bench.aws.run import RunOptions, RunRefusedError, check_account, check_run, run_on_aws
    from bench.live.progress import QuietProgress, RichProgress
    from bench.report.table import summary_table
    from bench.scenario.spec import load_scenario, resolve_scenario_path

    scenario = load_scenario(args.scenario).with_overrides(repetitions=args.repetitions, seed=args.seed)
    err = Console(stderr=True)
    try:
        preview = build_plan(scenario, region=args.region, account_id=args.account)
        for line in plan_lines(preview):
            console.print(line, highlight=False, markup=False, soft_wrap=True)
        check_run(preview, scenario, yes=args.yes, budget_usd=args.budget_usd)
        factory = _aws_factory(args)
        account = _account_of(factory)
        check_account(account, args.account)
    except RunRefusedError as exc:
        err.print(f"[red]refused:[/] {exc}", highlight=False)
        return EXIT_USAGE
    plan = build_plan(scenario, region=args.region, account_id=account, run_id=preview.run_id)
    package = _aws_package(args)
    for architecture in {str(r.spec["architecture"]) for r in plan.of_kind(ResourceKind.FUNCTION)}:
        package(plan.runtime, architecture)  # refuse a Pillow that would not load, before deploying
    out = _prepare_out(_out_dir("run", scenario.name, args.out), args)
    progress = QuietProgress() if args.quiet else RichProgress()
    try:
        options = RunOptions(
            local_lambda=args.endpoint_url is not None,
            progress=progress,
            say=lambda text: console.print(text, highlight=False, markup=False),
            command=_command_line(),
            scenario_file=str(resolve_scenario_path(args.scenario)),
            package=package,
        )
        summary = run_on_aws(scenario, plan, factory, out, options)
    finally:
        if isinstance(progress, RichProgress):
            progress.close()
    charts = _draw_after_run(out, args.format)
    if not args.quiet:
        print_table(console, summary_table(summary))
        console.print(f"results: {out}/records.csv, {out}/summary.json, " + ", ".join(str(c) for c in charts))
    missed = sum(s.missed for s in summary.strategies.values())
    return EXIT_MISSED if missed else EXIT_OK
