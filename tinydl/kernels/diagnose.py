"""Why the C extension tinydl._native did not import, in words a student can act on.

Four cases, told apart by what lies beside tinydl/__init__.py and what pip installed:

- not built: a source checkout (tinydl/_native.pyx is there) with no compiled extension;
- the source folder shadows an installed build: Python found this tinydl/ first (the current
  folder comes first on sys.path) while a built tinydl is installed elsewhere;
- built for another Python or platform: an extension file is there, but with a suffix this
  interpreter does not load (e.g. cpython-312 under Python 3.11);
- a genuine import error: the right file is there and failed to load (shown as it is).

    >>> import tempfile
    >>> from pathlib import Path
    >>> from tinydl.kernels.diagnose import native_import_problem
    >>> folder = Path(tempfile.mkdtemp()) / "tinydl"
    >>> folder.mkdir()
    >>> (folder / "_native.cpython-299-x86_64-linux-gnu.so").touch()
    >>> native_import_problem(ImportError("gone"), folder).split(":")[0]
    'built for another Python or platform'
"""

from __future__ import annotations

import importlib.machinery
import importlib.metadata
import json
import os
import sys
import sysconfig
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # the tinydl/ folder that was imported
_EXTENSION_ENDINGS = (".so", ".pyd", ".dylib")


def built_extensions(package_dir: Path) -> list[str]:
    """File names of compiled `_native` extensions in package_dir, for any Python or platform.

    Args:
        package_dir: a tinydl/ folder.

    Returns:
        The sorted names of its _native.* extension files; [] when it cannot be read.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> for name in ("_native.cpython-311-x86_64-linux-gnu.so", "_native.pyx", "_native.c"):
        ...     (folder / name).touch()
        >>> built_extensions(folder), built_extensions(folder / "missing")
        (['_native.cpython-311-x86_64-linux-gnu.so'], [])
    """
    try:
        names = os.listdir(package_dir)
    except OSError:
        return []
    return sorted(n for n in names if n.startswith("_native.") and n.endswith(_EXTENSION_ENDINGS))


def loadable(name: str) -> bool:
    """True when this interpreter loads that file as the module `_native`.

    Args:
        name: an extension file name, e.g. '_native.cpython-311-x86_64-linux-gnu.so'.

    Returns:
        Whether its suffix is one of importlib.machinery.EXTENSION_SUFFIXES.

    Example:
        >>> loadable("_native" + importlib.machinery.EXTENSION_SUFFIXES[0])
        True
        >>> loadable("_native.cpython-299-x86_64-linux-gnu.so")         # built for another Python
        False
    """
    return name in {"_native" + s for s in importlib.machinery.EXTENSION_SUFFIXES}


def installed_build_elsewhere(package_dir: Path) -> Path | None:
    """The folder of an installed tinydl with a loadable extension other than package_dir, if any.

    Looks at the files pip recorded for the installed distribution, and, for an editable
    install, at the source folder it points to.

    Args:
        package_dir: the tinydl/ folder that was imported.

    Returns:
        Another tinydl/ folder holding a loadable extension, or None.

    Example:
        The folder that was imported is never "elsewhere":

        >>> print(installed_build_elsewhere(PACKAGE_DIR))
        None
    """
    try:
        dist = importlib.metadata.distribution("tinydl")
    except importlib.metadata.PackageNotFoundError:
        return None
    candidates = []
    for file in dist.files or ():
        if file.name.startswith("_native.") and loadable(file.name):
            candidates.append(Path(dist.locate_file(file)).resolve().parent)
    candidates.extend(_editable_source_dirs(dist))
    for folder in candidates:
        if folder != package_dir and any(loadable(n) for n in built_extensions(folder)):
            return folder
    return None


def _editable_source_dirs(dist) -> list[Path]:
    """For `pip install -e`: the tinydl/ folder of the source tree the install points to."""
    try:
        url = json.loads(dist.read_text("direct_url.json") or "{}")
    except ValueError:
        return []
    if not url.get("dir_info", {}).get("editable") or not url.get("url", "").startswith("file://"):
        return []
    return [Path(url["url"][len("file://"):]).resolve() / "tinydl"]


def _this_python() -> str:
    return (f"Python {sys.version_info.major}.{sys.version_info.minor} on "
            f"{sysconfig.get_platform()}, which loads files ending in "
            f"{importlib.machinery.EXTENSION_SUFFIXES[0]}")


def native_import_problem(error: BaseException, package_dir: Path = PACKAGE_DIR) -> str:
    """One paragraph saying why tinydl._native did not import and what to do about it.

    Args:
        error: the exception the import raised.
        package_dir: the tinydl/ folder that was imported (the default: this one).

    Returns:
        A message that starts with the case ('not built', 'the source folder shadows',
        'built for another Python or platform', 'failed to import') and names the fix.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp()) / "tinydl"
        >>> folder.mkdir()
        >>> (folder / "_native.cpython-299-x86_64-linux-gnu.so").touch()  # another Python's build
        >>> print(native_import_problem(ImportError("No module named 'tinydl._native'"), folder))
        built for another Python or platform: ... holds _native.cpython-299-x86_64-linux-gnu.so, but this is Python 3...
        >>> good = folder / ("_native" + importlib.machinery.EXTENSION_SUFFIXES[0])
        >>> good.touch()                                              # this Python's, but broken
        >>> print(native_import_problem(ImportError("undefined symbol: tdl_gemm"), folder))
        failed to import: the extension ... is there but did not load (ImportError: undefined symbol: tdl_gemm). ...
    """
    root = package_dir.parent
    built = built_extensions(package_dir)
    good = [n for n in built if loadable(n)]
    if good:
        return (f"failed to import: the extension {package_dir / good[0]} is there but did not "
                f"load ({type(error).__name__}: {error}). Rebuild it with `pip install -e .` "
                f"in {root}; if that does not help, the error above is the one to report.")
    if built:
        return (f"built for another Python or platform: {package_dir} holds {', '.join(built)}, "
                f"but this is {_this_python()}. Rebuild for this Python with `pip install -e .` "
                f"in {root}.")
    elsewhere = installed_build_elsewhere(package_dir)
    if elsewhere is not None:
        return (f"the source folder shadows the installed build: you are running from the "
                f"source folder {root}, and Python imports its tinydl/ (which has no compiled "
                f"extension) instead of the tinydl installed in {elsewhere.parent}. Run "
                f"`pip install -e .` in {root} to build the extension in place, or run from "
                f"another folder.")
    if (package_dir / "_native.pyx").exists():
        return (f"not built: {root} is a source checkout without a compiled extension. Run "
                f"`pip install -e .` in {root} (it needs a C compiler) to build it.")
    return (f"the extension is missing from the installed package in {package_dir} "
            f"({type(error).__name__}: {error}). Reinstall tinydl with a C compiler available.")
