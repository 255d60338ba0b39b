"""Lab 2: a multilayer perceptron from your own parts (Functions, Layers, an Optimizer), trained on MNIST.

Your ops are tinydl Functions (forward and backward on NumPy arrays), your layers are tinydl
Layers (so Sequential, summary() and saving know them), your SGD is a tinydl Optimizer; the
training loop at the bottom puts them together on the bundled MNIST sample.
"""

from __future__ import annotations

import numpy as np

import tinydl
from tinydl import Tensor
from tinydl.autograd import Function
from tinydl.layers import Layer
from tinydl.models import Sequential
from tinydl.optimizers import Optimizer


# ----------------------------------------------------------------------------- task 2.1

class LinearFunction(Function):
    """y = x @ w + b. x: (N, IN), w: (IN, OUT), b: (OUT,); y: (N, OUT)."""

    @staticmethod
    def forward(ctx, x, w, b):
        raise NotImplementedError('Lab 2, task 1: write LinearFunction.forward: save x and w, return x @ w + '
                                  'b')

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError('Lab 2, task 1: write LinearFunction.backward: dx = grad @ w.T, dw = x.T @ '
                                  'grad, db = grad summed over N')


# ----------------------------------------------------------------------------- task 2.2

class ReLUFunction(Function):
    """y = max(x, 0), elementwise."""

    @staticmethod
    def forward(ctx, x):
        raise NotImplementedError('Lab 2, task 2: write ReLUFunction.forward: save where x > 0, return max(x,'
                                  ' 0)')

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError('Lab 2, task 2: write ReLUFunction.backward: the gradient passes where x > '
                                  '0, else 0')


# ----------------------------------------------------------------------------- task 2.3

class SoftmaxCrossEntropy(Function):
    """Mean over the batch of -log softmax(logits)[label]. logits: (N, K); labels: (N,) ints.

    Forward must be stable: logits of 1000 must not overflow exp (subtract each row's max).
    The gradient with respect to logits is (softmax(logits) - onehot(labels)) / N.
    """

    @staticmethod
    def forward(ctx, logits, labels):
        raise NotImplementedError('Lab 2, task 3: write SoftmaxCrossEntropy.forward: subtract the row max, '
                                  'log-sum-exp, save the softmax')

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError('Lab 2, task 3: write SoftmaxCrossEntropy.backward: grad * (softmax - '
                                  'onehot) / N, and None for labels')


# ----------------------------------------------------------------------------- task 2.4

class MyDense(Layer):
    """A fully connected layer: LinearFunction(inputs, kernel, bias). kernel: (IN, units)."""

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)

    def build(self, input_shape):
        raise NotImplementedError('Lab 2, task 4: write MyDense.build: add_weight "kernel" (IN, units), '
                                  'he_normal; "bias" (units,), zeros')

    def call(self, inputs, training=None):
        raise NotImplementedError('Lab 2, task 4: write MyDense.call with LinearFunction.apply')

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def macs_per_sample(self, input_shape):
        return int(input_shape[-1]) * self.units

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class MyReLU(Layer):
    """max(inputs, 0) with ReLUFunction."""

    def call(self, inputs, training=None):
        raise NotImplementedError('Lab 2, task 4: write MyReLU.call with ReLUFunction.apply')


# ----------------------------------------------------------------------------- task 2.5

class SGD(Optimizer):
    """Plain gradient descent: w <- w - learning_rate * g (tinydl's Optimizer does the rest)."""

    def __init__(self, learning_rate=0.01, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)

    def update_step(self, gradient, variable, learning_rate):
        raise NotImplementedError('Lab 2, task 5: write SGD.update_step: update variable.data in place')


# ----------------------------------------------------------------------------- task 2.6

def load_mnist():
    """The bundled MNIST sample as float32 rows in [0, 1]: (x_train (8000, 784), y_train), (x_test, y_test)."""
    (x_train, y_train), (x_test, y_test) = tinydl.datasets.mnist_sample.load_data()

    def rows(x):
        return x.reshape(len(x), -1).astype(np.float32) / 255.0

    return (rows(x_train), y_train.astype(np.int64)), (rows(x_test), y_test.astype(np.int64))


def build_model(hidden: int = 128) -> Sequential:
    """784 -> hidden -> ReLU -> 10 logits, from your layers."""
    return Sequential([MyDense(hidden, input_shape=(784,)), MyReLU(), MyDense(10)])


def accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    """The fraction of rows whose largest logit is at the true label."""
    with tinydl.no_grad():
        logits = model(Tensor(x)).numpy()
    return float((logits.argmax(axis=1) == y).mean())


def train(epochs: int = 15, batch_size: int = 32, learning_rate: float = 0.2, decay: float = 0.85,
          hidden: int = 128, seed: int = 0):
    """Train build_model(hidden) with your SGD and loss; return (model, test accuracy).

    Each epoch visits the 8,000 training images once in a fresh random order, in batches of
    batch_size; epoch e uses the learning rate learning_rate * decay ** e.
    """
    tinydl.utils.set_random_seed(seed)
    (x_train, y_train), (x_test, y_test) = load_mnist()
    model = build_model(hidden)
    raise NotImplementedError('Lab 2, task 6: write the training loop: shuffle, batches, forward, loss, '
                              'backward, optimizer.apply')
    return model, accuracy(model, x_test, y_test)

# A starter file: some imports are for the code you will write.
# ruff: noqa: F401, F841
