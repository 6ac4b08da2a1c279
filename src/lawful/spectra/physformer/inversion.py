"""Labels from spectra by χ² minimisation with a frozen generator: batched Levenberg–Marquardt, multi-start,
Laplace or MCMC errors, and a flag with its reason for every spectrum that did not converge.

    χ²(z) = rᵀ C⁻¹ r + (z − μ)ᵀ P (z − μ),   r = G(z) − f,   C = diag(σ² + σ_rest²) + Bᵀ B.

C is the noise (``ivar``; masked pixels — NaN or ivar ≤ 0 — get zero weight) plus the generator's own error
measured on validation spectra: its leading ``nuisance`` principal components B (k, W), scaled by their
standard deviations, and the rest σ_rest² per pixel. The generator's error is correlated across pixels, and
counting it as white noise made the labels' σ too small by 1.5–3× at SNR ≥ 50; the low-rank part is applied
by the Woodbury identity, C⁻¹ = W − W Bᵀ (I + B W Bᵀ)⁻¹ B W, so it costs k × k per spectrum. The prior: the
labels are confined to the training box (each step is clipped to it), and with ``prior="population"`` the
whole latent has the Gaussian of the training latents (μ, P = Σ⁻¹: T_eff, log g, [Fe/H] of real APOGEE giants
are correlated, which is what keeps low-SNR fits on the giant branch); with ``prior="box"`` only the free
dimensions have theirs. The Jacobian is a forward difference of the generator (D + 1 batched evaluations per
iteration, no gradients). Starts: the encoder's latent (autoencoders) or the prior mean, plus ``starts − 1``
draws from the prior; all run ``screen_iterations``, then only the best start per spectrum continues.
Labels and σ: the posterior under the likelihood linearised at the optimum (:func:`mixture_posterior`; its
curvature Jᵀ C⁻¹ J, and its gradient such that the posterior is stationary at the optimum): each prior
component's Gaussian posterior, weighted by its evidence; the labels are the mixture's mean and σ its standard
deviation (with one Gaussian or the box prior, the optimum and its Gauss–Newton Laplace σ). At low SNR the
posterior spreads over several of the population prior's modes, and a Laplace σ from the curvature at the
optimum — the one mode the fit sits in — left the 68 % intervals covering 60 % of 1000 giants at SNR 5.
Then the generator's systematic floor is added in quadrature, σ² + s², s per label chosen on validation
spectra at high SNR (:func:`calibrate_floor`): the generator's error is not the Gaussian noise C describes — it is
a function of the labels — and at SNR 200 C alone left T_eff's 68 % intervals covering 57 % of the validation
giants. Flags: not converged in ``max_iter``, a label at the edge of the training range, χ²/dof above
``chi2_limit``, or no usable pixel. With ``errors="mcmc"`` a random-walk Metropolis chain per spectrum samples
the same posterior from the optimum (:func:`_metropolis`): labels are its medians, σ half its 16–84 % intervals,
and a chain that hardly moves is flagged.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pydantic

from lawful.core.config import Config, FiniteFloat
from lawful.spectra.data import usable_pixels


class InvertConfig(Config):
    """χ² inversion settings."""

    prior: Literal["population", "gaussian", "box"] = pydantic.Field(
        "population", description="population: the training latents' Gaussian mixture; gaussian: one Gaussian; "
                                  "box: labels uniform in the training range")
    nuisance: int = pydantic.Field(32, ge=0, description="principal components of the generator's error in C "
                                                          "(at most as many as the model stores: 32)")
    starts: int = pydantic.Field(3, ge=1, description="starting points per spectrum")
    screen_iterations: int = pydantic.Field(4, ge=0, description="iterations of every start before the best "
                                                                 "one continues alone")
    max_iter: int = pydantic.Field(40, ge=1)
    tol: FiniteFloat = pydantic.Field(1e-5, gt=0, description="converged: relative χ² decrease below this")
    step: FiniteFloat = pydantic.Field(1e-3, gt=0, description="finite-difference step (standardised units)")
    chi2_limit: FiniteFloat = pydantic.Field(1.5, gt=1, description="flag a fit with χ²/dof above this")
    batch: int = pydantic.Field(200, ge=1, description="spectra per batch")
    errors: Literal["linearised", "mcmc"] = pydantic.Field(
        "linearised", description="linearised: labels and σ = the mean and standard deviation of the posterior "
                                  "with the likelihood linearised at the optimum (each prior component's Gaussian "
                                  "posterior, weighted by its evidence); mcmc: labels = posterior medians and σ = "
                                  "half their 16–84 % intervals, from a random-walk Metropolis chain per spectrum")
    mcmc_steps: int = pydantic.Field(1000, ge=10, description="mcmc: kept steps per spectrum")
    mcmc_burn: int = pydantic.Field(300, ge=0, description="mcmc: steps first, while the proposal adapts")
    seed: int = pydantic.Field(0, ge=0)

    @pydantic.field_validator("errors", mode="before")
    @classmethod
    def _laplace_is_linearised(cls, value: object) -> object:
        """``laplace``, this setting's name before the mixture posterior replaced the one-mode Laplace σ (stop 43),
        still reads old configs and habits: with one prior component the two are the same."""
        return "linearised" if value == "laplace" else value


class Metric:
    """C⁻¹ of the module docstring for a batch: ``weight`` (n, W) = 1/(σ² + σ_rest²), ``basis`` B (k, W)."""

    def __init__(self, weight: np.ndarray, basis: np.ndarray) -> None:
        self.w, self.b = weight, basis
        inner = (basis[None] * weight[:, None, :]) @ basis.T + np.eye(len(basis))[None]  # (n, k, k), BLAS
        self.inner_inv = np.linalg.inv(inner)  # (n, k, k)

    def take(self, rows: np.ndarray) -> "Metric":
        new = Metric.__new__(Metric)
        new.w, new.b, new.inner_inv = self.w[rows], self.b, self.inner_inv[rows]
        return new

    def chi2(self, r: np.ndarray) -> np.ndarray:
        """rᵀ C⁻¹ r (n,) for residuals r (n, W)."""
        wr = self.w * r
        proj = wr @ self.b.T  # (n, k)
        return (wr * r).sum(axis=1) - np.einsum("nk,nkl,nl->n", proj, self.inner_inv, proj)

    def normal(self, jac: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(Jᵀ C⁻¹ J (n, D, D), Jᵀ C⁻¹ r (n, D)) for J (n, W, D)."""
        wj = self.w[:, :, None] * jac
        bj = self.b @ wj  # (n, k, D)
        br = (self.w * r) @ self.b.T
        jt = np.swapaxes(jac, 1, 2)
        a = jt @ wj - np.swapaxes(bj, 1, 2) @ self.inner_inv @ bj
        g = (jt @ (self.w * r)[..., None])[..., 0] - (np.swapaxes(bj, 1, 2) @ (self.inner_inv @ br[..., None]))[..., 0]
        return a, g


def invert(gen, flux: np.ndarray, ivar: np.ndarray, cfg: InvertConfig | None = None, floor: bool = True) -> dict:
    """Invert spectra (n, W) on the generator's grid. Returns ``labels`` and ``sigma`` ({name: (n,)} in physical
    units; with the generator's ``sigma_floor`` added in quadrature unless ``floor`` is False), ``z`` (n, D) the
    posterior mean and ``cov`` (n, D, D) its covariance, standardised (statistical only), ``z_map`` (n, D) the
    optimum, ``chi2_dof`` (n,), ``iterations`` (n,), ``acceptance`` (n,) (MCMC; NaN for Laplace), ``flag`` (n,)
    bool and ``reason`` (n,) str ('' when not flagged). With ``errors="mcmc"``, z is the posterior median and cov
    the samples' covariance; χ²/dof and the flags for convergence and edges refer to the optimum."""
    cfg = cfg or InvertConfig()
    flux, ivar = np.asarray(flux, dtype=np.float64), np.asarray(ivar, dtype=np.float64)
    n_wave = len(gen.wave)
    if flux.ndim != 2 or flux.shape[1] != n_wave or ivar.shape != flux.shape:
        raise ValueError(f"flux and ivar must both have shape (n, {n_wave}) on the generator's grid, got "
                         f"{flux.shape} and {ivar.shape}")
    good = usable_pixels(flux, ivar)
    basis = gen.model_basis[: cfg.nuisance].astype(float)
    rest = np.clip(gen.model_sigma.astype(float) ** 2 - (basis**2).sum(axis=0), 0.0, None)
    weight = np.where(good, 1.0 / (1.0 / np.where(good, ivar, 1.0) + rest), 0.0)
    flux = np.where(good, flux, 1.0)
    rng = np.random.default_rng(cfg.seed)
    parts = [_invert_batch(gen, flux[i:i + cfg.batch], Metric(weight[i:i + cfg.batch], basis), cfg, rng)
             for i in range(0, len(flux), cfg.batch)]
    out = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else {}
    names = gen.names
    std = gen.decoder.latent.std.numpy().astype(float)
    out["labels"] = gen.physical(out["z"])
    spread = out.pop("spread")
    floors = gen.sigma_floor if floor else {}
    out["sigma"] = {name: np.hypot(spread[:, j] * std[j], floors.get(name, 0.0))
                    for j, name in enumerate(names) if not name.startswith("free")}
    n_used = good.sum(axis=1)
    reasons = []
    for k in range(len(flux)):
        why = []
        if n_used[k] == 0:
            why.append("no usable pixel")
        else:
            if not out["converged"][k]:
                why.append(f"not converged in {cfg.max_iter} iterations")
            edge = [names[j] for j in range(len(names)) if out["at_edge"][k, j]]
            if edge:
                why.append("at the edge of the training range: " + ", ".join(edge))
            if out["chi2_dof"][k] > cfg.chi2_limit:
                why.append(f"chi2/dof = {out['chi2_dof'][k]:.2f} > {cfg.chi2_limit:g}")
            if out["acceptance"][k] < MIN_ACCEPTANCE:
                why.append(f"MCMC acceptance {out['acceptance'][k]:.3f} < {MIN_ACCEPTANCE:g}")
        reasons.append("; ".join(why))
    out["reason"] = np.array(reasons, dtype=object)
    out["flag"] = np.array([bool(r) for r in reasons])
    return out


#: the SNR of the validation spectra the systematic floor is chosen at: the top of the range evaluated, where the
#: generator's error, not the noise, sets the labels' errors
FLOOR_SNR = 200.0


def floor_for_coverage(err: np.ndarray, sigma: np.ndarray, level: float = 0.6827) -> float:
    """The smallest s ≥ 0 with which a fraction ``level`` of the errors (n,) satisfy |err| ≤ √(σ² + s²):
    the ``level`` quantile of each error's own requirement √max(err² − σ², 0) (0 if σ alone covers)."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    need = np.sqrt(np.clip(np.asarray(err) ** 2 - np.asarray(sigma) ** 2, 0.0, None))
    return float(np.quantile(need, level, method="inverted_cdf"))


#: the inversion settings that change the σ a floor is added to: a floor chosen under others may not fit
FLOOR_KEYS = ("prior", "errors", "nuisance")


def floor_settings(cfg: InvertConfig | None = None) -> dict:
    """The :data:`FLOOR_KEYS` settings of ``cfg`` (None: the defaults), recorded with a floor when it is chosen."""
    cfg = cfg or InvertConfig()
    return {key: getattr(cfg, key) for key in FLOOR_KEYS}


def floor_warning(gen, cfg: InvertConfig | None = None) -> str:
    """'' if the generator's floor was chosen for the settings of ``cfg`` (or it records none), else what
    differs and how to choose the floor again."""
    chosen = gen.meta.get("floor_settings")
    if not gen.sigma_floor or chosen is None:
        return ""
    now = floor_settings(cfg)
    differ = [f"{key} = {now[key]!r} (floor chosen for {chosen[key]!r})" for key in FLOOR_KEYS
              if chosen.get(key) != now[key]]
    if not differ:
        return ""
    return (f"the systematic σ floor was chosen for other inversion settings: {'; '.join(differ)}; the 68 % "
            f"intervals may not cover as stated — choose it for these with `lawful spectra physformer recalibrate "
            f"--model MODEL --data DATA` and the same settings")


def calibrate_floor(gen, flux: np.ndarray, truth: dict[str, np.ndarray], seed: int = 0,
                    cfg: InvertConfig | None = None) -> dict[str, float]:
    """{label: floor s} that makes the 68 % intervals of the inversion (``cfg``, default settings) cover 68.27 %
    of noise-free validation spectra ``flux`` (n, W) with labels ``truth`` ({name: (n,)}) once noise at
    :data:`FLOOR_SNR` is added (seeded); labels not in ``truth`` get none."""
    from lawful.spectra.physformer.data import noisy

    noisy_flux, ivar = noisy(flux, FLOOR_SNR, np.random.default_rng([seed, int(FLOOR_SNR)]))
    out = invert(gen, noisy_flux, ivar, cfg, floor=False)
    return {name: floor_for_coverage(out["labels"][name] - truth[name], out["sigma"][name])
            for name in out["sigma"] if name in truth}


def _model(gen, z: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return gen.decoder(torch.as_tensor(z, dtype=torch.float32)).double().numpy()


def _start_points(gen, flux: np.ndarray, n_starts: int, rng: np.random.Generator) -> np.ndarray:
    """(n, S, D) starting latents: the encoder's (or the prior mean), then draws from the prior."""
    import torch

    n = len(flux)
    if gen.encoder is not None:
        with torch.no_grad():
            first = gen.encoder(torch.as_tensor(flux, dtype=torch.float32)).double().numpy()
    else:
        first = np.repeat(gen.prior_mean[None], n, axis=0)
    starts = [first] + [gen.prior_draws(n, rng) for _ in range(n_starts - 1)]
    return np.clip(np.stack(starts, axis=1), *gen.box)


class Prior:
    """−2 ln p(z) up to a constant, and its Gauss–Newton curvature, for ``kind`` (:class:`InvertConfig`):
    a mixture Σ_k π_k N(μ_k, P_k⁻¹) (one component for "gaussian"; for "box" only the free block)."""

    def __init__(self, gen, kind: str) -> None:
        d, k = len(gen.names), gen.n_free
        if kind == "population":
            mix = gen.prior_mixture
            self.weights, self.means, self.prec = mix["weights"], mix["means"], mix["precisions"]
        else:
            prec = np.linalg.inv(gen.prior_cov)
            if kind == "box":
                prec = np.zeros((d, d))
                if k:
                    prec[d - k:, d - k:] = np.linalg.inv(gen.prior_cov[d - k:, d - k:])
            self.weights, self.means, self.prec = np.ones(1), gen.prior_mean[None], prec[None]
        sign, logdet = np.linalg.slogdet(self.prec)
        self.log_norm = np.log(self.weights) + 0.5 * np.where(sign > 0, logdet, 0.0)

    def _terms(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        diff = z[:, None, :] - self.means[None]  # (n, K, D)
        return diff, self.log_norm[None] - 0.5 * np.einsum("nki,kij,nkj->nk", diff, self.prec, diff)

    def value(self, z: np.ndarray) -> np.ndarray:
        """−2 ln p(z) + const (n,)."""
        _, log_p = self._terms(z)
        top = log_p.max(axis=1, keepdims=True)
        return -2.0 * (top[:, 0] + np.log(np.exp(log_p - top).sum(axis=1)))

    def _responsibilities(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """r_k(z) (n, K) and the pulls P_k (z − μ_k) (n, K, D)."""
        diff, log_p = self._terms(z)
        r = np.exp(log_p - log_p.max(axis=1, keepdims=True))
        return r / r.sum(axis=1, keepdims=True), np.einsum("kij,nkj->nki", self.prec, diff)

    def gradient(self, z: np.ndarray) -> np.ndarray:
        """g = Σ_k r_k P_k (z − μ_k) (n, D), the gradient of −ln p, r_k the responsibilities."""
        r, pulls = self._responsibilities(z)
        return np.einsum("nk,nki->ni", r, pulls)

    def curvature(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(H (n, D, D), g (n, D)): the curvature and :meth:`gradient` of −ln p; H = Σ_k r_k P_k without the
        responsibilities' own variation (positive definite, as in EM: the iterations' curvature)."""
        r, pulls = self._responsibilities(z)
        return np.einsum("nk,kij->nij", r, self.prec), np.einsum("nk,nki->ni", r, pulls)


def _invert_batch(gen, flux: np.ndarray, metric: Metric, cfg: InvertConfig, rng: np.random.Generator) -> dict:
    n = len(flux)
    d = len(gen.names)
    lo, hi = gen.box
    prior = Prior(gen, cfg.prior)
    starts = _start_points(gen, flux, cfg.starts, rng)
    s = starts.shape[1]
    rows = np.repeat(np.arange(n), s)

    def chi2(z_: np.ndarray, model: np.ndarray, y_: np.ndarray, m: Metric) -> np.ndarray:
        return m.chi2(model - y_) + prior.value(z_)

    z = starts.reshape(n * s, d)
    state = {"z": z, "chi2": chi2(z, _model(gen, z), flux[rows], metric.take(rows)),
             "lam": np.full(n * s, 1e-2), "done": ~(metric.w[rows] > 0).any(axis=1),
             "iterations": np.zeros(n * s, int)}
    _iterate(gen, state, flux[rows], metric.take(rows), prior, chi2,
             cfg.screen_iterations if s > 1 else cfg.max_iter, cfg)
    pick = np.arange(n) * s + state["chi2"].reshape(n, s).argmin(axis=1)
    state = {k: v[pick] for k, v in state.items()}
    if s > 1:
        state["done"] = ~(metric.w > 0).any(axis=1)
        _iterate(gen, state, flux, metric, prior, chi2, cfg.max_iter - cfg.screen_iterations, cfg)
    z = state["z"]
    jac, model = jacobian(gen, z, cfg.step)
    info, _ = metric.normal(jac, model - flux)
    # the likelihood's gradient at the optimum taken as minus the prior's, so that the linearised posterior is
    # stationary where the fit is (a Newton step on the finite-difference gradient moved noise-free fits off
    # their optimum and doubled the reconstruction error of the PhysFormer)
    mean, cov = mixture_posterior(z, info, -prior.gradient(z), prior)
    dof = np.maximum((metric.w > 0).sum(axis=1) - d, 1)
    span = hi - lo
    at_edge = np.isfinite(span) & (np.minimum(z - lo, hi - z) < 1e-4 * np.where(np.isfinite(span), span, 1.0))
    out = {"z": np.clip(mean, lo, hi), "z_map": z, "cov": cov, "chi2_dof": metric.chi2(model - flux) / dof,
           "iterations": state["iterations"], "converged": state["done"], "at_edge": at_edge,
           "acceptance": np.full(n, np.nan),
           "spread": np.sqrt(np.einsum("nii->ni", cov))}  # σ of each latent (n, D), standardised
    if cfg.errors == "mcmc":
        samples, out["acceptance"] = _metropolis(gen, z, cov, lambda z_: chi2(z_, _model(gen, z_), flux, metric),
                                                 cfg, rng)
        lo, out["z"], hi = np.percentile(samples, [16.0, 50.0, 84.0], axis=1)
        out["spread"] = 0.5 * (hi - lo)
        centred = samples - samples.mean(axis=1, keepdims=True)
        out["cov"] = np.einsum("nsi,nsj->nij", centred, centred) / (samples.shape[1] - 1)
    return out


#: the random-walk Metropolis proposal's target acceptance (optimal for a Gaussian in many dimensions), and the
#: acceptance below which a chain is flagged (too few moves for its quantiles)
TARGET_ACCEPTANCE, MIN_ACCEPTANCE = 0.234, 0.05


def _metropolis(gen, z0: np.ndarray, cov: np.ndarray, chi2, cfg: InvertConfig,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Samples (n, S, D) of p(z | f) ∝ exp(−χ²(z)/2) inside the training box, one random-walk Metropolis chain
    per spectrum, all spectra a batch (one generator call per step); ``chi2(z)`` (n,) is the fit's objective.
    Proposals N(0, s² Σ), Σ the linearised posterior's covariance, s adapted during the burn-in towards
    :data:`TARGET_ACCEPTANCE` (Robbins–Monro in log s), then frozen. Returns the kept samples and each chain's
    acceptance after the burn-in."""
    n, d = z0.shape
    lo, hi = gen.box
    chol = np.linalg.cholesky(0.5 * (cov + np.swapaxes(cov, 1, 2)) + 1e-12 * np.eye(d)[None])
    log_s = np.full(n, np.log(2.38 / np.sqrt(d)))
    z, c = z0.copy(), chi2(z0)
    kept, accepted = np.empty((n, cfg.mcmc_steps, d)), np.zeros(n)
    for step in range(cfg.mcmc_burn + cfg.mcmc_steps):
        prop = z + np.exp(log_s)[:, None] * (chol @ rng.standard_normal((n, d, 1)))[..., 0]
        inside = np.all((prop >= lo) & (prop <= hi), axis=1)
        c_new = np.where(inside, chi2(np.clip(prop, lo, hi)), np.inf)  # the whole batch: no copies of C⁻¹
        accept = np.log(rng.random(n)) < 0.5 * (c - c_new)
        z[accept], c[accept] = prop[accept], c_new[accept]
        if step < cfg.mcmc_burn:
            log_s += (accept - TARGET_ACCEPTANCE) / (1.0 + step) ** 0.6
        else:
            kept[:, step - cfg.mcmc_burn] = z
            accepted += accept
    return kept, accepted / cfg.mcmc_steps


def mixture_posterior(z: np.ndarray, info: np.ndarray, grad: np.ndarray, prior: Prior
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Mean (n, D) and covariance (n, D, D) of the posterior with the likelihood linearised at z (n, D): info =
    Jᵀ C⁻¹ J (n, D, D) and grad = Jᵀ C⁻¹ r (n, D), the gradient of χ²/2 there, make it the Gaussian
    exp(−½ (x − z)ᵀ info (x − z) − gradᵀ (x − z)). Times the prior Σ_k π_k N(μ_k, P_k⁻¹) that is a mixture of the
    components' posteriors N(m_k, Λ_k⁻¹), Λ_k = info + P_k, m_k = Λ_k⁻¹ (info z − grad + P_k μ_k), each weighted
    by its evidence w_k ∝ π_k |P_k|^½ |Λ_k|^−½ exp(½ m_kᵀ Λ_k m_k − ½ μ_kᵀ P_k μ_k); returned are the mixture's
    moments. Exact for a linear model; with one component and grad = −(the prior's gradient at z), it is the
    Gauss–Newton Laplace approximation at z. A direction that nothing constrains (no usable pixel under the box
    prior) keeps a finite, huge variance."""
    vals, vecs = np.linalg.eigh(info[:, None] + prior.prec[None])  # Λ_k (n, K, D, D)
    vals = np.maximum(vals, 1e-9 * np.abs(vals).max(axis=-1, keepdims=True) + 1e-300)
    lam_inv = np.einsum("nkij,nkj,nklj->nkil", vecs, 1.0 / vals, vecs)
    pull = np.einsum("kij,kj->ki", prior.prec, prior.means)  # P_k μ_k
    b = (np.einsum("nij,nj->ni", info, z) - grad)[:, None] + pull[None]  # (n, K, D)
    m = np.einsum("nkij,nkj->nki", lam_inv, b)
    log_w = (prior.log_norm[None] - 0.5 * np.log(vals).sum(axis=-1) + 0.5 * np.einsum("nki,nki->nk", b, m)
             - 0.5 * np.einsum("ki,ki->k", prior.means, pull)[None])
    w = np.exp(log_w - log_w.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    mean = np.einsum("nk,nki->ni", w, m)
    dev = m - mean[:, None]
    return mean, np.einsum("nk,nkij->nij", w, lam_inv + np.einsum("nki,nkj->nkij", dev, dev))


def jacobian(gen, z: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Forward-difference Jacobian (n, W, D) of the generator and its value (n, W) at z (n, D); steps that
    would leave the box go the other way."""
    n, d = z.shape
    lo, hi = gen.box
    h = np.where(z + step > hi, -step, step)  # (n, D)
    shifted = np.repeat(z[:, None, :], d + 1, axis=1)
    idx = np.arange(d)
    shifted[:, idx + 1, idx] += h
    out = _model(gen, shifted.reshape(n * (d + 1), d)).reshape(n, d + 1, -1)
    jac = (out[:, 1:] - out[:, :1]) / h[:, :, None]
    return np.transpose(jac, (0, 2, 1)), out[:, 0]


def _iterate(gen, state: dict, y: np.ndarray, metric: Metric, prior: Prior, chi2, iterations: int,
             cfg: InvertConfig) -> None:
    """Levenberg–Marquardt steps on the rows of ``state`` not yet done (in place)."""
    lo, hi = gen.box
    for _ in range(iterations):
        act = np.flatnonzero(~state["done"])
        if act.size == 0:
            return
        z, m = state["z"][act], metric.take(act)
        jac, model = jacobian(gen, z, cfg.step)
        a, g = m.normal(jac, model - y[act])
        prior_a, prior_g = prior.curvature(z)
        a, g = a + prior_a, g + prior_g
        diag = np.einsum("nii->ni", a)
        damped = a + (state["lam"][act, None, None] * diag[:, :, None] + 1e-9) * np.eye(a.shape[1])[None]
        delta = -np.linalg.solve(damped, g[..., None])[..., 0]
        z_new = np.clip(z + delta, lo, hi)
        c_new = chi2(z_new, _model(gen, z_new), y[act], m)
        c_old = state["chi2"][act]
        better = c_new < c_old
        state["iterations"][act] += 1
        state["z"][act[better]] = z_new[better]
        state["chi2"][act[better]] = c_new[better]
        state["lam"][act] = np.where(better, state["lam"][act] / 3.0, state["lam"][act] * 4.0)
        small = better & ((c_old - c_new) < cfg.tol * c_old)
        stuck = ~better & (state["lam"][act] > 1e6)
        state["done"][act[small | stuck]] = True
