"""Batch safety on real raws: the walker, mirrored trees, dry runs, the journal, temp files.

Real raws come from ``<repo>/../shared/data/raw`` (DATA.md); the tests skip, saying
why, only when that folder is absent. Runs are inline (``workers=0``) unless a
process pool is the point.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import pytest

from rawjpeg_gui.core.batch import (
    JOURNAL_NAME,
    BatchFinished,
    BatchJob,
    BatchOptions,
    FileStatus,
    check_report_path,
    plan_batch,
    read_journal,
    results_from_journal,
    run_batch,
    walk_sources,
)
from rawjpeg_gui.core.batch.publish import is_temp_name, remove_stale_temps, temp_name
from rawjpeg_gui.core.errors import OutputError
from rawjpeg_gui.core.naming import check_template

ROOT = Path(__file__).resolve().parents[2]
SHARED_RAW = ROOT.parent / "shared" / "data" / "raw"
KDC = ("dcc_kodak_dc120_p003908.kdc", "dcc_kodak_dc120_p003911.kdc")


@pytest.fixture
def kdcs() -> tuple[Path, Path]:
    paths = tuple(SHARED_RAW / n for n in KDC)
    if not all(p.is_file() for p in paths):
        pytest.skip(f"real raws absent from {SHARED_RAW}; see DATA.md")
    return paths  # type: ignore[return-value]


def finish(sources, options) -> BatchFinished:  # type: ignore[no-untyped-def]
    events = list(run_batch(sources, options))
    assert isinstance(events[-1], BatchFinished)
    return events[-1]


def test_walker_skips_fifos_hidden_folders_and_loops(tmp_path: Path) -> None:
    (tmp_path / "a" / ".cache").mkdir(parents=True)
    (tmp_path / "a" / "b.nef").write_bytes(b"x")
    (tmp_path / "a" / ".cache" / "c.nef").write_bytes(b"x")
    (tmp_path / "top.cr2").write_bytes(b"x")
    os.mkfifo(tmp_path / "a" / "pipe.nef")
    (tmp_path / "a" / "loop").symlink_to(tmp_path)
    found = walk_sources([tmp_path], recursive=True)
    assert [(s.path.name, str(s.folder)) for s in found] == [("b.nef", "a"), ("top.cr2", ".")]
    assert [s.path.name for s in walk_sources([tmp_path], True, ["*"])] == ["b.nef", "top.cr2"]


def test_a_fifo_named_directly_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "x.kdc"
    os.mkfifo(fifo)
    finished = finish([fifo], BatchOptions(tmp_path / "out", template="{date}_{stem}", workers=0))
    (result,) = finished.results
    assert result.status is FileStatus.FAILED and "x.kdc is not a regular file" in result.reason


def test_template_widths_are_capped() -> None:
    with pytest.raises(ValueError, match="at most 64"):
        check_template("{index:2000000000d}")
    with pytest.raises(ValueError, match="at most 64"):
        check_template("{stem:.99999}")
    assert check_template("{index:064d}")


def test_report_path_never_replaces_a_source_or_another_file(tmp_path: Path) -> None:
    src = tmp_path / "a.csv"
    src.write_text("a source that happens to end in csv\n")
    jpg = tmp_path / "a.jpg"
    jpg.write_bytes(b"jpeg")
    with pytest.raises(OutputError, match="would replace a source"):
        check_report_path(src, [src])
    with pytest.raises(OutputError, match="must be a .csv file"):
        check_report_path(jpg, [])
    with pytest.raises(OutputError, match="not a rawjpeg report"):
        check_report_path(src, [])
    check_report_path(tmp_path / "new.csv", [src])


def test_recursive_tree_is_mirrored_and_dry_run_writes_nothing(
    kdcs: tuple[Path, Path], tmp_path: Path
) -> None:
    for sub in ("a", "b"):
        (tmp_path / "src" / sub).mkdir(parents=True)
        shutil.copy(kdcs[0], tmp_path / "src" / sub / "IMG.kdc")
    sources = walk_sources([tmp_path / "src"], recursive=True)
    dest = tmp_path / "out"
    planned = list(plan_batch(sources, BatchOptions(dest, workers=0, journal=True)))
    assert [p.destination for p in planned if isinstance(p, BatchJob)] == [
        dest / "a" / "IMG.jpg", dest / "b" / "IMG.jpg"
    ]  # fmt: skip
    assert not dest.exists()
    flat = list(plan_batch(sources, BatchOptions(dest, workers=0, mirror=False)))
    assert [p.destination.name for p in flat] == ["IMG.jpg", "IMG (1).jpg"]  # type: ignore[union-attr]
    finished = finish(sources, BatchOptions(dest, quality=70, workers=0, journal=True))
    assert finished.count(FileStatus.WRITTEN) == 2
    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*.jpg")) == [
        "a/IMG.jpg", "b/IMG.jpg"
    ]  # fmt: skip


def test_journal_records_and_a_rerun_skips_only_what_it_proves(
    kdcs: tuple[Path, Path], tmp_path: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    a, b = (Path(shutil.copy(k, src / k.name)) for k in kdcs)
    dest = tmp_path / "out"
    options = BatchOptions(dest, quality=70, workers=0, journal=True, verify=True)
    first = finish([a], options)
    assert first.count(FileStatus.WRITTEN) == 1
    lines = [json.loads(x) for x in (dest / JOURNAL_NAME).read_text().splitlines()]
    assert [x["event"] for x in lines] == ["run", "started", "done"]
    done = lines[-1]
    assert done["sha256"] and done["size"] == a.stat().st_size and done["psnr"] > 30
    assert done["output"] == str(dest / "dcc_kodak_dc120_p003908.jpg") and done["worker"]
    assert done["bytes"] == (dest / "dcc_kodak_dc120_p003908.jpg").stat().st_size

    second = finish([a, b], options)
    statuses = {r.source.name: r.status for r in second.results}
    assert statuses == {a.name: FileStatus.SKIPPED, b.name: FileStatus.WRITTEN}
    os.utime(a, ns=(a.stat().st_atime_ns, a.stat().st_mtime_ns + 10**9))  # the source changed
    third = finish([a, b], options)
    statuses = {r.source.name: r.status for r in third.results}
    assert statuses == {a.name: FileStatus.WRITTEN, b.name: FileStatus.SKIPPED}
    # rename policy: the changed source gets a new name, the old output stays
    assert (dest / "dcc_kodak_dc120_p003908 (1).jpg").is_file()
    report = {r.source.name: r for r in results_from_journal(dest)}
    assert report[a.name].destination == dest / "dcc_kodak_dc120_p003908 (1).jpg"
    assert report[b.name].status is FileStatus.WRITTEN and report[b.name].psnr


def test_an_unfinished_file_is_redone_into_its_own_path(
    kdcs: tuple[Path, Path], tmp_path: Path
) -> None:
    """A worker published the file but its run died before the result was journaled."""
    dest = tmp_path / "out"
    options = BatchOptions(dest, quality=70, workers=0, journal=True)
    finish([kdcs[0]], options)
    journal = dest / JOURNAL_NAME
    lines = journal.read_text().splitlines()
    journal.write_text("\n".join(lines[:-1]) + '\n{"event": "done", "sou')  # killed mid-line
    entry = read_journal(dest)[str(kdcs[0])]
    assert entry.event == "started"
    output = dest / "dcc_kodak_dc120_p003908.jpg"
    before = output.read_bytes()
    finished = finish([kdcs[0]], options)
    (result,) = finished.results
    assert result.status is FileStatus.WRITTEN and result.destination == output
    assert sorted(p.name for p in dest.iterdir()) == [output.name, JOURNAL_NAME]
    assert output.read_bytes() == before  # the same encode, replaced atomically


def test_stale_temp_files_are_removed_by_the_next_run(
    kdcs: tuple[Path, Path], tmp_path: Path
) -> None:
    dest = tmp_path / "out"
    (dest / "sub").mkdir(parents=True)
    stale = temp_name(dest / "x.jpg", 7)
    stale.write_bytes(b"half a jpeg")
    foreign = dest / "download.part"  # not ours: kept
    foreign.write_bytes(b"x")
    assert is_temp_name(stale.name) and not is_temp_name(foreign.name)
    assert is_temp_name(".report.csv.abc123.part")  # fileio's temporary names too
    finish([kdcs[1]], BatchOptions(dest, workers=0, journal=True))
    assert not stale.exists() and foreign.exists()
    (dest / "sub" / stale.name).write_bytes(b"x")
    assert remove_stale_temps(dest / "sub") == 1


def test_a_second_batch_into_the_same_destination_is_refused(
    kdcs: tuple[Path, Path], tmp_path: Path
) -> None:
    dest = tmp_path / "out"
    options = BatchOptions(dest, workers=0, journal=True)
    first = run_batch([kdcs[0]], options)
    next(first)  # BatchStarted: the journal is locked
    with pytest.raises(OutputError, match="Another rawjpeg batch is writing into"):
        next(run_batch([kdcs[1]], options))
    list(first)
    assert finish([kdcs[1]], options).count(FileStatus.WRITTEN) == 1


def test_verify_fails_an_output_whose_disk_bytes_reconstruct_worse(
    kdcs: tuple[Path, Path], tmp_path: Path
) -> None:
    from rawjpeg_gui.core import codec, container, fingerprint, jpeg
    from rawjpeg_gui.core.batch.verify import VerifyFailed, verify_output

    encoded = codec.encode_file(kdcs[1], 80, searched=False)
    good = tmp_path / "good.jpg"
    good.write_bytes(encoded.jpeg)
    assert verify_output(good, encoded) > 30
    damaged = bytearray(encoded.jpeg)
    middle = len(damaged) // 2
    damaged[middle : middle + 64] = bytes(64)  # a run of zeros inside the entropy-coded data
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(bytes(damaged))
    with pytest.raises(VerifyFailed, match="bad.jpg was written but does not decode"):
        verify_output(bad, encoded)
    # Pixels that match their own fingerprint but reconstruct worse than this encode: the
    # same parameters over a coarser JPEG of the same image.
    coarse = jpeg.encode_jpeg(encoded.adapted, 20)
    record = dataclasses.replace(
        codec.read_record(encoded.jpeg),
        fingerprint=fingerprint.compute(fingerprint.decode_ycbcr(coarse)),
    )
    worse = tmp_path / "worse.jpg"
    worse.write_bytes(jpeg.insert_segment(coarse, container.encode_segment(record)))
    with pytest.raises(VerifyFailed, match=r"worse.jpg was written but .* dB below the"):
        verify_output(worse, encoded)
