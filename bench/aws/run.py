"""Deploy a plan, play the scenario against it, collect the same records, price them, tear down.

The writer and any poller run on this machine against the run's buckets; event routes run on
Lambda (or on moto, in the local runtime standing in for it). Each handled file's timing comes
back as a JSON record the function wrote under ``pve-records/``; REPORT lines come from the
function's log group. Teardown runs whatever happens (success, an error, Ctrl-C, SIGTERM) and
touches only what carries this run's ``pve:run-id`` tag or what this process created.
"""

from __future__ import annotations

import json
import logging
import math
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError

from bench.aws.clock import (
    NO_OFFSET,
    ClockOffset,
    offset_from_date_headers,
    offset_from_event_times,
    offset_from_sent_timestamps,
    tighter,
)
from bench.aws.deploy import Clients, Deployer, Journal
from bench.aws.estimate import COLLECT_EVERY_S
from bench.aws.host import AwsLambdaHost, FunctionHost, LocalLambdaHost
from bench.aws.inventory import TeardownReport, teardown
from bench.aws.package import build_package
from bench.aws.plan import RECORDS_PREFIX, Plan, Resource, ResourceKind, StrategyTarget
from bench.aws.reports import Report, parse_report, summarize_reports
from bench.aws.routes import AWS_ROUTES, Delivery, aws_route
from bench.cost.model import load_pricing
from bench.cost.run import priced
from bench.errors import InputError, Interrupted
from bench.live.backends import BackendEnv
from bench.live.clients import STRATEGY_ROLES, ApiCallCounter, ClientFactory
from bench.live.progress import ProgressReporter, QuietProgress
from bench.live.recorder import COLUMNS, Recorder
from bench.live.runner import StrategyOutcome, build_summary, check_live_size
from bench.live.strategies import RunContext, make_strategy
from bench.live.writer import write_workload
from bench.results.environment import capture_environment, profile_info
from bench.results.files import write_results
from bench.results.model import AwsRunInfo, AwsStrategyInfo, ClockOffsetInfo, Run
from bench.scenario.seeds import strategy_seed
from bench.scenario.spec import QueueLambdaStrategy, Scenario, Strategy, async_part, spec_as
from bench.scenario.workload import PlannedWorkload, plan_workload
from event_handlers.runtime.latency import load_profile

if TYPE_CHECKING:
    from types_boto3_logs.client import CloudWatchLogsClient
    from types_boto3_s3.client import S3Client
    from types_boto3_sqs.client import SQSClient

log = logging.getLogger(__name__)
RUNNABLE = {str(kind) for kind, route in AWS_ROUTES.items() if route.runnable}  # pve aws run plays these
RECORD_TIMES = ("received_at", "started_at", "finished_at", "event_time")
REPORT_WAIT_S = 120.0  # CloudWatch Logs ingests REPORT lines seconds (at times minutes) late
REPORT_POLL_S = 5.0
LOG_WINDOW_SLACK_MS = 1000  # a repetition's REPORT lines are read from its start, less this


class Terminated(Interrupted):
    """SIGTERM, turned into an exception so that every ``finally`` (teardown first) runs; an
    ``Interrupted`` carrying the signal, so ``pve`` exits 143 as on every other path."""


class RunRefusedError(InputError):
    """The run may not start (no --yes, over budget, wrong account, not runnable): exit 2."""


def check_run(plan: Plan, scenario: Scenario, *, yes: bool, budget_usd: float) -> None:
    """Refuse before anything is created: unsupported strategies, over budget, or not confirmed."""
    unsupported = [t.strategy for t in plan.targets if not aws_route(t.kind).runnable]
    if unsupported:
        raise RunRefusedError(
            f"the aws backend does not run {', '.join(unsupported)} yet "
            f"(runs: {', '.join(sorted(RUNNABLE))}); "
            "'pve aws plan' and 'pve aws template' still describe them"
        )
    if not plan.targets:
        raise RunRefusedError(f"scenario {scenario.name!r} has nothing to run on AWS")
    if plan.estimate.total > budget_usd:
        raise RunRefusedError(
            f"the estimated cost ${plan.estimate.total:.4f} exceeds --budget-usd {budget_usd:g}; "
            "raise the budget if you mean it"
        )
    if not yes:
        raise RunRefusedError(
            "this creates resources on your AWS account and costs money: add --yes to go ahead"
        )


# "You can reserve up to the Unreserved account concurrency value minus 100. The remaining 100
# units of concurrency are for functions that aren't using reserved concurrency" (AWS Lambda
# Developer Guide, "Configuring reserved concurrency for a function", read 2026-12-07).
UNRESERVED_FLOOR = 100


@dataclass(frozen=True)
class AccountConcurrency:
    limit: int
    unreserved: int

    @property
    def reservable(self) -> int:
        return max(0, self.unreserved - UNRESERVED_FLOOR)


def account_concurrency(clients: Clients) -> AccountConcurrency | None:
    """Lambda's account limits (GetAccountSettings), or None where the endpoint does not answer it
    (moto's server has no such route: a 404)."""
    try:
        limit = clients("lambda").get_account_settings()["AccountLimit"]
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status in (403, 404):  # no route (moto's server), or not allowed: the check is skipped
            return None
        raise
    return AccountConcurrency(
        int(limit["ConcurrentExecutions"]), int(limit["UnreservedConcurrentExecutions"])
    )


def check_concurrency(plan: Plan, account: AccountConcurrency | None) -> None:
    """Refuse, before anything is created, reserved concurrency the account cannot grant (a new
    account often has a limit of 10, so it can reserve none): naming the field and the numbers."""
    wanted = {
        r.strategy: int(r.spec["reserved_concurrency"])
        for r in plan.of_kind(ResourceKind.FUNCTION)
        if r.spec.get("reserved_concurrency")
    }
    if account is not None and sum(wanted.values()) > account.reservable:
        fields = ", ".join(
            f"strategies.{name}.function.reserved_concurrency = {n}" for name, n in wanted.items()
        )
        raise RunRefusedError(
            f"{fields}: this account's Lambda concurrency limit is {account.limit} with "
            f"{account.unreserved} unreserved, and AWS keeps {UNRESERVED_FLOOR} unreserved, so at most "
            f"{account.reservable} can be reserved; lower it, or ask AWS for a higher limit (Service Quotas)"
        )


def check_account(actual: str, expected: str | None) -> None:
    if expected is not None and actual != expected:
        raise RunRefusedError(f"--account {expected} was named, but the credentials are for account {actual}")


@dataclass
class TeardownHolder:
    report: TeardownReport | None = None
    interrupted: str = ""


@contextmanager
def teardown_always(
    clients: Clients, plan: Plan, journal: Journal, say: Callable[[str], None] = lambda s: None
) -> Iterator[TeardownHolder]:
    """Run the block; then tear the run down, even on SIGTERM or Ctrl-C (ignored while it runs)."""
    holder = TeardownHolder()

    def on_term(signum: int, frame: Any) -> None:
        holder.interrupted = signal.Signals(signum).name
        raise Terminated(signum)

    def during_teardown(signum: int, frame: Any) -> None:
        say(f"{signal.Signals(signum).name} ignored: teardown of run {plan.run_id} is in progress")

    previous = {s: signal.signal(s, on_term) for s in (signal.SIGTERM,)}
    try:
        yield holder
    except KeyboardInterrupt:
        holder.interrupted = holder.interrupted or "SIGINT"
        raise
    finally:
        saved = {s: signal.signal(s, during_teardown) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            say(f"tearing down run {plan.run_id} ...")
            holder.report = report = _teardown_reported(clients, plan, journal)
            left, errors = len(report.left), len(report.errors)
            still = len(report.still_deleting)
            deleted = len(report.deleted)
            say(f"teardown: {deleted} deleted ({still} still deleting), {left} left, {errors} error(s)")
            for error in report.errors:
                say(f"  {error}")
            if not report.clean:
                say(f"run 'pve aws cleanup --region {plan.region} --run-id {plan.run_id}' to retry")
        finally:
            for sig, handler in {**saved, **previous}.items():
                signal.signal(sig, handler)


def _teardown_reported(clients: Clients, plan: Plan, journal: Journal) -> TeardownReport:
    """Teardown whose AWS errors are reported, never raised past the results (issue 22)."""
    try:
        return teardown(clients, plan.region, plan.run_id, journal)
    except (ClientError, BotoCoreError) as exc:
        return TeardownReport(errors=[f"teardown stopped: {exc}"])


def clock_from_queue(sqs: SQSClient, url: str, samples: int = 5) -> ClockOffset:
    """The millisecond offset from a queue's ``SentTimestamp`` (``bench.aws.clock``): a few messages
    sent to the function's dead-letter queue before the run, read back and deleted."""
    found = []
    for i in range(samples):
        before = time.time()
        sqs.send_message(QueueUrl=url, MessageBody=f"pve clock probe {i}")
        found.append((before, time.time()))
    sent: list[float] = []
    deadline = time.monotonic() + 10.0
    while len(sent) < samples and time.monotonic() < deadline:
        messages = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageSystemAttributeNames=["SentTimestamp"],
        ).get("Messages", [])
        for message in messages:
            if message.get("Body", "").startswith("pve clock probe"):
                sent.append(int(message["Attributes"]["SentTimestamp"]) / 1000.0)
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    # which message is which is unknown (no order): pair each stamp with the widest window
    window = (min(b for b, _ in found), max(a for _, a in found))
    return offset_from_sent_timestamps([(window[0], t, window[1]) for t in sent])


def clock_from_date_headers(s3: S3Client, bucket: str, samples: int = 5) -> ClockOffset:
    found = []
    for _ in range(samples):
        before = time.time()
        response = s3.head_bucket(Bucket=bucket)
        after = time.time()
        header = response["ResponseMetadata"]["HTTPHeaders"].get("date")
        if header:
            found.append((before, header, after))
    return offset_from_date_headers(found)


@dataclass
class RecordCollector:
    """Reads the timing records a function wrote under ``pve-records/<strategy>/``."""

    s3: S3Client
    bucket: str
    strategy: str
    min_interval_s: float = COLLECT_EVERY_S  # each look is a billed LIST
    keys: set[str] | None = None  # this repetition's files: another's records are not read as its own
    seen: set[str] = field(default_factory=set)
    records: list[dict[str, Any]] = field(default_factory=list)
    unreadable: int = 0
    _last: float = -math.inf

    def poll(self, *, now: bool = False) -> int:
        """Fetch records not seen yet (at most once per ``min_interval_s`` unless ``now``); return the
        number of distinct keys with a final outcome. A record that cannot be read is counted, not fatal."""
        if now or time.monotonic() - self._last >= self.min_interval_s:
            self._last = time.monotonic()
            prefix = f"{RECORDS_PREFIX}{self.strategy}/"
            for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    if item["Key"] not in self.seen:
                        self.seen.add(item["Key"])
                        self._read(item["Key"])
        return len({r["key"] for r in self.records if r["outcome"] in ("processed", "failed")})

    def _read(self, key: str) -> None:
        try:
            record = json.loads(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
            valid = isinstance(record, dict) and isinstance(record.get("key"), str)
            valid = valid and record.get("outcome") in ("processed", "failed", "duplicate")
            valid = valid and all(isinstance(record.get(t), int | float) for t in RECORD_TIMES)
        except (json.JSONDecodeError, UnicodeDecodeError):
            valid = False
        if not valid:
            self.unreadable += 1
        elif self.keys is None or record["key"] in self.keys:
            self.records.append(record)


def apply_records(recorder: Recorder, records: list[dict[str, Any]], offset: ClockOffset) -> int:
    """Stamp the handler's times (AWS clock, minus the offset) into the recorder; return duplicates."""
    duplicates = 0
    for r in sorted(records, key=lambda r: r["finished_at"]):
        if r["outcome"] == "duplicate":
            duplicates += 1
            continue
        shift = offset.offset_s
        recorder.detected(r["key"], r["received_at"] - shift)
        recorder.started(r["key"], r["started_at"] - shift, "events")
        if r["outcome"] == "processed":
            recorder.succeeded(r["key"], r["finished_at"] - shift, "events")
        else:
            recorder.failed(r["key"], r.get("error", "failed"), r["finished_at"] - shift)
    return duplicates


def _strategy_info(region: str, extra: dict[str, Any]) -> AwsStrategyInfo:
    clock = extra.get("clock", {})
    return AwsStrategyInfo(
        region=region,
        clock=ClockOffsetInfo(**_finite(clock.get("applied_offset", {}))),
        clocks_measured=[ClockOffsetInfo(**_finite(c)) for c in clock.get("measured", [])],
        lambda_reports={k: float(v) for k, v in extra.get("lambda_reports", {}).items()},
        api_calls_by_origin=extra.get("api_calls_by_origin", {}),
        eventbridge_probe=extra.get("eventbridge_probe", {}),
        reports_partial=bool(extra.get("lambda_reports", {}).get("reports_partial", 0.0)),
    )


def _finite(values: dict[str, Any]) -> dict[str, Any]:
    """JSON has no infinity: an unbounded uncertainty is stored as None."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in values.items()}


def read_reports(
    logs: CloudWatchLogsClient,
    group: str,
    wanted: set[str] | None = None,
    wait_s: float | None = None,
    since_ms: int | None = None,
) -> dict[str, float]:
    """The function's REPORT lines from CloudWatch Logs, summed; awaited (logs arrive seconds late)
    until every invocation in ``wanted`` (request ids from the timing records) has its line, or
    ``wait_s`` passes: then ``reports_missing`` says how many are not in (``reports_partial``)."""
    deadline = time.monotonic() + (REPORT_WAIT_S if wait_s is None else wait_s)
    while True:
        reports, malformed = _report_lines(logs, group, since_ms)
        missing = len((wanted or set()) - {r.request_id for r in reports})
        if (not missing and (reports or not wanted)) or time.monotonic() >= deadline:
            break
        time.sleep(min(REPORT_POLL_S, max(0.0, deadline - time.monotonic())))
    return {
        **summarize_reports(reports),
        "malformed_report_lines": malformed,
        "reports_missing": missing,
        "reports_partial": float(bool(missing) or (bool(wanted) and not reports)),
    }


def _report_lines(logs: CloudWatchLogsClient, group: str, since_ms: int | None) -> tuple[list[Report], int]:
    """REPORT lines logged from ``since_ms`` on (a repetition's log window)."""
    reports, malformed = [], 0
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName=group, filterPattern="REPORT", startTime=since_ms or 0
    )
    for page in pages:
        for event in page.get("events", []):
            try:
                report = parse_report(event["message"])
            except ValueError:
                malformed += 1
                continue
            if report is not None:
                reports.append(report)
    return reports, malformed


MACHINE_ROLES = ("poller", "runtime")  # the handler's own requests are counted inside it


def api_calls_by_origin(
    machine: dict[str, int], records: list[dict[str, Any]], kind: str, invocations: int, *, local: bool
) -> dict[str, dict[str, int]]:
    """Each of an event route's request counts, by where it was measured. The function's come from
    its timing records; on AWS, what the route's AWS side does for us (S3 sending each file's
    message to the queue, the mapping's receives and deletes: at least one of each per batch) is
    derived from the records and the REPORT lines, on moto the local runtime made them here."""
    function: dict[str, int] = {}
    for record in records:
        for operation, n in (record.get("requests") or {}).items():
            function[str(operation)] = function.get(str(operation), 0) + int(n)
    out = {"this machine": dict(sorted(machine.items())), "function": dict(sorted(function.items()))}
    if not local and aws_route(kind).delivery is Delivery.QUEUE:
        files = len({r["key"] for r in records})
        out["derived"] = {
            "sqs.SendMessage": files,
            "sqs.ReceiveMessage": invocations,  # a lower bound: empty receives are not seen
            "sqs.DeleteMessageBatch": invocations,
        }
    return {origin: counts for origin, counts in out.items() if counts}


def _sum(by_origin: dict[str, dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for counts in by_origin.values():
        for operation, n in counts.items():
            total[operation] = total.get(operation, 0) + n
    return dict(sorted(total.items()))


@dataclass
class AwsRun:
    """One run of a plan: the clients, the host of the functions, and the scenario's workload."""

    scenario: Scenario
    plan: Plan
    factory: ClientFactory
    local_lambda: bool
    progress: ProgressReporter
    journal: Journal
    planned: PlannedWorkload
    bodies: dict[str, bytes]
    extras: dict[str, dict[str, Any]] = field(default_factory=dict)

    def fresh_factory(self) -> ClientFactory:
        """A fresh set of counted clients per strategy, so no two strategies share a count."""
        base = self.factory
        return ClientFactory(
            ApiCallCounter(), endpoint_url=base.endpoint_url, region=base.region, credentials=base.credentials
        )

    def env(self, target: StrategyTarget, factory: ClientFactory) -> BackendEnv:
        """The strategy's backend: its bucket and its own counted clients."""
        return BackendEnv(
            "aws",
            factory.counter,
            factory,
            bucket=target.bucket,
            endpoint_url=self.factory.endpoint_url,
            account_id=self.plan.account_id,
            region=self.plan.region,
        )

    def repetition(self, repetition: int) -> tuple[Scenario, PlannedWorkload, dict[str, bytes]]:
        """The workload of one repetition. Each after the first writes under a prefix of its own
        inside the watched one (``incoming/rep1/``...): the same bytes under the same key would be
        the same object to the ledger (a duplicate), and the function's records and REPORT lines
        of an earlier repetition would be read as this one's."""
        if repetition == 0:
            return self.scenario, self.planned, self.bodies
        workload = self.scenario.workload
        moved = workload.model_copy(update={"prefix": f"{workload.prefix}rep{repetition}/"})
        scenario = self.scenario.model_copy(update={"workload": moved})
        planned = plan_workload(moved, scenario.seed)
        return scenario, planned, {f.key: planned.body(f) for f in planned.files}

    def run_target(self, target: StrategyTarget, index: int, repetition: int) -> StrategyOutcome:
        scenario, planned, bodies = self.repetition(repetition)
        spec = next(s for s in scenario.strategies if s.name == target.strategy)
        factory = self.fresh_factory()
        env = self.env(target, factory)
        recorder = Recorder(spec.name, repetition)
        for file in planned.files:
            recorder.expect(file.key, len(bodies[file.key]), file.arrival_s)
        date_offset = clock_from_date_headers(Clients(factory, "setup")("s3"), target.bucket)
        wall_start = time.monotonic()
        play = _Play(scenario, planned, bodies, env, factory, recorder, repetition)
        if not aws_route(spec.kind).has_function:
            seed = strategy_seed(scenario.seed, index, repetition)
            writer, counters, notes, details = self._run_poller(play, spec, seed)
            extra: dict[str, Any] = {
                "api_calls_by_origin": {"this machine": env.counter.for_roles(STRATEGY_ROLES)}
            }
            offset = event_offset = NO_OFFSET  # everything was stamped by this machine's clock
        else:
            writer, counters, extra, (offset, event_offset) = self._run_events(
                play, spec, target, date_offset
            )
            notes, details = [], {}
        measured = [event_offset.as_dict(), date_offset.as_dict()]
        if "queue_offset" in extra:
            measured.append(extra.pop("queue_offset"))
        extra["clock"] = {"applied_offset": offset.as_dict(), "measured": measured}
        self.extras[spec.name] = extra
        by_origin = extra.get("api_calls_by_origin")
        return StrategyOutcome(
            name=spec.name,
            kind=spec.kind,
            repetition=repetition,
            records=recorder.records(),
            counters=counters,
            api_calls=_sum(by_origin) if by_origin is not None else env.counter.for_roles(STRATEGY_ROLES),
            api_calls_by_role=env.counter.by_role(),
            writer=writer.as_dict(),
            notes=notes + _unknown(spec.name, recorder.unknown_keys),
            details=details,
            wall_s=time.monotonic() - wall_start,
        )

    def _run_poller(
        self, play: _Play, spec: Strategy, seed: int
    ) -> tuple[Any, dict[str, Any], list[str], Any]:
        with tempfile.TemporaryDirectory(prefix="pve-aws-") as work:
            ctx = RunContext(
                play.scenario, play.env, play.recorder, load_profile("instant"), seed, Path(work)
            )
            strategy = make_strategy(spec, ctx)
            strategy.setup()
            strategy.start()
            try:
                writer = self._write_and_wait(play, lambda: play.recorder.final_count, spec)
            finally:
                strategy.stop()
            strategy.finish()
        return writer, strategy.counters(), strategy.notes(), strategy.details()

    def _run_events(
        self, play: _Play, spec: Strategy, target: StrategyTarget, date_offset: ClockOffset
    ) -> tuple[Any, dict[str, Any], dict[str, Any], tuple[ClockOffset, ClockOffset]]:
        setup = Clients(play.factory, "setup")
        keys = {f.key for f in play.planned.files}
        collector = RecordCollector(setup("s3"), target.bucket, spec.name, keys=keys)
        host: FunctionHost = (
            LocalLambdaHost(self.plan, play.factory, self.journal.queue_urls)
            if self.local_lambda
            else AwsLambdaHost()
        )
        dlq = next(r.name for r in self.plan.of_kind(ResourceKind.DLQ) if r.strategy == spec.name)
        queue_offset = clock_from_queue(setup("sqs"), self.journal.queue_urls[dlq])
        host.start(target, spec)
        probe: dict[str, Any] = {}
        try:
            if aws_route(spec.kind).probe_first:
                probe = await_eventbridge(
                    play, target, RecordCollector(setup("s3"), target.bucket, spec.name)
                )
            started_ms = log_window_start(queue_offset)  # the probes' REPORT lines are before it
            writer = self._write_and_wait(play, collector.poll, spec)
        finally:
            host.stop(target)
        collector.poll(now=True)
        applied, event_offset = self._offsets(play.recorder, collector, date_offset)
        offsets = (tighter(applied, queue_offset), event_offset)
        duplicates = apply_records(play.recorder, collector.records, offsets[0])
        wanted = {r["request_id"] for r in collector.records if r.get("request_id")}
        reports = read_reports(setup("logs"), f"/aws/lambda/{target.function}", wanted, since_ms=started_ms)
        counters = {
            "invocations": int(reports["invocations"]),
            "cold_starts": int(reports["cold_starts"]),
            "gb_s": reports["gb_s"],
            "billed_ms": int(reports["billed_ms"]),
            "init_ms": reports["init_ms"],
            "duplicate_deliveries": duplicates,
            "records_unreadable": collector.unreadable,
        }
        machine = play.env.counter.for_roles(MACHINE_ROLES if self.local_lambda else ("poller",))
        origins = api_calls_by_origin(
            machine, collector.records, spec.kind, int(reports["invocations"]), local=self.local_lambda
        )
        extra = {
            "lambda_reports": reports,
            "api_calls_by_origin": origins,
            "queue_offset": queue_offset.as_dict(),
            **({"eventbridge_probe": probe} if probe else {}),
        }
        return writer, counters, extra, offsets

    def _offsets(
        self, recorder: Recorder, collector: RecordCollector, date_offset: ClockOffset
    ) -> tuple[ClockOffset, ClockOffset]:
        """The applied offset (the tighter measurement) and the event-time one."""
        written = {r.key: r.written_at for r in recorder.records()}
        pairs = [
            (r["event_time"], written[r["key"]])
            for r in collector.records
            if r["key"] in written and not math.isnan(written[r["key"]])
        ]
        event_offset = offset_from_event_times(pairs)
        return tighter(event_offset, date_offset), event_offset

    def _write_and_wait(self, play: _Play, final: Callable[[], int], spec: Strategy) -> Any:
        writer = write_workload(
            play.env,
            play.planned,
            play.bodies,
            play.recorder,
            on_write=lambda n: self.progress.update(n, final()),
        )
        drain_s = play.scenario.drain_timeout_s
        if not self.local_lambda:  # a retried file is late, not missed: wait out AWS's retries
            drain_s = max(drain_s, retry_schedule_s(self.plan, spec))
        deadline = time.monotonic() + drain_s
        expected = len(play.planned.files)
        while time.monotonic() < deadline:
            done = final()
            self.progress.update(writer.files, done)
            if done >= expected:
                break
            time.sleep(0.25)
        return writer


@dataclass(frozen=True)
class _Play:
    """One repetition of one strategy: its workload, backend and recorder."""

    scenario: Scenario
    planned: PlannedWorkload
    bodies: dict[str, bytes]
    env: BackendEnv
    factory: ClientFactory
    recorder: Recorder
    repetition: int


def log_window_start(offset: ClockOffset) -> int:
    """Now on AWS's clock (milliseconds), less the offset's uncertainty: a repetition's REPORT lines
    are read from here on."""
    if math.isfinite(offset.uncertainty_s):
        return int((time.time() + offset.offset_s - offset.uncertainty_s) * 1000) - 50
    return int(time.time() * 1000) - LOG_WINDOW_SLACK_MS


# "After you enable EventBridge, it takes around five minutes for the changes to take effect"
# (Amazon S3 User Guide, "Enabling Amazon EventBridge", read 2026-12-07): until then S3's events
# are not sent, so the EventBridge route's clock starts only once a probe object's event arrived.
EVENTBRIDGE_PROBE_S = 420.0  # five minutes and some: then the run goes on, and says so
PROBE_EVERY_S = 15.0  # a new probe object this often (an event dropped before is never sent)


def await_eventbridge(play: _Play, target: StrategyTarget, probes: RecordCollector) -> dict[str, float]:
    """Write probe objects (the workload's first file's bytes, under a key inside the watched prefix
    that no workload file has) until the function's record of one arrives, or the time box ends."""
    first = play.planned.files[0]
    prefix = play.scenario.workload.prefix
    body = play.bodies[first.key]
    s3 = play.env.client("s3", "setup")
    started = time.monotonic()
    keys: set[str] = set()
    probes.keys = keys
    while time.monotonic() - started < EVENTBRIDGE_PROBE_S:
        key = f"{prefix}pve-probe-{len(keys)}-{first.key[len(prefix) :]}"
        keys.add(key)
        s3.put_object(Bucket=target.bucket, Key=key, Body=body)
        next_probe = time.monotonic() + PROBE_EVERY_S
        while time.monotonic() < next_probe:
            if probes.poll(now=True):
                waited = round(time.monotonic() - started, 3)
                return {"arrived": 1.0, "waited_s": waited, "probes": float(len(keys))}
            time.sleep(1.0)
    waited = round(time.monotonic() - started, 3)
    return {"arrived": 0.0, "waited_s": waited, "probes": float(len(keys))}


# AWS's retry schedules a drain must outlast. Asynchronous invocation: "Lambda retries the function
# up to two more times ... waits one minute before the second attempt and two minutes before the
# third" (AWS Lambda Developer Guide, "How Lambda handles errors and retries with asynchronous
# invocation"); an SQS message comes back after its visibility timeout, up to maxReceiveCount times
# (SQS Developer Guide, "Amazon SQS visibility timeout"; both read 2026-12-07).
ASYNC_RETRY_DELAYS_S = (60.0, 120.0)
RETRY_SLACK_S = 30.0  # the last attempt's own run and delivery


def retry_schedule_s(plan: Plan, spec: Strategy) -> float:
    """Seconds until AWS has made its last attempt at a file whose first attempt failed."""
    route = aws_route(spec.kind)
    if not route.awaits_retries:
        return 0.0
    if route.delivery is Delivery.ASYNC:
        return sum(ASYNC_RETRY_DELAYS_S[: async_part(spec).max_retries]) + RETRY_SLACK_S
    if route.delivery is Delivery.QUEUE:
        queue = next(r for r in plan.of_kind(ResourceKind.QUEUE) if r.strategy == spec.name)
        visibility = float(queue.spec["attributes"]["VisibilityTimeout"])
        return visibility * spec_as(spec, QueueLambdaStrategy).max_receive_count + RETRY_SLACK_S
    return 0.0


def _unknown(strategy: str, keys: list[str]) -> list[str]:
    if not keys:
        return []
    return [f"{strategy}: handled {len(keys)} key(s) the workload did not write, e.g. {keys[0]!r}"]


@dataclass(frozen=True)
class RunOptions:
    """How a run is played: who runs the functions, what it reports, how the package is built."""

    local_lambda: bool = False  # moto: the local runtime stands in for Lambda
    progress: ProgressReporter = field(default_factory=QuietProgress)
    say: Callable[[str], None] = lambda text: None
    command: str = ""
    scenario_file: str = ""
    before_create: Callable[[Resource], None] | None = None  # tests inject a failure here
    package: Callable[[str, str], bytes] = build_package


def run_on_aws(
    scenario: Scenario, plan: Plan, factory: ClientFactory, out_dir: Path, options: RunOptions
) -> Run:
    """Deploy ``plan``, run every strategy, write results to ``out_dir``; always tear down."""
    progress, say, local_lambda = options.progress, options.say, options.local_lambda
    check_live_size(scenario)
    started = datetime.now(UTC)
    planned = plan_workload(scenario.workload, scenario.seed)
    bodies = {spec.key: planned.body(spec) for spec in planned.files}
    clients = Clients(factory)
    journal = Journal()
    outcomes: list[StrategyOutcome] = []
    extras: dict[str, dict[str, Any]] = {}
    collect = _ResultsWriter(scenario, plan, factory, options, started, out_dir)
    account = account_concurrency(clients)
    if account is None:
        say("note: Lambda's account concurrency could not be read (GetAccountSettings): not checked")
    check_concurrency(plan, account)  # before anything is created
    with teardown_always(clients, plan, journal, say) as holder:
        say(f"deploying {len(plan.resources)} resources for run {plan.run_id} in {plan.region} ...")
        Deployer(
            plan, clients, journal=journal, before_create=options.before_create, package=options.package
        ).deploy()
        run = AwsRun(scenario, plan, factory, local_lambda, progress, journal, planned, bodies)
        extras = run.extras
        for repetition in range(scenario.repetitions):
            for index, target in enumerate(plan.targets):
                progress.begin(target.strategy, len(planned.files))
                outcome = run.run_target(target, index, repetition)
                progress.end(f"{sum(r.final for r in outcome.records)}/{len(planned.files)} final")
                outcomes.append(outcome)
        collect.write(outcomes, extras, None)  # the results are safe before teardown begins
    return collect.write(outcomes, extras, holder.report or TeardownReport())


@dataclass
class _ResultsWriter:
    """Builds and writes the run's results: once before teardown, once more with what it did."""

    scenario: Scenario
    plan: Plan
    factory: ClientFactory
    options: RunOptions
    started: datetime
    out_dir: Path

    def write(
        self,
        outcomes: list[StrategyOutcome],
        extras: dict[str, dict[str, Any]],
        report: TeardownReport | None,
    ) -> Run:
        summary, records = self.build(outcomes, extras, report)
        write_results(self.out_dir, records, summary)
        return summary

    def build(
        self,
        outcomes: list[StrategyOutcome],
        extras: dict[str, dict[str, Any]],
        report: TeardownReport | None,
    ) -> tuple[Run, pd.DataFrame]:
        scenario, plan = self.scenario, self.plan
        records = pd.DataFrame([vars(r) for o in outcomes for r in o.records], columns=COLUMNS)
        targets = {t.strategy for t in plan.targets}
        ran = scenario.model_copy(
            update={"strategies": [s for s in scenario.strategies if s.name in targets]}
        )
        built = build_summary(
            ran,
            outcomes,
            records,
            capture_environment(self.started),
            profile_info(load_profile("instant")),
            command=self.options.command,
            scenario_file=self.options.scenario_file,
        )
        done = report or TeardownReport()
        endpoint = effective_endpoint(self.factory)
        strategies = {
            name: entry.model_copy(
                update={"backend": "aws", "aws": _strategy_info(plan.region, extras.get(name, {}))}
            )
            for name, entry in built.strategies.items()
        }
        info = AwsRunInfo(
            region=plan.region,
            run_id=plan.run_id,
            functions_run_by="the local runtime (moto)" if self.options.local_lambda else "AWS Lambda",
            endpoint=endpoint or "AWS",
            endpoint_is_aws=endpoint is None,
            runtime=plan.runtime,
            estimate_usd=plan.estimate.total,
            skipped=dict(plan.skipped),
            teardown_deleted=len(done.deleted),
            teardown_left=[f"{f.kind} {f.name}" for f in done.left],
            teardown_errors=done.errors,
            teardown_still_deleting=[f"{f.kind} {f.name}" for f in done.still_deleting],
            teardown_done=report is not None,
        )
        update = {
            "scenario": built.scenario.model_copy(update={"backend": "aws"}),
            "strategies": strategies,
            "aws": info,
        }
        return priced(built.model_copy(update=update), load_pricing()), records


def effective_endpoint(factory: ClientFactory) -> str | None:
    """The endpoint the run's requests went to, or None when it is AWS's own: ``--endpoint-url``,
    or what botocore took from ``AWS_ENDPOINT_URL``/the config file (which would otherwise redirect
    a "real" run silently)."""
    url = factory.endpoint_url or factory.client("sts", "setup").meta.endpoint_url
    host = urlparse(url).hostname or ""
    aws_hosts = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")
    return None if any(host.endswith(suffix) for suffix in aws_hosts) else url
