"""What a save leaves on disk: a file with the user's umask (or the mode of the file it
replaces), and no temporaries: those a killed save left behind go with the next save of the
same file, while a save in progress elsewhere is never touched."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import pytest

from tinydl import saving
from tinydl.models import load_model

FORMATS = [".tinydl", ".h5"]


@pytest.fixture
def umask():
    """set(mask): the process umask for this test (restored after it)."""
    previous = os.umask(0o022)
    yield os.umask
    os.umask(previous)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077])
def test_a_new_file_gets_the_umask(trained, tmp_path, umask, suffix, mask):
    """mkstemp made every saved file 0600, whatever the umask (0644 for most users)."""
    pytest.importorskip("h5py") if suffix == ".h5" else None
    umask(mask)
    trained.save(tmp_path / f"m{suffix}")
    trained.save_weights(tmp_path / f"w{suffix}")
    assert _mode(tmp_path / f"m{suffix}") == _mode(tmp_path / f"w{suffix}") == 0o666 & ~mask


def test_saving_over_a_file_keeps_its_mode(trained, tmp_path, umask):
    path = tmp_path / "m.tinydl"
    trained.save(path)
    os.chmod(path, 0o640)
    trained.save(path)
    assert _mode(path) == 0o640
    load_model(path)


def _temporary(folder, name: str, age_seconds: float = 0.0):
    path = folder / name
    path.write_bytes(b"half a model")
    then = time.time() - age_seconds
    os.utime(path, (then, then))
    return path


def _finished_pid() -> int:
    """The pid of a process that has exited (and been reaped), so is no longer alive."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temporaries_of_this_file_go_and_nothing_else(trained, tmp_path):
    host, old = saving._HOST, saving.STALE_TEMPORARY_SECONDS + 60
    gone = [
        _temporary(tmp_path, f".tmp-tinydl-{host}-{_finished_pid()}-0123abcd-m.tinydl"),
        _temporary(tmp_path, f".tmp-tinydl-{host}-{os.getpid()}-0123abcd-m.tinydl", old),
        _temporary(tmp_path, ".tmp-k3j_9x0a-m.tinydl", old),  # mkstemp's names, before
    ]
    kept = [
        _temporary(tmp_path, f".tmp-tinydl-{host}-{os.getpid()}-89abcdef-m.tinydl"),  # live
        _temporary(tmp_path, f".tmp-tinydl-{host}-{os.getppid()}-4567ef01-m.tinydl"),  # live
        _temporary(tmp_path, f".tmp-tinydl-00000000-{_finished_pid()}-0123abcd-m.tinydl"),
        _temporary(tmp_path, ".tmp-k3j_9x0a-m.tinydl.bak", old),  # another file's
        _temporary(tmp_path, f".tmp-tinydl-{host}-{_finished_pid()}-0123abcd-other.tinydl"),
        _temporary(tmp_path, ".tmp-notes-m.tinydl", old),          # not our naming
        _temporary(tmp_path, ".tmp-k3j_9x0a-m.tinydl.txt", old),
    ]
    trained.save(tmp_path / "m.tinydl")
    assert not any(p.exists() for p in gone)
    assert all(p.exists() for p in kept)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [p.name for p in kept] + ["m.tinydl"])


def test_a_temporary_folder_of_our_naming_is_left_alone(trained, tmp_path):
    folder = tmp_path / f".tmp-tinydl-{saving._HOST}-{_finished_pid()}-0123abcd-m.tinydl"
    folder.mkdir()
    trained.save(tmp_path / "m.tinydl")
    assert folder.is_dir()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs kill -9")
def test_the_temporary_of_a_killed_save_is_removed_by_the_next_save(trained, tmp_path):
    """A save killed with kill -9 in the middle (here: while it fsyncs) cannot clean up."""
    target = tmp_path / "m.tinydl"
    trained.save(target)
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import os, time
        from tinydl.models import load_model
        model = load_model({str(target)!r})
        os.fsync = lambda fd: time.sleep(60)    # stop inside the save, temporary written
        model.save({str(target)!r})
        """)])
    try:
        deadline = time.time() + 30
        while time.time() < deadline and len(list(tmp_path.iterdir())) < 2:
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    left = [p.name for p in tmp_path.iterdir() if p.name != "m.tinydl"]
    assert len(left) == 1 and left[0].startswith(".tmp-tinydl-")
    trained.save(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.tinydl"]
    load_model(target)
