"""Batch export (core): real raws mixed with broken files, policies, naming, cancel.

Real raws come from ``<repo>/../shared/data/raw``; the tests skip (saying why) only
when that folder is absent. Most runs use ``workers=0`` (inline, fast and
deterministic); one test runs the real two-process pool and cancels it mid-way.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
from functools import partial
from pathlib import Path

import pytest

from rawjpeg_gui.core import codec
from rawjpeg_gui.core.batch import (
    BatchFinished,
    BatchOptions,
    CancelToken,
    FileDone,
    FileStarted,
    FileStatus,
    LocalPool,
    collect_sources,
    report_rows,
    run_batch,
)
from rawjpeg_gui.core.errors import OutputError
from rawjpeg_gui.core.naming import (
    DestinationPlanner,
    NameFields,
    OnExists,
    check_template,
    preview_names,
    render_name,
    sanitize_filename,
)

ROOT = Path(__file__).resolve().parents[2]
SHARED_RAW = ROOT.parent / "shared" / "data" / "raw"
GOOD = ("dcc_kodak_dc120_p003908.kdc", "dcc_kodak_dc120_p003911.kdc", "dcc_canon_g2_0304.crw")
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _require_raws() -> None:
    missing = [n for n in GOOD if not (SHARED_RAW / n).is_file()]
    if missing:
        pytest.skip(f"real raws absent from {SHARED_RAW} ({', '.join(missing)}); see DATA.md")


def make_mixed_folder(folder: Path, good: tuple[str, ...] = GOOD) -> dict[str, Path]:
    """Real raws plus a truncated raw, a text file named .nef and an unreadable entry."""
    _require_raws()
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name in good:
        files[name] = Path(shutil.copy(SHARED_RAW / name, folder / name))
    truncated = folder / "truncated.kdc"
    truncated.write_bytes((SHARED_RAW / GOOD[0]).read_bytes()[:60_000])
    text = folder / "notes.nef"
    text.write_text("not a raw file\n")
    # root reads a chmod-000 file anyway: a dangling symlink is unreadable for everyone
    dangling = folder / "gone.nef"
    dangling.symlink_to(folder / "does-not-exist.nef")
    files.update({"truncated.kdc": truncated, "notes.nef": text, "gone.nef": dangling})
    if not IS_ROOT:
        locked = folder / "locked.nef"
        shutil.copy(SHARED_RAW / GOOD[0], locked)
        locked.chmod(0)
        files["locked.nef"] = locked
    return files


def digests(folder: Path) -> dict[str, str]:
    """sha256 of every regular file under ``folder`` (sources-untouched check)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and os.access(p, os.R_OK):
            out[p.name] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def leftovers(folder: Path) -> list[Path]:
    """Temporary files a batch must never leave behind."""
    return [p for p in folder.rglob("*") if p.name.endswith(".part") or p.name.startswith(".")]


def run_all(sources, options, cancel=None) -> tuple[list, BatchFinished]:  # type: ignore[no-untyped-def]
    events = list(run_batch(sources, options, cancel))
    assert isinstance(events[-1], BatchFinished)
    return events, events[-1]


def by_name(finished: BatchFinished) -> dict[str, object]:
    return {r.source.name: r for r in finished.results}


# --- naming -------------------------------------------------------------------------


def test_template_fields_padding_and_sanitising() -> None:
    fields = NameFields("IMG_1", "Canon EOS D30", "2018-01-01", 85, 7, 12)
    assert render_name("{date}_{camera}_{stem}_q{quality}_{index}", fields) == (
        "2018-01-01_Canon EOS D30_IMG_1_q85_007.jpg"
    )
    assert render_name("{index}", NameFields("a", index=42, total=12345)) == "00042.jpg"
    assert render_name("{index:02d}-{stem}", NameFields("a", index=3)) == "03-a.jpg"
    assert render_name("{camera}/{date}", NameFields("a")) == "unknown-camera_undated.jpg"
    assert sanitize_filename('a/b\\c:d*e?"<>|f') == "a_b_c_d_e_____f"
    assert sanitize_filename("..hidden. ") == "hidden"
    assert sanitize_filename("CON.jpg") == "CON_.jpg"
    assert sanitize_filename("") == "untitled"
    assert len(sanitize_filename("é" * 300).encode()) <= 200
    for bad in ("{nope}", "{stem", "{stem!r}", "  ", "{stem.upper}", "{index[0]}"):
        with pytest.raises(ValueError):
            render_name(bad, fields)
    for bad in ("{stem:d}", "{index:{stem}}"):
        with pytest.raises(ValueError):
            check_template(bad)
        with pytest.raises(ValueError):
            BatchOptions(Path("out"), template=bad)


def test_planner_policies_and_sources_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"old")
    source = tmp_path / "src.jpg"
    source.write_bytes(b"source")
    rename = DestinationPlanner(tmp_path, "rename", [source])
    assert rename.plan("a.jpg").destination == tmp_path / "a (1).jpg"
    assert rename.plan("b.jpg").destination == tmp_path / "b.jpg"
    assert rename.plan("b.jpg").destination == tmp_path / "b (1).jpg"  # same batch: numbered
    assert rename.plan("src.jpg").destination == tmp_path / "src (1).jpg"
    skip = DestinationPlanner(tmp_path, "skip", [source])
    assert skip.plan("a.jpg").status == "skipped"
    assert skip.plan("src.jpg").status == "skipped"
    over = DestinationPlanner(tmp_path, OnExists.OVERWRITE, [source])
    assert over.plan("a.jpg").destination == tmp_path / "a.jpg"
    refused = over.plan("src.jpg")
    assert refused.status == "failed" and "never overwritten" in refused.reason


def test_collect_sources_files_folders_recursion_and_filter(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    for name in ("b.NEF", "a.cr2", "c.txt", ".hidden.nef", "sub/d.nef"):
        (tmp_path / name).write_bytes(b"x")
    explicit = tmp_path / "c.txt"
    (tmp_path / "sub" / "loop").symlink_to(tmp_path)  # recursion must not follow it forever
    assert [p.name for p in collect_sources([tmp_path])] == ["a.cr2", "b.NEF"]
    assert [p.name for p in collect_sources([tmp_path], recursive=True)] == [
        "a.cr2", "b.NEF", "d.nef"
    ]  # fmt: skip
    assert [p.name for p in collect_sources([tmp_path], True, ["nef"])] == ["b.NEF", "d.nef"]
    assert [p.name for p in collect_sources([explicit, tmp_path, explicit])] == [
        "c.txt", "a.cr2", "b.NEF"
    ]  # fmt: skip


def test_preview_names_reads_camera_and_date() -> None:
    _require_raws()
    sources = [SHARED_RAW / GOOD[2], SHARED_RAW / GOOD[0], SHARED_RAW / GOOD[0]]
    cache: dict = {}
    names = preview_names(sources, "{date} {camera} {index}", 80, count=5, cache=cache)
    assert names[0] == "2022-01-20 Canon PowerShot G2 001.jpg"
    assert names[1].startswith("1994-01-02 ") and names[1].endswith(" 002.jpg")
    assert len(set(names)) == 3 and len(cache) == 2
    assert preview_names(sources, "{stem}", count=2) == [
        "dcc_canon_g2_0304.jpg", "dcc_kodak_dc120_p003908.jpg"
    ]  # fmt: skip


# --- whole batches ----------------------------------------------------------------


@pytest.mark.slow
def test_mixed_folder_good_written_bad_reported_sources_untouched(tmp_path: Path) -> None:
    files = make_mixed_folder(tmp_path / "src")
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "dcc_canon_g2_0304.jpg").write_bytes(b"an older export")
    before = digests(tmp_path / "src")
    sources = collect_sources([tmp_path / "src"])
    assert len(sources) == len(files)
    options = BatchOptions(dest, quality=80, workers=0, verify=True)
    events, finished = run_all(sources, options)

    assert sum(isinstance(e, FileStarted) for e in events) == 3 + len(files) - len(GOOD)
    assert [e.progress.done for e in events if isinstance(e, FileDone)] == list(
        range(1, len(files) + 1)
    )
    results = by_name(finished)
    for name in GOOD:
        r = results[name]
        assert r.status is FileStatus.WRITTEN, r.reason
        decoded = codec.decode_bytes(r.destination.read_bytes())
        assert decoded.raw.width > 0 and r.output_bytes == r.destination.stat().st_size
        assert r.psnr is not None and r.psnr > 30 and r.ratio and r.megapixels > 0.5
    assert results["dcc_canon_g2_0304.crw"].destination.name == "dcc_canon_g2_0304 (1).jpg"
    assert (dest / "dcc_canon_g2_0304.jpg").read_bytes() == b"an older export"
    for name in set(files) - set(GOOD):
        r = results[name]
        assert r.status is FileStatus.FAILED and r.destination is None
        assert name in r.reason and r.reason.endswith(".")
    assert "does not exist" in results["gone.nef"].reason
    assert len(finished.failures) == len(files) - len(GOOD)
    assert digests(tmp_path / "src") == before
    assert leftovers(tmp_path) == []
    assert sorted(p.name for p in dest.iterdir()) == sorted(
        ["dcc_canon_g2_0304.jpg", "dcc_canon_g2_0304 (1).jpg",
         "dcc_kodak_dc120_p003908.jpg", "dcc_kodak_dc120_p003911.jpg"]
    )  # fmt: skip
    rows = report_rows(finished.results)
    assert rows[0][:3] == ["source", "destination", "status"] and len(rows) == len(files) + 1
    assert "3 written" in finished.summary() and "failed" in finished.summary()


@pytest.mark.slow
def test_skip_and_overwrite_policies_with_a_template(tmp_path: Path) -> None:
    make_mixed_folder(tmp_path / "src", good=GOOD[:1])
    source = tmp_path / "src" / GOOD[0]
    dest = tmp_path / "out"
    dest.mkdir()
    existing = dest / "001_q70_dcc_kodak_dc120_p003908.jpg"
    existing.write_bytes(b"keep me")
    skip = BatchOptions(dest, quality=70, template="{index}_q{quality}_{stem}", workers=0,
                        on_exists="skip")  # fmt: skip
    _, finished = run_all([source], skip)
    assert finished.results[0].status is FileStatus.SKIPPED
    assert "already exists" in finished.results[0].reason
    assert existing.read_bytes() == b"keep me"
    over = BatchOptions(dest, 70, "{index}_q{quality}_{stem}", OnExists.OVERWRITE, workers=0)
    _, finished = run_all([source], over)
    assert finished.results[0].status is FileStatus.WRITTEN
    assert codec.decode_bytes(existing.read_bytes()).quality == 70
    assert leftovers(tmp_path) == []


def test_overwrite_never_writes_over_a_source(tmp_path: Path) -> None:
    make_mixed_folder(tmp_path, good=GOOD[:1])
    clash = tmp_path / "dcc_kodak_dc120_p003908.jpg"  # a source that is also the output name
    clash.write_bytes(b"a source file")
    options = BatchOptions(tmp_path, workers=0, on_exists="overwrite")
    _, finished = run_all([tmp_path / GOOD[0], clash], options)
    r = by_name(finished)[GOOD[0]]
    assert r.status is FileStatus.FAILED and "never overwritten" in r.reason
    assert clash.read_bytes() == b"a source file"


def test_destination_that_is_a_file_is_refused(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "out"
    not_a_folder.write_bytes(b"x")
    with pytest.raises(OutputError, match="not a folder"):
        list(run_batch([SHARED_RAW / GOOD[0]], BatchOptions(not_a_folder, workers=0)))


@pytest.mark.slow
def test_unwritable_destination_fails_each_file_and_continues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_mixed_folder(tmp_path / "src", good=GOOD[:2])

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError(errno.EACCES, "Permission denied")

    # as root chmod cannot make a folder read-only: refuse the temporary file instead
    from rawjpeg_gui.core.batch import publish

    monkeypatch.setattr(publish, "_write_synced", refuse)
    sources = [tmp_path / "src" / n for n in GOOD[:2]]
    _, finished = run_all(sources, BatchOptions(tmp_path / "out", workers=0))
    assert [r.status for r in finished.results] == [FileStatus.FAILED] * 2
    assert all("is not writable" in r.reason for r in finished.results)
    assert list((tmp_path / "out").iterdir()) == []


def test_cancel_inline_stops_after_the_current_file(tmp_path: Path) -> None:
    files = make_mixed_folder(tmp_path / "src", good=GOOD[:2])
    sources = [files[n] for n in GOOD[:2]] * 3
    token = CancelToken()
    gen = run_batch(sources, BatchOptions(tmp_path / "out", workers=0), token)
    for event in gen:
        if isinstance(event, FileDone):
            token.cancel()
        if isinstance(event, BatchFinished):
            finished = event
    assert finished.cancelled and len(finished.results) == 1 and finished.not_started == 5
    assert "Cancelled" in finished.summary() and "5 not started" in finished.summary()
    assert leftovers(tmp_path) == []


@pytest.mark.slow
def test_two_processes_then_cancel_mid_batch(tmp_path: Path) -> None:
    files = make_mixed_folder(tmp_path / "src", good=GOOD[:2])
    before = digests(tmp_path / "src")
    sources = [files["truncated.kdc"]] + [files[n] for n in GOOD[:2]] * 4
    dest = tmp_path / "out"
    token = CancelToken()
    seen_workers = None
    in_flight = most_in_flight = 0
    for event in run_batch(sources, BatchOptions(dest, quality=60, workers=2), token):
        in_flight += isinstance(event, FileStarted) - isinstance(event, FileDone)
        most_in_flight = max(most_in_flight, in_flight)
        if isinstance(event, FileDone) and event.result.status is FileStatus.WRITTEN:
            token.cancel()  # cancel as soon as the first good file is out
        elif isinstance(event, BatchFinished):
            finished = event
        elif not isinstance(event, FileDone | FileStarted):
            seen_workers = event.workers
    assert seen_workers == 2 and finished.cancelled
    assert most_in_flight == 2  # submitted lazily: never more images in memory than workers
    assert 2 <= len(finished.results) <= 4 and finished.not_started >= len(sources) - 4
    assert by_name(finished)["truncated.kdc"].status is FileStatus.FAILED
    statuses = {r.status for r in finished.results}
    assert statuses <= {FileStatus.WRITTEN, FileStatus.FAILED, FileStatus.CANCELLED}
    written = [r for r in finished.results if r.status is FileStatus.WRITTEN]
    assert written and sorted(p.name for p in dest.iterdir()) == sorted(
        r.destination.name for r in written
    )
    for r in written:
        assert codec.decode_bytes(r.destination.read_bytes()).quality == 60
    assert leftovers(tmp_path) == []
    assert digests(tmp_path / "src") == before


def crash_on_poison(job):  # type: ignore[no-untyped-def]
    """Runs in the worker process (pickled by reference): dies on files named poison*."""
    from rawjpeg_gui.core.batch.worker import run_in_worker

    if job.source.name.startswith("poison"):
        os._exit(3)  # what a fault inside LibRaw looks like to the pool
    return run_in_worker(job)


@pytest.mark.slow
def test_a_crashing_worker_fails_only_its_file(tmp_path: Path) -> None:
    files = make_mixed_folder(tmp_path / "src", good=GOOD[:2])
    poison = tmp_path / "src" / "poison.kdc"
    shutil.copy(files[GOOD[0]], poison)
    sources = [files[GOOD[0]], poison, files[GOOD[1]]]
    options = BatchOptions(tmp_path / "out", workers=2)
    events = list(run_batch(sources, options, None, partial(LocalPool, task=crash_on_poison)))
    finished = events[-1]
    results = by_name(finished)
    assert results["poison.kdc"].status is FileStatus.FAILED
    assert "worker stopped unexpectedly" in results["poison.kdc"].reason
    assert results[GOOD[0]].status is results[GOOD[1]].status is FileStatus.WRITTEN
    assert leftovers(tmp_path) == []


def test_verify_failure_is_reported_with_the_file_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rawjpeg_gui.core.errors import CorruptParameters

    files = make_mixed_folder(tmp_path / "src", good=GOOD[:1])

    def broken(data: bytes):  # type: ignore[no-untyped-def]
        raise CorruptParameters("The parameter segment's checksum does not match.")

    monkeypatch.setattr(codec, "decode_bytes", broken)
    _, finished = run_all([files[GOOD[0]]], BatchOptions(tmp_path / "out", workers=0, verify=True))
    r = finished.results[0]
    assert r.status is FileStatus.FAILED and r.destination is not None and r.destination.is_file()
    assert "was written but does not decode" in r.reason and "checksum" in r.reason


def test_workers_keep_freed_heap_on_glibc() -> None:
    """The allocator setting behind the 2-worker speed-up takes on glibc Linux (docs/BATCH.md)."""
    import platform
    import sys

    from rawjpeg_gui.core.batch.worker import _keep_freed_heap

    applied = _keep_freed_heap()
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert applied
    else:
        assert not applied


@pytest.mark.slow
def test_batch_follows_the_search_switch(tmp_path: Path) -> None:
    """``searched=False`` writes what ``encode_file(..., searched=False)`` makes."""
    src = SHARED_RAW / "dcc_canon_g2_0304.crw"
    if not src.exists():
        pytest.skip(f"{src} is absent (see ../shared/DATA.md)")
    written = {}
    for searched in (True, False):
        dest = tmp_path / str(searched)
        dest.mkdir()
        _, finished = run_all([src], BatchOptions(dest, quality=95, workers=0, searched=searched))
        (result,) = finished.results
        assert result.status is FileStatus.WRITTEN, result.reason
        written[searched] = result.destination.read_bytes()
    assert written[False] == codec.encode_file(src, 95, searched=False).jpeg
    assert written[True] == codec.encode_file(src, 95).jpeg
    assert written[True] != written[False]
