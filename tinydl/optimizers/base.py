"""Optimizer, the base of every optimizer: slots per variable, clipping, weight decay, state.

An optimizer keeps, for every variable it updates, a few arrays of the same shape (its
"slots": momentum, velocity, ...). One training step is Keras 3's `apply`:

    1. clip the gradients (clipnorm, else global_clipnorm, else clipvalue);
    2. decoupled weight decay, if weight_decay is set:  w <- w - w * weight_decay * lr;
    3. update_step(gradient, variable, lr) for every variable: the algorithm itself;
    4. iterations += 1.

lr is the learning rate for this step: the float, or schedule(iterations) before the increment.
A new optimizer is a subclass with slot_names() and update_step():

    class SignSGD(Optimizer):
        def update_step(self, gradient, variable, learning_rate):
            variable.data -= learning_rate * np.sign(gradient)
"""

from __future__ import annotations

import numpy as np

from tinydl.schedules import LearningRateSchedule


def _optional_positive(value, name: str, owner: str):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{owner}: {name} must be a positive number or None. "
                         f"Received: {name}={value!r}")
    return float(value)


# Slots that average squared gradients (Adam, RMSprop): a negative value cannot arise.
_NON_NEGATIVE_SLOTS = ("velocity", "velocity_hat")


def _checked_learning_rate(value, owner: str):
    if isinstance(value, LearningRateSchedule) or callable(value):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or \
            not 0 < value < float("inf"):
        raise ValueError(f"{owner}: learning_rate must be a positive finite float or a "
                         f"LearningRateSchedule. Received: learning_rate={value!r}")
    return float(value)


def checked_weight_decay(value, owner: str):
    """weight_decay as a float (or None): a finite number >= 0, since a negative one grows
    the weights at every step.

    Example:
        >>> checked_weight_decay(0.004, "AdamW"), checked_weight_decay(None, "AdamW")
        (0.004, None)
        >>> checked_weight_decay(-1, "AdamW")
        Traceback (most recent call last):
            ...
        ValueError: AdamW: weight_decay must be a finite number >= 0 or None. Received: weight_decay=-1
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or \
            not 0 <= value < float("inf"):
        raise ValueError(f"{owner}: weight_decay must be a finite number >= 0 or None. "
                         f"Received: weight_decay={value!r}")
    return float(value)


def checked_epsilon(value, owner: str) -> float:
    """epsilon as a float: a positive finite number (it keeps a denominator away from 0).

    Example:
        >>> checked_epsilon(1e-7, "Adam")
        1e-07
        >>> checked_epsilon(0, "Adam")
        Traceback (most recent call last):
            ...
        ValueError: Adam: epsilon must be a positive finite number. Received: epsilon=0
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or \
            not 0 < value < float("inf"):
        raise ValueError(f"{owner}: epsilon must be a positive finite number. "
                         f"Received: epsilon={value!r}")
    return float(value)


class Optimizer:
    """Base class of the optimizers (Keras 3's contract, NumPy state).

    Args:
        learning_rate: a positive float, or a tinydl.schedules.LearningRateSchedule (called
            with the step count), or a callable of no arguments.
        weight_decay: if set, decoupled weight decay w <- w - w * weight_decay * lr before
            each step (Loshchilov & Hutter, 2019).
        clipnorm: clip each gradient to this L2 norm: g * clipnorm / max(||g||, clipnorm).
        clipvalue: clip each gradient element to [-clipvalue, clipvalue].
        global_clipnorm: scale all gradients together so their joint L2 norm is at most this.
        name: a name for the optimizer.

    Attributes:
        iterations: number of updates applied so far.
        gradient_aggregator: None, or a function (grads, variables) -> grads that apply runs
            first (tinydl.distributed.DistributedOptimizer sets one that averages over ranks).

    Raises:
        ValueError: a non-positive learning rate or clipping value, or more than one of
            clipnorm, clipvalue and global_clipnorm.

    Example:
        >>> class Descent(Optimizer):
        ...     def update_step(self, gradient, variable, learning_rate):
        ...         variable.assign(variable.numpy() - learning_rate * gradient)
        >>> w = tinydl.layers.Variable(np.array([1.0, 2.0], dtype=np.float32), name="w")
        >>> Descent(learning_rate=0.5).apply([np.array([1.0, 1.0])], [w])
        >>> np.round(w.numpy(), 4)
        array([0.5, 1.5], dtype=float32)
    """

    gradient_aggregator = None

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name: str | None = None, **kwargs):
        owner = type(self).__name__
        if kwargs:
            hint = " (use learning_rate=)" if "lr" in kwargs else ""
            raise TypeError(f"{owner} got unexpected keyword arguments {sorted(kwargs)}{hint}")
        self._learning_rate = _checked_learning_rate(learning_rate, owner)
        self.weight_decay = checked_weight_decay(weight_decay, owner)
        self.clipnorm = _optional_positive(clipnorm, "clipnorm", owner)
        self.clipvalue = _optional_positive(clipvalue, "clipvalue", owner)
        self.global_clipnorm = _optional_positive(global_clipnorm, "global_clipnorm", owner)
        chosen = [n for n in ("clipnorm", "clipvalue", "global_clipnorm") if getattr(self, n)]
        if len(chosen) > 1:
            raise ValueError(f"{owner}: only one of clipnorm, clipvalue and global_clipnorm can "
                             f"be set. Received: {', '.join(chosen)}")
        self.name = name or owner.lower()
        self.iterations = 0
        self.built = False
        self._variables: list = []        # the model variables, in the order first seen
        self._index: dict = {}            # id(variable) -> its position in _variables
        self._slots: dict = {n: [] for n in self.slot_names()}  # slot name -> one array per variable
        self._no_decay_names: tuple = ()
        self._pending_state = None

    # ------------------------------------------------------------------ for subclasses
    def slot_names(self) -> tuple:
        """Names of the per-variable state arrays this optimizer keeps (e.g. ('momentum',))."""
        return ()

    def update_step(self, gradient: np.ndarray, variable, learning_rate: np.float32) -> None:
        """Update variable.data in place from its gradient (same shape, float32)."""
        raise NotImplementedError(f"{type(self).__name__} must define update_step")

    def slot(self, variable, name: str) -> np.ndarray:
        """The state array `name` of variable (update it in place)."""
        return self._slots[name][self._index[id(variable)]]

    # ------------------------------------------------------------------ learning rate
    @property
    def learning_rate(self) -> float:
        """The learning rate of the next step (a schedule is evaluated at `iterations`)."""
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            return float(lr(self.iterations))
        return float(lr()) if callable(lr) else lr

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if isinstance(self._learning_rate, LearningRateSchedule) and not (
                isinstance(value, LearningRateSchedule) or callable(value)):
            raise TypeError(f"{type(self).__name__} was created with a LearningRateSchedule, so "
                            f"its learning rate cannot be set to a number. Received: {value!r}")
        self._learning_rate = _checked_learning_rate(value, type(self).__name__)

    # ------------------------------------------------------------------ building and applying
    def build(self, variables) -> None:
        """Create zeroed slots for each variable (done by the first apply when not called)."""
        for variable in variables:
            self._track(variable)
        self.built = True
        if self._pending_state is not None:
            state, self._pending_state = self._pending_state, None
            self.set_state(state)

    def _track(self, variable) -> None:
        if id(variable) in self._index:
            return
        self._index[id(variable)] = len(self._variables)
        self._variables.append(variable)
        for name in self.slot_names():
            self._slots[name].append(np.zeros(variable.shape, dtype=np.float32))

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Exempt variables from weight decay: those whose name contains one of var_names."""
        names = [v.name for v in (var_list or [])] + list(var_names or [])
        self._no_decay_names = tuple(names)

    def apply(self, grads, variables) -> None:
        """One update of variables (Variables) from grads (arrays of the same shapes).

        A None gradient skips its variable. Runs on the arrays directly, so no graph is made.
        """
        from tinydl import profiler
        return profiler.record_step(f"{type(self).__name__}.apply", "forward", self._apply,
                                    grads, variables)

    def _apply(self, grads, variables) -> None:
        if len(grads) != len(variables):
            raise ValueError(f"apply: got {len(grads)} gradients for {len(variables)} variables")
        if self.gradient_aggregator is not None:  # tinydl.distributed: the mean over all ranks
            grads = self.gradient_aggregator(list(grads), list(variables))
        pairs = [(np.asarray(g, dtype=np.float32), v) for g, v in zip(grads, variables)
                 if g is not None]
        for g, v in pairs:
            if g.shape != v.shape:
                raise ValueError(f"apply: gradient of shape {g.shape} for variable "
                                 f"'{v.name}' of shape {v.shape}")
        if not self.built:
            self.build([v for _, v in pairs])
        for _, v in pairs:
            self._track(v)
        clipped = self._clip([g for g, _ in pairs])
        lr = self.learning_rate
        self._apply_weight_decay([v for _, v in pairs], lr)
        for g, (_, v) in zip(clipped, pairs):
            self.update_step(g, v, np.float32(lr))
        self.iterations += 1

    def apply_gradients(self, grads_and_vars) -> None:
        """Keras' form: apply_gradients(zip(grads, variables))."""
        grads, variables = zip(*list(grads_and_vars)) if grads_and_vars else ((), ())
        self.apply(list(grads), list(variables))

    def _clip(self, grads: list) -> list:
        if self.clipnorm:
            return [g * np.float32(self.clipnorm / max(float(np.sqrt((g * g).sum())), self.clipnorm))
                    for g in grads]
        if self.global_clipnorm:
            norm = float(np.sqrt(sum(float((g * g).sum()) for g in grads)))
            scale = np.float32(self.global_clipnorm / max(norm, self.global_clipnorm))
            return [g * scale for g in grads]
        if self.clipvalue:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def _apply_weight_decay(self, variables, lr: float) -> None:
        if not self.weight_decay:
            return
        factor = np.float32(self.weight_decay * lr)
        for v in variables:
            if not any(name in v.name for name in self._no_decay_names):
                v.data -= v.data * factor

    # ------------------------------------------------------------------ config and state
    def get_config(self) -> dict:
        """The constructor arguments (a schedule as {'class_name', 'config'})."""
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            lr = {"class_name": type(lr).__name__, "config": lr.get_config()}
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "clipvalue": self.clipvalue,
                "global_clipnorm": self.global_clipnorm}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            from tinydl import schedules
            config["learning_rate"] = getattr(schedules, lr["class_name"]).from_config(lr["config"])
        return cls(**config)

    def get_state(self) -> dict:
        """Everything needed to resume exactly, as {key: ndarray} in a fixed order.

        Keys: 'iterations', then 'learning_rate' (only when it is a float, since a callback
        may have changed it), then 'slot.<name>.<i>' for each slot name in slot_names() order
        and each variable i in the order the optimizer was built with (the model's
        trainable_weights order). state_spec gives the same keys without copying anything.
        """
        state = {"iterations": np.asarray(self.iterations, dtype=np.int64)}
        if not (isinstance(self._learning_rate, LearningRateSchedule) or callable(self._learning_rate)):
            state["learning_rate"] = np.asarray(self._learning_rate, dtype=np.float64)
        for name in self.slot_names():
            for i, array in enumerate(self._slots[name]):
                state[f"slot.{name}.{i}"] = array.copy()
        return state

    def state_spec(self, variable_shapes=None) -> dict:
        """{key: (dtype name, shape)} of what get_state() returns, computed without any array.

        Args:
            variable_shapes: the shapes of the variables it would be built over (so a file's
                state can be checked before anything is allocated); default: those it has.
        """
        if variable_shapes is None:
            variable_shapes = [v.shape for v in self._variables]
        spec = {"iterations": ("int64", ())}
        if not (isinstance(self._learning_rate, LearningRateSchedule) or callable(self._learning_rate)):
            spec["learning_rate"] = ("float64", ())
        for name in self.slot_names():
            for i, shape in enumerate(variable_shapes):
                spec[f"slot.{name}.{i}"] = ("float32", tuple(shape))
        return spec

    def variables(self) -> list:
        """The values of get_state() as a list, in its order."""
        return list(self.get_state().values())

    def set_state(self, state: dict) -> None:
        """Restore get_state()'s output. Before build(), it is kept and applied by build().

        Every value is checked as the constructor checks its arguments before anything
        changes: iterations a non-negative integer, learning_rate a positive finite number,
        each slot of its variable's shape with finite values (and, for the running averages
        of squared gradients, 'velocity' and 'velocity_hat', none negative).

        Raises:
            ValueError: the keys, the slot shapes or any value differ from what this
                optimizer could have produced.
        """
        if not self.built:
            self._pending_state = dict(state)
            return
        expected = self.state_spec()
        if sorted(state) != sorted(expected):
            missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
            raise ValueError(f"{type(self).__name__}.set_state: state does not match this "
                             f"optimizer ({len(self._variables)} variables, slots "
                             f"{list(self.slot_names())}): missing {missing}, unexpected {extra}")
        for key, (_, shape) in expected.items():
            if np.shape(state[key]) != shape:
                raise ValueError(f"{type(self).__name__}.set_state: '{key}' has shape "
                                 f"{np.shape(state[key])}, expected {shape}")
            if key.startswith("slot."):
                self._check_slot(key, np.asarray(state[key]))
        iterations = self._checked_iterations(state["iterations"])
        learning_rate = self._learning_rate
        if "learning_rate" in state:
            learning_rate = _checked_learning_rate(float(state["learning_rate"]),
                                                   type(self).__name__)
        self.iterations, self._learning_rate = iterations, learning_rate
        for key in expected:
            if key.startswith("slot."):
                _, name, i = key.split(".")
                self._slots[name][int(i)][...] = state[key]

    def _checked_iterations(self, value) -> int:
        value = np.asarray(value)
        if value.dtype.kind not in "iu" or int(value) < 0:
            raise ValueError(f"{type(self).__name__}.set_state: iterations must be a "
                             f"non-negative integer. Received: iterations={value!r}")
        return int(value)

    def _check_slot(self, key: str, value: np.ndarray) -> None:
        owner = type(self).__name__
        if value.dtype.kind != "f":
            raise ValueError(f"{owner}.set_state: '{key}' must hold floats. "
                             f"Received: dtype {value.dtype}")
        bad = int(value.size - np.isfinite(value).sum())
        if bad:
            raise ValueError(f"{owner}.set_state: '{key}' must hold finite values. "
                             f"Received: {bad} NaN or infinite values")
        if key.split(".")[1] in _NON_NEGATIVE_SLOTS and (value < 0).any():
            raise ValueError(f"{owner}.set_state: '{key}' is a running average of squared "
                             f"gradients, so it cannot be negative. Received: "
                             f"{int((value < 0).sum())} negative values")

    def __repr__(self):
        return f"<{type(self).__name__} learning_rate={self._learning_rate!r} iterations={self.iterations}>"
