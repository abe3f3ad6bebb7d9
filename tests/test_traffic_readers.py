"""The traffic readers on samples written from AWS's documentation (tests/fixtures/traffic/README.md):
what each format yields, what it counts as skipped, and the bad input that stops a read naming the
file and line."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from bench.cli import main
from bench.traffic import Grouping, Op, ReadNotes, TrafficError, profile_traffic, read_traffic
from bench.traffic.sources import detect_format

FIXTURES = Path(__file__).parent / "fixtures" / "traffic"


def read(*paths: Path | str, fmt: str | None = None) -> tuple[list, ReadNotes]:
    notes = ReadNotes()
    return list(read_traffic([Path(p) for p in paths], fmt=fmt, notes=notes)), notes


def gz(src: Path, dst: Path) -> Path:
    dst.write_bytes(gzip.compress(src.read_bytes()))
    return dst


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    """The sample inventory as delivered: the manifest, and its data file gzipped under the key it names."""
    manifest = json.loads((FIXTURES / "inventory" / "manifest.json").read_text())
    key = Path(manifest["files"][0]["key"])
    data = tmp_path / "Inventory" / key.relative_to("Inventory")
    data.parent.mkdir(parents=True)
    gz(FIXTURES / "inventory" / "data" / key.name.removesuffix(".gz"), data)
    folder = tmp_path / "Inventory" / "example-source-bucket" / "2016-11-06T21-32Z"
    shutil.copy(FIXTURES / "inventory" / "manifest.json", folder / "manifest.json")
    return folder / "manifest.json"


def test_access_log_yields_creations_deletions_and_listings_with_decoded_keys() -> None:
    accesses, notes = read(FIXTURES / "access-log.txt")
    creates = [(a.key, a.size) for a in accesses if a.op is Op.CREATE]
    assert creates == [
        ("s3-dg.pdf", 4406583),  # the S3 User Guide's own PUT record
        ("incoming/2019/report one.csv", 2048),  # %20 decoded
        ("incoming/2019/big.bin", 104857600),  # REST.POST.UPLOAD (multipart completion)
        ("archive/big.bin", 104857600),  # REST.COPY.OBJECT, not its _GET twin
        ("incoming/2019/report one.csv", None),  # object size '-'
    ]
    assert [(a.op, a.key) for a in accesses if a.op is not Op.CREATE] == [
        (Op.LIST, "incoming/2019/"),  # the prefix= of the Request-URI, decoded
        (Op.DELETE, "incoming/2019/big.bin"),
    ]
    assert notes.skipped["failed request (HTTP 403)"] == 1
    assert notes.skipped["other operation REST.COPY.OBJECT_GET"] == 1
    assert notes.noted["object size '-' (size unknown)"] == 1
    assert notes.records == 13


def test_cloudtrail_log_file_gzipped_as_delivered(tmp_path: Path) -> None:
    name = "111122223333_CloudTrail_us-west-2_20190201T0320Z_x.json.gz"
    path = gz(FIXTURES / "cloudtrail.json", tmp_path / name)
    assert detect_format(path) == "cloudtrail"
    accesses, notes = read(path)
    assert [(a.op, a.key, a.size) for a in accesses] == [
        (Op.CREATE, "incoming/2019/a.csv", 3462),
        (Op.CREATE, "incoming/2019/big.bin", None),
        (Op.LIST, "incoming/", None),
        (Op.CREATE, "archive/a.csv", None),
        (Op.DELETE, "incoming/2019/a.csv", None),
    ]
    assert {a.region for a in accesses} == {"us-west-2"}
    assert notes.skipped == {"event GetObject": 1, "failed request (AccessDenied)": 1}
    assert notes.out_of_order == 1  # CloudTrail documents no order: counted, not an error


def test_cloudtrail_csv_export_reads_like_the_json() -> None:
    json_accesses, _ = read(FIXTURES / "cloudtrail.json")
    csv_accesses, notes = read(FIXTURES / "cloudtrail.csv")
    assert detect_format(FIXTURES / "cloudtrail.csv") == "cloudtrail-csv"
    assert csv_accesses == json_accesses
    assert notes.skipped["failed request (AccessDenied)"] == 1


def test_notifications_go_through_parse_s3_event_and_drop_duplicates() -> None:
    accesses, notes = read(FIXTURES / "notifications.jsonl")
    assert [(a.op, a.key, a.size) for a in accesses] == [
        (Op.CREATE, "incoming/2019/HappyFace.jpg", 1024),
        (Op.CREATE, "incoming/2019/big file(1).bin", 104857600),  # form-URL-decoded, as parse_s3_event does
        (Op.DELETE, "incoming/2019/HappyFace.jpg", None),
    ]
    assert notes.skipped == {
        "s3:TestEvent (no records)": 1,
        "duplicate delivery (notifications are at least once)": 1,
    }


def test_inventory_csv_through_its_manifest(inventory: Path) -> None:
    accesses, _ = read(inventory)
    assert [(a.op, a.key, a.size) for a in accesses] == [
        (Op.CREATE, "incoming/2016/a.csv", 100),
        (Op.CREATE, "incoming/2016/a.csv", 120),
        (Op.CREATE, "incoming/2016/report two.csv", 2048),  # CSV inventory keys are URL-encoded
        (Op.CREATE, "incoming/2016/gone.csv", 10),
        (Op.DELETE, "incoming/2016/gone.csv", None),  # a delete marker
        (Op.CREATE, "logs/x.log", 5),
    ]
    assert {a.bucket for a in accesses} == {"example-source-bucket"}
    profiles = {p.prefix: p for p in profile_traffic(iter(accesses), Grouping(depth=1))}
    assert profiles["incoming/"].overwrites == 1
    assert profiles["incoming/"].objects_live == 2


def test_inventory_parquet_reads_like_its_csv_twin(tmp_path: Path, inventory: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    csv_accesses, _ = read(inventory)
    table = pa.table(
        {
            "bucket": [a.bucket for a in csv_accesses],
            "key": [a.key for a in csv_accesses],
            "is_latest": [True] * len(csv_accesses),
            "is_delete_marker": [a.op is Op.DELETE for a in csv_accesses],
            "size": [a.size for a in csv_accesses],
            "last_modified_date": pa.array([int(a.time * 1000) for a in csv_accesses], pa.timestamp("ms")),
        }
    )
    pq.write_table(table, tmp_path / "part-0.parquet")
    manifest = json.loads(inventory.read_text())
    manifest.update(fileFormat="Parquet", fileSchema="message s3.inventory { ... }")
    manifest["files"] = [{"key": "inventory/example-source-bucket/data/part-0.parquet", "size": 1}]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    parquet_accesses, _ = read(tmp_path / "manifest.json")
    assert parquet_accesses == csv_accesses


def test_plain_csv_with_epoch_and_iso_times() -> None:
    accesses, notes = read(FIXTURES / "objects.csv")
    assert [(a.key, a.size) for a in accesses][-2:] == [("images/x.png", 5000), ("images/y.png", None)]
    assert accesses[-1].time == 1796032800.0
    assert notes.noted["no size (size unknown)"] == 1


def test_a_manifest_naming_a_missing_file_fails_before_reading_any(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "inventory" / "manifest.json", tmp_path / "manifest.json")
    missing = r"manifest.json: files\[0\]: Inventory/.*\.csv\.gz is not on this"
    with pytest.raises(TrafficError, match=missing):
        read(tmp_path / "manifest.json")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("time,key,owner\n2026-01-01T00:00:00Z,a,b\n", r"line 1: .*unknown column 'owner'"),
        ("time,key\n2026-01-01T00:01:00Z,a\n2026-01-01T00:00:00Z,b\n", r"line 3: time .* is earlier than"),
        ("time,key\n2099-01-01T00:00:00Z,a\n", r"line 2: time 2099-01-01T00:00:00Z is in the future"),
        ("time,key,size\n2026-01-01T00:00:00Z,a,-5\n", r"line 2: negative size -5"),
        ("time,key,size\n2026-01-01T00:00:00Z,a,5\nyesterday,b,1\n", r"line 3: time 'yesterday' is neither"),
    ],
    ids=["unknown-column", "out-of-order", "future", "negative-size", "bad-time"],
)
def test_bad_plain_csv_names_the_file_and_line(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "objects.csv"
    path.write_text(text)
    with pytest.raises(TrafficError, match=rf"objects.csv: {problem}"):
        read(path)


def test_mixed_regions_are_an_error_naming_both_places(tmp_path: Path) -> None:
    document = json.loads((FIXTURES / "cloudtrail.json").read_text())
    document["Records"][3]["awsRegion"] = "eu-west-1"
    path = tmp_path / "trail.json"
    path.write_text(json.dumps(document))
    mixed = r"Records\[3\]: region eu-west-1 differs from us-west-2 \(first seen"
    with pytest.raises(TrafficError, match=mixed):
        read(path)


def test_a_broken_access_log_line_is_named(tmp_path: Path) -> None:
    lines = (FIXTURES / "access-log.txt").read_text().splitlines()
    lines.insert(4, "this is not a log record")
    path = tmp_path / "log.txt"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(TrafficError, match=r"log.txt: line 5: not an S3 server access log record"):
        read(path)


def test_an_unknown_cloudtrail_csv_column_is_an_error(tmp_path: Path) -> None:
    text = (FIXTURES / "cloudtrail.csv").read_text().replace("awsRegion", "colour", 1)
    path = tmp_path / "export.csv"
    path.write_text(text)
    with pytest.raises(TrafficError, match=r"export.csv: line 1: unknown column 'colour'"):
        read(path)


def test_pve_traffic_reads_every_format_and_exits_2_on_bad_input(
    tmp_path: Path, inventory: Path, capsys
) -> None:
    files = [FIXTURES / n for n in ("access-log.txt", "cloudtrail.csv", "notifications.jsonl", "objects.csv")]
    for path in [*files, inventory]:
        assert main(["traffic", str(path), "--quiet"]) == 0, path
    out = tmp_path / "profile.json"
    assert main(["traffic", str(FIXTURES / "access-log.txt"), "--json", str(out), "--quiet"]) == 0
    incoming = next(p for p in json.loads(out.read_text())["profiles"] if p["prefix"] == "incoming/")
    counts = (incoming["creates"], incoming["deletes"], incoming["lists"], incoming["overwrites"])
    assert counts == (3, 1, 1, 1)
    bad = tmp_path / "bad.csv"
    bad.write_text("time,key,size\n2026-01-01T00:00:00Z,a,-1\n")
    capsys.readouterr()
    assert main(["traffic", str(bad)]) == 2
    assert "bad.csv: line 2: negative size -1" in capsys.readouterr().err


def test_depth_zero_is_one_profile_per_bucket() -> None:
    accesses, _ = read(FIXTURES / "access-log.txt", FIXTURES / "cloudtrail.json")
    profiles = profile_traffic(iter(accesses), Grouping(depth=0))
    assert [(p.bucket, p.prefix, p.creates) for p in profiles] == [
        ("amzn-s3-demo-bucket", "", 3),
        ("awsexamplebucket1", "", 5),
    ]


def test_the_lists_in_a_log_are_priced_as_what_polling_pays_today() -> None:
    from bench.cost.model import load_pricing
    from bench.traffic.view import list_usd_per_month

    accesses, _ = read(FIXTURES / "access-log.txt")
    (incoming,) = [p for p in profile_traffic(iter(accesses)) if p.prefix == "incoming/"]
    pricing = load_pricing()
    per_list = pricing["s3_put_copy_post_list"]
    assert incoming.lists == 1
    assert incoming.window_days < 1
    assert incoming.rated_days == 1  # a sample of minutes is rated as a day
    expected = 1 / incoming.rated_days * pricing.hours_per_month / 24 * per_list
    assert list_usd_per_month(incoming, pricing) == pytest.approx(expected)
