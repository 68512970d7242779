"""The project is a real package: installed from pyproject.toml, no path tricks."""

import importlib
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import tomli

from helpers import ROOT

PACKAGES = tomli.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_listed_package_and_module_is_this_checkout():
    """A `scripts` or `bench` from some other distribution must not shadow ours."""
    for name in [*PACKAGES["packages"], *PACKAGES["py-modules"]]:
        module = importlib.import_module(name)
        assert Path(module.__file__).resolve().is_relative_to(ROOT), (name, module.__file__)
        if name in PACKAGES["packages"]:
            assert Path(module.__file__).name == "__init__.py", f"{name} is a namespace package: add __init__.py"


def test_every_package_folder_is_listed():
    """A new subpackage of addons/ that pyproject.toml does not list would not be installed."""
    listed = set(PACKAGES["packages"])
    for init in ROOT.glob("*/**/__init__.py"):
        folder = init.parent.relative_to(ROOT)
        if folder.parts[0] in {"tests", "web", "build", "models", "results", ".venv"}:
            continue
        assert ".".join(folder.parts) in listed, f"{folder} is not listed in pyproject.toml"


def test_no_sys_path_edits_and_no_path_file():
    tracked = subprocess.run(["git", "ls-files", "*.py", "*.sh"], cwd=ROOT, capture_output=True, text=True).stdout
    editing = [
        path
        for path in tracked.split()
        if re.search(r"sys\.path\.(insert|append)|runpy\.run_path", (ROOT / path).read_text(encoding="utf-8"))
        and path != "tests/test_packaging.py"
    ]
    assert editing == []
    assert not (Path(sysconfig.get_paths()["purelib"]) / "cramp_coach.pth").exists()


def test_the_commands_run_from_any_directory(tmp_path):
    """Rasa loads addons.* by module path; the commands must not depend on the working directory."""
    run = subprocess.run(
        [sys.executable, "-c", "import addons.model.red_flags, devstack.launcher, scripts.train_model, coach_names"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-2000:]
