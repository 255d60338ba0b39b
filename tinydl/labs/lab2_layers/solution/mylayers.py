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
        # BEGIN SOLUTION 2.1 write LinearFunction.forward: save x and w, return x @ w + b
        ctx.save_for_backward(x, w)
        return x @ w + b
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 2.1 write LinearFunction.backward: dx = grad @ w.T, dw = x.T @ grad, db = grad summed over N
        x, w = ctx.saved
        return grad @ w.T, x.T @ grad, grad.sum(axis=0)
        # END SOLUTION


# ----------------------------------------------------------------------------- task 2.2

class ReLUFunction(Function):
    """y = max(x, 0), elementwise."""

    @staticmethod
    def forward(ctx, x):
        # BEGIN SOLUTION 2.2 write ReLUFunction.forward: save where x > 0, return max(x, 0)
        ctx.save_for_backward(x > 0)
        return np.maximum(x, 0)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 2.2 write ReLUFunction.backward: the gradient passes where x > 0, else 0
        (positive,) = ctx.saved
        return grad * positive
        # END SOLUTION


# ----------------------------------------------------------------------------- task 2.3

class SoftmaxCrossEntropy(Function):
    """Mean over the batch of -log softmax(logits)[label]. logits: (N, K); labels: (N,) ints.

    Forward must be stable: logits of 1000 must not overflow exp (subtract each row's max).
    The gradient with respect to logits is (softmax(logits) - onehot(labels)) / N.
    """

    @staticmethod
    def forward(ctx, logits, labels):
        # BEGIN SOLUTION 2.3 write SoftmaxCrossEntropy.forward: subtract the row max, log-sum-exp, save the softmax
        labels = np.asarray(labels).astype(np.int64)
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_sum = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        log_probs = shifted - log_sum
        ctx.save_for_backward(np.exp(log_probs), labels)
        return np.asarray(-log_probs[np.arange(len(labels)), labels].mean(), dtype=logits.dtype)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 2.3 write SoftmaxCrossEntropy.backward: grad * (softmax - onehot) / N, and None for labels
        probs, labels = ctx.saved
        d_logits = probs.copy()
        d_logits[np.arange(len(labels)), labels] -= 1
        return grad * d_logits / len(labels), None
        # END SOLUTION


# ----------------------------------------------------------------------------- task 2.4

class MyDense(Layer):
    """A fully connected layer: LinearFunction(inputs, kernel, bias). kernel: (IN, units)."""

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)

    def build(self, input_shape):
        # BEGIN SOLUTION 2.4 write MyDense.build: add_weight "kernel" (IN, units), he_normal; "bias" (units,), zeros
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), initializer="he_normal")
        self.bias = self.add_weight("bias", (self.units,), initializer="zeros")
        # END SOLUTION

    def call(self, inputs, training=None):
        # BEGIN SOLUTION 2.4 write MyDense.call with LinearFunction.apply
        return LinearFunction.apply(inputs, self.kernel, self.bias)
        # END SOLUTION

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def macs_per_sample(self, input_shape):
        return int(input_shape[-1]) * self.units

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class MyReLU(Layer):
    """max(inputs, 0) with ReLUFunction."""

    def call(self, inputs, training=None):
        # BEGIN SOLUTION 2.4 write MyReLU.call with ReLUFunction.apply
        return ReLUFunction.apply(inputs)
        # END SOLUTION


# ----------------------------------------------------------------------------- task 2.5

class SGD(Optimizer):
    """Plain gradient descent: w <- w - learning_rate * g (tinydl's Optimizer does the rest)."""

    def __init__(self, learning_rate=0.01, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)

    def update_step(self, gradient, variable, learning_rate):
        # BEGIN SOLUTION 2.5 write SGD.update_step: update variable.data in place
        variable.data -= learning_rate * gradient
        # END SOLUTION


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
    # BEGIN SOLUTION 2.6 write the training loop: shuffle, batches, forward, loss, backward, optimizer.apply
    optimizer = SGD(learning_rate)
    weights = model.trainable_weights
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        optimizer.learning_rate = learning_rate * decay ** epoch
        order = rng.permutation(len(x_train))
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            loss = SoftmaxCrossEntropy.apply(model(Tensor(x_train[batch]), training=True), y_train[batch])
            for w in weights:
                w.grad = None
            loss.backward()
            optimizer.apply([w.grad for w in weights], weights)
    # END SOLUTION
    return model, accuracy(model, x_test, y_test)
