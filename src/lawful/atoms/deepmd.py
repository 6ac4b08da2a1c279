"""Deep Potential, smooth edition (se_e2_a; Zhang et al., NeurIPS 2018; DeePMD-kit), in torch.

For atom i and each neighbour j within ``rcut`` (Å), with r = |r_ij|:

* the switched inverse distance s(r) = sw(r)/r, sw = 1 below ``rcut_smth`` and u³(−6u² + 15u − 10) + 1 with
  u = (r − rcut_smth)/(rcut − rcut_smth) up to ``rcut`` (C² at both ends, so energy, forces and their
  derivatives vanish continuously at the cutoff);
* the environment row R̃_ij = (s, s x/r, s y/r, s z/r) [4], the s column and the three direction columns each
  divided by one spread from the training data (no shift, so a neighbour leaving the cutoff contributes exactly
  zero; one scale for x, y and z, so rotations commute with it);
* the embedding G_ij = G_{type j}((s − s̄)/σ_s) [M1], one small tanh net per neighbour species;
* T_i = (1/n̄) Σ_j G_ijᵀ R̃_ij [M1, 4] and the descriptor D_i = T_i T_i[:M2]ᵀ [M1·M2], invariant under rotation,
  reflection, translation and permutation of the neighbours by construction;
* the atomic energy E_i = F_{type i}(D_i)·e_scale + e_ref[type i] (eV), one fitting net per species, and
  E = Σ E_i.

Forces are −∂E/∂r and the stress (1/V) ∂E/∂ε for a strain ε applied to every pair vector (that is, to cell and
positions together), both by autograd (:meth:`DeepPotential.energy_forces_stress`); there is no force head.
Every loop below runs over species, never over atoms or pairs.
"""

from __future__ import annotations

import torch


def switch(r: torch.Tensor, rcut_smth: float, rcut: float) -> torch.Tensor:
    """sw(r) of the module docstring: 1 below ``rcut_smth``, 0 from ``rcut`` on, C² in between."""
    u = ((r - rcut_smth) / (rcut - rcut_smth)).clamp(0.0, 1.0)
    return u * u * u * (-6.0 * u * u + 15.0 * u - 10.0) + 1.0


def mlp(sizes: list[int], last_linear: bool = True) -> torch.nn.Sequential:
    """tanh MLP with layer widths ``sizes`` (input first); the last layer is linear if ``last_linear``."""
    layers: list[torch.nn.Module] = []
    for k in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[k], sizes[k + 1]))
        if k < len(sizes) - 2 or not last_linear:
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers)


class DeepPotential(torch.nn.Module):
    """se_e2_a for ``n_types`` species. ``embed`` the embedding widths (the last is M1), ``axis`` M2, ``fit`` the
    fitting-net hidden widths. Statistics (``s_mean``, ``s_std``, ``env_std`` [4], ``n_avg``, ``e_ref`` [types],
    ``e_scale``) are buffers set from training data by :meth:`set_statistics`."""

    def __init__(self, n_types: int, rcut: float = 6.0, rcut_smth: float = 2.0, embed: tuple[int, ...] = (16, 32),
                 axis: int = 8, fit: tuple[int, ...] = (64, 64), force_head: bool = False):
        super().__init__()
        if not 0.0 < rcut_smth < rcut:
            raise ValueError(f"need 0 < rcut_smth < rcut, got rcut_smth = {rcut_smth}, rcut = {rcut}")
        if axis > embed[-1]:
            raise ValueError(f"axis = {axis} exceeds the embedding width M1 = {embed[-1]}")
        self.n_types, self.rcut, self.rcut_smth, self.axis = n_types, float(rcut), float(rcut_smth), axis
        self.m1 = embed[-1]
        self.embedding = torch.nn.ModuleList([mlp([1, *embed], last_linear=False) for _ in range(n_types)])
        self.fitting = torch.nn.ModuleList([mlp([self.m1 * axis, *fit, 1]) for _ in range(n_types)])
        # the direct-force variant: F_i = σ_F Σ_j (q_i · G_ij) R̃_ij[1:4], q_i = head(D_i) [M1]; equivariant but
        # not the gradient of any energy (a control, not a potential)
        self.force_head = bool(force_head)
        self.head = torch.nn.ModuleList([mlp([self.m1 * axis, *fit, self.m1])] if force_head else [])
        self.register_buffer("s_mean", torch.zeros(()))
        self.register_buffer("s_std", torch.ones(()))
        self.register_buffer("env_std", torch.ones(4))
        self.register_buffer("n_avg", torch.ones(()))
        self.register_buffer("e_ref", torch.zeros(n_types))
        self.register_buffer("e_scale", torch.ones(()))

    def hyper(self) -> dict:
        """The constructor's arguments (what a model file stores beside the weights)."""
        return {"n_types": self.n_types, "rcut": self.rcut, "rcut_smth": self.rcut_smth,
                "embed": [m.out_features for m in self.embedding[0] if isinstance(m, torch.nn.Linear)],
                "axis": self.axis,
                "fit": [m.out_features for m in self.fitting[0] if isinstance(m, torch.nn.Linear)][:-1],
                "force_head": self.force_head}

    def environment(self, d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Pair vectors d [P, 3] (Å) → (raw s [P], normalized R̃ [P, 4])."""
        r = torch.linalg.vector_norm(d, dim=1)
        s = switch(r, self.rcut_smth, self.rcut) / r
        env = torch.cat([s.unsqueeze(1), (s / r).unsqueeze(1) * d], dim=1)
        return s, env / self.env_std

    def forward(self, d: torch.Tensor, i: torch.Tensor, j: torch.Tensor, types: torch.Tensor,
                rep: torch.Tensor | None = None, half: torch.Tensor | None = None) -> torch.Tensor:
        """Atomic energies [N] (eV) from pair vectors d [P, 3] = r_j − r_i (Å, pairs within ``rcut``), their
        centre and neighbour atoms i, j [P] (int64) and the atoms' species indices ``types`` [N] (int64). For a
        full list made of mirrored pairs, ``rep`` [P/2] (one ordered pair per unordered pair) and ``half`` [P]
        (each pair's unordered pair) let one species embed each unordered pair once (its two rows share s)."""
        desc, _, _, _ = self.features(d, i, j, types, rep, half)
        return self.energies(desc, types)

    def features(self, d: torch.Tensor, i: torch.Tensor, j: torch.Tensor, types: torch.Tensor,
                 rep: torch.Tensor | None = None, half: torch.Tensor | None = None
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(descriptors D [N, M1·M2], pair embeddings G [P, M1], R̃ [P, 4], centre atoms i [P]); the pairs in the
        order used (grouped by centre atom)."""
        n = types.shape[0]
        if i.shape[0] > 1 and bool((i[1:] < i[:-1]).any()):  # group the pairs by centre atom
            order = torch.argsort(i, stable=True)
            d, i, j = d[order], i[order], j[order]
            rep, half = None, None
        s, env = self.environment(d)
        x = ((s - self.s_mean) / self.s_std).unsqueeze(1)
        g = torch.zeros(s.shape[0], self.m1, dtype=d.dtype, device=d.device)
        if self.n_types == 1 and rep is not None and half is not None:
            g = self.embedding[0](x[rep])[half]
        elif self.n_types == 1:
            g = self.embedding[0](x)
        else:
            tj = types[j]
            for t, net in enumerate(self.embedding):
                mask = tj == t
                g = g.index_put((mask,), net(x[mask]))
        # T_i = (1/n̄) Σ_j G_ijᵀ R̃_ij  [N, M1, 4], as a batched matmul over each atom's neighbours padded to the
        # largest count (padding rows of R̃ are zero, so they add nothing)
        counts = torch.bincount(i, minlength=n)
        width = int(counts.max().item()) if i.shape[0] > 0 else 1
        slot = torch.arange(i.shape[0], device=d.device) - (torch.cumsum(counts, 0) - counts)[i]
        g_pad = torch.zeros(n, width, self.m1, dtype=d.dtype, device=d.device).index_put((i, slot), g)
        env_pad = torch.zeros(n, width, 4, dtype=d.dtype, device=d.device).index_put((i, slot), env)
        t_i = torch.bmm(g_pad.transpose(1, 2), env_pad) / self.n_avg
        desc = torch.bmm(t_i, t_i[:, : self.axis, :].transpose(1, 2)).reshape(n, self.m1 * self.axis)
        return desc, g, env, i

    def energies(self, desc: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        """Atomic energies [N] (eV) of descriptors [N, M1·M2] by the fitting net of each species."""
        e = torch.zeros(desc.shape[0], dtype=desc.dtype, device=desc.device)
        if self.n_types == 1:
            e = self.fitting[0](desc).squeeze(1)
        else:
            for t, net in enumerate(self.fitting):
                mask = types == t
                e = e.index_put((mask,), net(desc[mask]).squeeze(1))
        return e * self.e_scale + self.e_ref[types]

    def direct_forces(self, desc: torch.Tensor, g: torch.Tensor, env: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        """The force head's forces [N, 3] (eV/Å): σ_F Σ_j (q_i · G_ij) R̃_ij[1:4]."""
        out = torch.zeros(desc.shape[0], 3, dtype=desc.dtype, device=desc.device)
        for net in self.head:
            c = (net(desc)[i] * g).sum(1)
            out = out.index_add(0, i, c.unsqueeze(1) * env[:, 1:])
        return out * self.e_scale

    def frame_energies(self, pos: torch.Tensor, cell: torch.Tensor, types: torch.Tensor, frame: torch.Tensor,
                       i: torch.Tensor, j: torch.Tensor, offset: torch.Tensor, n_frames: int,
                       rep: torch.Tensor | None = None, half: torch.Tensor | None = None
                       ) -> tuple[torch.Tensor, torch.Tensor]:
        """(atomic energies [N], frame energies [B]) (eV) of a batch, without derivatives (an energy-only fit);
        arguments as :meth:`energy_forces_stress` (``cell`` unused)."""
        e_atom = self.forward(pos[j] - pos[i] + offset, i, j, types, rep, half)
        return e_atom, torch.zeros(n_frames, dtype=pos.dtype, device=pos.device).index_add(0, frame, e_atom)

    @torch.jit.export
    def energy_forces_stress(self, pos: torch.Tensor, cell: torch.Tensor, types: torch.Tensor,
                             frame: torch.Tensor, i: torch.Tensor, j: torch.Tensor, offset: torch.Tensor,
                             n_frames: int, create_graph: bool = False, stress: bool = True,
                             rep: torch.Tensor | None = None, half: torch.Tensor | None = None
                             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """(atomic energies [N], frame energies [B] (eV), forces [N, 3] (eV/Å), stress [B, 3, 3] (eV/Å³, ASE's
        sign: σ = (1/V) ∂E/∂ε) or None) for a batch of ``n_frames`` frames: positions ``pos`` [N, 3], cells
        [B, 3, 3], species indices ``types`` [N], each atom's ``frame`` [N], pairs i, j [P] and their periodic
        ``offset`` S·cell [P, 3] (Å). ``create_graph`` keeps the graph of the derivatives (to train on forces and
        stress); ``rep``, ``half`` as in :meth:`forward`. TorchScript compiles it (:mod:`lawful.atoms.export`)."""
        if self.force_head:  # forces from the head, energies from the fitting nets, no stress
            d = pair_vectors(pos, frame, i, j, offset, pos.new_zeros([n_frames, 3, 3]), False)
            desc, g, env, i_sorted = self.features(d, i, j, types, rep, half)
            e_atom = self.energies(desc, types)
            e_frame = torch.zeros(n_frames, dtype=pos.dtype, device=pos.device).index_add(0, frame, e_atom)
            return e_atom, e_frame, self.direct_forces(desc, g, env, i_sorted), None
        pos = pos.detach().requires_grad_(True)
        strain = torch.zeros([n_frames, 3, 3], dtype=pos.dtype, device=pos.device).requires_grad_(stress)
        e_atom = self.forward(pair_vectors(pos, frame, i, j, offset, strain, stress), i, j, types, rep, half)
        e_frame = torch.zeros(n_frames, dtype=pos.dtype, device=pos.device).index_add(0, frame, e_atom)
        inputs = [pos, strain] if stress else [pos]
        grads = torch.autograd.grad([e_frame.sum()], inputs, create_graph=create_graph)
        forces = grads[0]
        assert forces is not None
        sigma: torch.Tensor | None = None
        if stress:
            g = grads[1]
            assert g is not None
            volume = torch.linalg.det(cell).abs()
            volume = torch.where(volume > 0, volume, torch.ones_like(volume))  # open frames: finite, meaningless
            sigma = 0.5 * (g + g.transpose(1, 2)) / volume[:, None, None]
        return e_atom, e_frame, -forces, sigma

    @torch.no_grad()
    def set_statistics(self, s: torch.Tensor, env: torch.Tensor, n_avg: float, e_ref: torch.Tensor,
                       e_scale: float) -> None:
        """Set the input and output scales: ``s`` [P] and raw ``env`` [P, 4] of training pairs, the mean number
        of neighbours ``n_avg``, per-species reference energies ``e_ref`` [types] (eV) and ``e_scale`` (eV)."""
        self.s_mean.fill_(float(s.mean()))
        self.s_std.fill_(float(s.std().clamp_min(1e-6)))
        # one scale for the three direction columns: a different one per axis would break rotation invariance
        self.env_std[0] = env[:, 0].pow(2).mean().sqrt().clamp_min(1e-6)
        self.env_std[1:] = env[:, 1:].pow(2).mean().sqrt().clamp_min(1e-6)
        self.n_avg.fill_(float(n_avg))
        self.e_ref.copy_(e_ref)
        self.e_scale.fill_(float(e_scale))


def pair_vectors(pos: torch.Tensor, frame: torch.Tensor, i: torch.Tensor, j: torch.Tensor, offset: torch.Tensor,
                 strain: torch.Tensor, strained: bool = True) -> torch.Tensor:
    """d_ij = (r_j − r_i + S_ij·cell)(1 + ε) [P, 3] for positions ``pos`` [N, 3], each atom's ``frame`` [N],
    pairs i, j [P], periodic offsets S·cell [P, 3] (Å; rows of the cell are the lattice vectors) and strains
    ε [B, 3, 3] (applied when ``strained``: a strain of cell and positions together moves every pair vector)."""
    d = pos[j] - pos[i] + offset
    if strained:
        d = d + torch.bmm(d.unsqueeze(1), strain[frame[i]]).squeeze(1)
    return d


def flops_per_pair(model: DeepPotential) -> float:
    """Multiply-adds per neighbour pair of the embedding (the dominant cost): Σ widths products."""
    sizes = [1, *model.hyper()["embed"]]
    return float(sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) + 4 * model.m1)

