"""Build step of the package: what a working copy keeps outside ``idp`` goes into it.

The metadata lives in pyproject.toml. Two things are added to the build:

- The compiled translation catalogues. The ``.mo`` files are not kept in git,
  so every ``idp/translations/*/LC_MESSAGES/messages.po`` is compiled into the
  build directory, as ``make translations`` does for a working copy (fuzzy
  entries included, as there).
- The migrations, copied to ``idp/migrations``, so that ``mam-idp db upgrade``
  works from an installed package (``idp.app`` looks there first).

An editable install reads the working copy's catalogues and migrations instead.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
CATALOGUES = "idp/translations/*/LC_MESSAGES/messages.po"
MIGRATIONS = ROOT / "migrations"


class build_py_with_package_data(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        self._compile_catalogues()
        self._copy_migrations()

    def _compile_catalogues(self):
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in sorted(ROOT.glob(CATALOGUES)):
            relative = po.relative_to(ROOT).with_suffix(".mo")
            target = Path(self.build_lib) / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as source:
                catalogue = read_po(source, locale=relative.parts[-3])
            with target.open("wb") as compiled:
                write_mo(compiled, catalogue, use_fuzzy=True)
            self.announce(f"compiled {relative}", level=2)

    def _copy_migrations(self):
        if not (MIGRATIONS / "env.py").is_file():
            raise RuntimeError("the migrations folder is missing from the source tree")
        target = Path(self.build_lib) / "idp" / "migrations"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(
            MIGRATIONS, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )


setup(cmdclass={"build_py": build_py_with_package_data})
