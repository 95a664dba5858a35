/*
 * Which BLAS kernels OpenBLAS picked, against what the CPU can run. OpenBLAS
 * built with DYNAMIC_ARCH (Debian's) chooses its kernels from the CPU model;
 * on a model it does not know (Debian's 0.3.21 on recent Xeons) it falls back
 * to its generic "Prescott" kernels without a word: dgemm ran 5.8 times
 * slower than with OPENBLAS_CORETYPE=SkylakeX on the development machines.
 * sj_init says so in one line, with the fix (docs/tuning.md).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rt_private.h"

/* OpenBLAS's own report; absent (NULL) when another BLAS is linked. */
extern char *openblas_get_corename(void) __attribute__((weak));

/* How wide the vector kernels of a level are: 1 SSE, 2 AVX, 3 AVX2+FMA, 4 AVX-512. */
static const struct {
    const char *core;
    int level;
} cores[] = {
    {"prescott", 1},    {"core2", 1},   {"penryn", 1},     {"dunnington", 1}, {"nehalem", 1},
    {"atom", 1},        {"katmai", 1},  {"coppermine", 1}, {"northwood", 1},  {"banias", 1},
    {"sandybridge", 2}, {"haswell", 3}, {"skylakex", 4},   {"cooperlake", 4}, {"sapphirerapids", 4},
};

/* The OpenBLAS core type that uses what the CPU has, per level. */
static const char *const best_core[] = {NULL, NULL, "Sandybridge", "Haswell", "SkylakeX"};

static int level_of_core(const char *core)
{
    char lower[32];
    size_t i = 0;
    for (; core[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)tolower((unsigned char)core[i]);
    lower[i] = '\0';
    for (size_t k = 0; k < sizeof cores / sizeof cores[0]; k++)
        if (strcmp(lower, cores[k].core) == 0)
            return cores[k].level;
    return 0; /* another family (Zen, ...): tuned by OpenBLAS for its own CPUs */
}

static int level_of_cpu(void)
{
    const char *test = getenv("SJ_TEST_CPU_LEVEL"); /* tests: pretend another CPU */
    if (test && *test)
        return atoi(test);
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        return 4;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return 3;
    if (__builtin_cpu_supports("avx"))
        return 2;
    return 1;
#else
    return 0;
#endif
}

const char *sj__rt_blas_core(void)
{
    const char *test = getenv("SJ_TEST_BLAS_CORE"); /* tests: pretend OpenBLAS picked this */
    if (test && *test)
        return test;
    return openblas_get_corename ? openblas_get_corename() : NULL;
}

int sj__rt_blas_advice(char *line, size_t size)
{
    const char *core = sj__rt_blas_core();
    const char *chosen = getenv("OPENBLAS_CORETYPE");
    if (!core || (chosen && *chosen))
        return 0; /* not OpenBLAS, or the user chose the kernels */
    const int have = level_of_core(core), can = level_of_cpu();
    if (have == 0 || can <= have || can >= (int)(sizeof best_core / sizeof best_core[0]))
        return 0;
    static const char *const what[] = {"", "SSE", "AVX", "AVX2 and FMA", "AVX-512"};
    snprintf(line, size,
             "OpenBLAS runs its '%s' kernels on this CPU, which has %s: dense operators and "
             "BLAS calls may run several times slower than they could; set "
             "OPENBLAS_CORETYPE=%s before the program starts (docs/tuning.md)",
             core, what[can], best_core[can]);
    return 1;
}
