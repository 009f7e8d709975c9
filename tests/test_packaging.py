"""The built package carries compiled translations: ``pip install .`` serves German.

The wheel is built from a copy of the working tree without any compiled
catalogue (``*.mo`` are not in git), so the catalogues in it come from the
build step in setup.py, not from ``make translations``.
"""

from __future__ import annotations

import gettext
import io
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import requests
from babel.messages.pofile import read_po

from tests.live.server import LiveProvider

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ("de", "nl", "pl")


def _copy_working_tree(target: Path) -> None:
    """The files git tracks or would track (new ones included), nothing it ignores."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("the working tree is not a git checkout")
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source")
    _copy_working_tree(source)
    assert not list(source.rglob("*.mo"))
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert built.returncode == 0, built.stderr
    [path] = out.glob("mam_idp-*.whl")
    return path


def _catalogue(language: str) -> dict[str, str]:
    with (ROOT / f"idp/translations/{language}/LC_MESSAGES/messages.po").open("rb") as po:
        return {m.id: m.string for m in read_po(po) if m.id and isinstance(m.id, str)}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_wheel_ships_each_compiled_catalogue(wheel, language):
    with zipfile.ZipFile(wheel) as archive:
        compiled = archive.read(f"idp/translations/{language}/LC_MESSAGES/messages.mo")
    translations = gettext.GNUTranslations(io.BytesIO(compiled))
    expected = _catalogue(language)
    for message in ("Log in with Miles & More", "Two-step verification", "Verify"):
        assert translations.gettext(message) == expected[message] != message


def _fresh_venv(tmp: Path, wheel: Path) -> Path:
    """A new virtualenv with the wheel installed: its own ``idp``, no working tree.

    The dependencies come from this environment's site-packages through a .pth
    line placed after the venv's own, so nothing is downloaded; this
    environment's editable ``idp`` is not reachable (its .pth hooks are not run).
    """
    venv = tmp / "venv"
    made = subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot create a virtualenv here: {made.stderr.strip()}")
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if installed.returncode != 0:
        pytest.skip(f"pip cannot install the wheel offline: {installed.stderr.strip()[-500:]}")
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp,
    ).stdout.strip()
    (Path(site) / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    where = subprocess.run(
        [str(python), "-c", "import idp; print(idp.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp,
    )
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout
    return venv


@pytest.mark.slow
def test_an_installed_wheel_serves_german_to_a_german_browser(wheel, tmp_path):
    venv = _fresh_venv(tmp_path, wheel)
    provider = LiveProvider(tmp_path, "sqlite", script=venv / "bin" / "mam-idp")
    try:
        provider.migrate()
        provider.start("serve", "--port", str(provider.port), "--workers", "1")
        german = requests.get(
            provider.url + "/login", headers={"Accept-Language": "de-DE,de;q=0.9"}, timeout=10
        )
        assert german.status_code == 200
        assert _catalogue("de")["Log in with Miles & More"] in german.text
        english = requests.get(provider.url + "/login", timeout=10)
        assert "Log in with Miles & More" in english.text
    except BaseException:
        sys.stderr.write(provider.output()[-10000:])
        raise
    finally:
        provider.close()


def test_the_wheel_ships_the_migrations(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    expected = {
        f"idp/migrations/{p.relative_to(ROOT / 'migrations').as_posix()}"
        for p in (ROOT / "migrations").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert "idp/migrations/env.py" in expected
    assert expected <= names
