// Exact products of matrix product operators (MPO x MPO and MPO x MPS).
#include "tt_detail.hpp"

namespace tnfast {
namespace tt {

template <class T>
Cores<T> mpo_compose(const Cores<T>& a, const std::vector<Index>& a_rows, const std::vector<Index>& a_cols,
                     const Cores<T>& b, const std::vector<Index>& b_cols) {
  check_cores(a, "a");
  check_cores(b, "b");
  const size_t n = a.size();
  if (b.size() != n)
    throw invalid_argument("compose: the operands have different numbers of sites (" + std::to_string(n) + " vs " +
                           std::to_string(b.size()) + ")");
  if (a_rows.size() != n || a_cols.size() != n || b_cols.size() != n)
    throw invalid_argument("compose: one mode size per site is required");
  Cores<T> out(n);
  Mat<T> Ap, Bp, Z;
  for (size_t k = 0; k < n; ++k) {
    const Core3<T>& A = a[k];
    const Core3<T>& B = b[k];
    const Index I = a_rows[k], M = a_cols[k], J = b_cols[k];
    if (I < 1 || M < 1 || J < 1) throw invalid_argument("compose: mode sizes must be >= 1");
    if (A.d != I * M)
      throw invalid_argument("a[" + std::to_string(k) + "]: physical size " + std::to_string(A.d) +
                             " is not rows*cols = " + std::to_string(I * M));
    if (B.d != M * J)
      throw invalid_argument("b[" + std::to_string(k) + "]: its row size does not match the column size " +
                             std::to_string(M) + " of a at site " + std::to_string(k));
    const Index ra = A.rl, ra2 = A.rr, rb = B.rl, rb2 = B.rr;
    // Ap: row-major (a, i, a') x m, i.e. col-major M x (ra I ra').
    Ap.resize(M, ra * I * ra2);
    for (Index x = 0; x < ra; ++x)
      for (Index i = 0; i < I; ++i)
        for (Index y = 0; y < ra2; ++y) {
          const Index col = (x * I + i) * ra2 + y;
          for (Index m = 0; m < M; ++m) Ap(m, col) = A(x, i * M + m, y);
        }
    // Bp: row-major m x (b, j, b'), i.e. col-major (rb J rb') x M.
    Bp.resize(rb * J * rb2, M);
    for (Index u = 0; u < rb; ++u)
      for (Index m = 0; m < M; ++m)
        for (Index j = 0; j < J; ++j)
          for (Index v = 0; v < rb2; ++v) Bp((u * J + j) * rb2 + v, m) = B(u, m * J + j, v);
    // Z = Bp Ap: col-major (rb J rb') x (ra I ra') = row-major T[(a,i,a'), (b,j,b')].
    Z.resize(rb * J * rb2, ra * I * ra2);
    linalg::gemm<T>('N', 'N', T(1), Bp, Ap, T(0), Z);
    Core3<T> C(ra * rb, I * J, ra2 * rb2);
    for (Index x = 0; x < ra; ++x)
      for (Index i = 0; i < I; ++i)
        for (Index y = 0; y < ra2; ++y) {
          const T* zc = Z.data() + ((x * I + i) * ra2 + y) * (rb * J * rb2);
          for (Index u = 0; u < rb; ++u)
            for (Index j = 0; j < J; ++j) {
              T* dst = &C(x * rb + u, i * J + j, y * rb2);
              const T* src = zc + (u * J + j) * rb2;
              for (Index v = 0; v < rb2; ++v) dst[v] = src[v];
            }
        }
    out[k] = std::move(C);
  }
  return out;
}

template <class T>
Cores<T> mpo_apply(const Cores<T>& a, const std::vector<Index>& rows, const std::vector<Index>& cols,
                   const Cores<T>& x) {
  check_cores(x, "x");
  if (x.size() != a.size())
    throw invalid_argument("apply: the operator has " + std::to_string(a.size()) + " sites, the state " +
                           std::to_string(x.size()));
  for (size_t k = 0; k < x.size() && k < cols.size(); ++k)
    if (x[k].d != cols[k])
      throw invalid_argument("apply: the state's dimension " + std::to_string(x[k].d) + " at site " +
                             std::to_string(k) + " differs from the operator's column size " + std::to_string(cols[k]));
  return mpo_compose(a, rows, cols, x, std::vector<Index>(x.size(), 1));
}

#define TNFAST_INST(T)                                                                                       \
  template Cores<T> mpo_compose<T>(const Cores<T>&, const std::vector<Index>&, const std::vector<Index>&,    \
                                   const Cores<T>&, const std::vector<Index>&);                              \
  template Cores<T> mpo_apply<T>(const Cores<T>&, const std::vector<Index>&, const std::vector<Index>&,      \
                                 const Cores<T>&);
TNFAST_INST(float)
TNFAST_INST(double)
TNFAST_INST(cfloat)
TNFAST_INST(cdouble)
#undef TNFAST_INST

}  // namespace tt
}  // namespace tnfast
