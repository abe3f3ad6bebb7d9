"""The grammar of ``pve``: every command, flag and help text, and the function each command runs."""

from __future__ import annotations

import argparse
from typing import Any

from bench.cli.args import (
    _bill_line_arguments,
    _count,
    _file_size_mb,
    _files_per_day,
    _files_per_hour,
    _interval,
    _memory,
    _milliseconds,
    _non_negative,
    _positive,
    _positive_int,
    _probability,
    _requirement_arguments,
    _retention_arg,
    _retention_days,
    _seconds_per_file,
    _seed,
    _share,
    _simulated_days,
    _work_arguments,
)
from bench.cli.aws import cmd_aws_cleanup, cmd_aws_doctor, cmd_aws_list, cmd_aws_plan, cmd_aws_template
from bench.cli.cost import cmd_cost, cmd_decide, cmd_idle_cost
from bench.cli.decide_traffic import add_fleet_arguments
from bench.cli.output import add_json_argument
from bench.cli.report import cmd_compare, cmd_diagrams, cmd_report
from bench.cli.reproduce import cmd_reproduce
from bench.cli.run import cmd_capacity, cmd_list, cmd_run
from bench.cli.simulate import cmd_calibrate, cmd_simulate, cmd_validate
from bench.cli.traffic import add_traffic_arguments, cmd_traffic

EPILOG = """exit codes: 0 done (every file processed, or failed with a reason); 1 a bug (a
traceback; please report it); 2 bad input (scenario, arguments, results folder, pricing file);
3 some files were missed (not handled before the drain timeout); 4 `pve validate`: the simulator
does not hold against theory or a live run; 130/143 stopped by Ctrl-C/SIGTERM (temp folders
removed; a live run keeps its finished strategy runs, marked "complete": false)."""


def _version() -> str:
    from bench import __version__

    return __version__


def _add_aws_run_arguments(run: argparse.ArgumentParser) -> None:
    group = run.add_argument_group("with --backend aws")
    group.add_argument("--region", help="AWS region; required, never taken from the environment")
    group.add_argument("--account", help="refuse unless the credentials belong to this account id")
    group.add_argument("--yes", action="store_true", help="really create resources (and pay for them)")
    group.add_argument(
        "--budget-usd",
        type=float,
        default=1.0,
        help="refuse if the run's estimated cost exceeds this (default 1.0)",
    )
    group.add_argument(
        "--endpoint-url",
        help="an AWS-compatible endpoint instead of AWS (moto's server); the local runtime then runs the "
        "functions",
    )
    group.add_argument(
        "--pillow-wheel",
        help="a Pillow wheel built for the functions' runtime (needed unless this machine runs that Python)",
    )


def _add_aws_commands(sub: Any) -> None:
    aws = sub.add_parser(
        "aws",
        help="plan, template, list, clean up and check for (doctor) what 'pve run --backend aws' deploys",
        description="Resources of a run on your AWS account: every one carries a pve:run-id tag, and list "
        "and cleanup act on that tag only. Credentials: boto3's standard chain; --region is always required.",
    )
    commands = aws.add_subparsers(dest="aws_command", required=True, metavar="SUBCOMMAND")

    def common(parser: argparse.ArgumentParser, endpoint: bool) -> None:
        parser.add_argument("--region", required=True, help="AWS region (required)")
        if endpoint:
            parser.add_argument("--endpoint-url", help="an AWS-compatible endpoint (moto's server)")

    plan = commands.add_parser("plan", help="every resource a scenario needs and the run's estimated cost")
    # optional only to read the old spelling `pve aws plan --json SCENARIO` (see cmd_aws_plan)
    plan.add_argument("scenario", nargs="?", help="bundled scenario name or .toml path")
    common(plan, endpoint=False)
    plan.add_argument("--account", help="account id for the ARNs (default: a placeholder)")
    add_json_argument(plan, "the plan")
    plan.set_defaults(func=cmd_aws_plan)

    template = commands.add_parser(
        "template", help="print a CloudFormation template of the same resources (or write it: --out)"
    )
    template.add_argument("scenario", help="bundled scenario name or .toml path")
    common(template, endpoint=False)
    template.add_argument(
        "--out",
        metavar="FILE",
        help="write the template to FILE (atomically) and the function zip beside it (default: the "
        "template on stdout, no zip)",
    )
    template.add_argument(
        "--pillow-wheel", help="a Pillow wheel for the Lambda runtime (see 'pve aws --help')"
    )
    template.set_defaults(func=cmd_aws_template)

    listing = commands.add_parser("list", help="resources tagged pve:run-id in the region")
    common(listing, endpoint=True)
    listing.add_argument("--run-id", help="only this run's")
    listing.set_defaults(func=cmd_aws_list)

    cleanup = commands.add_parser("cleanup", help="delete resources tagged pve:run-id (leftovers)")
    common(cleanup, endpoint=True)
    cleanup.add_argument("--run-id", help="only this run's (without it, every run's: needs --yes)")
    cleanup.add_argument("--yes", action="store_true", help="confirm a cleanup of every run in the region")
    cleanup.set_defaults(func=cmd_aws_cleanup)

    doctor = commands.add_parser(
        "doctor", help="is this account, region and machine ready for a first real run (read-only)"
    )
    common(doctor, endpoint=True)
    doctor.add_argument("--pillow-wheel", help="a Pillow wheel for the Lambda runtime, to check it")
    doctor.set_defaults(func=cmd_aws_doctor)


# Shared output flags, built once: every command that writes a results folder spells them alike.
_FORCE_RESULTS = "replace the results already in --out (deletes their records, summaries and charts)"
_FORCE_CHARTS = "replace the results already in --out (deletes their charts)"
_ASSUMPTIONS = "an assumptions TOML (default: bench/cost/pricing/assumptions.toml)"
_PRICING = "a pricing TOML (default: bench/cost/pricing/aws-us-east-1.toml)"
_RETENTION_DAYS = "days inputs are kept (the same as --keep-inputs-days; default 30)"
_FREE_TIER = "subtract the always-free monthly allowances"


def _out_arguments(parser: argparse.ArgumentParser, out_help: str, force_help: str = _FORCE_RESULTS) -> None:
    """``--out FOLDER`` and ``--force`` (replace what a previous run left there)."""
    parser.add_argument("--out", help=out_help)
    parser.add_argument("--force", action="store_true", help=force_help)


def _format_argument(parser: argparse.ArgumentParser, help: str | None = None) -> None:
    parser.add_argument("--format", choices=["png", "svg"], default="png", help=help)


def _quiet_argument(parser: argparse.ArgumentParser, help: str | None = None) -> None:
    parser.add_argument("--quiet", action="store_true", help=help)


def _results_arguments(
    parser: argparse.ArgumentParser, out_help: str, force_help: str = _FORCE_RESULTS
) -> None:
    """The output flags of a command that writes charts: ``--out``, ``--force``, ``--format``, ``--quiet``."""
    _out_arguments(parser, out_help, force_help)
    _format_argument(parser)
    _quiet_argument(parser)


def _add_run_command(sub: Any) -> None:
    run = sub.add_parser(
        "run",
        help="run a scenario (bundled name or .toml path)",
        epilog=EPILOG,
        description="Run every strategy of a scenario on a fresh backend each, "
        "print a table and write records.csv, summary.json and charts.",
    )
    run.add_argument("scenario", help="bundled scenario name (see 'pve list') or path to a .toml file")
    _out_arguments(run, "results folder (default: results/<scenario>/<UTC timestamp>/)")
    _quiet_argument(run, "print nothing but errors")
    run.add_argument(
        "--backend",
        choices=["moto", "moto-server", "folder", "aws"],
        help="override the scenario's backend ('aws': deploy to your account, see 'pve aws --help')",
    )
    run.add_argument("--profile", help="override the latency profile (instant, aws, moto, or a .toml path)")
    run.add_argument("--repetitions", type=_positive_int, help="override the number of repetitions")
    run.add_argument("--seed", type=_seed, help="override the seed")
    _format_argument(run, "chart format (default png)")
    _add_aws_run_arguments(run)
    run.set_defaults(func=cmd_run)

    listing = sub.add_parser("list", help="list the bundled scenarios, one line each")
    listing.set_defaults(func=cmd_list)


def _add_cost_command(sub: Any) -> None:
    cost = sub.add_parser(
        "cost",
        help="what each deployment costs a month at N files a day; --sweep draws the break-even chart",
        description="Price a month of each deployment option (poller on EC2, scheduled Lambda, S3 -> Lambda, "
        "S3 -> SQS -> Lambda, S3 -> EventBridge -> Lambda, hybrid) from bench/cost/pricing.",
    )
    cost.add_argument(
        "--files-per-day", type=_files_per_day, nargs="+", default=[1_000, 100_000, 10_000_000], metavar="N"
    )
    cost.add_argument(
        "--interval", type=_interval, default=60.0, help="poll interval in seconds (default 60)"
    )
    cost.add_argument("--memory", type=_memory, default=128, help="Lambda memory in MB (default 128)")
    _work_arguments(cost)
    # removed in 0.3.0: still parsed (hidden) so pve cost can say what replaces them, exit 2
    cost.add_argument("--duration-ms", type=_milliseconds, help=argparse.SUPPRESS)
    cost.add_argument("--cpu-share", type=_share, help=argparse.SUPPRESS)
    cost.add_argument("--arch", choices=["x86_64", "arm64"], default="x86_64")
    cost.add_argument("--retention-days", type=_retention_days, help=_RETENTION_DAYS)
    cost.add_argument(
        "--file-size-mb", type=_file_size_mb, default=0.1, help="file size (default 0.1 MB): storage, network"
    )
    cost.add_argument(
        "--retention",
        choices=["lifecycle", "keep"],
        default="lifecycle",
        help="a lifecycle rule deletes files after --retention-days (default), or they are kept",
    )
    _bill_line_arguments(cost)
    _requirement_arguments(cost)
    cost.add_argument("--assumptions", help=_ASSUMPTIONS)
    cost.add_argument(
        "--samples", type=_count, default=64, help="joint Monte Carlo draws per break-even (default 64)"
    )
    cost.add_argument("--seed", type=_seed, default=0, help="seed of the Monte Carlo draws (default 0)")
    cost.add_argument("--free-tier", action="store_true", help=_FREE_TIER)
    cost.add_argument("--pricing", help=_PRICING)
    cost.add_argument("--sweep", action="store_true", help="cost against arrival rate, with break-even rates")
    _results_arguments(cost, "folder for --sweep (default results/cost/sweep/<UTC timestamp>/)")
    cost.set_defaults(func=cmd_cost)


def _add_traffic_command(sub: Any) -> None:
    traffic = sub.add_parser(
        "traffic",
        help="profile your own traffic per prefix (S3 Inventory, access logs, CloudTrail, notifications)",
        description="Read S3 Inventory (manifest.json), S3 server access logs, CloudTrail data events (JSON, "
        "gzip, or a CSV export), archived S3 event notifications (JSON lines) or a plain time,key[,size] "
        "CSV, and print per prefix: files a day, the busiest hour and minute, burstiness, sizes, "
        "overwrites, deletes and the LIST requests already made. A bad record stops the read naming its "
        "file and line (exit 2); records real logs are known to carry are counted and reported.",
    )
    traffic.add_argument("files", nargs="+", metavar="FILE", help="traffic files (gzip or not)")
    add_traffic_arguments(traffic, files="FILE")
    add_json_argument(traffic, "the profiles")
    _quiet_argument(traffic)
    traffic.set_defaults(func=cmd_traffic)


def _decide_workload_arguments(decide: argparse.ArgumentParser) -> None:
    """What ``pve decide`` prices: the arrival rate or hourly profile, the files and the work on each."""
    decide.add_argument(
        "--files-per-day", type=_files_per_day, nargs="+", metavar="N", help="arrival rate(s)"
    )
    decide.add_argument(
        "--hourly",
        type=_files_per_hour,
        nargs="+",
        metavar="N",
        help="a rate profile instead: files in each of the 24 hours (feasibility and latency at the busiest)",
    )
    decide.add_argument("--file-size-mb", type=_file_size_mb, default=0.1, help="file size (default 0.1 MB)")
    _work_arguments(decide)
    decide.add_argument(
        "--memory",
        type=_memory,
        help="pin Lambda memory in MB (default: the cheapest meeting the requirements)",
    )
    decide.add_argument("--arch", choices=["x86_64", "arm64"], default="x86_64")
    decide.add_argument(
        "--interval",
        type=_interval,
        help="pin the poll interval in seconds (default: the cheapest meeting the requirements, 1 s to 1 h)",
    )
    decide.add_argument("--retention-days", type=_retention_days, help=_RETENTION_DAYS)
    decide.add_argument("--retention", choices=["lifecycle", "keep"], default="lifecycle")


def _add_decide_command(sub: Any) -> None:
    decide = sub.add_parser(
        "decide",
        help="rank every deployment option for a workload: cost range, latency, what would overturn it",
        description="For each arrival rate: every deployment option's monthly bill (point and range over "
        "the assumptions in bench/cost/pricing/assumptions.toml), latency p50/p95/p99.9 under a delivery "
        "profile, whether it can run at all and why not, ranked, with what would change the answer.",
    )
    _decide_workload_arguments(decide)
    decide.add_argument(
        "--latency-p95", type=_positive, metavar="S", help="target p95 latency in seconds (default 60)"
    )
    decide.add_argument(
        "--no-latency-target", action="store_true", help="no latency target (pollers may poll hourly)"
    )
    decide.add_argument("--budget-usd", type=_positive, metavar="USD", help="monthly budget")
    decide.add_argument("--profile", default="aws", help="latency profile (default aws)")
    decide.add_argument("--free-tier", action="store_true", help=_FREE_TIER)
    _bill_line_arguments(decide)
    _requirement_arguments(decide)
    decide.add_argument("--assumptions", help=_ASSUMPTIONS)
    decide.add_argument("--pricing", help=_PRICING)
    decide.add_argument("--samples", type=_count, default=32, help="joint Monte Carlo draws (default 32)")
    decide.add_argument("--seed", type=_seed, default=0)
    add_json_argument(decide, "the ranking")
    _results_arguments(
        decide, "folder for the chart (default results/decide/<UTC timestamp>/)", _FORCE_CHARTS
    )
    decide.add_argument(
        "--traffic",
        nargs="+",
        metavar="FILE",
        help="decide per prefix from your own traffic (S3 Inventory manifest.json, access logs, CloudTrail, "
        "notifications, time,key[,size] CSV): the real daily count billed, the busiest minute judged",
    )
    add_traffic_arguments(decide)
    add_fleet_arguments(decide)
    decide.set_defaults(func=cmd_decide)


def _add_compare_command(sub: Any) -> None:
    compare = sub.add_parser(
        "compare",
        help="compare two results folders, strategy by strategy",
        description="Latency medians and p95 of B against A with a Mann-Whitney U test and a "
        "minimum effect; exact request and invocation counts side by side.",
    )
    compare.add_argument("a", help="results folder A (the reference)")
    compare.add_argument("b", help="results folder B")
    compare.add_argument("--alpha", type=_probability, default=0.05, help="significance level (default 0.05)")
    compare.add_argument(
        "--min-effect",
        type=_non_negative,
        default=0.05,
        help="smallest relative change of the median worth reporting (default 0.05)",
    )
    compare.add_argument(
        "--min-effect-s",
        type=_non_negative,
        default=0.005,
        help="smallest absolute change of the median worth reporting, seconds (default 0.005)",
    )
    compare.add_argument("--force", action="store_true", help="compare even if the scenarios differ")
    compare.set_defaults(func=cmd_compare)


def _add_capacity_command(sub: Any) -> None:
    capacity = sub.add_parser(
        "capacity",
        help="find each strategy's knee on this machine: sweep the offered rate, write capacity.json/png",
        description="Measure the floor (a bare put+get+put loop on moto in-process), then play the "
        "scenario's strategies at constant rates (instant profile) and report, per strategy, the highest "
        "rate at which every file is processed, the writer keeps up within 100 ms, event routes' p95 "
        "stays within 50 ms of the floor's per-file time and a poll's p95 within two intervals; then "
        "bisect between each strategy's knee and the first rate that failed.",
    )
    capacity.add_argument("scenario", help="bundled scenario name or .toml path (try 'capacity')")
    _out_arguments(capacity, "folder (default: results/capacity/<scenario>/<UTC timestamp>/)", _FORCE_CHARTS)
    capacity.add_argument(
        "--rates", type=float, nargs="+", help="offered rates, files/s (default: 0.25x to 1.2x the floor)"
    )
    capacity.add_argument(
        "--seconds", type=float, default=5.0, help="seconds of arrivals per rate (default 5)"
    )
    capacity.add_argument(
        "--backend",
        choices=["moto", "moto-server", "moto-process"],
        help="override the scenario's backend (moto-process: moto's server in its own process, two cores)",
    )
    capacity.add_argument(
        "--floor-files", type=int, default=300, help="files in the floor loop (default 300)"
    )
    capacity.add_argument(
        "--refine-steps",
        type=int,
        default=3,
        help="bisection steps between each knee and the first failing rate, the strategy alone "
        "(default 3; 0: the grid only)",
    )
    capacity.add_argument(
        "--note", default="", help="a label stored with the result (e.g. 'other processes shared the CPU')"
    )
    _quiet_argument(capacity)
    capacity.set_defaults(func=cmd_capacity)


def _add_idle_cost_command(sub: Any) -> None:
    idle = sub.add_parser(
        "idle-cost", help="count and price one idle poll of a big bucket, per cursor strategy"
    )
    idle.add_argument(
        "--objects", type=_count, default=10_000, help="objects already in the prefix (default 10,000)"
    )
    idle.add_argument(
        "--sweep-every", type=_positive_int, default=60, help="start-after's full-listing period, in cycles"
    )
    _out_arguments(idle, "also write idle_cost.json to this folder")
    idle.set_defaults(func=cmd_idle_cost)


def _simulate_arrival_arguments(simulate: argparse.ArgumentParser) -> None:
    """Where a simulation's arrivals come from: the scenario, stretched, or recorded traffic replayed."""
    simulate.add_argument(
        "scenario",
        nargs="?",
        help="bundled scenario name or .toml path (with --traffic, default: monthly)",
    )
    simulate.add_argument(
        "--traffic",
        nargs="+",
        metavar="FILE",
        help="replay the object creations recorded in these files (any format pve traffic reads) as the "
        "scenario's arrivals; --prefix P keeps only those under P",
    )
    simulate.add_argument(
        "--compress",
        type=_positive,
        default=1.0,
        metavar="X",
        help="with --traffic: replay X times faster (a week as a day with 7; default 1)",
    )
    add_traffic_arguments(simulate)
    simulate.add_argument("--days", type=_simulated_days, help="simulate this many days of arrivals")
    simulate.add_argument(
        "--files-per-day",
        type=_files_per_day,
        nargs="+",
        metavar="N",
        help="arrival rate(s); several rates give one results folder each",
    )


def _simulate_work_arguments(simulate: argparse.ArgumentParser) -> None:
    """How long each file takes in a simulation: the profile's time, a fixed time, or the work model."""
    simulate.add_argument("--profile", help="latency profile (instant, aws, moto, or a .toml path)")
    simulate.add_argument(
        "--processing-ms",
        type=_milliseconds,
        help="processing time per file (default: the profile's, else the work model: --cpu-s + --wait-s)",
    )
    simulate.add_argument(
        "--cpu-s",
        type=_seconds_per_file,
        help="the work model: CPU seconds per file at one full vCPU (default 0.05; Lambda at its memory's "
        "share of a vCPU, as pve decide)",
    )
    simulate.add_argument(
        "--wait-s",
        type=_seconds_per_file,
        help="the work model: seconds per file waiting on I/O (default 0.05)",
    )
    simulate.add_argument(
        "--processing-ms-per-mb",
        type=_milliseconds,
        default=0.0,
        help="with --processing-ms: extra milliseconds per MB of file (default 0)",
    )


def _add_simulate_command(sub: Any) -> None:
    simulate = sub.add_parser(
        "simulate",
        help="simulate a scenario in virtual time (a month in seconds), in the live schema",
        description="Each strategy as a queueing model, vectorised; the same seeded arrivals as a live run. "
        "--days and --files-per-day stretch the scenario's arrival process.",
    )
    _simulate_arrival_arguments(simulate)
    _simulate_work_arguments(simulate)
    simulate.add_argument(
        "--start",
        choices=["steady", "empty"],
        help="what the bucket holds when the period starts: steady (the default: what the retention keeps "
        "of earlier traffic at the same rate) or empty (a first period); default: the scenario's [bucket]",
    )
    simulate.add_argument(
        "--retention",
        type=_retention_arg,
        metavar="POLICY",
        help="how long processed files stay listed: keep, delete (after processing) or lifecycle:N "
        "(days); default: the scenario's [bucket] retention (keep)",
    )
    simulate.add_argument("--replay", metavar="LIVE_RESULTS", help="replay a live run's poll schedules")
    simulate.add_argument("--seed", type=_seed)
    simulate.add_argument(
        "--max-records",
        type=_count,
        default=100_000,
        help="records.csv keeps a uniform sample of this many files in all (default 100,000)",
    )
    simulate.add_argument(
        "--timing", action="store_true", help="also time a bare numpy pass of the same size"
    )
    simulate.add_argument(
        "--jobs",
        type=_count,
        metavar="N",
        help="worker processes for the strategies (default: this machine's cores); the numbers do "
        "not depend on it",
    )
    _results_arguments(simulate, "results folder (default results/simulate/<scenario>/<UTC timestamp>/)")
    simulate.set_defaults(func=cmd_simulate)


def _add_calibrate_command(sub: Any) -> None:
    calibrate = sub.add_parser(
        "calibrate",
        help="fit a latency profile (moto) to a live run's results",
        description="Fit delivery delays per route, processing time and listing time "
        "to a live results folder; the simulator uses the profile.",
    )
    calibrate.add_argument("results", help="a live results folder")
    calibrate.add_argument("--out", help="profile file to write (default RESULTS/moto-profile.toml)")
    calibrate.add_argument("--name", default="moto", help="the profile's name (default moto)")
    _quiet_argument(calibrate)
    calibrate.set_defaults(func=cmd_calibrate)


def _add_validate_command(sub: Any) -> None:
    validate = sub.add_parser(
        "validate",
        help="check the simulator against theory and against live runs",
        description="(a) poll detection delay against its uniform [0, T] law; (b) in sample: live "
        "runs on moto against simulations with the profile fitted to them; (c) out of sample: the "
        "other live runs against simulations with the profile fitted to the calibration run "
        "(--calibrate-on). A row holds when p50 and p95 are within 10% of the live run's, or inside "
        "the live quantile's 95% confidence interval, and the LIST/GET/PUT counts are equal. The exit "
        "code follows (a) and (b); validation.json reports (c) apart, as out_of_sample.",
    )
    validate.add_argument(
        "--scenarios",
        nargs="+",
        default=["quickstart", "interval-sweep"],
        help="scenarios to run live and simulate (default: quickstart interval-sweep)",
    )
    validate.add_argument(
        "--live", nargs="+", metavar="RESULTS", help="use these live results instead of new runs"
    )
    validate.add_argument(
        "--calibrate-on",
        metavar="SCENARIO",
        help="the live run whose fitted profile simulates the others, out of sample (default: the first)",
    )
    validate.add_argument(
        "--replicas",
        type=_positive_int,
        default=20,
        help="simulations pooled per comparison (default 20: a simulated p95 of 100 files moves by "
        "several percent from one draw to the next)",
    )
    _out_arguments(validate, "folder (default results/validate/simulator/<UTC timestamp>/)")
    _quiet_argument(validate)
    validate.set_defaults(func=cmd_validate)


def _add_diagrams_command(sub: Any) -> None:
    diagrams = sub.add_parser(
        "diagrams",
        help="draw the polling and event architectures (README, decision guide, site)",
        description="Draws polling.png and events.png from the tables in bench/report/diagrams.py.",
    )
    diagrams.add_argument("--out", default="notebooks/diagrams", help="folder (default notebooks/diagrams)")
    diagrams.add_argument("--format", choices=("png", "svg"), default="png")
    diagrams.set_defaults(func=cmd_diagrams)


def _add_reproduce_command(sub: Any) -> None:
    reproduce = sub.add_parser(
        "reproduce",
        help="regenerate every reference result in results/reference/ (and the README's findings)",
        description="Runs each bundled live scenario, the cost sweeps, the idle-poll measurement, the "
        "monthly simulation and the validation; writes COMMAND.txt in each folder and rebuilds the README's "
        "findings from the files. About 25 minutes on 2 cores.",
    )
    reproduce.add_argument("--out", default="results/reference", help="folder (default results/reference)")
    reproduce.add_argument("--only", nargs="+", metavar="STEP", help="run only these steps (see --list)")
    reproduce.add_argument("--list", action="store_true", help="print the commands and stop")
    reproduce.add_argument("--findings-only", action="store_true", help="only rebuild the README's findings")
    reproduce.add_argument("--readme", default="README.md")
    reproduce.add_argument(
        "--pin", action="store_true", help="write this environment's versions to constraints.txt afterwards"
    )
    reproduce.add_argument(
        "--notebooks", action="store_true", help="also execute notebooks/ and save their outputs"
    )
    reproduce.add_argument("--notebooks-dir", default="notebooks")
    reproduce.set_defaults(func=cmd_reproduce)


def _add_report_command(sub: Any) -> None:
    report = sub.add_parser("report", help="redraw the charts and the table of a results folder")
    report.add_argument("results", help="a results folder (with summary.json and records.csv)")
    _format_argument(report)
    _quiet_argument(report)
    report.set_defaults(func=cmd_report)


def build_parser() -> argparse.ArgumentParser:
    """``pve``: one helper per command group, called in the order ``pve --help`` lists them."""
    parser = argparse.ArgumentParser(
        prog="pve",
        description="poll-vs-events: run the same file workload through polling and event "
        "strategies, and compare latency, requests and cost.",
        epilog=EPILOG,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the runtime does")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (
        _add_run_command,
        _add_cost_command,
        _add_traffic_command,
        _add_decide_command,
        _add_compare_command,
        _add_capacity_command,
        _add_idle_cost_command,
        _add_simulate_command,
        _add_calibrate_command,
        _add_validate_command,
        _add_diagrams_command,
        _add_reproduce_command,
        _add_aws_commands,
        _add_report_command,
    ):
        add(sub)
    return parser
