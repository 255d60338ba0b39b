"""Why the extension did not import (tinydl.kernels.diagnose), and the one warning a user gets
when training falls back to the reference kernels without having asked for them."""

from __future__ import annotations

import importlib.machinery
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tinydl
from tinydl.kernels import diagnose

PACKAGE = Path(tinydl.__file__).resolve().parent  # the tinydl under test, built or installed
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


@pytest.fixture
def no_installed_tinydl(monkeypatch):
    def missing(name):
        raise diagnose.importlib.metadata.PackageNotFoundError(name)
    monkeypatch.setattr(diagnose.importlib.metadata, "distribution", missing)


def make_package(folder: Path, *files: str) -> Path:
    package = folder / "tinydl"
    package.mkdir(parents=True)
    for name in ("__init__.py", *files):
        (package / name).write_text("")
    return package


def test_a_source_checkout_without_a_build_says_not_built_and_how_to_build(tmp_path,
                                                                            no_installed_tinydl):
    package = make_package(tmp_path, "_native.pyx")
    message = diagnose.native_import_problem(ImportError("No module named 'tinydl._native'"),
                                             package)
    assert message.startswith("not built: ")
    assert "`pip install -e .`" in message and str(tmp_path) in message


def test_an_extension_for_another_python_is_named_with_the_suffix_this_python_needs(
        tmp_path, no_installed_tinydl):
    package = make_package(tmp_path, "_native.pyx", "_native.cpython-27-sparc-sunos.so")
    message = diagnose.native_import_problem(ImportError("nope"), package)
    assert message.startswith("built for another Python or platform: ")
    assert "_native.cpython-27-sparc-sunos.so" in message and SUFFIX in message
    assert "`pip install -e .`" in message


def test_a_genuine_import_error_is_shown_as_it_is(tmp_path, no_installed_tinydl):
    package = make_package(tmp_path, "_native.pyx", "_native" + SUFFIX)
    error = ImportError("undefined symbol: GOMP_parallel")
    message = diagnose.native_import_problem(error, package)
    assert message.startswith("failed to import: ")
    assert "ImportError: undefined symbol: GOMP_parallel" in message


class FakeDistribution:
    """What importlib.metadata.distribution('tinydl') returns, for one installed layout."""

    def __init__(self, site: Path, files=(), direct_url=None):
        self.site, self.direct_url = site, direct_url
        self.files = [_RecordedPath(f) for f in files]

    def locate_file(self, path):
        return self.site / str(path)

    def read_text(self, name):
        return json.dumps(self.direct_url) if name == "direct_url.json" and self.direct_url \
            else None


class _RecordedPath:
    """A path as pip records it in the distribution's RECORD (importlib.metadata.PackagePath)."""

    def __init__(self, text):
        self.text, self.name = text, Path(text).name

    def __str__(self):
        return self.text


def test_the_source_folder_shadowing_an_installed_build_says_so(tmp_path, monkeypatch):
    source = make_package(tmp_path / "clone", "_native.pyx")
    site = tmp_path / "site-packages"
    make_package(site, "_native" + SUFFIX)
    dist = FakeDistribution(site, files=["tinydl/__init__.py", "tinydl/_native" + SUFFIX])
    monkeypatch.setattr(diagnose.importlib.metadata, "distribution", lambda name: dist)
    message = diagnose.native_import_problem(ImportError("nope"), source)
    assert message.startswith("the source folder shadows the installed build: ")
    assert f"source folder {tmp_path / 'clone'}" in message and str(site) in message
    assert "run from another folder" in message


def test_an_editable_install_of_another_clone_counts_as_an_installed_build(tmp_path,
                                                                            monkeypatch):
    source = make_package(tmp_path / "copy", "_native.pyx")
    other = tmp_path / "other-clone"
    make_package(other, "_native.pyx", "_native" + SUFFIX)
    dist = FakeDistribution(tmp_path, direct_url={"url": f"file://{other}",
                                                  "dir_info": {"editable": True}})
    monkeypatch.setattr(diagnose.importlib.metadata, "distribution", lambda name: dist)
    message = diagnose.native_import_problem(ImportError("nope"), source)
    assert message.startswith("the source folder shadows the installed build: ")


def test_the_same_folder_installed_editable_but_unbuilt_is_not_built(tmp_path, monkeypatch):
    source = make_package(tmp_path, "_native.pyx")
    dist = FakeDistribution(tmp_path, direct_url={"url": f"file://{tmp_path}",
                                                  "dir_info": {"editable": True}})
    monkeypatch.setattr(diagnose.importlib.metadata, "distribution", lambda name: dist)
    assert diagnose.native_import_problem(ImportError("x"), source).startswith("not built: ")


# ----------------------------------------------------------------------------- end to end

def copy_without_extension(folder: Path) -> Path:
    """A copy of the package's Python files (no compiled extension) in folder/tinydl."""
    shutil.copytree(PACKAGE, folder / "tinydl",
                    ignore=shutil.ignore_patterns("*.so", "*.pyd", "*.dylib", "__pycache__",
                                                  "_native.c"))
    return folder


# Python started in the copy's folder imports the copy (the current folder comes first on
# sys.path). An editable install of this checkout adds a finder that would still supply
# tinydl._native from here; it is taken out, so the copy sees no extension at all.
HIDE_EDITABLE = ("import sys; sys.meta_path[:] = [f for f in sys.meta_path "
                 "if 'editable' not in repr(f).lower()]; ")


def run_in(folder: Path, code: str, **env_changes) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TINYDL_", "OMP_"))}
    env.update(env_changes)
    return subprocess.run([sys.executable, "-c", HIDE_EDITABLE + code], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)


# The copy shadows this test run's own tinydl: when that one has its extension, the copy's
# diagnosis is the shadowing case (the new user's `pip install .` then `python -m tinydl`).
EXPECTED_CASE = ("the source folder shadows the installed build: "
                 if tinydl.backend_info()["native_available"] else "not built: ")


@pytest.fixture(scope="module")
def unbuilt(tmp_path_factory) -> Path:
    return copy_without_extension(tmp_path_factory.mktemp("unbuilt"))


def test_the_demo_without_the_extension_prints_one_warning_line(unbuilt):
    demo = ("import runpy, sys; sys.argv = ['tinydl', '--dataset', 'digits', '--epochs', '1', "
            "'--verbose', '0', '--output', 'out']; runpy.run_module('tinydl', run_name='__main__')")
    done = run_in(unbuilt, demo, PYTHONWARNINGS="always")
    assert done.returncode == 0, done.stderr
    assert "backend=reference" in done.stdout
    warnings = [line for line in done.stderr.splitlines() if "reference kernels" in line]
    assert len(warnings) == 1, done.stderr
    assert warnings[0].startswith("WARNING: tinydl is running on its NumPy reference kernels")
    assert EXPECTED_CASE in warnings[0] and "pip install -e ." in warnings[0]


FIT_TWICE = """
import warnings, numpy as np, tinydl
from tinydl.layers import Dense
{select}
model = tinydl.models.Sequential([Dense(2, input_shape=(3,))])
model.compile(optimizer="sgd", loss="mse")
x, y = np.ones((8, 3), np.float32), np.zeros((8, 2), np.float32)
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    model.fit(x, y, verbose=0)
    model.fit(x, y, verbose=0)
print(sum(issubclass(w.category, tinydl.backend.ReferenceBackendWarning) for w in seen))
print(tinydl.backend_info()["threads"])
"""


def test_fit_warns_once_when_it_falls_back_unasked(unbuilt):
    done = run_in(unbuilt, FIT_TWICE.format(select=""), OMP_NUM_THREADS="3")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "3"]  # one warning; the threads native would use


@pytest.mark.parametrize("select, env", [("tinydl.set_backend('reference')", {}),
                                         ("", {"TINYDL_BACKEND": "reference"})])
def test_no_warning_for_a_user_who_chose_the_reference_backend(unbuilt, select, env):
    done = run_in(unbuilt, FIT_TWICE.format(select=select), **env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "0"


def test_asking_for_native_without_the_extension_raises_import_error_with_the_reason(unbuilt):
    done = run_in(unbuilt, "import tinydl; tinydl.set_backend('native')")
    assert done.returncode != 0
    assert "ImportError: the native backend is not available" in done.stderr
    assert EXPECTED_CASE in done.stderr


def test_backend_info_without_the_extension_reports_the_threads_native_would_use(unbuilt):
    code = "import tinydl; i = tinydl.backend_info(); print(i['threads']); print(i['native_error'])"
    done = run_in(unbuilt, code)
    assert done.returncode == 0, done.stderr
    threads, reason = done.stdout.split("\n", 1)
    assert int(threads) == len(os.sched_getaffinity(0)) and reason.startswith(EXPECTED_CASE)
