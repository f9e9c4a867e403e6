"""The mathematics behind the Learn page, computed exactly on a 1-D grid (no Streamlit here).

Goodfellow et al. 2014 ("Generative Adversarial Nets"): for a fixed generator the best
discriminator is D*(x) = p_data(x) / (p_data(x) + p_g(x)), and at that D*
V(D*, G) = -log 4 + 2 JSD(p_data || p_g). Here p_data and p_g are Gaussian mixtures on a grid,
so the page can show both sides of that identity as numbers while the user moves p_g.
The generator-loss section compares the saturating and non-saturating losses as functions of
D(G(z)), and a tiny 1-D GAN shows alternating updates with Adam.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LOG4 = math.log(4.0)


@dataclass(frozen=True)
class Mixture1D:
    """A 1-D mixture of Gaussians: means, standard deviations, weights (normalised on use)."""

    means: tuple[float, ...]
    stds: tuple[float, ...]
    weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if len(self.means) != len(self.stds) or not self.means:
            raise ValueError("a mixture needs as many stds as means (at least one)")
        if any(s <= 0 for s in self.stds):
            raise ValueError("standard deviations must be positive")
        if self.weights is not None and (len(self.weights) != len(self.means) or any(w < 0 for w in self.weights)
                                         or sum(self.weights) <= 0):
            raise ValueError("weights must be non-negative, one per component, not all zero")

    def pdf(self, x: np.ndarray | float) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        w = np.asarray(self.weights if self.weights is not None else [1.0] * len(self.means), dtype=np.float64)
        w = w / w.sum()
        out = np.zeros_like(x)
        for wi, m, s in zip(w, self.means, self.stds, strict=True):
            out = out + wi * np.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))
        return out


# The Learn page's data distribution: two modes, so a single-Gaussian generator can "drop" one.
DATA_1D = Mixture1D(means=(-2.0, 2.0), stds=(0.6, 0.6))


def gaussian(mean: float, std: float) -> Mixture1D:
    return Mixture1D((float(mean),), (float(std),))


def x_grid(lo: float = -20.0, hi: float = 20.0, n: int = 8001) -> np.ndarray:
    return np.linspace(lo, hi, n)


def optimal_discriminator(p_data: np.ndarray | float, p_g: np.ndarray | float) -> np.ndarray:
    """D*(x) = p_data / (p_data + p_g); 0.5 where both densities vanish (D* is undefined there)."""
    p_data, p_g = np.asarray(p_data, dtype=np.float64), np.asarray(p_g, dtype=np.float64)
    total = p_data + p_g
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 1e-300, p_data / np.where(total > 1e-300, total, 1.0), 0.5)


def _integrate(y: np.ndarray, x: np.ndarray) -> float:
    return float(np.trapezoid(y, x)) if hasattr(np, "trapezoid") else float(np.trapz(y, x))


def _xlogy(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a * log(b) with 0 * log(0) = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a > 0, a * np.log(np.where(b > 0, b, 1.0)), 0.0)


def value(d: np.ndarray, p_data: np.ndarray, p_g: np.ndarray, x: np.ndarray) -> float:
    """V(D, G) = E_data[log D(x)] + E_g[log(1 - D(x))] for a discriminator given on the grid x."""
    d = np.clip(np.asarray(d, dtype=np.float64), 1e-300, 1 - 1e-16)
    return _integrate(p_data * np.log(d) + p_g * np.log1p(-d), x)


def kl(p: np.ndarray, q: np.ndarray, x: np.ndarray) -> float:
    return _integrate(_xlogy(p, p) - _xlogy(p, q), x)


def jsd(p: np.ndarray, q: np.ndarray, x: np.ndarray) -> float:
    """Jensen-Shannon divergence in nats (0 .. log 2)."""
    m = 0.5 * (p + q)
    return 0.5 * kl(p, m, x) + 0.5 * kl(q, m, x)


def value_at_optimum(p_data: np.ndarray, p_g: np.ndarray, x: np.ndarray) -> float:
    """V(D*, G) by direct integration, with D* = p_data / (p_data + p_g) (0 * log 0 taken as 0)."""
    total = p_data + p_g
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(total > 0, p_data / np.where(total > 0, total, 1.0), 0.5)
    return _integrate(_xlogy(p_data, d) + _xlogy(p_g, 1 - d), x)


@dataclass
class OptimumReport:
    """What section 1 of the Learn page shows for one generator setting."""

    x: np.ndarray
    p_data: np.ndarray
    p_g: np.ndarray
    d_star: np.ndarray
    value: float  # V(D*, G), integrated directly
    jsd: float
    at_x: float
    d_star_at_x: float
    p_data_at_x: float
    p_g_at_x: float

    @property
    def value_from_jsd(self) -> float:
        """-log 4 + 2 JSD: equals `value` (the identity of Goodfellow et al. 2014, Theorem 1)."""
        return -LOG4 + 2 * self.jsd


def optimum_report(g_mean: float, g_std: float, at_x: float = 0.0, data: Mixture1D = DATA_1D,
                   x: np.ndarray | None = None) -> OptimumReport:
    """D*, V(D*, G) and JSD for a Gaussian generator N(g_mean, g_std^2) against `data`."""
    x = x_grid() if x is None else x
    g = gaussian(g_mean, g_std)
    p_data, p_g = data.pdf(x), g.pdf(x)
    pd_at, pg_at = float(data.pdf(at_x)), float(g.pdf(at_x))
    return OptimumReport(x, p_data, p_g, optimal_discriminator(p_data, p_g), value_at_optimum(p_data, p_g, x),
                         jsd(p_data, p_g, x), float(at_x), float(optimal_discriminator(pd_at, pg_at)), pd_at, pg_at)


# ---------------------------------------------------------------- generator losses

def generator_losses(d: np.ndarray | float) -> dict[str, np.ndarray]:
    """Both generator losses as functions of D(G(z)), and their gradients.

    minimax (saturating): minimise log(1 - D);   non-saturating: minimise -log D.
    `*_grad_d` is d loss / d D. `*_grad_logit` is d loss / d l where D = sigmoid(l): this is what
    flows back into the generator, and for the minimax loss it is -D, which vanishes when the
    discriminator confidently rejects fakes (D(G(z)) -> 0, early in training). For the
    non-saturating loss it is -(1 - D), largest exactly there.
    """
    d = np.clip(np.asarray(d, dtype=np.float64), 1e-12, 1 - 1e-12)
    return {
        "d": d,
        "minimax": np.log1p(-d),
        "nonsaturating": -np.log(d),
        "minimax_grad_d": -1.0 / (1.0 - d),
        "nonsaturating_grad_d": -1.0 / d,
        "minimax_grad_logit": -d,
        "nonsaturating_grad_logit": -(1.0 - d),
    }


# ---------------------------------------------------------------- a tiny 1-D GAN

@dataclass
class ToyRun:
    """Trajectory of a 1-D GAN: generator N(mu, sigma^2) vs a quadratic-logistic discriminator."""

    steps: np.ndarray
    mu: np.ndarray
    sigma: np.ndarray
    d_real: np.ndarray  # mean D(x) on the real batch
    d_fake: np.ndarray  # mean D(G(z)) on the fake batch
    data_mean: float
    data_std: float

    @property
    def final_mean_error(self) -> float:
        return float(abs(self.mu[-1] - self.data_mean))

    @property
    def final_std_error(self) -> float:
        return float(abs(self.sigma[-1] - self.data_std))


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * v))


TOY_FEATURE_SCALE = 0.25  # keeps the discriminator's features O(1) on this range


def toy_gradients(params: dict[str, np.ndarray | float], real: np.ndarray, z: np.ndarray, loss: str
                  ) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """Analytic gradients of the 1-D GAN (numpy, fast enough to rerun on every slider move).

    D(x) = sigmoid(a (s x)^2 + b s x + c); G(z) = mu + exp(log_sigma) z. Returns (grad of D's
    BCE loss w.r.t. [a, b, c] with G fixed, grad of G's loss w.r.t. [mu, log_sigma] using the
    D *after* its update is the caller's job, logits for reporting). tests/test_lesson.py checks
    these against torch autograd on gan_core.nn.losses.
    """
    a, b, c = params["abc"]
    mu, log_sigma = params["g"]
    s = TOY_FEATURE_SCALE
    fake = mu + math.exp(log_sigma) * z

    def logit(x: np.ndarray) -> np.ndarray:
        return a * (s * x) ** 2 + b * s * x + c

    lr_, lf = logit(real), logit(fake)
    # d/dl of mean softplus(-l_real) + mean softplus(l_fake)
    gr, gf = (_sigmoid(lr_) - 1.0) / len(real), _sigmoid(lf) / len(fake)
    grad_d = np.array([np.sum(gr * (s * real) ** 2) + np.sum(gf * (s * fake) ** 2),
                       np.sum(gr * s * real) + np.sum(gf * s * fake), np.sum(gr) + np.sum(gf)])
    if loss == "nonsaturating":
        gl = (_sigmoid(lf) - 1.0) / len(fake)  # d/dl mean softplus(-l)
    elif loss == "minimax":
        gl = -_sigmoid(lf) / len(fake)  # d/dl mean -softplus(l)
    else:
        raise ValueError("the 1-D lesson GAN supports the minimax and nonsaturating losses")
    gx = gl * (2 * a * s * s * fake + b * s)
    grad_g = np.array([np.sum(gx), np.sum(gx * (fake - mu))])
    return grad_d, grad_g, {"d_real": float(_sigmoid(lr_).mean()), "d_fake": float(_sigmoid(lf).mean())}


class _Adam:
    """Adam (Kingma & Ba 2014), the textbook update, for a small numpy vector."""

    def __init__(self, lr: float, beta1: float, beta2: float, size: int, eps: float = 1e-8) -> None:
        self.lr, self.b1, self.b2, self.eps = lr, beta1, beta2, eps
        self.m, self.v, self.t = np.zeros(size), np.zeros(size), 0

    def step(self, params: np.ndarray, grad: np.ndarray) -> np.ndarray:
        self.t += 1
        self.m = self.b1 * self.m + (1 - self.b1) * grad
        self.v = self.b2 * self.v + (1 - self.b2) * grad * grad
        m_hat, v_hat = self.m / (1 - self.b1 ** self.t), self.v / (1 - self.b2 ** self.t)
        return params - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def train_toy_1d(steps: int = 300, lr: float = 0.02, beta1: float = 0.5, beta2: float = 0.999,
                 data_mean: float = 2.0, data_std: float = 0.5, g_mean: float = -2.0, g_std: float = 1.0,
                 loss: str = "nonsaturating", batch: int = 256, seed: int = 0) -> ToyRun:
    """Alternating updates with Adam on 1-D Gaussians: one D step (G fixed), then one G step (D fixed).

    D(x) = sigmoid(a x^2 + b x + c) can represent the exact log-ratio of two Gaussians, so D* is reachable.
    """
    if steps < 1 or lr <= 0 or not 0 <= beta1 < 1 or not 0 <= beta2 < 1 or g_std <= 0:
        raise ValueError("need steps >= 1, lr > 0, betas in [0, 1) and a positive std")
    rng = np.random.default_rng(seed)
    params = {"abc": np.zeros(3), "g": np.array([float(g_mean), math.log(g_std)])}
    opt_d, opt_g = _Adam(lr, beta1, beta2, 3), _Adam(lr, beta1, beta2, 2)
    rows = np.zeros((steps, 5))
    for step in range(steps):
        real = data_mean + data_std * rng.standard_normal(batch)
        z = rng.standard_normal(batch)
        grad_d, _, _ = toy_gradients(params, real, z, loss)
        params["abc"] = opt_d.step(params["abc"], grad_d)
        _, grad_g, outs = toy_gradients(params, real, z, loss)
        params["g"] = opt_g.step(params["g"], grad_g)
        rows[step] = (step + 1, params["g"][0], math.exp(params["g"][1]), outs["d_real"], outs["d_fake"])
    return ToyRun(rows[:, 0].astype(int), rows[:, 1], rows[:, 2], rows[:, 3], rows[:, 4], data_mean, data_std)
