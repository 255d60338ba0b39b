"""tinydl.profile(): every op and kernel timed with its layer, FLOPs and bytes; the table, the
Chrome trace, the Profiler callback, and nothing recorded when it is off."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

import tinydl
from tinydl import profiler
from tinydl.callbacks import Profiler
from tinydl.layers import Conv2D, Dense, Flatten, MaxPooling2D
from tinydl.models import Sequential


def small_cnn():
    tinydl.utils.set_random_seed(0)
    model = Sequential([Conv2D(8, (3, 3), activation="relu", input_shape=(12, 12, 3)),
                        MaxPooling2D((2, 2)), Flatten(), Dense(16, activation="relu", name="hidden"),
                        Dense(4, activation="softmax", name="out")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    return model, rng.random((16, 12, 12, 3), dtype=np.float32), rng.integers(0, 4, 16)


def test_gemm_events_carry_the_flops_and_bytes_of_their_shapes(backend):
    a = tinydl.Tensor(np.ones((5, 7), np.float32), requires_grad=True)
    b = tinydl.Tensor(np.ones((7, 3), np.float32), requires_grad=True)
    with tinydl.profile() as prof:
        (a @ b).sum().backward()
    gemms = [e for e in prof.events if e.name == "gemm"]
    assert gemms and gemms[0].flops == 2 * 5 * 7 * 3
    assert gemms[0].bytes == (5 * 7 + 7 * 3 + 5 * 3) * 4
    assert gemms[0].backend == backend and gemms[0].threads == tinydl.get_num_threads()
    kinds = {(e.name, e.kind) for e in prof.events}
    assert {("MatMul", "forward"), ("MatMul", "backward")} <= kinds
    # the backward gemms (two of them, one per input) ran inside MatMul's backward event
    backward = next(e for e in prof.events if (e.name, e.kind) == ("MatMul", "backward"))
    inner = [e for e in gemms if backward.start <= e.start <= backward.start + backward.seconds]
    assert len(inner) == 2 and backward.children == pytest.approx(sum(e.seconds for e in inner))


def test_ops_and_kernels_are_attributed_to_their_layers_forward_and_backward(backend):
    model, x, y = small_cnn()
    model.train_on_batch(x, y)
    with tinydl.profile() as prof:
        model.train_on_batch(x, y)
    hidden = {(e.name, e.kind) for e in prof.events if e.layer == "hidden"}
    assert {("Dense", "forward"), ("Dense", "backward"), ("gemm", "kernel")} <= hidden  # fused
    assert any(e.layer and e.layer.startswith("conv2d") and e.kind == "kernel"
               for e in prof.events)
    seconds = prof.layer_seconds()
    assert {"hidden", "out"} <= set(seconds) and all(v >= 0 for v in seconds.values())


def test_outermost_events_cover_almost_all_of_a_conv_step(backend):
    """A consistency check of the profiler (both sides measured in the same run): what runs
    outside any op is only the Python between them."""
    tinydl.utils.set_random_seed(0)
    model = Sequential([Conv2D(32, (3, 3), activation="relu", input_shape=(32, 32, 3)),
                        MaxPooling2D((2, 2)), Conv2D(64, (3, 3), activation="relu"),
                        MaxPooling2D((2, 2)), Flatten(), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).random((32, 32, 32, 3), dtype=np.float32)
    y = np.arange(32) % 10
    model.train_on_batch(x, y)
    with tinydl.profile() as prof:
        for _ in range(3):
            model.train_on_batch(x, y)
    inside = sum(e.seconds for e in prof.events if e.outer)
    assert inside <= prof.wall_seconds
    assert prof.coverage() == pytest.approx(inside / prof.wall_seconds)
    assert prof.coverage() > 0.75


def test_table_lists_the_busiest_rows_and_rejects_an_unknown_sort():
    model, x, y = small_cnn()
    with tinydl.profile() as prof:
        model.train_on_batch(x, y)
    text = prof.table(sort_by="self_time", row_limit=5)
    assert len(text.splitlines()) == 2 + 5 + 1 and "gemm" in prof.table(row_limit=50)
    rows = prof.key_averages()
    assert rows == sorted(rows, key=lambda r: -r["seconds"])
    with pytest.raises(ValueError, match="sort_by must be one of"):
        prof.table(sort_by="speed")


def test_chrome_trace_is_valid_trace_event_json(tmp_path):
    model, x, y = small_cnn()
    with tinydl.profile() as prof:
        model.train_on_batch(x, y)
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(path)
    trace = json.loads(path.read_text())["traceEvents"]
    assert len(trace) == len(prof.events)
    assert all(e["ph"] == "X" and e["dur"] >= 0 and e["ts"] >= 0 for e in trace)


def test_nothing_is_recorded_when_off_and_profiles_do_not_nest():
    assert profiler.current is None
    model, x, y = small_cnn()
    with tinydl.profile() as prof:
        with pytest.raises(RuntimeError, match="already active"):
            with tinydl.profile():
                pass
    model.train_on_batch(x, y)
    assert prof.events == [] and profiler.current is None


def test_events_from_other_threads_are_recorded_with_their_thread():
    a = tinydl.Tensor(np.ones((4, 4), np.float32))
    with tinydl.profile() as prof:
        worker = threading.Thread(target=lambda: a @ a)
        worker.start()
        worker.join()
    assert {e.thread for e in prof.events if e.name == "gemm"} == {worker.ident}


def test_profiler_callback_profiles_only_the_chosen_batches(tmp_path):
    model, x, y = small_cnn()
    callback = Profiler(batches=(1, 3), path=str(tmp_path / "fit.json"))
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[callback])
    forwards = [e for e in callback.profile.events if (e.name, e.kind) == ("SoftmaxCrossEntropy",
                                                                          "forward")]
    assert len(forwards) == 2  # batches 1 and 2 of 4
    assert json.loads((tmp_path / "fit.json").read_text())["traceEvents"]
    with pytest.raises(ValueError, match="Received: batches=\\(3, 3\\)"):
        Profiler(batches=(3, 3))
