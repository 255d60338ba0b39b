"""Lab 4: each optimizer step for step against tinydl's optimizers; the loss curves against tinydl's too."""

import numpy as np
import pytest

from tinydl import optimizers
from tinydl.layers.base import Variable

STEPS = 6


def compare(mine, oracle, shapes=((3, 4), (5,)), seed=0):
    """Run both optimizers on the same gradients; the parameters must agree after every step."""
    rng = np.random.default_rng(seed)
    start = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    params = [p.copy() for p in start]
    variables = [Variable(p.copy(), f"w{i}") for i, p in enumerate(start)]
    for step in range(STEPS):
        grads = [rng.standard_normal(s).astype(np.float32) * (0.1 + step) for s in shapes]
        mine.step(params, [g.copy() for g in grads])
        oracle.apply(grads, variables)
        for p, v in zip(params, variables):
            assert p.dtype == np.float32, "keep the parameters float32"
            np.testing.assert_allclose(p, v.numpy(), rtol=2e-5, atol=1e-6,
                                       err_msg=f"parameters differ after step {step + 1}")
    assert mine.t == STEPS


@pytest.mark.task4_1
@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.9, False), (0.5, True), (0.9, True)])
def test_sgd_matches_tinydl(myoptim, momentum, nesterov):
    compare(myoptim.SGD(0.05, momentum=momentum, nesterov=nesterov),
            optimizers.SGD(0.05, momentum=momentum, nesterov=nesterov))


@pytest.mark.task4_2
@pytest.mark.parametrize("rho, momentum", [(0.9, 0.0), (0.5, 0.0), (0.9, 0.8)])
def test_rmsprop_matches_tinydl(myoptim, rho, momentum):
    compare(myoptim.RMSprop(0.01, rho=rho, momentum=momentum), optimizers.RMSprop(0.01, rho=rho, momentum=momentum))


@pytest.mark.task4_3
@pytest.mark.parametrize("beta_1, beta_2, epsilon", [(0.9, 0.999, 1e-7), (0.5, 0.9, 1e-3)])
def test_adam_matches_tinydl(myoptim, beta_1, beta_2, epsilon):
    compare(myoptim.Adam(0.01, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon),
            optimizers.Adam(0.01, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon))


@pytest.mark.task4_3
def test_adam_first_step_has_the_size_of_the_learning_rate(myoptim):
    # With bias correction the first step is lr * g / (|g| + eps / sqrt(1 - beta_2)): about lr each.
    w, g = np.zeros(4, np.float32), np.array([0.05, -2.0, 50.0, 0.5], np.float32)
    myoptim.Adam(0.1).step([w], [g])
    np.testing.assert_allclose(w, -0.1 * np.sign(g), rtol=1e-3)


@pytest.mark.task4_4
@pytest.mark.parametrize("weight_decay", [0.004, 0.1])
def test_adamw_matches_tinydl(myoptim, weight_decay):
    compare(myoptim.AdamW(0.01, weight_decay=weight_decay), optimizers.AdamW(0.01, weight_decay=weight_decay))


@pytest.mark.task4_4
def test_adamw_decays_weights_even_with_zero_gradients(myoptim):
    w = np.full(3, 2.0, np.float32)
    myoptim.AdamW(0.1, weight_decay=0.5).step([w], [np.zeros(3, np.float32)])
    np.testing.assert_allclose(w, 2.0 * (1 - 0.05), rtol=1e-6)


ORACLES = {"sgd": lambda: optimizers.SGD(0.5), "momentum": lambda: optimizers.SGD(0.5, momentum=0.9),
           "nesterov": lambda: optimizers.SGD(0.5, momentum=0.9, nesterov=True),
           "rmsprop": lambda: optimizers.RMSprop(0.01), "adam": lambda: optimizers.Adam(0.01),
           "adamw": lambda: optimizers.AdamW(0.01, weight_decay=0.01)}


@pytest.mark.task4_5
def test_loss_curves_match_tinydl_optimizers_on_the_digits_problem(myoptim):
    steps = 30
    curves = myoptim.loss_curves(steps)
    assert sorted(curves) == sorted(ORACLES)
    for name, make in ORACLES.items():
        params, loss_and_grads = myoptim.digits_problem()
        variables = [Variable(p, f"p{i}") for i, p in enumerate(params)]
        oracle, expected = make(), []
        for _ in range(steps):
            loss, grads = loss_and_grads([v.data for v in variables])
            expected.append(loss)
            oracle.apply(grads, variables)
        assert len(curves[name]) == steps
        np.testing.assert_allclose(curves[name], expected, rtol=1e-4, err_msg=name)
        assert curves[name][-1] < 0.5 * curves[name][0], f"{name} did not train"


@pytest.mark.task4_5
def test_plot_curves_writes_an_image(myoptim, tmp_path):
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        pytest.skip("matplotlib is not installed (optional for this lab)")
    path = tmp_path / "curves.png"
    assert myoptim.plot_curves({"a": [2.0, 1.0, 0.5], "b": [2.0, 1.5, 1.2]}, path) is True
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
