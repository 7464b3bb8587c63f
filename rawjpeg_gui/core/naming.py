"""Output names for batch export: a template, its fields, and collisions.

A template such as ``"{date}_{camera}_{stem}"`` is filled per source file with
:class:`NameFields`, sanitised into one file name that every common file system
accepts, and given a ``.jpg`` suffix. :class:`DestinationPlanner` then turns the name
into a destination path under the overwrite policy, remembering the names already
given out in the batch so that two sources never share one output.
"""

from __future__ import annotations

import os
import re
import string
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .metadata import RawMeta

#: Fields a template may use.
TEMPLATE_FIELDS = ("stem", "camera", "date", "quality", "index")
#: The template used when none is given: the source's name with ``.jpg``.
DEFAULT_TEMPLATE = "{stem}"
#: Names longer than this (UTF-8 bytes, before ``.jpg``) are shortened; 255 is the usual limit.
MAX_NAME_BYTES = 200
#: The widest field a template may ask for (``{index:08d}``); names are cut to 200 bytes anyway.
MAX_FIELD_WIDTH = 64
_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {
    f"{p}{i}" for p in ("COM", "LPT") for i in range(1, 10)
}


class OnExists(StrEnum):
    """What to do when the output file already exists (sources are never overwritten)."""

    SKIP = "skip"
    RENAME = "rename"
    OVERWRITE = "overwrite"


@dataclass(frozen=True)
class NameFields:
    """The values a template can use for one source file.

    Attributes:
        stem: source file name without its suffix.
        camera: camera make and model, or "" when unknown.
        date: capture date "YYYY-MM-DD", or "" when unknown.
        quality: JPEG quality 1-100.
        index: 1-based position of the source in the batch.
        total: number of sources in the batch (sets the zero padding of ``{index}``).
    """

    stem: str
    camera: str = ""
    date: str = ""
    quality: int = 0
    index: int = 1
    total: int = 1


def template_fields(template: str) -> set[str]:
    """Names of the fields ``template`` uses; raise ValueError for an unusable template."""
    if not template.strip():
        raise ValueError("The naming template is empty.")
    used: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        raise ValueError(
            "The naming template has an unmatched brace; write {{ or }} for a literal brace."
        ) from None
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in TEMPLATE_FIELDS or conversion:
            names = ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)
            raise ValueError(f"The naming template uses {{{field}}}; the fields are {names}.")
        # Checked before formatting: "{index:2000000000d}" would build a 2 GB string.
        widest = max((int(n) for n in re.findall(r"\d+", spec or "")), default=0)
        if widest > MAX_FIELD_WIDTH:
            raise ValueError(
                f"The naming template asks for {{{field}}} {widest} characters wide; "
                f"at most {MAX_FIELD_WIDTH} are allowed."
            )
        used.add(field)
    return used


def check_template(template: str) -> str:
    """Return ``template`` if it can name files; else raise ValueError saying why.

    Besides the fields, this fills the template once with sample values, which also
    catches format specs that do not fit their field (``{stem:d}``).
    """
    render_name(template, NameFields("IMG_0001", "Camera", "2000-01-01", 90, 1, 1))
    return template


def needs_metadata(template: str) -> bool:
    """True when filling ``template`` needs the camera or the capture date."""
    return bool(template_fields(template) & {"camera", "date"})


def render_name(template: str, fields: NameFields) -> str:
    """Fill ``template`` and return a safe file name ending in ``.jpg``.

    ``{index}`` is zero padded to at least three digits (more for larger batches);
    a format spec such as ``{index:05d}`` overrides that. Unknown camera or date
    become ``unknown-camera`` and ``undated`` so names stay readable.
    """
    template_fields(template)
    width = max(3, len(str(fields.total)))
    values: dict[str, object] = {
        "stem": fields.stem,
        "camera": fields.camera.strip() or "unknown-camera",
        "date": fields.date or "undated",
        "quality": fields.quality,
        "index": _PaddedInt(fields.index, width),
    }
    try:
        name = template.format_map(values)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"The naming template could not be filled ({exc}).") from None
    name = sanitize_filename(name)
    return name if name.lower().endswith((".jpg", ".jpeg")) else name + ".jpg"


class _PaddedInt(int):
    """An int that formats zero padded by default (``{index}``) but honours a spec."""

    def __new__(cls, value: int, width: int) -> _PaddedInt:
        obj = super().__new__(cls, value)
        obj._width = width  # type: ignore[attr-defined]
        return obj

    def __format__(self, spec: str) -> str:
        return format(int(self), spec or f"0{self._width}d")  # type: ignore[attr-defined]


def sanitize_filename(name: str) -> str:
    """Make ``name`` a single valid file name on Linux, macOS and Windows.

    Path separators, control and reserved characters become ``_``; runs of spaces
    collapse; leading dots (hidden files) and trailing dots or spaces go; reserved
    Windows device names get a trailing ``_``; the name is cut to
    :data:`MAX_NAME_BYTES` UTF-8 bytes. An empty result becomes ``untitled``.
    """
    name = unicodedata.normalize("NFC", name)
    name = _FORBIDDEN.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip()
    name = name.lstrip(".").rstrip(". ")
    stem, dot, suffix = name.partition(".")
    if stem.upper() in _WINDOWS_RESERVED:
        name = f"{stem}_{dot}{suffix}"
    encoded = name.encode("utf-8")
    if len(encoded) > MAX_NAME_BYTES:
        name = encoded[:MAX_NAME_BYTES].decode("utf-8", "ignore").rstrip(". ")
    return name or "untitled"


def exif_date(stamp: str) -> str:
    """EXIF ``"YYYY:MM:DD HH:MM:SS"`` -> ``"YYYY-MM-DD"``, or "" if it is not a date."""
    m = re.match(r"\s*(\d{4})[:\-](\d{2})[:\-](\d{2})", stamp or "")
    if not m or m.group(1) == "0000":
        return ""
    return "-".join(m.groups())


def numbered(name: str, n: int) -> str:
    """``"a.jpg", 2`` -> ``"a (2).jpg"``."""
    stem, suffix = os.path.splitext(name)
    return f"{stem} ({n}){suffix}"


@dataclass(frozen=True)
class Planned:
    """Where one source goes, or why it does not.

    Attributes:
        destination: the output path (``None`` when the file is skipped or refused).
        status: "write", "skipped" or "failed".
        reason: one sentence for people when not written; "" otherwise.
    """

    destination: Path | None
    status: str
    reason: str = ""


class DestinationPlanner:
    """Turns output names into destination paths under an :class:`OnExists` policy.

    Names given out earlier in the same batch are always avoided (numbered as in
    ``rename``), whatever the policy, so two sources never share one output. A source
    file is never a destination, and neither is a reserved path (the batch's report).

    Attributes:
        folder: the destination folder.
        on_exists: the policy for files that existed before the batch.
    """

    def __init__(
        self,
        folder: Path,
        on_exists: OnExists | str,
        sources: Sequence[Path] = (),
        reserved: Sequence[Path] = (),
    ) -> None:
        self.folder = Path(folder)
        self.on_exists = OnExists(on_exists)
        self._claimed: set[str] = set()
        self._sources = {_identity(p) for p in sources}
        self._reserved = {_identity(p) for p in reserved}

    def claim(self, path: Path) -> None:
        """Mark ``path`` as taken by this batch (an output planned by an earlier run)."""
        self._claimed.add(_identity(path))

    def take(self, path: Path) -> bool:
        """Claim exactly ``path`` (to be replaced); False if it is a source, reserved or taken."""
        key = _identity(path)
        if key in self._claimed or key in self._reserved or key in self._sources:
            return False
        self._claimed.add(key)
        return True

    def plan(self, name: str, subfolder: str | os.PathLike[str] = "") -> Planned:
        """Choose the destination for output file ``name`` (in ``subfolder``) and claim it."""
        folder = self.folder / subfolder
        candidate = name
        n = 0
        while True:
            dest = folder / candidate
            key = _identity(dest)
            exists = os.path.lexists(dest)
            if key in self._claimed or key in self._reserved:
                pass  # another source of this batch, or the report, has it: always number
            elif key in self._sources:
                if self.on_exists is OnExists.SKIP:
                    return Planned(None, "skipped", f"{candidate} is one of the source files.")
                if self.on_exists is OnExists.OVERWRITE:
                    return Planned(
                        None, "failed", f"{candidate} is a source file; it is never overwritten."
                    )
            elif not exists or self.on_exists is OnExists.OVERWRITE:
                self._claimed.add(key)
                return Planned(dest, "write")
            elif self.on_exists is OnExists.SKIP and n == 0:
                return Planned(None, "skipped", f"{candidate} already exists.")
            n += 1
            candidate = numbered(name, n)


def _identity(path: Path) -> str:
    """A comparable key for a path: resolved, case-normalised."""
    try:
        return os.path.normcase(str(Path(path).resolve()))
    except OSError:
        return os.path.normcase(os.path.abspath(path))


def read_name_fields(source: Path, quality: int, index: int, total: int, meta: bool) -> NameFields:
    """The template values of ``source``; camera and date are read only when ``meta``.

    Reading never raises: a file whose metadata cannot be read gets empty camera and
    date (the batch reports the real problem when it encodes the file).
    """
    camera = date = ""
    if meta:
        from .metadata import RawMeta, read_exif_fields

        info = RawMeta()
        try:
            read_exif_fields(source, info)
            if not info.datetime or not info.camera:
                _fill_from_libraw(source, info)
        except Exception:  # metadata is best effort; the encode reports real problems
            pass
        camera, date = info.camera, exif_date(info.datetime)
    return NameFields(Path(source).stem, camera, date, int(quality), index, total)


def _fill_from_libraw(source: Path, info: RawMeta) -> None:
    """Camera and date from LibRaw's header parse (no pixel decoding), e.g. for CRW."""
    import rawpy

    from .metadata import read_exif_fields

    raw = rawpy.RawPy()
    try:
        raw.open_file(str(source))
        read_exif_fields(source, info, raw.other)
    finally:
        raw.close()


def preview_names(
    sources: Sequence[Path],
    template: str,
    quality: int = 90,
    count: int = 5,
    cache: dict[Path, NameFields] | None = None,
) -> list[str]:
    """The output names of the first ``count`` sources (for a live preview).

    Names given to earlier sources are numbered as the batch would number them;
    existing files in the destination are not looked at. ``cache`` keeps each
    file's camera and date between calls, so a preview that follows typing reads
    every file's metadata once.

    Raises:
        ValueError: the template is unusable (the message says why).
    """
    meta = needs_metadata(template)
    total = len(sources)
    names: list[str] = []
    for i, src in enumerate(sources[:count], 1):
        src = Path(src)
        if cache is not None and meta and src in cache:
            fields = replace(cache[src], quality=int(quality), index=i, total=total)
        else:
            fields = read_name_fields(src, quality, i, total, meta)
            if cache is not None and meta:
                cache[src] = fields
        name = base = render_name(template, fields)
        n = 0
        while name in names:
            n += 1
            name = numbered(base, n)
        names.append(name)
    return names
