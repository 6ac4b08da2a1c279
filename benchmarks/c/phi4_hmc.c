/* Reference C implementation of phi^4 HMC with the leapfrog integrator, for benchmarks/lattice_hmc.py.
 *
 * Same action, same neighbour-table layout (site index in C order, fwd/bwd tables of int32) and the same
 * kick-drift-kick sequence as lawful.lattice.kernels.leapfrog. Gaussian momenta from xoshiro256+ with
 * Box-Muller. Usage: phi4_hmc D L n_traj n_steps traj_length kappa lambda [md_only]
 * Prints: seconds site_force_evaluations acceptance
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xoshiro.h"

static void kick(const double *phi, double *p, const int32_t *fwd, const int32_t *bwd, int V, int D,
                 double kappa, double lam, double eps) {
    for (int x = 0; x < V; x++) {
        double nb = 0.0;
        for (int mu = 0; mu < D; mu++) nb += phi[fwd[x * D + mu]] + phi[bwd[x * D + mu]];
        double f = phi[x];
        p[x] += eps * (2.0 * kappa * nb - 2.0 * f - 4.0 * lam * f * (f * f - 1.0));
    }
}
static void drift(double *phi, const double *p, int V, double eps) {
    for (int x = 0; x < V; x++) phi[x] += eps * p[x];
}
static double hamiltonian(const double *phi, const double *p, const int32_t *fwd, int V, int D, double kappa,
                          double lam) {
    double h = 0.0;
    for (int x = 0; x < V; x++) {
        double nb = 0.0, f = phi[x], f2 = f * f;
        for (int mu = 0; mu < D; mu++) nb += phi[fwd[x * D + mu]];
        h += 0.5 * p[x] * p[x] - 2.0 * kappa * f * nb + f2 + lam * (f2 - 1.0) * (f2 - 1.0);
    }
    return h;
}

int main(int argc, char **argv) {
    if (argc < 8) { fprintf(stderr, "usage: %s D L n_traj n_steps tau kappa lambda [md_only]\n", argv[0]); return 2; }
    int D = atoi(argv[1]), L = atoi(argv[2]), n_traj = atoi(argv[3]), n_steps = atoi(argv[4]);
    double tau = atof(argv[5]), kappa = atof(argv[6]), lam = atof(argv[7]), dt = tau / n_steps;
    int md_only = argc > 8 && atoi(argv[8]);
    int V = 1; for (int i = 0; i < D; i++) V *= L;
    int32_t *fwd = malloc(sizeof(int32_t) * V * D), *bwd = malloc(sizeof(int32_t) * V * D);
    for (int x = 0; x < V; x++) {
        int stride = 1;
        for (int mu = D - 1; mu >= 0; mu--) {  /* C order: last coordinate fastest */
            int c = (x / stride) % L;
            fwd[x * D + mu] = x + (((c + 1) % L) - c) * stride;
            bwd[x * D + mu] = x + (((c + L - 1) % L) - c) * stride;
            stride *= L;
        }
    }
    double *phi = malloc(sizeof(double) * V), *old = malloc(sizeof(double) * V), *p = malloc(sizeof(double) * V);
    for (int x = 0; x < V; x++) phi[x] = 2.0 * uniform() - 1.0;
    long accepted = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int t = 0; t < n_traj; t++) {
        gaussians(p, V);
        if (md_only) {
            kick(phi, p, fwd, bwd, V, D, kappa, lam, 0.5 * dt);
            for (int i = 0; i < n_steps; i++) {
                drift(phi, p, V, dt);
                kick(phi, p, fwd, bwd, V, D, kappa, lam, i < n_steps - 1 ? dt : 0.5 * dt);
            }
            continue;
        }
        memcpy(old, phi, sizeof(double) * V);
        double h0 = hamiltonian(phi, p, fwd, V, D, kappa, lam);
        kick(phi, p, fwd, bwd, V, D, kappa, lam, 0.5 * dt);
        for (int i = 0; i < n_steps; i++) {
            drift(phi, p, V, dt);
            kick(phi, p, fwd, bwd, V, D, kappa, lam, i < n_steps - 1 ? dt : 0.5 * dt);
        }
        double dh = hamiltonian(phi, p, fwd, V, D, kappa, lam) - h0;
        if (uniform() < exp(-dh)) accepted++; else memcpy(phi, old, sizeof(double) * V);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sec = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    printf("%.6f %.0f %.4f\n", sec, (double)V * (n_steps + 1) * n_traj, md_only ? NAN : (double)accepted / n_traj);
    return 0;
}
