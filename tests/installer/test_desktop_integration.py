"""The Linux post-install step writes into a scratch HOME, and removes what it wrote."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from rawjpeg_gui import desktop_integration as di
from rawjpeg_gui.selftest import resource_dir

EXE = "/opt/rawjpeg/rawjpeg-gui"


def _template() -> str:
    return (resource_dir() / "rawjpeg-gui.desktop").read_text(encoding="utf-8")


def test_template_offers_raw_types_then_jpeg_last() -> None:
    types = di.mime_types(_template())
    assert types[-1] == "image/jpeg"
    for mime in (
        "image/x-adobe-dng",
        "image/x-canon-cr2",
        "image/x-canon-cr3",
        "image/x-canon-crw",
        "image/x-sony-arw",
        "image/x-nikon-nef",
        "image/x-fuji-raf",
        "image/x-olympus-orf",
        "image/x-panasonic-rw2",
        "image/x-pentax-pef",
        "image/x-kodak-kdc",
    ):
        assert mime in types
    assert "image/jpeg" not in di.raw_mime_types(_template())


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="no desktop-file-utils")
def test_desktop_files_validate(tmp_home) -> None:  # type: ignore[no-untyped-def]
    di.install(EXE, refresh=False)
    installed = di.data_home() / "applications" / di.DESKTOP_NAME
    for path in (resource_dir() / "rawjpeg-gui.desktop", installed):
        done = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True)
        assert done.returncode == 0 and "error" not in done.stdout.lower(), done.stdout


def test_install_writes_entry_and_icon_into_home(tmp_home) -> None:  # type: ignore[no-untyped-def]
    written = di.install(EXE, refresh=False)
    entry = tmp_home / ".local/share/applications/rawjpeg-gui.desktop"
    icon = tmp_home / ".local/share/icons/hicolor/scalable/apps/rawjpeg.svg"
    assert written == [entry, icon]
    text = entry.read_text(encoding="utf-8")
    assert f"Exec={EXE} %F" in text
    assert f"TryExec={EXE}" in text
    assert "Icon=rawjpeg" in text
    assert di.mime_types(text) == di.mime_types(_template())
    assert icon.read_bytes() == (resource_dir() / "rawjpeg.svg").read_bytes()
    assert not (tmp_home / ".config/mimeapps.list").exists()  # no defaults unless asked


def test_xdg_data_home_is_respected(tmp_home, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    di.install(EXE, refresh=False)
    assert (tmp_path / "xdg/applications/rawjpeg-gui.desktop").is_file()


def test_paths_with_spaces_are_quoted_and_unsafe_ones_refused() -> None:
    text = di.render_desktop_entry(_template(), "/opt/raw jpeg/rawjpeg-gui")
    assert 'Exec="/opt/raw jpeg/rawjpeg-gui" %F' in text
    with pytest.raises(ValueError):
        di.render_desktop_entry(_template(), '/opt/$HOME"/rawjpeg-gui')


def test_set_default_keeps_other_associations_and_uninstall_restores(tmp_home) -> None:  # type: ignore[no-untyped-def]
    mimeapps = tmp_home / ".config/mimeapps.list"
    mimeapps.parent.mkdir(parents=True)
    original = (
        "[Default Applications]\n"
        "image/png=gimp.desktop;\n"
        "image/x-nikon-nef=darktable.desktop;\n"
        "# a comment\n"
        "\n"
        "[Added Associations]\n"
        "image/x-canon-cr2=darktable.desktop;\n"
    )
    mimeapps.write_text(original, encoding="utf-8")
    di.install(EXE, set_default=True, refresh=False)
    text = mimeapps.read_text(encoding="utf-8")
    assert "image/png=gimp.desktop;" in text and "# a comment" in text
    assert "image/x-canon-cr2=darktable.desktop;" in text  # other section untouched
    assert "image/x-nikon-nef=rawjpeg-gui.desktop;" in text
    assert "image/x-adobe-dng=rawjpeg-gui.desktop;" in text
    assert "image/jpeg=" not in text  # never the default JPEG viewer

    removed = di.uninstall(refresh=False)
    assert not (tmp_home / ".local/share/applications/rawjpeg-gui.desktop").exists()
    assert not (tmp_home / ".local/share/icons/hicolor/scalable/apps/rawjpeg.svg").exists()
    assert mimeapps in removed
    text = mimeapps.read_text(encoding="utf-8")
    assert "rawjpeg-gui.desktop" not in text
    assert "image/png=gimp.desktop;" in text and "[Added Associations]" in text


def test_uninstall_leaves_other_apps_defaults(tmp_home) -> None:  # type: ignore[no-untyped-def]
    mimeapps = tmp_home / ".config/mimeapps.list"
    mimeapps.parent.mkdir(parents=True)
    mimeapps.write_text("[Default Applications]\nimage/x-sony-arw=darktable.desktop;\n")
    di.uninstall(refresh=False)
    assert "image/x-sony-arw=darktable.desktop;" in mimeapps.read_text()


def test_command_line_install_and_uninstall(tmp_home, capsys) -> None:  # type: ignore[no-untyped-def]
    assert di.main(["install", "--exec", EXE, "--no-refresh"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert (tmp_home / ".local/share/applications/rawjpeg-gui.desktop").is_file()
    assert di.main(["uninstall", "--no-refresh"]) == 0
    assert "removed" in capsys.readouterr().out
    assert not (tmp_home / ".local/share/applications/rawjpeg-gui.desktop").exists()


def test_module_runs_as_a_program(tmp_home) -> None:  # type: ignore[no-untyped-def]
    import os
    import sys

    env = dict(os.environ, HOME=str(tmp_home))
    done = subprocess.run(
        [sys.executable, "-m", "rawjpeg_gui.desktop_integration", "--exec", EXE, "--no-refresh"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_home / ".local/share/applications/rawjpeg-gui.desktop").is_file()


def test_an_appimage_entry_starts_the_image_file(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    image = tmp_path / "rawjpeg-0.1.0-x86_64.AppImage"
    image.write_bytes(b"")
    monkeypatch.setenv("APPIMAGE", str(image))
    assert di.find_executable() == str(image.resolve())
