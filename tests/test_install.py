"""A new user's first run, for real: README command 1 verbatim in a fresh copy of the repository,
and the release packages (sdist and wheel from `python -m build`) installed in a fresh virtual
environment where the test suite passes.

These build tinydl from nothing (a minute or two each, and they need the package index), so a
plain `pytest` leaves them out; CI runs them with `pytest -m install`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.install
REPO = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    """The shell commands of the README's first ```bash block, comments left out."""
    text = (REPO / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S).group(1)
    return [line.strip() for line in block.splitlines() if line.strip() and not line.startswith("#")]


def clean_env(**extra) -> dict:
    """This environment without the active virtual environment (a new user's shell) or any
    tinydl, OpenMP or Python path settings."""
    venv = os.environ.get("VIRTUAL_ENV")
    path = [p for p in os.environ["PATH"].split(os.pathsep)
            if not (venv and p.startswith(venv))]
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CI", "TINYDL_STRICT_SKIPS")
           and not k.startswith(("TINYDL_", "OMP_"))}
    env["PATH"] = os.pathsep.join(path)
    env.update(extra)
    return env


def fresh_copy(folder: Path) -> Path:
    """The repository as a fresh clone has it: the files git tracks (and new ones it does not
    ignore), nothing built."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    for name in listed:
        source = REPO / name
        if source.is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / name)
    return folder


def run(command, cwd, timeout=900, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          **kwargs)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def base_python() -> str:
    """The interpreter the running one was made from (a new user's `python3`)."""
    return getattr(sys, "_base_executable", None) or sys.executable


def test_readme_command_1_trains_the_demo_on_the_native_kernels(tmp_path):
    clone = fresh_copy(tmp_path / "clone")
    command = readme_commands()[0]
    assert command.startswith("python3 -m venv .venv") and command.endswith("python -m tinydl")
    env = clean_env(PATH=os.path.dirname(base_python()) + os.pathsep + clean_env()["PATH"])
    done = run(["bash", "-c", command], cwd=clone, env=env)
    out = done.stdout
    assert "backend=native" in out, out[:2000] + done.stderr[-2000:]
    assert "WARNING" not in done.stderr, done.stderr
    accuracy = float(re.search(r"test accuracy (\d\.\d+)", out).group(1))
    assert accuracy >= 0.97, out[-1500:]
    # how long it trained is a benchmark figure, not a test (a busy machine is slower): shown
    print(re.search(r"trained \d+ epochs in [\d.]+ s", out).group(0))


def test_sdist_and_wheel_install_and_pass_the_tests_in_a_fresh_venv(tmp_path):
    clone = fresh_copy(tmp_path / "clone")
    dist = tmp_path / "dist"
    # python -m build makes the sdist, then the wheel from the unpacked sdist: a wheel that
    # builds proves the sdist carries everything the build needs
    run([sys.executable, "-m", "build", "--outdir", str(dist), str(clone)], cwd=tmp_path)
    (sdist,) = dist.glob("tinydl-*.tar.gz")
    (wheel,) = dist.glob("tinydl-*.whl")
    with tarfile.open(sdist) as archive:
        members = {m.split("/", 1)[1] for m in archive.getnames() if "/" in m}
    sources = {n for n in subprocess.run(["git", "ls-files", "csrc", "tinydl/_native.pyx"],
                                         cwd=REPO, capture_output=True, text=True).stdout.split()}
    assert sources and sources <= members, f"the sdist lacks {sorted(sources - members)}"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert any(re.fullmatch(r"tinydl/_native\..*(so|pyd)", n) for n in names), names
    assert "tinydl/datasets/data/t10k-images-idx3-ubyte.gz" in names

    venv = tmp_path / "venv"
    run([base_python(), "-m", "venv", str(venv)], cwd=tmp_path, env=clean_env())
    python = str(venv / "bin" / "python")
    run([python, "-m", "pip", "install", "-q", f"{wheel}[test]"], cwd=tmp_path, env=clean_env())
    # the tests run in a copy of the repository without the package (tinydl/) and its build
    # script, so they import the installed wheel; the docs, csrc/ and benchmarks they read stay
    suite = tmp_path / "suite"
    shutil.copytree(clone, suite, ignore=lambda folder, names: [
        n for n in names if folder == str(clone) and n in ("tinydl", "setup.py", "build")])
    # not strict about skips: the oracle peers (torch, TensorFlow) are not installed here, and
    # their tests ran in the main suite; h5py and matplotlib come with the [test] extra
    done = run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"], cwd=suite,
               env=clean_env())
    assert re.search(r"\d+ passed", done.stdout), done.stdout[-2000:]
    where = run([python, "-c", "import tinydl; print(tinydl.__file__, tinydl.get_backend())"],
                cwd=suite, env=clean_env()).stdout
    assert str(venv) in where and where.split()[-1] == "native"
