"""``pve validate`` calibrates on one live run and validates on another, and keeps the two apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.cli import main
from bench.errors import InputError
from bench.results.files import read_results
from bench.simulate.validate import TheoryCheck, comparisons_document, split_validation

REFERENCE = Path(__file__).resolve().parent.parent / "results" / "reference"


def test_out_of_sample_rows_use_the_calibration_runs_fit_and_are_reported_apart(tmp_path: Path) -> None:
    lives = [read_results(REFERENCE / "quickstart"), read_results(REFERENCE / "interval-sweep")]
    rows = split_validation(lives, tmp_path, calibrate_on="quickstart", replicas=3)
    inside = [r for r in rows if r.sample == "in"]
    outside = [r for r in rows if r.sample == "out"]
    assert len(inside) == 11  # every strategy of both runs, each against its own fit
    assert {(r.scenario, r.calibrated_on) for r in inside} == {
        ("quickstart", "quickstart"),
        ("interval-sweep", "interval-sweep"),
    }
    assert len(outside) == 8  # interval-sweep (3 files/s) simulated with quickstart's fit (20 files/s)
    assert {(r.scenario, r.calibrated_on) for r in outside} == {("interval-sweep", "quickstart")}
    uncovered = {r.strategy: r.uncovered for r in outside if r.uncovered}
    assert list(uncovered) == ["s3-lambda"]  # quickstart ran no S3 -> Lambda: nothing to carry over
    assert "not fitted" in uncovered["s3-lambda"]
    assert (tmp_path / "interval-sweep-from-quickstart-moto-profile.toml").is_file()
    # the fit to 20 files/s does not carry over to 3 files/s as well as a fit to the run itself
    own = next(r for r in inside if r.scenario == "interval-sweep" and r.strategy == "s3-sqs-lambda")
    carried = next(r for r in outside if r.strategy == "s3-sqs-lambda")
    assert carried.p95_off > own.p95_off
    theory = TheoryCheck(10.0, 100, 5.0, 5.0, 0.01, 0.5)
    document = comparisons_document(theory, rows)
    assert document["in_sample"]["rows"] == 11
    assert document["out_of_sample"]["calibrated_on"] == ["quickstart"]
    assert document["out_of_sample"]["validated_on"] == ["interval-sweep"]
    assert document["out_of_sample"]["rows"] == 7  # the covered ones
    assert len(document["out_of_sample"]["uncovered"]) == 1
    assert all(e["sample"] == "in" for e in document["live_against_simulated"])
    assert document["holds"] == (theory.holds and document["in_sample"]["holds"])
    with pytest.raises(InputError, match="--calibrate-on 'nowhere'"):
        split_validation(lives, tmp_path, calibrate_on="nowhere", replicas=1)


def test_cli_validate_writes_both_samples(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    live = [str(REFERENCE / "interval-sweep"), str(REFERENCE / "quickstart")]
    args = ["validate", "--live", *live, "--calibrate-on", "interval-sweep", "--replicas", "2"]
    code = main([*args, "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert "(b) in sample" in printed
    assert "(c) out of sample" in printed
    document = json.loads((tmp_path / "validation.json").read_text())
    assert document["out_of_sample"]["calibrated_on"] == ["interval-sweep"]
    assert document["out_of_sample"]["validated_on"] == ["quickstart"]
    assert code in (0, 4)
    assert code == (0 if document["holds"] else 4)
