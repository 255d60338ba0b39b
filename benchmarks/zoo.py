"""The model zoo: what users write, described once and built alike in tinydl, PyTorch and Keras.

A model is a list of layer specs (tuples) over an NHWC or flat input; `build(framework, name)`
turns it into a tinydl Sequential, a PyTorch nn.Sequential (channels_last for images) or a
Keras Sequential, with the same layers, shapes and parameter counts, so a benchmark compares
the frameworks on one model and not on three. Classification heads end in logits for PyTorch
(its CrossEntropyLoss takes logits) and in softmax for tinydl and Keras (both fuse the
softmax with the cross-entropy).

Specs: ("conv", filters, kernel, padding, use_bias, activation), ("bn",), ("relu",),
("maxpool", size), ("dropout", rate), ("flatten",), ("gap",), ("dense", units, activation),
and for token sequences (inputs: int ids of shape (T,)): ("embedding", vocabulary, dim),
("lstm", units) (the last step's output), ("conv1d", filters, kernel, activation), ("gmp1d",).
("res", filters, stride) is a ResNet basic block (He et al., 2016): [Conv 3x3 (stride) -> BN ->
ReLU -> Conv 3x3 -> BN] + shortcut (a 1x1 Conv (stride) -> BN where the shape changes), then
ReLU; a model with one is built with the functional API (tinydl, Keras) or a small
nn.Module (PyTorch).
"""

from __future__ import annotations


def _vgg_block(filters: int, dropout: float) -> list:
    conv = [("conv", filters, 3, "same", False, None), ("bn",), ("relu",)]
    return conv + conv + [("maxpool", 2), ("dropout", dropout)]


MODELS = {
    # the seed's CIFAR-10 CNN (Keras tutorial), 160,202 parameters
    "reference_cnn": ((32, 32, 3), [
        ("conv", 32, 3, "valid", True, "relu"), ("maxpool", 2),
        ("conv", 64, 3, "valid", True, "relu"), ("maxpool", 2),
        ("conv", 128, 3, "valid", True, "relu"), ("maxpool", 2),
        ("flatten",), ("dense", 128, "relu"), ("dense", 10, "softmax")]),
    # Keras' quickstart-style MLP on flattened MNIST
    "mlp": ((784,), [("dense", 512, "relu"), ("dense", 512, "relu"), ("dense", 10, "softmax")]),
    # VGG-style CIFAR net: [Conv 'same' (no bias) -> BatchNorm -> ReLU] x2 -> MaxPool -> Dropout
    "vgg_bn": ((32, 32, 3), _vgg_block(32, 0.2) + _vgg_block(64, 0.3) + _vgg_block(128, 0.4)
               + [("flatten",), ("dense", 10, "softmax")]),
    # the seed article's section 4.3 family: five 3x3 'same' convs 32..512, pools between, GAP
    "seed_cnn5": ((32, 32, 3), [
        ("conv", 32, 3, "same", True, "relu"), ("maxpool", 2),
        ("conv", 64, 3, "same", True, "relu"), ("maxpool", 2),
        ("conv", 128, 3, "same", True, "relu"), ("maxpool", 2),
        ("conv", 256, 3, "same", True, "relu"), ("maxpool", 2),
        ("conv", 512, 3, "same", True, "relu"), ("gap",), ("dense", 10, "softmax")]),
    # text classifiers (issue: sequence models): sequences of 100 ids from 20,000 words
    "lstm_text": ((100,), [("embedding", 20000, 64), ("lstm", 64), ("dense", 2, "softmax")]),
    "conv1d_text": ((100,), [("embedding", 20000, 64), ("conv1d", 128, 5, "relu"), ("gmp1d",),
                             ("dense", 2, "softmax")]),
}
MODELS["resnet_small"] = ((32, 32, 3), [  # a CIFAR ResNet of basic blocks, strided stages
    ("conv", 16, 3, "same", False, None), ("bn",), ("relu",),
    ("res", 16, 1), ("res", 16, 1), ("res", 32, 2), ("res", 32, 1), ("res", 64, 2),
    ("res", 64, 1), ("gap",), ("dense", 10, "softmax")])
TOKEN_MODELS = ("lstm_text", "conv1d_text")


def build(framework: str, name: str, input_shape=None, layers=None):
    """The model `name` of MODELS (or the given input_shape and layer specs) in a framework:
    'tinydl', 'torch' or 'keras'."""
    default_shape, default_layers = MODELS[name] if name in MODELS else (None, None)
    input_shape, layers = input_shape or default_shape, layers or default_layers
    return {"tinydl": _tinydl, "torch": _torch, "keras": _keras}[framework](input_shape, layers)


def _tinydl(input_shape, specs):
    from tinydl import layers as L
    from tinydl.models import Sequential

    make = {
        "conv": lambda f, k, pad, bias, act: L.Conv2D(f, (k, k), padding=pad, use_bias=bias,
                                                      activation=act),
        "bn": L.BatchNormalization, "relu": L.ReLU, "maxpool": lambda s: L.MaxPooling2D((s, s)),
        "dropout": L.Dropout, "flatten": L.Flatten, "gap": L.GlobalAveragePooling2D,
        "dense": lambda units, act: L.Dense(units, activation=act),
        "embedding": L.Embedding, "lstm": L.LSTM, "gmp1d": L.GlobalMaxPooling1D,
        "conv1d": lambda f, k, act: L.Conv1D(f, k, activation=act),
    }
    if any(s[0] == "res" for s in specs):
        import tinydl
        return _functional(tinydl, make, input_shape, specs)
    model = Sequential([L.Input(shape=input_shape)] + [make[s[0]](*s[1:]) for s in specs])
    return model


def _functional(lib, make: dict, input_shape, specs):
    """A functional model of the specs in tinydl or Keras (the same code for both)."""
    L = lib.layers

    def res(x, filters, stride):
        h = L.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
        h = L.ReLU()(L.BatchNormalization()(h))
        h = L.BatchNormalization()(L.Conv2D(filters, 3, padding="same", use_bias=False)(h))
        if stride != 1 or x.shape[-1] != filters:
            x = L.BatchNormalization()(L.Conv2D(filters, 1, strides=stride, use_bias=False)(x))
        return L.ReLU()(L.Add()([h, x]))

    inputs = lib.Input(shape=input_shape)
    x = inputs
    for kind, *args in specs:
        x = res(x, *args) if kind == "res" else make[kind](*args)(x)
    return lib.Model(inputs, x)


def _keras(input_shape, specs):
    import keras
    from keras import layers as L

    make = {
        "conv": lambda f, k, pad, bias, act: L.Conv2D(f, k, padding=pad, use_bias=bias,
                                                      activation=act),
        "bn": L.BatchNormalization, "relu": L.ReLU, "maxpool": lambda s: L.MaxPooling2D(s),
        "dropout": L.Dropout, "flatten": L.Flatten, "gap": L.GlobalAveragePooling2D,
        "dense": lambda units, act: L.Dense(units, activation=act),
        "embedding": L.Embedding, "lstm": L.LSTM, "gmp1d": L.GlobalMaxPooling1D,
        "conv1d": lambda f, k, act: L.Conv1D(f, k, activation=act),
    }
    if any(s[0] == "res" for s in specs):
        return _functional(keras, make, input_shape, specs)
    return keras.Sequential([keras.Input(shape=input_shape)] + [make[s[0]](*s[1:]) for s in specs])


def _torch(input_shape, specs):
    """nn.Sequential over NCHW (channels_last in memory) or flat inputs; sizes tracked as the
    Keras model would compute them."""
    from torch import nn

    modules, shape = [], list(input_shape)  # (H, W, C), (features,) or (T,) then (T, D)
    for kind, *args in specs:
        if kind == "embedding":
            modules.append(nn.Embedding(args[0], args[1]))
            shape = [shape[0], args[1]]
        elif kind == "lstm":
            modules.append(_LastStepLSTM(shape[1], args[0]))
            shape = [args[0]]
        elif kind == "res":
            filters, stride = args
            modules.append(_torch_modules()[2](shape[2], filters, stride))
            shape = [-(-shape[0] // stride), -(-shape[1] // stride), filters]
        elif kind == "conv1d":
            filters, k, act = args
            modules += [_Transpose(), nn.Conv1d(shape[1], filters, k)]
            modules += [nn.ReLU()] if act == "relu" else []
            shape = [shape[0] - k + 1, filters]
        elif kind == "gmp1d":  # after conv1d the tensor is (N, C, T)
            modules += [nn.AdaptiveMaxPool1d(1), nn.Flatten()]
            shape = [shape[1]]
        elif kind == "conv":
            filters, k, pad, bias, act = args
            modules.append(nn.Conv2d(shape[2], filters, k, padding="same" if pad == "same" else 0,
                                     bias=bias))
            if pad == "valid":
                shape[0], shape[1] = shape[0] - k + 1, shape[1] - k + 1
            shape[2] = filters
            modules += [nn.ReLU()] if act == "relu" else []
        elif kind == "bn":
            modules.append(nn.BatchNorm2d(shape[2], eps=1e-3, momentum=0.01))
        elif kind == "relu":
            modules.append(nn.ReLU())
        elif kind == "maxpool":
            modules.append(nn.MaxPool2d(args[0]))
            shape[0], shape[1] = shape[0] // args[0], shape[1] // args[0]
        elif kind == "dropout":
            modules.append(nn.Dropout(args[0]))
        elif kind == "flatten":
            modules.append(nn.Flatten())
            shape = [shape[0] * shape[1] * shape[2]] if len(shape) == 3 else shape
        elif kind == "gap":
            modules += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
            shape = [shape[2]]
        elif kind == "dense":
            units, act = args
            modules.append(nn.Linear(shape[0], units))
            shape = [units]
            modules += [nn.ReLU()] if act == "relu" else []  # softmax: folded into the loss
    return nn.Sequential(*modules)


def _torch_modules():
    from torch import nn

    class LastStepLSTM(nn.Module):
        """nn.LSTM (batch first) returning the last step's output, as Keras' LSTM does."""

        def __init__(self, features, units):
            super().__init__()
            self.lstm = nn.LSTM(features, units, batch_first=True)

        def forward(self, x):
            return self.lstm(x)[0][:, -1]

    class Transpose(nn.Module):
        """(N, T, C) -> (N, C, T) for nn.Conv1d."""

        def forward(self, x):
            return x.transpose(1, 2)

    def bn(channels):
        return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01)

    class BasicBlock(nn.Module):
        """The 'res' spec: Keras' 'same' padding of a stride-2 3x3 conv pads (0, 1) on even
        sizes, PyTorch's padding=1 pads (1, 1); the cost is the same, the numbers are not
        compared here."""

        def __init__(self, features, filters, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(features, filters, 3, stride, padding=1, bias=False)
            self.bn1, self.relu = bn(filters), nn.ReLU()
            self.conv2 = nn.Conv2d(filters, filters, 3, padding=1, bias=False)
            self.bn2 = bn(filters)
            self.shortcut = (nn.Sequential(nn.Conv2d(features, filters, 1, stride, bias=False),
                                           bn(filters))
                             if stride != 1 or features != filters else nn.Identity())

        def forward(self, x):
            h = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            return self.relu(h + self.shortcut(x))

    return LastStepLSTM, Transpose, BasicBlock


def _LastStepLSTM(features, units):
    return _torch_modules()[0](features, units)


def _Transpose():
    return _torch_modules()[1]()


def count_params(name: str) -> int:
    """Parameters of the tinydl build of a zoo model (Keras counts the same)."""
    model = build("tinydl", name)
    return model.count_params()
