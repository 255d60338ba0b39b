"""model.summary(profile=prof): each layer's measured forward and backward time and share, on
real profiles of training steps, consistent with the profile's own totals."""

from __future__ import annotations

import numpy as np
import pytest

import tinydl
from tinydl.layers import Add, Conv2D, Dense, Flatten, MaxPooling2D
from tinydl.models import Model, Sequential

TIME_COLUMNS = ("Forward ms", "Backward ms", "Share")


def cnn():
    tinydl.utils.set_random_seed(0)
    model = Sequential([Conv2D(8, (3, 3), activation="relu", input_shape=(12, 12, 3)),
                        MaxPooling2D((2, 2)), Flatten(), Dense(16, activation="relu"),
                        Dense(4, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    return model, rng.random((16, 12, 12, 3), dtype=np.float32), rng.integers(0, 4, 16)


def profiled_steps(model, x, y, steps=2):
    model.train_on_batch(x, y)  # builds the layers and the optimizer's slots first
    with tinydl.profile() as prof:
        for _ in range(steps):
            model.train_on_batch(x, y)
    return prof


def summary_text(model, prof) -> list:
    lines = []
    model.summary(profile=prof, print_fn=lines.append)
    return lines


def row_times(lines, names) -> dict:
    """{layer name: (forward ms, backward ms, share %) or 'fused'} parsed from the table."""
    out = {}
    for line in lines:
        words = line.split()
        if words and words[0] in names:
            if words[-1] == "fused":
                out[words[0]] = "fused"
            else:
                out[words[0]] = (float(words[-3].replace(",", "")),
                                 float(words[-2].replace(",", "")), float(words[-1][:-1]))
    return out


def footer_ms(lines, start: str) -> float:
    line = next(line for line in lines if line.startswith(start))
    return float(line.split(": ")[1].split(" ms")[0].replace(",", ""))


def test_sequential_rows_give_forward_backward_and_shares_that_add_up(backend):
    model, x, y = cnn()
    prof = profiled_steps(model, x, y)
    lines = summary_text(model, prof)
    assert all(column in lines[2] for column in TIME_COLUMNS)
    names = [layer.name for layer in model.layers]
    rows = row_times(lines, names)
    assert set(rows) == set(names)
    conv, pool = model.layers[0].name, model.layers[1].name
    assert rows[pool] == "fused"  # Conv2D+MaxPooling2D ran as one op: its time is on the conv row
    assert f"{conv}+{pool}" in next(line for line in lines if line.startswith("Fused"))
    timed = {name: r for name, r in rows.items() if r != "fused"}
    for name in (conv, model.layers[3].name, model.layers[4].name):  # layers with weights
        assert timed[name][0] > 0 and timed[name][1] > 0
    # the rows and the line for what ran outside the layers (loss, optimizer) add up to the
    # total, and that total is the time inside the outermost events the profiler timed
    outside = footer_ms(lines, "Outside layers")
    total = footer_ms(lines, "Measured time in ops and kernels")
    outer_ms = 1e3 * sum(e.seconds for e in prof.events if e.outer)
    assert total == pytest.approx(outer_ms, abs=0.01)
    rounding = 0.005 * (2 * len(timed) + 1)
    assert sum(f + b for f, b, _ in timed.values()) + outside == pytest.approx(total, abs=rounding)
    assert sum(share for *_, share in timed.values()) <= 100.0 + 0.05 * len(timed)
    assert total <= 1e3 * prof.wall_seconds


def test_backward_kernels_are_attributed_to_the_layer_of_their_op(backend):
    model, x, y = cnn()
    prof = profiled_steps(model, x, y, steps=1)
    backward_ops = [e for e in prof.events if e.kind == "backward"]
    kernels = [e for e in prof.events if e.kind == "kernel"]
    checked = 0
    for kernel in kernels:  # located in time, not through the event's own fields
        around = [op for op in backward_ops
                  if op.start <= kernel.start <= op.start + op.seconds and op.thread == kernel.thread]
        if around:
            assert kernel.layer == around[-1].layer and kernel.phase == "backward"
            checked += 1
    assert checked >= 3  # conv backward (input and kernel) and the Dense layers' gemms


def test_functional_model_with_a_nested_model_gets_the_time_of_its_layers(backend):
    tinydl.utils.set_random_seed(0)
    inner = Sequential([Dense(8, activation="relu", input_shape=(6,)), Dense(6)], name="block")
    inputs = tinydl.Input((6,))
    outputs = Dense(3, name="head")(Add(name="skip")([inputs, inner(inputs)]))
    model = Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).random((8, 6), dtype=np.float32)
    prof = profiled_steps(model, x, np.zeros((8, 3), np.float32))
    lines = summary_text(model, prof)
    assert "Connected to" in lines[2] and all(c in lines[2] for c in TIME_COLUMNS)
    rows = row_times(lines, {"block", "head", "skip"})
    inner_ms = 1e3 * sum(e.self_seconds for e in prof.events
                         if e.layer and e.layer.split("/")[0] in {lay.name for lay in inner.layers})
    assert rows["block"][0] + rows["block"][1] == pytest.approx(inner_ms, abs=0.011)
    assert rows["block"][1] > 0 and rows["head"][1] > 0
    assert not any(line.startswith("Other layers") for line in lines)


def test_summary_of_a_profile_from_the_profiler_callback(backend):
    model, x, y = cnn()
    callback = tinydl.callbacks.Profiler(batches=(1, 3))
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[callback])
    rows = row_times(summary_text(model, callback.profile), [lay.name for lay in model.layers])
    assert rows[model.layers[-1].name][1] > 0


def test_a_profile_must_be_a_profile_of_this_model():
    model, x, y = cnn()
    with pytest.raises(TypeError, match="Received: dict"):
        model.summary(profile={})
    other = Sequential([Dense(2, input_shape=(3,), name="elsewhere")])
    other.compile(optimizer="sgd", loss="mse")
    prof = profiled_steps(other, np.ones((4, 3), np.float32), np.zeros((4, 2), np.float32))
    with pytest.raises(ValueError, match="recorded no op of model"):
        model.summary(profile=prof)
