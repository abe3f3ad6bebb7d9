"""Find this suite's resources by their ``pve:run-id`` tag, and delete them. Nothing else is touched.

Listing narrows by name first (``pve-`` names, the ``/pve/`` role path) and then decides by tag:
a resource whose name looks like ours but carries no ``pve:run-id`` tag is left alone. IAM is
global, so roles are also matched on their ``pve:region`` tag: a cleanup in one region never
removes another region's run. Deletion runs in reverse creation order; one failure never stops
the rest, and everything that could not be deleted is reported.

Several deletes finish later on AWS: "The deletion process takes up to 60 seconds" for a queue
(Amazon SQS API Reference, "DeleteQueue"), a mapping is returned "Deleting" (AWS Lambda API
Reference, "DeleteEventSourceMapping") and a table stays "DELETING" (Amazon DynamoDB API Reference,
"DeleteTable"; all read 2026-12-07). So teardown lists again until nothing of the run is listed or
``TEARDOWN_WAIT_S`` passes, and reports what AWS is still deleting apart from what was left.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from bench.aws.deploy import REGION_TAG, Clients, Journal
from bench.aws.plan import KIND_ORDER, NAME_PREFIX, ROLE_PATH, TAG_KEY, ResourceKind, partition

if TYPE_CHECKING:
    from types_boto3_s3.type_defs import ObjectIdentifierTypeDef

log = logging.getLogger(__name__)
TEARDOWN_WAIT_S = 90.0  # DeleteQueue "takes up to 60 seconds"; a mapping and a table take seconds
TEARDOWN_POLL_S = 3.0
DELETING = frozenset({"Deleting", "DELETING"})  # a mapping's State, a table's TableStatus


@dataclass(frozen=True)
class Found:
    """A resource carrying a ``pve:run-id`` tag (``extra``: a queue URL or a mapping UUID)."""

    kind: ResourceKind
    name: str
    run_id: str
    extra: str = ""
    state: str = ""  # "Deleting"/"DELETING" while AWS deletes it (mappings, tables)


@dataclass
class TeardownReport:
    deleted: list[Found] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    left: list[Found] = field(default_factory=list)
    still_deleting: list[Found] = field(default_factory=list)  # deleted, AWS not done yet: not left

    @property
    def clean(self) -> bool:
        return not self.errors and not self.left


def _tag_dict(items: Any) -> dict[str, str]:
    if isinstance(items, dict):
        return {str(k): str(v) for k, v in items.items()}
    return {t["Key"]: t["Value"] for t in items or []}


def _wanted(tags: dict[str, str], run_id: str | None) -> bool:
    return TAG_KEY in tags and (run_id is None or tags[TAG_KEY] == run_id)


def _missing(exc: ClientError) -> bool:
    code = exc.response.get("Error", {}).get("Code", "")
    return any(word in code for word in ("NotFound", "NoSuch", "NonExistent")) or code in (
        "404",
        "AWS.SimpleQueueService.NonExistentQueue",
    )


def find_resources(clients: Clients, region: str, run_id: str | None = None) -> list[Found]:
    """Every resource tagged ``pve:run-id`` (= ``run_id`` if given) in ``region``, by service."""
    found: list[Found] = []
    for lister in (_tables, _buckets, _queues, _topics, _roles, _log_groups, _functions, _mappings, _rules):
        found.extend(lister(clients, region, run_id))
    return sorted(found, key=lambda f: (KIND_ORDER[f.kind], f.name))


def _tables(clients: Clients, region: str, run_id: str | None) -> Iterable[Found]:
    ddb = clients("dynamodb")
    for page in ddb.get_paginator("list_tables").paginate():
        for name in page["TableNames"]:
            if not name.startswith(NAME_PREFIX):
                continue
            try:
                table = ddb.describe_table(TableName=name)["Table"]
                tags = _tag_dict(ddb.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags"))
            except ClientError as exc:
                if _missing(exc):
                    continue  # deleted between the listing and the read
                raise
            if _wanted(tags, run_id):
                yield Found(
                    ResourceKind.LEDGER_TABLE, name, tags[TAG_KEY], state=table.get("TableStatus", "")
                )


def _buckets(clients: Clients, region: str, run_id: str | None) -> Iterable[Found]:
    s3 = clients("s3")
    pages = s3.get_paginator("list_buckets").paginate(Prefix=NAME_PREFIX)  # > 10,000 buckets page
    for bucket in (b for page in pages for b in page.get("Buckets", [])):
        name = bucket["Name"]
        if not name.startswith(NAME_PREFIX):
            continue
        try:
            tags = _tag_dict(s3.get_bucket_tagging(Bucket=name).get("TagSet"))
        except ClientError:
            continue  # untagged, or in another region: not ours to touch from here
        if _wanted(tags, run_id) and tags.get(REGION_TAG, region) == region:
            yield Found(ResourceKind.BUCKET, name, tags[TAG_KEY])


def _queues(clients: Clients, region: str, run_id: str | None) -> Iterable[Found]:
    sqs = clients("sqs")
    # ListQueues returns at most 1,000 URLs and pages only when asked for a page size
    pages = sqs.get_paginator("list_queues").paginate(
        QueueNamePrefix=NAME_PREFIX, PaginationConfig={"PageSize": 1000}
    )
    for url in (u for page in pages for u in page.get("QueueUrls", [])):
        try:
            tags = _tag_dict(sqs.list_queue_tags(QueueUrl=url).get("Tags"))
        except ClientError as exc:
            if _missing(exc):
                continue  # still listed while AWS deletes it (up to 60 s): gone for every purpose
            raise
        if _wanted(tags, run_id):
            yield Found(ResourceKind.QUEUE, url.rsplit("/", 1)[-1], tags[TAG_KEY], url)


def _topics(clients: Clients, region: str, run_id: str | None) -> Iterable[Found]:
    sns = clients("sns")
    for page in sns.get_paginator("list_topics").paginate():
        for topic in page.get("Topics", []):
            arn = topic["TopicArn"]
            name = arn.rsplit(":", 1)[-1]
            if not name.startswith(NAME_PREFIX):
                continue
            try:
                tags = _tag_dict(sns.list_tags_for_resource(ResourceArn=arn).get("Tags"))
            except ClientError as exc:
                if _missing(exc):
                    continue  # deleted between the listing and the read
                raise
            if _wanted(tags, run_id):
                yield Found(ResourceKind.TOPIC, name, tags[TAG_KEY], arn)


def _roles(clients: Clients, region: str, run_id: str | None) -> Iterable[Found]:
    iam = clients("iam")
    for page in iam.get_paginator("list_roles").paginate(PathPrefix=ROLE_PATH):
        for role in page["Roles"]:
            tags = _tag_dict(iam.list_role_tags(RoleName=role["RoleName"]).get("Tags"))
            if _wanted(tags, run_id) and tags.get(REGION_TAG) == region:
                yield Found(ResourceKind.ROLE, role["RoleName"], tags[TAG_KEY])


def _log_groups(clients: Clients, region: str, run_id: str | None) -> Iterable[Found]:
    logs = clients("logs")
    for page in logs.get_paginator("describe_log_groups").paginate(
        logGroupNamePrefix=f"/aws/lambda/{NAME_PREFIX}"
    ):
        for group in page["logGroups"]:
            arn = group["arn"].removesuffix(":*")
            tags = _tag_dict(logs.list_tags_for_resource(resourceArn=arn).get("tags"))
            if _wanted(tags, run_id):
                yield Found(ResourceKind.LOG_GROUP, group["logGroupName"], tags[TAG_KEY])


def _functions(clients: Clients, region: str, run_id: str | None) -> Iterable[Found]:
    lam = clients("lambda")
    for page in lam.get_paginator("list_functions").paginate():
        for function in page["Functions"]:
            if not function["FunctionName"].startswith(NAME_PREFIX):
                continue
            tags = _tag_dict(lam.list_tags(Resource=function["FunctionArn"]).get("Tags"))
            if _wanted(tags, run_id):
                yield Found(ResourceKind.FUNCTION, function["FunctionName"], tags[TAG_KEY])


def _mappings(clients: Clients, region: str, run_id: str | None) -> Iterable[Found]:
    lam = clients("lambda")
    for page in lam.get_paginator("list_event_source_mappings").paginate():
        for mapping in page["EventSourceMappings"]:
            function = mapping.get("FunctionArn", "").rsplit(":", 1)[-1]
            if not function.startswith(NAME_PREFIX):
                continue
            arn = mapping.get("EventSourceMappingArn") or (
                f"arn:{partition(region)}:lambda:{region}:{mapping['FunctionArn'].split(':')[4]}:"
                "event-source-mapping:"
                f"{mapping['UUID']}"
            )
            try:
                tags = _tag_dict(lam.list_tags(Resource=arn).get("Tags"))
            except ClientError:
                tags = {}
            if _wanted(tags, run_id):
                yield Found(
                    ResourceKind.EVENT_SOURCE_MAPPING,
                    function,
                    tags[TAG_KEY],
                    mapping["UUID"],
                    mapping.get("State", ""),
                )


def _rules(clients: Clients, region: str, run_id: str | None) -> Iterable[Found]:
    events = clients("events")
    for page in events.get_paginator("list_rules").paginate(NamePrefix=NAME_PREFIX):
        for rule in page["Rules"]:
            tags = _tag_dict(events.list_tags_for_resource(ResourceARN=rule["Arn"]).get("Tags"))
            if _wanted(tags, run_id):
                yield Found(ResourceKind.RULE, rule["Name"], tags[TAG_KEY])


# -- deletion ------------------------------------------------------------------------------------
def _delete_rule(clients: Clients, f: Found) -> None:
    events = clients("events")
    targets = [t["Id"] for t in events.list_targets_by_rule(Rule=f.name).get("Targets", [])]
    if targets:
        events.remove_targets(Rule=f.name, Ids=targets)
    events.delete_rule(Name=f.name)


def _delete_mapping(clients: Clients, f: Found) -> None:
    clients("lambda").delete_event_source_mapping(UUID=f.extra)


def _delete_function(clients: Clients, f: Found) -> None:
    clients("lambda").delete_function(FunctionName=f.name)


def _delete_log_group(clients: Clients, f: Found) -> None:
    clients("logs").delete_log_group(logGroupName=f.name)


def _delete_role(clients: Clients, f: Found) -> None:
    iam = clients("iam")
    for name in iam.list_role_policies(RoleName=f.name).get("PolicyNames", []):
        iam.delete_role_policy(RoleName=f.name, PolicyName=name)
    for policy in iam.list_attached_role_policies(RoleName=f.name).get("AttachedPolicies", []):
        iam.detach_role_policy(RoleName=f.name, PolicyArn=policy["PolicyArn"])
    iam.delete_role(RoleName=f.name)


def _delete_queue(clients: Clients, f: Found) -> None:
    sqs = clients("sqs")
    url = f.extra or sqs.get_queue_url(QueueName=f.name)["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)


def _delete_topic(clients: Clients, f: Found) -> None:
    """DeleteTopic "deletes a topic and all its subscriptions" (Amazon SNS API Reference, read 2026-12-07)."""
    clients("sns").delete_topic(TopicArn=f.extra)


def _delete_bucket(clients: Clients, f: Found) -> None:
    s3 = clients("s3")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=f.name):
        doomed: list[ObjectIdentifierTypeDef] = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if doomed:
            s3.delete_objects(Bucket=f.name, Delete={"Objects": doomed, "Quiet": True})
    s3.delete_bucket(Bucket=f.name)


def _delete_table(clients: Clients, f: Found) -> None:
    clients("dynamodb").delete_table(TableName=f.name)


DELETERS: dict[ResourceKind, Callable[[Clients, Found], None]] = {
    ResourceKind.RULE: _delete_rule,
    ResourceKind.EVENT_SOURCE_MAPPING: _delete_mapping,
    ResourceKind.FUNCTION: _delete_function,
    ResourceKind.LOG_GROUP: _delete_log_group,
    ResourceKind.ROLE: _delete_role,
    ResourceKind.QUEUE: _delete_queue,
    ResourceKind.DLQ: _delete_queue,
    ResourceKind.TOPIC: _delete_topic,
    ResourceKind.BUCKET: _delete_bucket,
    ResourceKind.LEDGER_TABLE: _delete_table,
}


def journal_resources(journal: Journal, run_id: str) -> list[Found]:
    """What this process created (possibly untagged yet), in the shape teardown deletes."""
    return [Found(kind, name, run_id, extra) for kind, name, extra in journal.created if kind in DELETERS]


def delete_resources(clients: Clients, resources: Iterable[Found]) -> TeardownReport:
    """Delete in reverse creation order; a resource already gone counts as deleted."""
    report = TeardownReport()
    unique = {_key(f): f for f in resources}  # a mapping by its UUID: the journal names it otherwise
    for f in sorted(unique.values(), key=lambda f: -KIND_ORDER[f.kind]):
        try:
            DELETERS[f.kind](clients, f)
        except ClientError as exc:
            if not _missing(exc):
                report.errors.append(f"{f.kind} {f.name}: {exc}")
                continue
        report.deleted.append(f)
    return report


def teardown(
    clients: Clients,
    region: str,
    run_id: str,
    journal: Journal | None = None,
    *,
    wait_s: float = TEARDOWN_WAIT_S,
) -> TeardownReport:
    """Remove everything of ``run_id``: what the journal says was created, and whatever carries the
    tag; then list again (waiting for AWS's asynchronous deletes) and report anything left."""
    doomed = find_resources(clients, region, run_id)
    if journal is not None:
        doomed = journal_resources(journal, run_id) + doomed
    report = delete_resources(clients, doomed)
    settle_deletes(report, lambda: find_resources(clients, region, run_id), wait_s)
    return report


def _key(f: Found) -> tuple[ResourceKind, str]:
    if f.kind is ResourceKind.EVENT_SOURCE_MAPPING:
        return (f.kind, f.extra)
    return (ResourceKind.QUEUE if f.kind is ResourceKind.DLQ else f.kind, f.name)


def settle_deletes(report: TeardownReport, listing: Callable[[], list[Found]], wait_s: float) -> None:
    """List again until nothing is left or ``wait_s`` passes; what is still listed then is either
    still being deleted (AWS says so, or this teardown deleted it) or left."""
    deadline = time.monotonic() + wait_s
    deleted = {_key(f) for f in report.deleted}
    while True:
        listed = listing()
        if not listed or time.monotonic() >= deadline:
            break
        time.sleep(min(TEARDOWN_POLL_S, max(0.0, deadline - time.monotonic())))
    report.still_deleting = [f for f in listed if f.state in DELETING or _key(f) in deleted]
    report.left = [f for f in listed if f not in report.still_deleting]
