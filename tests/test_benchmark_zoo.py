"""benchmarks/zoo.py builds each model alike in tinydl, Keras and PyTorch: a benchmark that
compared different models would time something other than what it names."""

from __future__ import annotations

import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))
import zoo  # noqa: E402

from keras_oracle import import_keras  # noqa: E402


def _trainable(model) -> int:
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


@pytest.mark.parametrize("name", sorted(zoo.MODELS))
def test_every_zoo_model_is_the_same_model_in_each_framework(name):
    keras = import_keras()
    torch = pytest.importorskip("torch", reason="PyTorch (pip install torch==2.13.0)")
    ours, theirs = zoo.build("tinydl", name), zoo.build("keras", name)
    assert ours.count_params() == theirs.count_params()
    assert _trainable(ours) == int(sum(np.prod(w.shape) for w in theirs.trainable_weights))
    assert ours.output_shape == tuple(theirs.output_shape)
    module = zoo.build("torch", name)
    # nn.LSTM keeps two biases (b_ih, b_hh) where Keras keeps one: 4 * units more
    extra = sum(4 * spec[1] for spec in zoo.MODELS[name][1] if spec[0] == "lstm")
    assert _trainable(ours) + extra == sum(p.numel() for p in module.parameters())
    shape = zoo.MODELS[name][0]
    if name in zoo.TOKEN_MODELS:
        x = torch.zeros((2, *shape), dtype=torch.long)
    else:
        x = torch.zeros((2, *shape))
        x = x.permute(0, 3, 1, 2) if x.ndim == 4 else x
    assert tuple(module(x).shape) == (2,) + tuple(ours.output_shape[1:])
    del keras
