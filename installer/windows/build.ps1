# Build the Windows installer: freeze the app, smoke-test it, run Inno Setup.
#
# NOT YET TESTED ON WINDOWS. Needs Python 3.11+ (x64) on PATH and Inno Setup 6 (iscc.exe
# on PATH or in its default folder). Run from anywhere:
#   powershell -ExecutionPolicy Bypass -File installer\windows\build.ps1
# Result: dist\rawjpeg-gui\ (the app) and dist\rawjpeg-<version>-windows-x64-setup.exe
$ErrorActionPreference = "Stop"
$Root = Resolve-Path (Join-Path $PSScriptRoot "..\..")
Set-Location $Root

python -m pip install --quiet -e ".[gui,installer]"
python installer\make_icons.py
python -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build\pyinstaller installer\rawjpeg-gui.spec
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }

# Smoke test: the windowed exe has no console, so the report goes to a log file.
$Log = Join-Path $env:TEMP "rawjpeg-self-test.log"
$env:QT_QPA_PLATFORM = "offscreen"
$env:RAWJPEG_SELFTEST_LOG = $Log
$proc = Start-Process -FilePath "dist\rawjpeg-gui\rawjpeg-gui.exe" -ArgumentList "--self-test" -Wait -PassThru -NoNewWindow
Remove-Item Env:QT_QPA_PLATFORM, Env:RAWJPEG_SELFTEST_LOG
Get-Content $Log
if ($proc.ExitCode -ne 0) { throw "rawjpeg-gui --self-test failed ($($proc.ExitCode))" }
if (Select-String -Path $Log -Pattern "ImportError|ModuleNotFoundError|Traceback" -Quiet) { throw "errors in the self-test" }

$Version = python -c "import rawjpeg_gui; print(rawjpeg_gui.__version__)"
$Iscc = (Get-Command iscc.exe -ErrorAction SilentlyContinue).Source
if (-not $Iscc) { $Iscc = Join-Path ${env:ProgramFiles(x86)} "Inno Setup 6\ISCC.exe" }
& $Iscc "/DAppVersion=$Version" installer\windows\rawjpeg.iss
if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed" }
Write-Host "Built dist\rawjpeg-$Version-windows-x64-setup.exe"
