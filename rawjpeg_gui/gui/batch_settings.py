"""What the batch dialog remembers between runs, as meaningful values in QSettings.

:class:`BatchChoices` holds the values (a quality, a folder, a policy name, never a
widget index); :class:`BatchSettings` reads and writes them under ``batch/``, falling
back to the defaults for anything missing or malformed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from PySide6.QtCore import QSettings

from rawjpeg_gui.core.batch import OnExists, default_workers
from rawjpeg_gui.core.naming import DEFAULT_TEMPLATE
from rawjpeg_gui.core.quality import clamp_quality

from .settings import open_store


@dataclass
class BatchChoices:
    """What the dialog remembers between runs (values, never widget indices).

    Attributes:
        destination: output folder, or "".
        template: naming template.
        quality: JPEG quality 1-100.
        on_exists: "skip", "rename" or "overwrite".
        workers: worker processes.
        verify: decode and measure PSNR after writing.
        recursive: search sub-folders of source folders.
        extensions: suffix filter as typed ("" for every raw format).
    """

    destination: str = ""
    template: str = DEFAULT_TEMPLATE
    quality: int = 90
    on_exists: str = OnExists.RENAME.value
    workers: int = field(default_factory=default_workers)
    verify: bool = False
    recursive: bool = False
    extensions: str = ""


class BatchSettings:
    """Keeps :class:`BatchChoices` under ``batch/`` in QSettings.

    Attributes:
        store: the QSettings (organisation "rawjpeg", application "rawjpeg-gui" by default).
    """

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store or open_store()

    def load(self) -> BatchChoices:
        """The stored choices; a missing or malformed value falls back to its default."""
        out = BatchChoices()
        for f in fields(BatchChoices):
            value, default = self.store.value(f"batch/{f.name}"), getattr(out, f.name)
            if value is None:
                continue
            try:
                if isinstance(default, bool):
                    parsed: object = str(value).lower() in ("true", "1")
                else:
                    parsed = type(default)(value)
            except (TypeError, ValueError):
                continue
            setattr(out, f.name, parsed)
        out.quality = clamp_quality(out.quality)
        out.workers = max(out.workers, 1)
        out.template = out.template or DEFAULT_TEMPLATE
        if out.on_exists not in {e.value for e in OnExists}:
            out.on_exists = OnExists.RENAME.value
        return out

    def save(self, choices: BatchChoices) -> None:
        """Store ``choices``."""
        for key, value in asdict(choices).items():
            self.store.setValue(f"batch/{key}", value)
