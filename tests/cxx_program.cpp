// The public headers used from C++ (issue: a host code written in C++ embeds
// starjets): every header through the umbrella, a leaf operator whose class is
// written in C++, arrays, a blocking reduction and an SPMD run, checked on every
// rank. Built with the C++ compiler by tests/CMakeLists.txt, run on 1 and 2 ranks.
#include <cmath>
#include <cstdio>
#include <vector>

#include <starjets.h>

namespace
{

int failures = 0;

void expect(bool ok, const char *what)
{
    if (!ok) {
        std::fprintf(stderr, "cxx_program: %s (%s)\n", what, sj_last_error());
        failures++;
    }
}

// y = 3 x, forward and adjoint.
int triple(const sj_op_info_t *info, void *out, const void *in)
{
    const double *x = static_cast<const double *>(in);
    double *y = static_cast<double *>(out);
    for (int64_t i = 0; i < info->dom_n; i++)
        y[i] = 3.0 * x[i];
    return 0;
}

int count_ranks(sj_spmd_context_t context, void *arg)
{
    int *n = static_cast<int *>(arg);
    *n = sj_spmd_size(context);
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    if (sj_init(&argc, &argv, nullptr) != SJ_OK) {
        std::fprintf(stderr, "cxx_program: sj_init failed: %s\n", sj_last_error());
        return 1;
    }
    const int64_t n = 64;
    const int nb = 1;
    sj_space_t s = nullptr;
    expect(sj_space_create(SJ_FLOAT64, 1, &n, &nb, &s) == SJ_OK, "sj_space_create");
    sj_op_class_t cls = {};
    cls.name = "triple";
    cls.forward = triple;
    cls.adjoint = triple;
    sj_op_t A = nullptr;
    expect(sj_op_create(&cls, s, s, 0, nullptr, 0, nullptr, 0, &A) == SJ_OK, "sj_op_create");
    sj_array_t x = nullptr, y = nullptr;
    expect(sj_array_filled(s, nullptr, 2.0, &x) == SJ_OK, "sj_array_filled");
    expect(sj_array_zeros(s, nullptr, &y) == SJ_OK, "sj_array_zeros");
    expect(sj_op_apply(A, x, y) == SJ_OK, "sj_op_apply");
    double sum = 0;
    expect(sj_array_sum(y, &sum) == SJ_OK && sum == 6.0 * n, "sum of 3 x");
    std::vector<double> all(static_cast<size_t>(n));
    expect(sj_array_allgather(y, all.data()) == SJ_OK && all[5] == 6.0, "sj_array_allgather");
    int ranks = 0;
    expect(sj_spmd_run(nullptr, count_ranks, &ranks) == SJ_OK && ranks == sj_nranks(),
           "sj_spmd_run");
    expect(sj_array_destroy(&x) == SJ_OK && sj_array_destroy(&y) == SJ_OK, "destroy arrays");
    expect(sj_op_destroy(&A) == SJ_OK && sj_space_destroy(&s) == SJ_OK, "destroy op, space");
    const int me = sj_rank();
    expect(sj_finalize() == SJ_OK, "sj_finalize");
    if (me == 0)
        std::printf("cxx_program: %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
