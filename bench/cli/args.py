"""The ``type=`` checks of the flags (argparse turns their errors into usage errors naming the flag)
and the groups of flags several commands share."""

from __future__ import annotations

import argparse


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return value


def _retention_arg(text: str) -> str:
    """``--retention``: checked by argparse, so a bad value is a usage error naming the flag."""
    from bench.scenario.retention import RetentionError, parse_retention

    try:
        return parse_retention(text).spec
    except RetentionError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _number(text: str, *, zero_ok: bool) -> float:
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
        raise argparse.ArgumentTypeError(
            f"must be a finite number {'>= 0' if zero_ok else '> 0'}, got {text}"
        )
    return value


def _positive(text: str) -> float:
    return _number(text, zero_ok=False)


def _non_negative(text: str) -> float:
    return _number(text, zero_ok=True)


def _probability(text: str) -> float:
    """A significance level: strictly between 0 and 1."""
    value = _number(text, zero_ok=False)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {text}")
    return value


def _share(text: str) -> float:
    """A share: from 0 to 1."""
    value = _number(text, zero_ok=True)
    if value > 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _bounded(text: str, low: float, high: float, unit: str, *, low_open: bool = False) -> float:
    """A number within bench.scenario.bounds' limits: the message says the range."""
    from bench.scenario.bounds import out_of_bounds

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if out_of_bounds(value, low, high, low_open=low_open):
        opening = "above" if low_open else "from"
        top = f"{high:,.0f}" if high >= 1e4 else f"{high:g}"
        raise argparse.ArgumentTypeError(f"must be a number {opening} {low:g} to {top}{unit}, got {text}")
    return value


def _files_per_day(text: str) -> float:
    from bench.scenario.bounds import MAX_FILES_PER_DAY

    return _bounded(text, 0.0, MAX_FILES_PER_DAY, " files a day", low_open=True)


def _files_per_hour(text: str) -> float:
    from bench.scenario.bounds import MAX_FILES_PER_DAY

    return _bounded(text, 0.0, MAX_FILES_PER_DAY / 24, " files an hour")


def _interval(text: str) -> float:
    from bench.scenario.bounds import MAX_GAP_S, MIN_INTERVAL_S

    return _bounded(text, MIN_INTERVAL_S, MAX_GAP_S, " s")


def _file_size_mb(text: str) -> float:
    from bench.scenario.bounds import MAX_OBJECT_MB

    return _bounded(text, 0.0, MAX_OBJECT_MB, " MB (S3's largest object)")


def _milliseconds(text: str) -> float:
    from bench.scenario.bounds import MAX_PROCESSING_S

    return _bounded(text, 0.0, MAX_PROCESSING_S * 1000, " ms (a day)")


def _seconds_per_file(text: str) -> float:
    from bench.scenario.bounds import MAX_PROCESSING_S

    return _bounded(text, 0.0, MAX_PROCESSING_S, " s (a day)")


def _retention_days(text: str) -> float:
    from bench.scenario.bounds import MAX_SPAN_S

    return _bounded(text, 0.0, MAX_SPAN_S / 86400, " days (ten years)")


def _simulated_days(text: str) -> float:
    """From one second (a shorter period holds no arrival to simulate) up; the files it implies
    are checked against the simulator's limit later, with the figure."""
    return _bounded(text, 1 / 86400, 1e6, " days", low_open=False)


def _seed(text: str) -> int:
    """A numpy seed: a whole number from 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text}")
    return value


def _memory(text: str) -> int:
    value = _number(text, zero_ok=False)
    if value != int(value) or not 128 <= value <= 10240:
        raise argparse.ArgumentTypeError(
            f"Lambda memory is a whole number of MB from 128 to 10240, got {text}"
        )
    return int(value)


def _count(text: str) -> int:
    value = _number(text, zero_ok=False)
    if value != int(value):
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text}")
    return int(value)


def _bill_line_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-ledger",
        action="store_true",
        help="leave out the DynamoDB idempotency ledger the Lambda routes share (2 writes per file)",
    )
    parser.add_argument(
        "--ebs-root-gb",
        type=_non_negative,
        default=8.0,
        help="the EC2 poller's gp3 root volume in GB (default 8; 0 leaves it out)",
    )


def _work_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cpu-s",
        type=_seconds_per_file,
        default=0.05,
        help="CPU seconds per file at one full vCPU (default 0.05; Lambda at 128 MB: 1769/128 x as long)",
    )
    parser.add_argument(
        "--wait-s",
        type=_seconds_per_file,
        default=0.05,
        help="seconds per file waiting on I/O (default 0.05)",
    )


def _requirement_arguments(parser: argparse.ArgumentParser) -> None:
    """What every option must deliver (``bench.Requirements``): unset, each is a default a range
    sweeps; set, it is pinned."""
    group = parser.add_argument_group("requirements (the same for every option; see bench.Requirements)")
    once = group.add_mutually_exclusive_group()
    once.add_argument(
        "--exactly-once",
        dest="exactly_once",
        action="store_const",
        const=True,
        help="effects once per file: an idempotency ledger on every option (default)",
    )
    once.add_argument(
        "--at-least-once",
        dest="exactly_once",
        action="store_const",
        const=False,
        help="no ledger on any option (the old --no-ledger)",
    )
    group.add_argument(
        "--keep-inputs-days",
        type=_non_negative,
        metavar="N",
        help="inputs are kept N days after processing, by every option (default 30; --retention-days too)",
    )
    group.add_argument(
        "--delete-inputs",
        action="store_true",
        help="inputs are deleted once processed, by every option (an event route deletes them too)",
    )
    group.add_argument(
        "--availability", choices=["single", "multi-az"], help="poller instances (default multi-az)"
    )
    group.add_argument(
        "--network",
        choices=["public", "nat", "endpoint"],
        help="poller subnet: public IPv4, private + NAT gateway, private + gateway endpoints "
        "(default public)",
    )
    group.add_argument(
        "--encryption",
        choices=["sse-s3", "sse-kms", "sse-kms-bucket-key"],
        help="S3 encryption of inputs and outputs (default sse-s3)",
    )
    group.add_argument(
        "--log-bytes-per-file",
        type=_non_negative,
        metavar="B",
        help="CloudWatch Logs bytes the processing writes per file, Lambda and poller alike (default 200)",
    )
