"""tinydl.distributed without an MPI job: importing needs no mpi4py, the errors say what to do,
and the sharding arithmetic (pure NumPy) splits every epoch exactly as the module promises."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

import tinydl
import tinydl.distributed as hvd
from tinydl.distributed import data as shards, launch
from tinydl.layers import Dense
from tinydl.models import Sequential
from tinydl.models.data import make_source


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_importing_tinydl_and_tinydl_distributed_does_not_import_mpi4py():
    done = _python("import sys, tinydl, tinydl.distributed; print('mpi4py' in sys.modules)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_without_mpi4py_init_says_what_to_install():
    done = _python("import sys; sys.modules['mpi4py'] = None\n"
                   "import tinydl.distributed as hvd\nhvd.init()")
    assert done.returncode == 1
    assert "ImportError" in done.stderr
    assert 'pip install "tinydl[mpi]"' in done.stderr and "openmpi-bin libopenmpi-dev" in done.stderr


def test_before_init_the_api_names_init():
    assert not hvd.is_initialized()
    for call in (hvd.rank, hvd.size, hvd.local_rank, hvd.is_main, hvd.barrier,
                 lambda: hvd.allreduce(np.zeros(2)),
                 lambda: hvd.DistributedOptimizer(tinydl.optimizers.SGD())):
        with pytest.raises(RuntimeError, match=r"call tinydl.distributed.init\(\) first"):
            call()


def test_fit_under_mpirun_without_init_warns_that_each_rank_trains_alone(monkeypatch):
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "2")
    model = Sequential([Dense(2, input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.warns(RuntimeWarning, match="one of 2 started by an MPI launcher, but "
                                            r"tinydl.distributed.init\(\) was not called"):
        model.fit(np.zeros((4, 3)), np.zeros((4, 2)), verbose=0)


def _shards(samples, batch, ranks, steps=None):
    source = make_source(np.arange(samples)[:, None], None, batch, False, steps, False, "fit")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [shards.ArrayShard(source, r, ranks) for r in range(ranks)]


@pytest.mark.parametrize("samples, batch, ranks", [
    (1280, 32, 2), (650, 32, 2), (651, 32, 2), (1000, 7, 3), (97, 5, 4), (10, 1, 10), (7, 4, 2)])
def test_array_shards_make_the_global_batches_of_one_process_at_batch_times_ranks(samples, batch,
                                                                                   ranks):
    parts = [[xb[:, 0] for xb, *_ in shard.epoch()] for shard in _shards(samples, batch, ranks)]
    assert len({len(p) for p in parts}) == 1  # the same number of steps on every rank
    global_batches = [np.concatenate(step) for step in zip(*parts)]
    seen = np.concatenate(global_batches)
    assert len(np.unique(seen)) == len(seen)  # disjoint
    assert samples - len(seen) < ranks  # fewer than `ranks` samples left over
    one_process = np.arange(samples)
    for k, step in enumerate(global_batches[:-1]):
        assert np.array_equal(step, one_process[k * batch * ranks:(k + 1) * batch * ranks])
    assert all(len(set(len(b) for b in step)) == 1 for step in zip(*parts))  # equal batches


def test_array_shards_obey_steps_per_epoch_and_refuse_too_few_samples():
    assert [s.num_batches for s in _shards(1000, 10, 2, steps=3)] == [3, 3]
    with pytest.raises(ValueError, match="3 samples cannot be shared by 4 ranks"):
        _shards(3, 1, 4)


def test_unused_samples_without_shuffling_are_warned_about():
    source = make_source(np.zeros((651, 1)), None, 32, False, None, False, "fit")
    with pytest.warns(UserWarning, match="1 of the 651 samples are never used"):
        shards.ArrayShard(source, 0, 2)


class _Batches:
    """A PyDataset of 10 batches, batch i holding the value i."""

    def __len__(self):
        return 10

    def __getitem__(self, i):
        return np.full((2, 1), float(i)), np.zeros(2)


@pytest.mark.parametrize("equal, expected", [(True, [[0, 3, 6], [1, 4, 7], [2, 5, 8]]),
                                             (False, [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]])])
def test_dataset_shards_take_every_size_th_batch(equal, expected):
    taken = []
    for r in range(3):
        shard = shards.DatasetShard(make_source(_Batches(), None, 32, False, None, True, "fit"),
                                    r, 3, equal, "fit")
        taken.append([int(xb[0, 0]) for xb, *_ in shard.epoch()])
        assert shard.samples == 2 * len(taken[-1])
    assert taken == expected


def test_generator_shards_outside_fit_keep_every_size_th_batch_and_its_position():
    taken = []
    for r in range(3):
        generator = ((np.full((2, 1), float(i)), np.zeros(2)) for i in range(10))
        shard = shards.IteratorShard(make_source(generator, None, 32, False, None, True, "evaluate"),
                                     r, 3, lockstep=False)
        taken.append([int(xb[0, 0]) for xb, *_ in shard.epoch()])
        assert shard.positions == taken[-1] and shard.samples == 2 * len(taken[-1])
    assert taken == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]


def test_validation_slices_cover_every_sample_once():
    source = make_source(np.arange(11)[:, None], np.zeros(11), 4, False, None, True, "fit")
    seen = [[int(v) for xb, *_ in shards.ArraySlice(source, r, 3).epoch() for v in xb[:, 0]]
            for r in range(3)]
    assert sum(seen, []) == list(range(11))


def test_the_mpirun_command_for_open_mpi_and_its_absence(monkeypatch):
    monkeypatch.setattr(launch, "open_mpi_version", lambda mpirun: (4, 1))
    monkeypatch.setenv("TINYDL_MPIRUN_ARGS", "--mca btl_tcp_if_include lo")
    command = launch.mpirun_command(3, "/usr/bin/mpirun")
    assert command[:3] == ["/usr/bin/mpirun", "-n", "3"]
    assert "--oversubscribe" in command and command[-3:] == ["--mca", "btl_tcp_if_include", "lo"]
    assert "self,vader" in command
    monkeypatch.setattr(launch, "open_mpi_version", lambda mpirun: (5, 0))
    assert "self,sm" in launch.mpirun_command(2, "/usr/bin/mpirun")
    monkeypatch.setattr(launch, "find_mpirun", lambda: None)
    with pytest.raises(FileNotFoundError, match="apt-get install openmpi-bin libopenmpi-dev"):
        launch.mpirun_command(2)
    with pytest.raises(ValueError, match="ranks=0"):
        launch.mpirun_command(0, "/usr/bin/mpirun")
