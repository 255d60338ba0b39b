"""Every optimizer's update, step by step, against a hand-written NumPy reference of Keras 3's formulas."""

from __future__ import annotations

import numpy as np
import pytest

from tinydl import optimizers
from tinydl.layers import Variable
from tinydl.optimizers import SGD, Adam, AdamW, RMSprop, schedules

W0 = np.array([[0.5, -1.0, 2.0], [0.1, 0.0, -0.3]], dtype=np.float32)
GRADS = [np.array([[0.1, -0.2, 0.3], [1.0, -0.5, 0.0]], dtype=np.float32),
         np.array([[-0.4, 0.2, 0.05], [0.3, 0.3, -2.0]], dtype=np.float32),
         np.array([[0.2, 0.0, -0.1], [-1.0, 0.7, 0.5]], dtype=np.float32)]


def run(optimizer, steps=3):
    """The variable after each of `steps` updates with GRADS."""
    w = Variable(W0.copy(), "w")
    out = []
    for g in GRADS[:steps]:
        optimizer.apply([g], [w])
        out.append(w.data.copy())
    return out


def check(optimizer, reference):
    w, state = W0.astype(np.float64), {}
    for t, (got, g) in enumerate(zip(run(optimizer), GRADS), start=1):
        w = reference(w, g.astype(np.float64), t, state)
        np.testing.assert_allclose(got, w, rtol=1e-5, atol=1e-6, err_msg=f"step {t}")
        assert got.dtype == np.float32
    assert optimizer.iterations == 3


def test_sgd_plain():
    check(SGD(learning_rate=0.1), lambda w, g, t, s: w - 0.1 * g)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum(nesterov):
    def reference(w, g, t, s):
        v = 0.9 * s.get("v", 0.0) - 0.1 * g
        s["v"] = v
        return w + (0.9 * v - 0.1 * g if nesterov else v)
    check(SGD(learning_rate=0.1, momentum=0.9, nesterov=nesterov), reference)


def adam_reference(lr=0.01, b1=0.9, b2=0.999, eps=1e-7, wd=0.0, amsgrad=False):
    def reference(w, g, t, s):
        w = w - w * wd * lr
        m = b1 * s.get("m", 0.0) + (1 - b1) * g
        v = b2 * s.get("v", 0.0) + (1 - b2) * g * g
        s["m"], s["v"] = m, v
        if amsgrad:
            v = s["vhat"] = np.maximum(s.get("vhat", 0.0), v)
        lr_t = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        return w - lr_t * m / (np.sqrt(v) + eps)
    return reference


def test_adam():
    check(Adam(learning_rate=0.01), adam_reference())


def test_adam_epsilon_is_outside_the_bias_correction():
    # with a large epsilon the two placements differ clearly; Keras adds it to sqrt(v), not sqrt(v_hat)
    check(Adam(learning_rate=0.01, epsilon=0.1), adam_reference(eps=0.1))


def test_adam_amsgrad():
    check(Adam(learning_rate=0.01, amsgrad=True), adam_reference(amsgrad=True))


def test_adamw_decays_then_steps():
    check(AdamW(learning_rate=0.01, weight_decay=0.1), adam_reference(wd=0.1))


@pytest.mark.parametrize("momentum,centered", [(0.0, False), (0.5, False), (0.0, True), (0.5, True)])
def test_rmsprop(momentum, centered):
    def reference(w, g, t, s):
        v = s["v"] = 0.9 * s.get("v", 0.0) + 0.1 * g * g
        if centered:
            a = s["a"] = 0.9 * s.get("a", 0.0) + 0.1 * g
            denominator = v - a * a + 1e-7
        else:
            denominator = v + 1e-7
        step = 0.01 * g / np.sqrt(denominator)  # epsilon inside the sqrt, as Keras 3
        if momentum:
            step = s["mom"] = momentum * s.get("mom", 0.0) + step
        return w - step
    check(RMSprop(learning_rate=0.01, momentum=momentum, centered=centered), reference)


def test_keras_defaults():
    assert (SGD().learning_rate, SGD().momentum, SGD().nesterov) == (0.01, 0.0, False)
    adam = Adam()
    assert (adam.learning_rate, adam.beta_1, adam.beta_2, adam.epsilon, adam.amsgrad) == (
        0.001, 0.9, 0.999, 1e-7, False)
    assert AdamW().weight_decay == 0.004
    rms = RMSprop()
    assert (rms.learning_rate, rms.rho, rms.momentum, rms.epsilon, rms.centered) == (
        0.001, 0.9, 0.0, 1e-7, False)
    assert isinstance(optimizers.get("RMSprop"), RMSprop)


def test_clipnorm_clips_each_gradient():
    w, v = Variable(np.zeros(2), "a"), Variable(np.zeros(1), "b")
    SGD(learning_rate=1.0, clipnorm=1.0).apply([np.array([3.0, 4.0]), np.array([0.5])], [w, v])
    np.testing.assert_allclose(w.data, [-0.6, -0.8], rtol=1e-6)   # norm 5 -> 1
    np.testing.assert_allclose(v.data, [-0.5], rtol=1e-6)         # norm 0.5 < 1: unchanged


def test_global_clipnorm_scales_all_gradients_together():
    w, v = Variable(np.zeros(2), "a"), Variable(np.zeros(1), "b")
    SGD(learning_rate=1.0, global_clipnorm=1.0).apply([np.array([3.0, 0.0]), np.array([4.0])], [w, v])
    np.testing.assert_allclose(np.r_[w.data, v.data], [-0.6, 0.0, -0.8], rtol=1e-6)


def test_clipvalue():
    w = Variable(np.zeros(3), "w")
    SGD(learning_rate=1.0, clipvalue=0.5).apply([np.array([2.0, -0.1, -3.0])], [w])
    np.testing.assert_allclose(w.data, [-0.5, 0.1, 0.5], rtol=1e-6)


def test_exponential_decay_values():
    lr = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert [lr(s) for s in (0, 5, 10, 20)] == pytest.approx([0.1, 0.1 * 0.5 ** 0.5, 0.05, 0.025])
    stairs = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert [stairs(s) for s in (0, 9, 10, 19, 20)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    assert optimizers.schedules.ExponentialDecay is schedules.ExponentialDecay


def test_schedule_is_evaluated_at_the_step_count_before_each_update():
    lr = schedules.ExponentialDecay(1.0, decay_steps=1, decay_rate=0.5)
    opt = SGD(learning_rate=lr)
    w = Variable(np.zeros(1), "w")
    for _ in range(3):
        opt.apply([np.ones(1)], [w])
    np.testing.assert_allclose(w.data, [-(1.0 + 0.5 + 0.25)])
    assert opt.learning_rate == pytest.approx(0.125)
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        opt.learning_rate = 0.1


def test_state_round_trip_resumes_exactly():
    first = Adam(learning_rate=0.01, amsgrad=True)
    w = Variable(W0.copy(), "w")
    for g in GRADS[:2]:
        first.apply([g], [w])
    state, saved_w = first.get_state(), w.data.copy()
    assert list(state)[:2] == ["iterations", "learning_rate"]
    assert [a.shape for a in first.variables()][2:] == [W0.shape] * 3
    first.apply([GRADS[2]], [w])

    second = Adam(learning_rate=0.01, amsgrad=True)
    second.set_state(state)                    # before build: kept until the variables are known
    w2 = Variable(saved_w, "w")
    second.apply([GRADS[2]], [w2])
    np.testing.assert_array_equal(w2.data, w.data)
    assert second.iterations == 3


def test_set_state_checks_keys_and_shapes():
    opt = SGD(momentum=0.9)
    opt.build([Variable(np.zeros((2, 3)), "w")])
    state = opt.get_state()
    with pytest.raises(ValueError, match=r"expected \(2, 3\)"):
        opt.set_state({**state, "slot.momentum.0": np.zeros((3, 2))})
    with pytest.raises(ValueError, match="missing"):
        opt.set_state({"iterations": np.asarray(1)})


def test_config_round_trip():
    opt = Adam(learning_rate=schedules.ExponentialDecay(0.1, 100, 0.9), beta_1=0.8, clipnorm=2.0)
    again = Adam.from_config(opt.get_config())
    assert again.get_config() == opt.get_config()
    assert again.learning_rate == pytest.approx(0.1)


def test_bad_arguments_name_the_value():
    with pytest.raises(ValueError, match=r"valid names: \['adadelta', 'adagrad', 'adam', 'adamax', 'adamw', "
                                         r"'lion', 'nadam', 'rmsprop', 'sgd'\]"):
        optimizers.get("adamx")
    with pytest.raises(ValueError, match="learning_rate=-1"):
        SGD(learning_rate=-1)
    with pytest.raises(ValueError, match="only one of clipnorm"):
        SGD(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="momentum=1.5"):
        SGD(momentum=1.5)
    with pytest.raises(TypeError, match="learning_rate="):
        Adam(lr=0.1)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        SGD().apply([np.zeros(3)], [Variable(np.zeros(2), "w")])
