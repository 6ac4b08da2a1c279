/* Reference C implementation of 2D U(1) HMC (Wilson action) with the leapfrog integrator, for
 * benchmarks/u1_hmc.py.
 *
 * Same layout as lawful.lattice.u1.kernels: links theta[mu * V + x], sites in C order (x = x0 * L + x1),
 * int32 neighbour tables, plaquette P(x) = th0(x) + th1(x + 0) - th0(x + 1) - th1(x), S = -beta sum cos P, and
 * the same kick (one sine per plaquette, then F0(x) = -beta [s(x) - s(x - 1)], F1(x) = -beta [s(x - 0) - s(x)]).
 * Gaussian momenta from xoshiro256+ with Box-Muller. Links are wrapped into (-pi, pi] after each trajectory.
 * Usage: u1_hmc L n_traj n_steps traj_length beta [md_only]
 * Prints: seconds link_force_evaluations acceptance
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xoshiro.h"

static void kick(const double *th, double *p, double *sines, const int32_t *fwd, const int32_t *bwd, int V,
                 double beta, double eps) {
    for (int x = 0; x < V; x++)
        sines[x] = sin(th[x] + th[V + fwd[2 * x]] - th[fwd[2 * x + 1]] - th[V + x]);
    double b = beta * eps;
    for (int x = 0; x < V; x++) {
        double sx = sines[x];
        p[x] -= b * (sx - sines[bwd[2 * x + 1]]);
        p[V + x] -= b * (sines[bwd[2 * x]] - sx);
    }
}
static void drift(double *th, const double *p, int n, double eps) {
    for (int i = 0; i < n; i++) th[i] += eps * p[i];
}
static double hamiltonian(const double *th, const double *p, const int32_t *fwd, int V, double beta) {
    double h = 0.0;
    for (int x = 0; x < V; x++) h -= beta * cos(th[x] + th[V + fwd[2 * x]] - th[fwd[2 * x + 1]] - th[V + x]);
    for (int i = 0; i < 2 * V; i++) h += 0.5 * p[i] * p[i];
    return h;
}

int main(int argc, char **argv) {
    if (argc < 6) { fprintf(stderr, "usage: %s L n_traj n_steps tau beta [md_only]\n", argv[0]); return 2; }
    int L = atoi(argv[1]), n_traj = atoi(argv[2]), n_steps = atoi(argv[3]);
    double tau = atof(argv[4]), beta = atof(argv[5]), dt = tau / n_steps;
    int md_only = argc > 6 && atoi(argv[6]);
    int V = L * L, n = 2 * V;
    int32_t *fwd = malloc(sizeof(int32_t) * 2 * V), *bwd = malloc(sizeof(int32_t) * 2 * V);
    for (int x0 = 0; x0 < L; x0++)
        for (int x1 = 0; x1 < L; x1++) {
            int x = x0 * L + x1;
            fwd[2 * x] = ((x0 + 1) % L) * L + x1;
            fwd[2 * x + 1] = x0 * L + (x1 + 1) % L;
            bwd[2 * x] = ((x0 + L - 1) % L) * L + x1;
            bwd[2 * x + 1] = x0 * L + (x1 + L - 1) % L;
        }
    double *th = malloc(sizeof(double) * n), *old = malloc(sizeof(double) * n), *p = malloc(sizeof(double) * n);
    double *sines = malloc(sizeof(double) * V);
    for (int i = 0; i < n; i++) th[i] = M_PI * (2.0 * uniform() - 1.0);
    long accepted = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int t = 0; t < n_traj; t++) {
        gaussians(p, n);
        if (!md_only) memcpy(old, th, sizeof(double) * n);
        double h0 = md_only ? 0.0 : hamiltonian(th, p, fwd, V, beta);
        kick(th, p, sines, fwd, bwd, V, beta, 0.5 * dt);
        for (int i = 0; i < n_steps; i++) {
            drift(th, p, n, dt);
            kick(th, p, sines, fwd, bwd, V, beta, i < n_steps - 1 ? dt : 0.5 * dt);
        }
        if (md_only) continue;
        double dh = hamiltonian(th, p, fwd, V, beta) - h0;
        if (uniform() < exp(-dh)) accepted++; else memcpy(th, old, sizeof(double) * n);
        for (int i = 0; i < n; i++) th[i] -= 2.0 * M_PI * ceil((th[i] - M_PI) / (2.0 * M_PI));
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sec = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    printf("%.6f %.0f %.4f\n", sec, (double)n * (n_steps + 1) * n_traj, md_only ? NAN : (double)accepted / n_traj);
    return 0;
}
