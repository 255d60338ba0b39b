"""Layer, the base of every layer (Keras' contract), and Variable, a named weight.

A layer is configured in __init__, creates its weights in build(input_shape) the first
time it sees an input, and computes in call(inputs, training). Subclass it the same way
the built-in layers do:

    class Scale(Layer):
        def build(self, input_shape):
            self.alpha = self.add_weight("alpha", (input_shape[-1],), initializer="ones")

        def call(self, inputs, training=None):
            return inputs * self.alpha
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import math
import re
import threading

import numpy as np

from tinydl import anomaly, initializers, profiler, regularizers, tree
from tinydl.autograd import no_grad
from tinydl.layers import _args, masking, symbolic, tracking
from tinydl.tensor import Tensor

LAYER_CLASSES: dict = {}  # class name -> class; the only classes a saved model may name

# Held while a layer builds, so that two threads calling an unbuilt model build each layer
# once (reentrant: a model's build builds its layers). Building is rare; calls never take it.
BUILD_LOCK = threading.RLock()
_NAMES_LOCK = threading.Lock()  # so that layers made in several threads get distinct names
# Set by the first add_loss() of the process, never reset: until then every layer's
# _own_losses is empty, and a call need not walk its sublayers to clear them.
_LOSSES_ADDED = [False]
# True once any Variable was given a regularizer (its setter says so): until then
# Layer.losses has no weight penalties to look for, and skips walking every layer's weights
_REGULARIZED = [False]


def _is_builtin_class(cls) -> bool:
    return cls.__module__.split(".")[0] == "tinydl"


def _may_register(cls) -> bool:
    """Whether cls takes its name in LAYER_CLASSES: yes, unless the name is one of tinydl's own
    layers and cls is not (a program's `class ActivityRegularization(Layer)`, as in Keras'
    guides, must not replace the built-in layer that every later load and save resolves)."""
    current = LAYER_CLASSES.get(cls.__name__)
    return current is None or not _is_builtin_class(current) or _is_builtin_class(cls)


class Variable(Tensor):
    """A named weight: a Tensor that an optimizer updates in place.

    Args:
        value: the initial value (an array), or an initializer (a name or a callable
            (shape, dtype) -> array) together with shape=, as keras.Variable(initializer, shape).
        name: e.g. 'kernel', 'bias', 'moving_mean'; 'variable' when omitted.
        trainable: whether the weight is learned at all (moving statistics are not); it gets
            gradients (requires_grad) when it is trainable and its layer is too.
        regularizer: a callable weight -> scalar Tensor penalty, or None.

    A Variable assigned to a layer attribute (self.w = Variable(...)) is tracked as the
    layer's weight, as one made by add_weight is.

    Example:
        >>> v = Variable(np.zeros((2, 3)), name="kernel")
        >>> v.assign(np.ones((2, 3)))
        >>> v.shape, v.name, float(v.data.sum())
        ((2, 3), 'kernel', 6.0)
    """

    def __init__(self, value=None, name: str | None = None, trainable: bool = True,
                 regularizer=None, shape=None, dtype=None, copy: bool = True, **kwargs):
        if "initializer" in kwargs:
            value = kwargs.pop("initializer")
        if kwargs:
            raise TypeError(f"Variable got unexpected keyword arguments {sorted(kwargs)}")
        if shape is not None and (callable(value) or isinstance(value, str)):
            value = initializers.get(value)(tuple(int(s) for s in shape), dtype=np.float32)
        if value is None:
            raise ValueError("Variable needs an initial value, or an initializer and a shape. "
                             "Received: value=None")
        data = getattr(value, "data", value)  # copy=False: a float32 array is used as it is
        data = np.array(data, dtype=np.float32) if copy else np.asarray(data, np.float32)
        super().__init__(data, requires_grad=trainable)
        self.name, self.trainable, self.regularizer = name or "variable", bool(trainable), regularizer
        # Keras 3's Variable.path: the layers' name scopes it was made in, e.g.
        # 'sequential/dense/kernel' (see Layer._name_scope)
        self.path = f"{_SCOPE.path}/{self.name}" if _SCOPE.path else self.name

    @property
    def regularizer(self):
        """The penalty callable weight -> scalar Tensor that Layer.losses adds, or None."""
        return self._regularizer

    @regularizer.setter
    def regularizer(self, value) -> None:
        if value is not None:
            _REGULARIZED[0] = True
        self._regularizer = value

    @property
    def value(self) -> "Variable":
        """The variable itself (Keras' v.value is its current tensor)."""
        return self

    def assign(self, value) -> None:
        """Overwrite the value in place (same shape), as Keras' Variable.assign."""
        value = np.asarray(value.data if isinstance(value, Tensor) else value)
        if value.shape != self.shape:
            raise ValueError(f"cannot assign a value of shape {value.shape} to weight "
                             f"'{self.name}' of shape {self.shape}")
        self.data[...] = value

    def assign_add(self, value) -> None:
        self.assign(self.data + np.asarray(getattr(value, "data", value)))

    def assign_sub(self, value) -> None:
        self.assign(self.data - np.asarray(getattr(value, "data", value)))

    def __repr__(self):
        return f"<Variable '{self.name}' shape={self.shape} trainable={self.trainable}>"


class WeightBudgetError(ValueError):
    """Building would allocate more weight bytes than a WeightBudget allows.

    Example:
        >>> with WeightBudget(max_bytes=100, allocate=False):
        ...     tinydl.layers.Dense(1000).build((None, 1000))
        Traceback (most recent call last):
        ...
        tinydl.layers.base.WeightBudgetError: ... over the limit of 100 bytes
    """


class WeightBudget:
    """Inside `with WeightBudget(max_bytes):`, add_weight charges each weight's bytes first.

    It skips the initializers and charges each weight's bytes to this budget before anything
    is allocated.

    Loading a model uses it twice: first with allocate=False, where every weight is a
    read-only zero-strided view of the right shape (no memory at all), to learn the
    architecture's weight shapes and check them against the file's; then with
    allocate=True, where weights are zeros (the file's values overwrite them, so drawing
    initial values would be wasted work and would advance the random generator).

    Args:
        max_bytes: the most the weights together (and the probes of compute_output_shape)
            may take; None for no limit.
        allocate: give real zero arrays rather than zero-strided views.

    Raises (from add_weight):
        WeightBudgetError: a weight would take the total over max_bytes.
        ValueError: a weight shape holds something other than ints >= 0.
        MemoryError: (allocate=True) a weight needs more than this machine's memory.

    Example:
        >>> layer = tinydl.layers.Dense(3)
        >>> with WeightBudget(max_bytes=None, allocate=False) as budget:
        ...     layer.build((None, 4))
        >>> budget.nbytes, (4 * 3 + 3) * 4                     # kernel and bias, float32
        (60, 60)
        >>> kernel = layer.kernel.numpy()
        >>> kernel.shape, kernel.strides, bool(kernel.any())    # a view of one zero
        ((4, 3), (0, 0), False)
    """

    def __init__(self, max_bytes: int | None, allocate: bool):
        self.max_bytes, self.allocate, self.nbytes = max_bytes, bool(allocate), 0
        self._token = None

    def charge(self, shape: tuple, dtype, what: str, keep: bool = True) -> int:
        """Count the bytes of an array of shape and dtype (keep=False: a transient array,
        checked but not added to the total); raise when over the limit."""
        if any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0
               for d in shape):
            raise ValueError(f"{what}: a weight's shape must hold ints >= 0. "
                             f"Received: shape={tuple(shape)}")
        nbytes = math.prod(int(d) for d in shape) * np.dtype(dtype).itemsize  # no overflow
        if self.max_bytes is not None and self.nbytes + nbytes > self.max_bytes:
            raise WeightBudgetError(f"{what} of shape {shape} would take the weights to "
                                    f"{self.nbytes + nbytes} bytes, over the limit of "
                                    f"{self.max_bytes} bytes")
        self.nbytes += nbytes if keep else 0
        return nbytes

    def weight(self, shape: tuple, dtype, what: str) -> np.ndarray:
        """The initial value of a weight: zeros, or a zero-strided read-only view of zeros."""
        self.charge(shape, dtype, what)
        shape = tuple(int(d) for d in shape)
        if self.allocate:
            initializers.check_size(shape, dtype, what)  # more than this machine's memory
            return np.zeros(shape, dtype)
        return np.broadcast_to(np.zeros((), dtype), shape)

    def __enter__(self) -> "WeightBudget":
        self._token = _WEIGHT_BUDGET.set(self)
        return self

    def __exit__(self, *exc_info) -> None:
        _WEIGHT_BUDGET.reset(self._token)


class _NameScope(threading.local):
    """The path of the layers being built or called in this thread, e.g. 'sequential/dense'."""

    def __init__(self):
        self.path = ""


_SCOPE = _NameScope()


def current_path() -> str:
    """The name scope weights made now get as their path's prefix ('' outside any layer).

    Example:
        >>> current_path()
        ''
    """
    return _SCOPE.path


_WEIGHT_BUDGET: contextvars.ContextVar = contextvars.ContextVar("tinydl_weight_budget",
                                                               default=None)


def _to_shape(input_shape) -> tuple:
    if input_shape and all(isinstance(d, (tuple, list)) for d in input_shape):
        return [_to_shape(s) for s in input_shape]  # a layer with several outputs
    return tuple(None if d is None else int(d) for d in input_shape)


def _is_single_shape(value) -> bool:
    """True for one shape: a tuple/list of ints and None, e.g. (None, 32)."""
    return isinstance(value, (tuple, list)) and all(
        d is None or isinstance(d, (int, np.integer)) for d in value)


def _is_shape_structure(value) -> bool:
    return tree.is_nested(value) and not _is_single_shape(value)


def _normalized_shape(shape):
    if _is_single_shape(shape):
        return _to_shape(shape)
    return tree.map_structure(_to_shape, shape, is_leaf=_is_single_shape)


def _shape_text(shapes) -> str:
    return str(shapes)


def _shape_of(outputs):
    """(None, *shape[1:]) of a Tensor, or the same for each Tensor of a structure."""
    return tree.map_structure(lambda t: (None,) + tuple(t.shape[1:]) if hasattr(t, "shape")
                              else None, outputs)


def _as_tensor(value):
    """A Tensor as it is; arrays become float32, the dtype of the weights (Keras' autocast)."""
    if isinstance(value, Tensor) or value is None:
        return value
    return Tensor(value, dtype=np.float32)


def _as_inputs(inputs):
    """Tensors for a layer call: a list of numbers is one array; a list of arrays a structure."""
    if tree.is_nested(inputs) and all(isinstance(leaf, (int, float, np.number))
                                      for leaf in tree.flatten(inputs)):
        return Tensor(np.asarray(inputs, dtype=np.float32))
    return tree.map_structure(_as_tensor, inputs)


_CUSTOM_OBJECTS: contextvars.ContextVar = contextvars.ContextVar("tinydl_custom_objects",
                                                                default=None)


@contextlib.contextmanager
def custom_object_scope(custom_objects: dict | None):
    """Inside the block, find_layer_class looks in custom_objects first (Keras' scope).

    Example:
        >>> with custom_object_scope({"MyDense": tinydl.layers.Dense}):
        ...     find_layer_class("MyDense").__name__
        'Dense'
    """
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(f"custom_objects must be a dict of name -> class. Received: "
                        f"{type(custom_objects).__name__}")
    token = _CUSTOM_OBJECTS.set({**(_CUSTOM_OBJECTS.get() or {}), **(custom_objects or {})})
    try:
        yield
    finally:
        _CUSTOM_OBJECTS.reset(token)


def find_layer_class(name: str):
    """The Layer class a saved config names: from custom_objects (the scope above), else the
    classes registered by name; None when neither has it. Never code from a file.

    Example:
        >>> find_layer_class("Dense").__name__, find_layer_class("NoSuchLayer")
        ('Dense', None)
    """
    custom = (_CUSTOM_OBJECTS.get() or {}).get(name)
    if isinstance(custom, type) and issubclass(custom, Layer):
        return custom
    return LAYER_CLASSES.get(name) if isinstance(name, str) else None


def _in_name_scope(build):
    @functools.wraps(build)
    def scoped_build(self, *args, **kwargs):
        with self._name_scope():
            return build(self, *args, **kwargs)
    return scoped_build


def _unique_base(base: str) -> str:
    """base, then base_1, base_2, ...: one count per base shared by all layers (and ops)."""
    with _NAMES_LOCK:
        count = Layer._name_counts.get(base, 0)
        Layer._name_counts[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


class Layer:
    """Base class of all layers, with Keras' contract.

    Args:
        trainable: whether the layer's weights are updated by training.
        name: a unique name; one is made from the class name when omitted.
        input_shape: shape of one sample (without the batch axis), for a first layer.

    Sublayers and Variables held in attributes (also in lists, tuples and dicts) are tracked
    (tinydl.layers.tracking): their weights are this layer's weights, their losses its losses.

    Example:
        >>> class Scale(Layer):
        ...     def build(self, input_shape):
        ...         self.alpha = self.add_weight("alpha", (input_shape[-1],), initializer="ones")
        ...     def call(self, inputs):
        ...         return inputs * self.alpha
        >>> layer = Scale()
        >>> layer(np.full((2, 3), 2.0, np.float32)).shape, [w.name for w in layer.weights]
        ((2, 3), ['alpha'])
    """

    _name_counts: dict = {}
    _call_takes_training = True
    _call_takes_mask = False
    supports_masking = False  # True: the input's mask is passed on to the output (compute_mask)
    _is_operation = False  # an OpLayer: a keras.ops call in a functional graph, no model.layers
    _reports_as_layer = True  # anomaly and profiler reports name it (a Model's layers name themselves)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_") and _may_register(cls):
            LAYER_CLASSES[cls.__name__] = cls  # private helpers (e.g. _Pooling2D) are not saved
        if "build" in cls.__dict__:  # as Keras' build wrapper: build in the layer's name scope
            cls.build = _in_name_scope(cls.__dict__["build"])
        parameters = inspect.signature(cls.call).parameters
        cls._call_takes_training = "training" in parameters or any(
            p.kind is p.VAR_KEYWORD for p in parameters.values())
        cls._call_takes_mask = "mask" in parameters

    def __init__(self, trainable: bool = True, name: str | None = None, input_shape=None,
                 dtype=None, **kwargs):
        where = type(self).__name__
        if "batch_input_shape" in kwargs:
            batch_shape = _args.shape(kwargs.pop("batch_input_shape"), "batch_input_shape", where,
                                      batch=True)
            input_shape = batch_shape[1:]
        if "input_dim" in kwargs:
            dim = _args.positive_int(kwargs.pop("input_dim"), "input_dim", where)
            input_shape = input_shape if input_shape is not None else (dim,)
        self.activity_regularizer = regularizers.get(kwargs.pop("activity_regularizer", None))
        if kwargs:
            raise TypeError(f"{where} got unexpected keyword arguments: {sorted(kwargs)}")
        self.name = name or self._unique_name()
        self._trainable = bool(trainable)
        self.input_shape_arg = (None if input_shape is None
                                else _args.shape(input_shape, "input_shape", where))
        self.built = False
        self._weights: list[Variable] = []
        self._own_losses: list = []
        self._inbound_nodes: list = []
        self._parent_path = None  # the name scope this layer was first built or called in
        self.input_shape = self.output_shape = None

    def _unique_name(self) -> str:
        # Keras' snake case: Conv2D -> conv2d, MaxPooling2D -> max_pooling2d, ReLU -> re_lu
        base = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", type(self).__name__)
        return _unique_base(re.sub(r"([a-z])([A-Z])", r"\1_\2", base).lower())

    @contextlib.contextmanager
    def _name_scope(self):
        """Keras' name scope: inside it, weights get the path '<parent path>/<name>/<weight>',
        where the parent path is the scope this layer first opened its own in (so a layer
        built inside a Sequential is 'sequential/dense', one called on Input tensors 'dense')."""
        previous = _SCOPE.path
        _SCOPE.path = self._scope_path()
        try:
            yield
        finally:
            _SCOPE.path = previous

    def _scope_path(self) -> str:
        if self._parent_path is None:
            self._parent_path = _SCOPE.path
        return f"{self._parent_path}/{self.name}" if self._parent_path else self.name

    _variable_scope = None  # a scope inside the layer's own for its weights (an RNN's cell)

    def _check_initialized(self) -> None:
        if "_weights" not in vars(self):
            raise RuntimeError(f"In layer '{type(self).__name__}', you forgot to call "
                               "super().__init__() as the first statement of __init__()")

    # ------------------------------------------------------------------ weights
    def add_weight(self, name: str | None = None, shape=None, initializer="glorot_uniform",
                   trainable: bool = True, regularizer=None, dtype="float32") -> Variable:
        """Create a weight, initialize it and track it. Call from build().

        Args:
            name: e.g. 'kernel'; 'variable', 'variable_1', ... when omitted (as Keras 3).
            shape: a tuple of ints, e.g. (KH, KW, C, F) for a conv kernel.
            initializer: a name from tinydl.initializers or a callable (shape, dtype) -> array.
            trainable: False for statistics such as BatchNormalization's moving_mean.
            regularizer: None, a name ('l1', 'l2', 'l1_l2'), a config dict or a callable.
        """
        self._check_initialized()
        if shape is None:
            raise TypeError(f"{type(self).__name__}.add_weight needs a shape, e.g. "
                            f"add_weight(name='kernel', shape=(in, units)). Received: shape=None")
        if name is None:
            count = sum(w.name.startswith("variable") for w in self._weights)
            name = "variable" if count == 0 else f"variable_{count}"
        shape, budget = tuple(shape), _WEIGHT_BUDGET.get()
        if budget is None:
            initializers.check_size(shape, dtype, f"{type(self).__name__} '{self.name}' weight "
                                                  f"'{name}'")
            value = initializers.get(initializer)(tuple(int(s) for s in shape),
                                                  dtype=np.dtype(dtype))
        else:  # its limit is checked first, and no initializer runs
            value = budget.weight(shape, np.float32, f"weight '{self.name}/{name}'")
        with self._name_scope():
            scope = _SCOPE.path
            if self._variable_scope:
                _SCOPE.path = f"{scope}/{self._variable_scope}"
            weight = Variable(value, name, trainable=trainable,
                              regularizer=regularizers.get(regularizer), copy=budget is None)
            _SCOPE.path = scope
        weight.requires_grad = weight.trainable and self._trainable
        self._weights.append(weight)
        return weight

    def _tracked(self) -> tuple[list, list]:
        """(own variables, direct sublayers): add_weight's first, then those in attributes."""
        self._check_initialized()
        variables, sublayers = tracking.tracked(self, Layer, Variable)
        own = list(self._weights)
        own += [v for v in variables if all(v is not w for w in own)]
        return own, sublayers

    def _weight_entries(self, prefix: str = "", seen=None) -> list:
        """[(path, variable, trained)] in Keras' order: own trainable, own non-trainable, then
        each sublayer's; each variable once. trained: the variable and every layer above it
        are trainable."""
        seen = set() if seen is None else seen
        own, sublayers = self._tracked()
        entries = []
        for w in [w for w in own if w.trainable] + [w for w in own if not w.trainable]:
            if id(w) not in seen:
                seen.add(id(w))
                entries.append((prefix + w.name, w, w.trainable and self._trainable))
        for layer in sublayers:
            for path, w, trained in layer._weight_entries(f"{prefix}{layer.name}/", seen):
                entries.append((path, w, trained and self._trainable))
        return entries

    @property
    def weights(self) -> list:
        """All weights: own trainable, own non-trainable, then the sublayers' (Keras' order)."""
        return [w for _, w, _ in self._weight_entries()]

    @property
    def trainable_weights(self) -> list:
        return [w for _, w, trained in self._weight_entries() if trained]

    @property
    def non_trainable_weights(self) -> list:
        return [w for _, w, trained in self._weight_entries() if not trained]

    @property
    def layers(self) -> list:
        """The sublayers held in attributes (direct ones, not their own sublayers)."""
        return self._tracked()[1]

    def _flatten_layers(self) -> list:
        """Every sublayer below this layer, depth first, each once."""
        found, seen, pending = [], {id(self)}, list(reversed(self._tracked()[1]))
        while pending:
            layer = pending.pop()
            if id(layer) not in seen:
                seen.add(id(layer))
                found.append(layer)
                pending.extend(reversed(layer._tracked()[1]))
        return found

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """Set for this layer and all its sublayers (as Keras)."""
        self._trainable = bool(value)
        own, sublayers = self._tracked()
        for w in own:
            w.requires_grad = self._trainable and w.trainable
        for layer in sublayers:
            layer.trainable = value

    def get_weights(self) -> list:
        """Copies of the weights' values, in the order of `weights`."""
        return [w.data.copy() for w in self.weights]

    def set_weights(self, values) -> None:
        """Set every weight from a list of arrays in the order of `weights`."""
        weights = self.weights
        if len(values) != len(weights):
            raise ValueError(f"layer '{self.name}' expects {len(weights)} weight arrays "
                             f"({[w.name for w in weights]}), got {len(values)}")
        for w, v in zip(weights, values):
            w.assign(v)

    def count_params(self) -> int:
        """Number of scalars in all weights (trainable or not), sublayers' included."""
        return int(sum(w.size for w in self.weights))

    # ------------------------------------------------------------------ losses
    def add_loss(self, loss) -> None:
        """Add a scalar loss (a Tensor) from inside call(), e.g. an activity regularizer.

        It is in self.losses (and in the training loss) until this layer's model is called
        again: the losses are cleared at the start of every outermost call, as in Keras.
        """
        for value in tree.flatten(loss):
            if not isinstance(value, Tensor):
                raise ValueError(f"add_loss() expects a Tensor computed in call(). "
                                 f"Received: {value!r}")
            _LOSSES_ADDED[0] = True
            self._own_losses.append(value)

    @property
    def losses(self) -> list:
        """Scalar Tensors: add_loss() losses of this layer and its sublayers (since the last
        call), then the regularization penalties of the trainable weights."""
        found = list(self._own_losses)
        if _LOSSES_ADDED[0]:  # else every layer's _own_losses is empty (see _LOSSES_ADDED)
            for layer in self._flatten_layers():
                found.extend(layer._own_losses)
        if not _REGULARIZED[0]:  # no Variable anywhere has a regularizer
            return found
        return found + [w.regularizer(w) for w in self.trainable_weights
                        if w.regularizer is not None]

    def _clear_losses(self) -> None:
        if not _LOSSES_ADDED[0]:  # nothing anywhere to clear (see _LOSSES_ADDED)
            return
        self._own_losses.clear()
        for layer in self._flatten_layers():
            layer._own_losses.clear()

    # ------------------------------------------------------------------ building and calling
    def build(self, input_shape) -> None:
        """Create the weights for inputs of input_shape (batch axis first, may be None)."""
        self.built = True

    def call(self, inputs, training=None):
        raise NotImplementedError(f"{type(self).__name__} must define call(inputs, training=None)")

    def __call__(self, inputs, *args, **kwargs):
        """Compute on arrays / Tensors; on KerasTensors, record a Node of a functional graph."""
        self._check_initialized()
        if symbolic.is_symbolic(inputs):
            return self._symbolic_call(inputs, args, kwargs)
        inputs = _as_inputs(inputs)
        mask = kwargs.pop("mask", None)
        if not self.built:
            declared = self.input_shape_arg  # a declared input_shape wins: wrong inputs raise
            shape = ((None,) + tuple(declared) if declared is not None
                     else tree.map_structure(lambda t: (None,) + tuple(t.shape[1:]), inputs))
            self._build_once(shape)
        previous_scope, _SCOPE.path = _SCOPE.path, self._scope_path()
        try:
            outputs = self._eager_call(inputs, args, kwargs, mask)
        finally:
            _SCOPE.path = previous_scope
        if self.output_shape is None:
            self.output_shape = _shape_of(outputs)
        return outputs

    def _eager_call(self, inputs, args, kwargs, mask):
        with symbolic.call_context(self, kwargs.pop("training", None)) as training:
            if self._reports_as_layer and (anomaly.is_anomaly_enabled() or
                                           profiler.current is not None):
                with anomaly.layer_scope(self.name):
                    outputs = masking.masked_call(self, inputs, args, kwargs, training, mask)
            else:
                outputs = masking.masked_call(self, inputs, args, kwargs, training, mask)
        if self.activity_regularizer is not None:
            self._add_activity_loss(outputs)
        return outputs

    def _add_activity_loss(self, outputs) -> None:
        """Keras 3's activity regularization: the penalty of each output, divided by its batch
        size, joins this layer's losses (and so the training loss)."""
        for output in tree.flatten(outputs):
            if isinstance(output, Tensor):
                loss = self.activity_regularizer(output)
                self.add_loss(loss / output.shape[0] if output.ndim > 0 and output.shape[0] else loss)

    def _call(self, inputs, training, *args, **kwargs):
        """call(inputs, training=...), or call(inputs) for a subclass whose call has no training
        argument (Keras allows both)."""
        if type(self)._call_takes_training:
            return self.call(inputs, *args, training=training, **kwargs)
        return self.call(inputs, *args, **kwargs)

    def _build_once(self, input_shape) -> None:
        if not self.built:
            with BUILD_LOCK:
                if not self.built:  # another thread may have built it while this one waited
                    self.build(input_shape)
                    self.built = True
        if self.input_shape is None:
            self.input_shape = input_shape

    def build_for(self, input_shape) -> tuple:
        """Build once for input_shape and record input and output shapes; return the output shape."""
        input_shape = _to_shape(input_shape) if not _is_shape_structure(input_shape) else input_shape
        self._build_once(input_shape)
        self.input_shape = input_shape
        self.output_shape = _normalized_shape(self.compute_output_shape(input_shape))
        return self.output_shape

    def compute_output_shape(self, input_shape):
        """Output shape for input_shape. By default found by running call on one zero sample."""
        return self._probe(input_shape)

    def _probe(self, input_shape, args=(), kwargs=None):
        """Run call on zeros of input_shape (one sample; unknown sizes 1); the output shape(s).
        KerasTensors among the call's other arguments (MultiHeadAttention's value and key, a
        mask) are probed as zeros of their shapes too."""
        def zeros_of(shape, dtype=np.float32):
            """One sample of zeros: a Tensor for floats, an array otherwise (ids, a mask)."""
            shape = (1,) + tuple(1 if d is None else d for d in shape[1:])
            budget = _WEIGHT_BUDGET.get()
            if budget is not None:
                budget.charge(shape, dtype, f"the shape probe of layer '{self.name}'",
                              keep=False)
            zeros = np.zeros(shape, dtype)
            return Tensor(zeros) if zeros.dtype.kind == "f" else zeros

        def probe_leaf(t):
            return zeros_of(t.shape, t.dtype) if isinstance(t, symbolic.KerasTensor) else t

        def probe_arg(value):
            return tree.map_structure(probe_leaf, value) if symbolic.is_symbolic(value) else value

        zeros = tree.map_structure(zeros_of, input_shape, is_leaf=_is_single_shape)
        args = [probe_arg(a) for a in args]
        kwargs = {k: probe_arg(v) for k, v in (kwargs or {}).items() if k != "mask"}
        # zeros, not data: log(0) here is no anomaly
        with no_grad(), anomaly.suspended(), symbolic.call_context(self, False):
            out = self._call(zeros, False, *args, **kwargs)
        self._clear_losses()
        batch = tree.flatten(input_shape, is_leaf=_is_single_shape)[0][0]
        return tree.map_structure(lambda t: (batch,) + tuple(t.shape[1:]), out)

    def _symbolic_call(self, inputs, args, kwargs):
        """Record this call as a Node: build for the inputs' shapes, find the output shapes."""
        shapes = tree.map_structure(lambda t: t.shape, inputs)
        kwargs = {k: v for k, v in kwargs.items() if k != "training"}
        try:
            with self._name_scope():
                self._build_once(shapes)
                probed = self._probe(shapes, args, kwargs)
                declared = (probed if args or any(symbolic.is_symbolic(v) for k, v in
                                                  kwargs.items() if k != "mask")
                            else self.compute_output_shape(shapes))
        except (ValueError, TypeError, IndexError) as exc:
            raise ValueError(f"layer '{self.name}' ({type(self).__name__}) cannot be called on "
                             f"inputs of shape {_shape_text(shapes)}: {exc}") from exc
        declared = _normalized_shape(declared)
        out_shapes = declared if _is_single_shape(declared) or tree.is_nested(declared) else probed
        if self.output_shape is None:
            self.output_shape = out_shapes
        outputs = tree.map_structure(lambda shape: symbolic.KerasTensor(shape), out_shapes,
                                     is_leaf=_is_single_shape)
        symbolic.Node(self, (inputs,) + tuple(args), kwargs, outputs)
        return outputs

    @property
    def output(self):
        """The KerasTensor(s) this layer made in a functional graph (it must have been called
        on symbolic inputs exactly once), e.g. for feature extraction models."""
        return self._only_node("output").outputs

    @property
    def input(self):
        """The KerasTensor(s) this layer was called on in a functional graph (called once)."""
        node = self._only_node("input")
        return node.args[0] if node.args else node.outputs

    def _only_node(self, what: str):
        if not self._inbound_nodes:
            raise AttributeError(f"layer '{self.name}' has no {what}: it was never called on "
                                 "symbolic inputs (keras.Input(...) or a layer's output)")
        if len(self._inbound_nodes) > 1:
            raise AttributeError(f"layer '{self.name}' was called {len(self._inbound_nodes)} "
                                 f"times on symbolic inputs, so it has several; its {what} is "
                                 "ambiguous. Use the tensors its calls returned")
        return self._inbound_nodes[0]

    # ------------------------------------------------------------------ masks (tinydl.layers.masking)
    def compute_mask(self, inputs, mask=None):
        """The mask of this layer's output, given its input's (N, T) boolean mask or None.

        Used only when supports_masking is True; by default the mask passes on unchanged
        (right for layers that keep the time axis, e.g. Dense, Dropout). A layer that removes
        the time axis returns None; Embedding(mask_zero=True) makes one from its inputs.
        """
        return mask

    def macs_per_sample(self, input_shape) -> int:
        """Multiply-accumulates per sample for inputs of input_shape (0 when negligible)."""
        return 0

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        """The constructor arguments that rebuild this layer (JSON-serializable)."""
        config = {"name": self.name, "trainable": self._trainable}
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        if self.input_shape_arg is not None:
            config["input_shape"] = list(self.input_shape_arg)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
