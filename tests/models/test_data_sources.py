"""fit / evaluate / predict on every kind of data source, sample and class weights, and the callback
hooks, against Keras 3 (TensorFlow backend) on the same weights and data, and against our own
array path (the same model fed the same batches another way must train the same)."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import tinydl

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

RNG = np.random.default_rng(0)
X = RNG.standard_normal((48, 4)).astype(np.float32)
Y = RNG.integers(0, 3, 48)
W = RNG.uniform(0.1, 2.0, 48).astype(np.float32)
XV, YV = X[:32] * 0.5, Y[:32]
BATCH = 16


@pytest.fixture(scope="module")
def keras():
    keras = pytest.importorskip("keras", reason="Keras 3 (TensorFlow) is the oracle")
    pytest.importorskip("tensorflow", reason="the Keras oracle runs on TensorFlow")
    return keras


def build(k, weights=None, **compile_args):
    """The same small classifier in Keras or tinydl (k), with weights (Keras' seed-1 ones by default)."""
    model = k.Sequential([k.Input((4,)), k.layers.Dense(8, activation="relu"),
                          k.layers.Dense(3, activation="softmax")])
    if weights is None:
        rng = np.random.default_rng(1)
        weights = [rng.uniform(-0.5, 0.5, w.shape).astype(np.float32) for w in model.get_weights()]
    model.set_weights(weights)
    compile_args.setdefault("metrics", ["accuracy"])
    model.compile(optimizer=k.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                  **compile_args)
    return model


def batches(x, y, w=None):
    return [(x[i:i + BATCH], y[i:i + BATCH]) + (() if w is None else (w[i:i + BATCH],))
            for i in range(0, len(x), BATCH)]


def forever(x, y, w=None):
    while True:
        yield from batches(x, y, w)


class ReIterable:
    """Any object iter() restarts (tinydl only: Keras takes no such objects)."""

    def __init__(self, x, y, w=None):
        self.items = batches(x, y, w)

    def __iter__(self):
        return iter(self.items)


def py_dataset(base, x, y, w=None):
    class Batches(base):
        def __init__(self):
            super().__init__()
            self.items = batches(x, y, w)

        def __len__(self):
            return len(self.items)

        def __getitem__(self, i):
            return self.items[i]
    return Batches()


def source(kind: str, k, x, y, w=None):
    """(fit kwargs) giving x, y (and w) as a data source of this kind, for Keras or tinydl."""
    if kind == "arrays":
        return dict(x=x, y=y, batch_size=BATCH, sample_weight=w)
    if kind == "generator":
        return dict(x=forever(x, y, w), steps_per_epoch=len(x) // BATCH)
    if kind == "pydataset":
        return dict(x=py_dataset(k.utils.PyDataset, x, y, w))
    if kind == "tf_data":
        tf = pytest.importorskip("tensorflow")
        return dict(x=tf.data.Dataset.from_tensor_slices((x, y) if w is None else (x, y, w))
                    .batch(BATCH))
    if kind == "dataloader":
        torch = pytest.importorskip("torch")
        tensors = [torch.from_numpy(np.asarray(a)) for a in ((x, y) if w is None else (x, y, w))]
        return dict(x=torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*tensors),
                                                  batch_size=BATCH, shuffle=False))
    if kind == "iterable":
        return dict(x=ReIterable(x, y, w))
    raise ValueError(kind)


def validation(kind: str, k):
    given = source(kind, k, XV, YV)
    if kind == "arrays":
        return dict(validation_data=(XV, YV), validation_batch_size=BATCH)
    if kind == "generator":
        return dict(validation_data=given["x"], validation_steps=2)
    return dict(validation_data=given["x"])


def fit(model, kind, k, w=None, epochs=3, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = model.fit(epochs=epochs, verbose=0, shuffle=False,
                            **source(kind, k, X, Y, w), **validation(kind, k), **kwargs)
    return history.history


def assert_same_history(ours: dict, theirs: dict, rtol=1e-4):
    assert sorted(ours) == sorted(theirs)
    for name in theirs:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=rtol, atol=1e-6, err_msg=name)


def assert_same_weights(ours, theirs, atol=1e-5):
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), atol=atol)


KINDS = ["arrays", "generator", "pydataset", "tf_data", "dataloader", "iterable"]


@pytest.mark.parametrize("kind", KINDS)
def test_multi_epoch_fit_with_validation_on_every_source_matches_arrays(kind):
    on_arrays = build(tinydl)
    expected = fit(on_arrays, "arrays", tinydl)
    model = build(tinydl)
    assert_same_history(fit(model, kind, tinydl), expected, rtol=1e-6)
    assert_same_weights(model, on_arrays, atol=1e-6)
    assert len(expected["val_loss"]) == 3 and expected["val_loss"][0] != expected["val_loss"][2]
    got = model.predict(source(kind, tinydl, X, Y)["x"], steps=3 if kind == "generator" else None,
                        verbose=0)
    np.testing.assert_allclose(got, model.predict(X, verbose=0), atol=1e-6)


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "iterable"])
def test_multi_epoch_fit_with_validation_on_every_source_matches_keras(keras, kind):
    theirs, ours = build(keras), build(tinydl)
    assert_same_history(fit(ours, kind, tinydl), fit(theirs, kind, keras))
    assert_same_weights(ours, theirs)


@pytest.mark.parametrize("kind", ["arrays", "generator", "pydataset", "tf_data"])
def test_sample_weights_match_keras_for_the_loss_and_weighted_metrics(keras, kind):
    metrics = dict(metrics=["accuracy"], weighted_metrics=["accuracy"])
    theirs, ours = build(keras, **metrics), build(tinydl, **metrics)
    history = fit(ours, kind, tinydl, w=W)
    assert_same_history(history, fit(theirs, kind, keras, w=W))
    assert_same_weights(ours, theirs)
    assert "weighted_accuracy" in history and "val_weighted_accuracy" in history
    unweighted = build(tinydl, **metrics)
    assert fit(unweighted, kind, tinydl)["loss"] != history["loss"]  # the weights counted
    mine = ours.evaluate(X, Y, sample_weight=W, return_dict=True, verbose=0)
    assert mine == pytest.approx(theirs.evaluate(X, Y, sample_weight=W, return_dict=True,
                                                 verbose=0), rel=1e-4)


@pytest.mark.parametrize("kind", ["arrays", "pydataset", "tf_data"])
def test_class_weights_match_keras(keras, kind):
    class_weight = {0: 0.5, 1: 2.0, 2: 1.5}
    theirs = build(keras, weighted_metrics=["accuracy"])
    ours = build(tinydl, weighted_metrics=["accuracy"])
    assert_same_history(fit(ours, kind, tinydl, class_weight=class_weight),
                        fit(theirs, kind, keras, class_weight=class_weight))
    assert_same_weights(ours, theirs)


def test_class_weight_with_one_hot_targets_and_validation_split_matches_keras(keras):
    onehot = np.eye(3, dtype=np.float32)[Y]
    histories = []
    for k in (keras, tinydl):
        model = build(k, weighted_metrics=["accuracy"])
        model.compile(optimizer=k.optimizers.SGD(0.1), loss="categorical_crossentropy",
                      metrics=["accuracy"], weighted_metrics=["accuracy"])
        histories.append(model.fit(X, onehot, batch_size=BATCH, epochs=2, shuffle=False,
                                   class_weight={0: 3.0, 2: 0.25}, validation_split=0.25,
                                   verbose=0).history)
    assert_same_history(histories[1], histories[0])


def test_per_output_sample_weights_match_keras(keras):
    def two_heads(k):
        inputs = k.Input((4,))
        hidden = k.layers.Dense(6, activation="tanh", name="hidden")(inputs)
        a = k.layers.Dense(3, activation="softmax", name="a")(hidden)
        b = k.layers.Dense(1, name="b")(hidden)
        return k.Model(inputs, {"a": a, "b": b})
    theirs, ours = two_heads(keras), two_heads(tinydl)
    rng = np.random.default_rng(3)
    weights = [rng.uniform(-0.5, 0.5, w.shape).astype(np.float32) for w in theirs.get_weights()]
    target = {"a": Y, "b": X[:, :1]}
    sample_weight = {"a": W, "b": W[::-1].copy()}
    histories = []
    for k, model in ((keras, theirs), (tinydl, ours)):
        model.set_weights(weights)
        model.compile(optimizer=k.optimizers.SGD(0.05),
                      loss={"a": "sparse_categorical_crossentropy", "b": "mse"},
                      weighted_metrics={"a": ["accuracy"], "b": ["mae"]})
        histories.append(model.fit(X, target, sample_weight=sample_weight, batch_size=BATCH,
                                   epochs=2, shuffle=False, verbose=0).history)
    assert_same_history(histories[1], histories[0])
    assert_same_weights(ours, theirs)


class Recorder:
    """Builds a callback (for Keras or tinydl) that records every hook with its logs."""

    HOOKS = ["on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
             "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
             "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
             "on_predict_batch_begin", "on_predict_batch_end"]

    @classmethod
    def make(cls, k, events: list):
        def hook(name):
            def record(self, *args, **kwargs):  # Keras passes logs by name to some hooks
                *index, logs = args + tuple(kwargs.values())
                assert isinstance(logs, dict), (name, logs)
                logs = {key: value for key, value in logs.items() if key != "outputs"}
                events.append((name, *index, logs))
            return record
        return type("Recording", (k.callbacks.Callback,), {h: hook(h) for h in cls.HOOKS})()


def test_callback_hooks_and_logs_match_keras(keras):
    sequences = []
    for k in (keras, tinydl):
        events = []
        model = build(k)
        model.fit(X, Y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0,
                  validation_data=(XV, YV), callbacks=[Recorder.make(k, events)])
        model.evaluate(XV, YV, batch_size=BATCH, verbose=0, callbacks=[Recorder.make(k, events)])
        model.predict(XV, batch_size=BATCH, verbose=0, callbacks=[Recorder.make(k, events)])
        sequences.append(events)
    theirs, ours = sequences
    assert [e[:-1] for e in ours] == [e[:-1] for e in theirs]
    for mine, expected in zip(ours, theirs):
        assert sorted(mine[-1]) == sorted(expected[-1]), mine[:-1]
        for key, value in expected[-1].items():
            assert mine[-1][key] == pytest.approx(value, rel=1e-4), (mine[:-1], key)


def test_history_comes_before_the_progress_bar_as_in_keras(keras):
    def order(k):
        cbs = k.callbacks.CallbackList([k.callbacks.Callback()], add_history=True,
                                       add_progbar=True, model=build(k))
        return [type(cb).__name__ for cb in cbs.callbacks]
    assert order(tinydl) == order(keras) == ["Callback", "History", "ProgbarLogger"]


def batches_per_epoch(k, x, **kwargs):
    """The number of steps of each epoch of fit, and the warnings it gave."""
    counts = []
    counter = type("Count", (k.callbacks.Callback,), {
        "on_epoch_begin": lambda self, epoch, logs=None: counts.append(0),
        "on_train_batch_end": lambda self, batch, logs=None: counts.__setitem__(-1, counts[-1] + 1)})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build(k).fit(x, verbose=0, shuffle=False, callbacks=[counter()], **kwargs)
    return counts, sum("ran out of data" in str(w.message) for w in caught)


@pytest.mark.parametrize("case", ["arrays_3_of_4", "generator_2_of_5", "generator_unsized",
                                  "pydataset_3_of_4", "tf_data_3_of_4"])
def test_steps_per_epoch_and_running_out_of_data_match_keras(keras, case):
    x, y = X[:32], Y[:32]  # with batch_size 8: 4 batches

    def given(k):
        if case == "arrays_3_of_4":
            return dict(x=x, y=y, batch_size=8, steps_per_epoch=3, epochs=3)
        if case == "generator_2_of_5":
            return dict(x=(b for b in [(X[i:i + 8], Y[i:i + 8]) for i in range(0, 40, 8)]),
                        steps_per_epoch=2, epochs=3)
        if case == "generator_unsized":
            return dict(x=(b for b in [(X[i:i + 8], Y[i:i + 8]) for i in range(0, 40, 8)]),
                        epochs=3)
        if case == "pydataset_3_of_4":
            return dict(x=py_dataset(k.utils.PyDataset, X[:64], Y[:64]), steps_per_epoch=3,
                        epochs=3)
        tf = pytest.importorskip("tensorflow")
        return dict(x=tf.data.Dataset.from_tensor_slices((X[:64], Y[:64])).batch(16),
                    steps_per_epoch=3, epochs=3)
    assert batches_per_epoch(tinydl, **given(tinydl)) == batches_per_epoch(keras, **given(keras))


def test_an_empty_or_exhausted_validation_source_raises_instead_of_reporting_zero():
    model = build(tinydl)
    with pytest.raises(ValueError, match="at least one batch"):
        model.fit(X, Y, epochs=1, verbose=0, validation_data=(b for b in []))
    with pytest.raises(ValueError, match="yielded no batches"):
        model.fit(X, Y, epochs=1, verbose=0, validation_data=ReIterable(X[:0], Y[:0]))

    class OneShot:  # iter() gives the same iterator: empty from the second pass on
        def __init__(self):
            self.iterator = iter(batches(XV, YV))

        def __iter__(self):
            return self.iterator
    with pytest.raises(ValueError, match="no batches, so there is no loss"):
        model.fit(X, Y, epochs=3, verbose=0, validation_data=OneShot())
    with pytest.raises(ValueError, match="no batches"):
        model.evaluate(py_dataset(tinydl.utils.PyDataset, X[:0], Y[:0]), verbose=0)


def test_sources_reject_what_keras_rejects():
    model = build(tinydl)
    with pytest.raises(ValueError, match="`y` should not be passed"):
        model.fit(forever(X, Y), Y, steps_per_epoch=2, verbose=0)
    with pytest.raises(ValueError, match="class_weight` is not supported for generator"):
        model.fit(forever(X, Y), steps_per_epoch=2, class_weight={0: 1.0}, verbose=0)
    with pytest.raises(ValueError, match="cannot `class_weight` and `sample_weight`"):
        model.fit(X, Y, sample_weight=W, class_weight={0: 1.0}, verbose=0)
    with pytest.raises(ValueError, match="same number of samples"):
        model.fit(X, Y, sample_weight=W[:5], verbose=0)


def test_a_user_train_step_gets_the_sample_weights_of_the_batches():
    seen = []

    class Weighted(tinydl.Sequential):
        def train_step(self, data):
            x, y, sample_weight = tinydl.utils.unpack_x_y_sample_weight(data)
            seen.append(None if sample_weight is None else sample_weight.copy())
            return super().train_step(data)
    model = Weighted([tinydl.Input((4,)), tinydl.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(X, Y, sample_weight=W, batch_size=BATCH, shuffle=False, verbose=0)
    model.fit(forever(X, Y, W), steps_per_epoch=1, verbose=0)
    np.testing.assert_array_equal(np.concatenate(seen[:3]), W)
    np.testing.assert_array_equal(seen[3], W[:BATCH])


def test_an_epoch_that_gets_no_batch_stops_training_where_keras_would_log_zeros(keras):
    """4 batches at steps_per_epoch=2 leave epoch 3 none. Keras warns and logs loss 0.0 for
    that epoch (its metrics were reset); tinydl warns and stops there."""
    def four():
        return (b for b in [(X[i:i + 8], Y[i:i + 8]) for i in range(0, 32, 8)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = build(keras).fit(four(), steps_per_epoch=2, epochs=3, verbose=0).history
    assert theirs["loss"][2] == 0.0  # what tinydl refuses to report
    with pytest.warns(UserWarning, match="ran out of data"):
        ours = build(tinydl).fit(four(), steps_per_epoch=2, epochs=3, verbose=0).history
    assert_same_history(ours, {name: values[:2] for name, values in theirs.items()})
