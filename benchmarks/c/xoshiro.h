/* The random numbers of the C reference programs: xoshiro256+ uniforms in (0, 1) and Box-Muller Gaussians. */
#ifndef LAWFUL_BENCH_XOSHIRO_H
#define LAWFUL_BENCH_XOSHIRO_H
#include <math.h>
#include <stdint.h>

static uint64_t s[4] = {0x9E3779B97F4A7C15ULL, 0xBF58476D1CE4E5B9ULL, 0x94D049BB133111EBULL, 0x2545F4914F6CDD1DULL};
static inline uint64_t rotl(const uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static inline double uniform(void) {
    const uint64_t r = s[0] + s[3], t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45);
    return ((r >> 11) + 0.5) * 0x1.0p-53;
}
static void gaussians(double *p, int n) {
    for (int i = 0; i < n; i += 2) {
        double r = sqrt(-2.0 * log(uniform())), a = 2.0 * M_PI * uniform();
        p[i] = r * cos(a);
        if (i + 1 < n) p[i + 1] = r * sin(a);
    }
}
#endif
