"""Post-install step for Linux desktops: menu entry, icon and raw-file associations.

``rawjpeg-desktop-integration`` (or ``python -m rawjpeg_gui.desktop_integration``)
writes, for the current user only and following the freedesktop.org specifications:

* ``$XDG_DATA_HOME/applications/rawjpeg-gui.desktop`` (default ``~/.local/share``), from
  the template ``resources/rawjpeg-gui.desktop`` with ``Exec``/``TryExec`` pointing at the
  installed ``rawjpeg-gui`` (or at the frozen executable when run from the bundle); its
  ``MimeType`` line offers rawjpeg for camera raw types and, last, for JPEG;
* ``$XDG_DATA_HOME/icons/hicolor/scalable/apps/rawjpeg.svg``;
* with ``--set-default`` only: rawjpeg as the default application for the camera raw
  types (never for JPEG) in ``$XDG_CONFIG_HOME/mimeapps.list`` (default ``~/.config``).

Then it refreshes the desktop, MIME and icon caches when their tools are installed.
``uninstall`` removes exactly what ``install`` wrote. Nothing outside the user's home is
touched and no root rights are needed. On Windows and macOS the installers do this job.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .selftest import DESKTOP_NAME, ICON_NAME, is_frozen, resource_dir

APP_COMMAND = "rawjpeg-gui"
ICON_SUBDIR = Path("icons/hicolor/scalable/apps")
MIMEAPPS = "mimeapps.list"
DEFAULTS_SECTION = "Default Applications"
_UNSAFE_EXEC_CHARS = set('"`$\\%\n')


def data_home() -> Path:
    """``$XDG_DATA_HOME`` or ``~/.local/share``."""
    env = os.environ.get("XDG_DATA_HOME")
    return Path(env) if env and Path(env).is_absolute() else Path.home() / ".local" / "share"


def config_home() -> Path:
    """``$XDG_CONFIG_HOME`` or ``~/.config``."""
    env = os.environ.get("XDG_CONFIG_HOME")
    return Path(env) if env and Path(env).is_absolute() else Path.home() / ".config"


def find_executable() -> str | None:
    """Absolute path of the program the menu entry should start, or ``None``."""
    appimage = os.environ.get("APPIMAGE")  # set by the AppImage runtime: the image file
    if appimage and Path(appimage).is_file():
        return str(Path(appimage).resolve())
    if is_frozen():
        return str(Path(sys.executable).resolve())
    found = shutil.which(APP_COMMAND)
    if found:
        return str(Path(found).resolve())
    beside = Path(sys.executable).parent / APP_COMMAND  # a virtual environment's bin/
    return str(beside) if beside.is_file() else None


def _exec_value(executable: str) -> str:
    if set(executable) & _UNSAFE_EXEC_CHARS:
        raise ValueError(f"cannot write a desktop entry for the path {executable!r}")
    return f'"{executable}"' if " " in executable or "'" in executable else executable


def mime_types(desktop_text: str) -> list[str]:
    """The ``MimeType`` list of a desktop entry, in order."""
    for line in desktop_text.splitlines():
        if line.startswith("MimeType="):
            return [t for t in line.split("=", 1)[1].split(";") if t]
    return []


def raw_mime_types(desktop_text: str) -> list[str]:
    """The camera raw types (everything the entry offers except JPEG)."""
    return [t for t in mime_types(desktop_text) if t != "image/jpeg"]


def render_desktop_entry(template: str, executable: str | None) -> str:
    """The template with ``Exec``/``TryExec`` pointing at ``executable`` (if known)."""
    if executable is None:
        return template
    value = _exec_value(executable)
    lines = []
    for line in template.splitlines():
        if line.startswith("Exec="):
            line = f"Exec={value} %F"
        elif line.startswith("TryExec="):
            line = f"TryExec={executable}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _write_text(path: Path, text: str) -> None:
    """Write atomically: temporary file beside the target, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def update_mimeapps(path: Path, types: list[str], desktop_id: str, add: bool) -> None:
    """Set (``add``) or clear ``desktop_id`` as default for ``types`` in a mimeapps.list.

    Line-based so that other sections, keys and comments survive unchanged. When clearing,
    only keys whose value is exactly ``desktop_id`` are removed.
    """
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    start = next((i for i, ln in enumerate(lines) if ln.strip() == f"[{DEFAULTS_SECTION}]"), None)
    if start is None:
        if not add:
            return
        if lines and lines[-1].strip():
            lines.append("")
        lines.append(f"[{DEFAULTS_SECTION}]")
        start = len(lines) - 1
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    wanted = set(types)
    body = []
    for line in lines[start + 1 : end]:
        key, sep, value = line.partition("=")
        if sep and key.strip() in wanted:
            if add or value.strip().rstrip(";") == desktop_id:
                continue  # replaced below, or ours to remove
        body.append(line)
    if add:
        while body and not body[-1].strip():
            body.pop()
        body += [f"{t}={desktop_id};" for t in types]
        if end < len(lines):
            body.append("")
    lines[start + 1 : end] = body
    _write_text(path, "\n".join(lines) + "\n")


def _refresh_caches(data: Path, quiet: bool) -> None:
    commands = [
        ["update-desktop-database", "-q", str(data / "applications")],
        ["update-mime-database", str(data / "mime")] if (data / "mime").is_dir() else [],
        ["gtk-update-icon-cache", "-q", "-t", "-f", str(data / "icons" / "hicolor")],
    ]
    for cmd in commands:
        if cmd and shutil.which(cmd[0]):
            result = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if result.returncode and not quiet:
                print(f"note: {cmd[0]} exited with {result.returncode}", file=sys.stderr)


def install(
    executable: str | None = None, set_default: bool = False, refresh: bool = True
) -> list[Path]:
    """Write the desktop entry and icon (and optionally default associations).

    Args:
        executable: program to start; default :func:`find_executable`.
        set_default: make rawjpeg the default application for camera raw types.
        refresh: run the desktop/icon cache tools if installed.

    Returns:
        The files written.
    """
    resources = resource_dir()
    template = (resources / DESKTOP_NAME).read_text(encoding="utf-8")
    executable = executable or find_executable()
    data = data_home()
    entry = data / "applications" / DESKTOP_NAME
    icon = data / ICON_SUBDIR / ICON_NAME
    _write_text(entry, render_desktop_entry(template, executable))
    icon.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(resources / ICON_NAME, icon)
    written = [entry, icon]
    if set_default:
        mimeapps = config_home() / MIMEAPPS
        update_mimeapps(mimeapps, raw_mime_types(template), DESKTOP_NAME, add=True)
        written.append(mimeapps)
    if refresh:
        _refresh_caches(data, quiet=False)
    return written


def uninstall(refresh: bool = True) -> list[Path]:
    """Remove what :func:`install` wrote; returns the files removed or edited."""
    data = data_home()
    touched = []
    entry = data / "applications" / DESKTOP_NAME
    for path in (entry, data / ICON_SUBDIR / ICON_NAME):
        if path.is_file():
            path.unlink()
            touched.append(path)
    mimeapps = config_home() / MIMEAPPS
    if mimeapps.is_file():
        template = (resource_dir() / DESKTOP_NAME).read_text(encoding="utf-8")
        update_mimeapps(mimeapps, raw_mime_types(template), DESKTOP_NAME, add=False)
        touched.append(mimeapps)
    if refresh:
        _refresh_caches(data, quiet=True)
    return touched


def main(argv: list[str] | None = None) -> int:
    """``python -m rawjpeg_gui.desktop_integration [install|uninstall] [--set-default]``."""
    parser = argparse.ArgumentParser(
        prog="rawjpeg-desktop-integration",
        description="Add rawjpeg to (or remove it from) this user's Linux desktop menu.",
    )
    parser.add_argument("action", nargs="?", choices=("install", "uninstall"), default="install")
    parser.add_argument(
        "--set-default",
        action="store_true",
        help="also make rawjpeg the default application for camera raw files (never JPEG)",
    )
    parser.add_argument("--exec", dest="executable", help="program the menu entry starts")
    parser.add_argument("--no-refresh", action="store_true", help="do not run the cache tools")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        print("Desktop integration is for Linux; the Windows and macOS installers do it there.")
        return 0
    try:
        if args.action == "install":
            paths = install(args.executable, args.set_default, refresh=not args.no_refresh)
            if not args.executable and find_executable() is None:
                print(
                    f"warning: {APP_COMMAND} is not on PATH; the menu entry stays hidden until "
                    "it is (or pass --exec).",
                    file=sys.stderr,
                )
        else:
            paths = uninstall(refresh=not args.no_refresh)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        verb = "wrote" if args.action == "install" else "removed"
        print(f"{'updated' if path.name == MIMEAPPS else verb} {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
