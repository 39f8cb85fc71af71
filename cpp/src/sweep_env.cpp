// Environments of a batch and the one-core gradient for sweep training (see tnfast/sweep_env.hpp).
#include "tnfast/sweep_env.hpp"

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "tnfast/cancel.hpp"
#include "tnfast/linalg.hpp"
#include "tnfast/parallel.hpp"

namespace tnfast {
namespace sweep_env {
namespace {

// Working set aimed at per task (elements of the gathered buffers).
constexpr Index kChunkElems = Index(1) << 18;

std::string dims(std::initializer_list<Index> d) {
  std::string s = "(";
  bool first = true;
  for (Index v : d) {
    s += (first ? "" : ", ") + std::to_string(v);
    first = false;
  }
  return s + ")";
}

void check_positive(std::initializer_list<Index> d, const char* what) {
  for (Index v : d)
    if (v < 1) throw invalid_argument(std::string(what) + ": every dimension must be >= 1, got " + dims(d));
}

void check_left(const LeftShape& ls, const CoreShape& cs) {
  if (ls.batch < 0) throw invalid_argument("left: negative batch size");
  check_positive({ls.p, ls.a, ls.jt}, "left");
  check_positive({cs.da, cs.i, cs.j, cs.db}, "core");
  if (ls.a != cs.da)
    throw invalid_argument("left: its bond " + std::to_string(ls.a) + " does not match the core's left bond " +
                           std::to_string(cs.da) + " (core " + dims({cs.da, cs.i, cs.j, cs.db}) + ")");
  if (ls.jt % cs.j != 0)
    throw invalid_argument("left: its " + std::to_string(ls.jt) + " open input indices are not a multiple of the " +
                           "core's input mode " + std::to_string(cs.j));
}

// Samples per task so that `per_sample` elements of buffers stay near kChunkElems.
Index chunk_of(Index batch, Index per_sample, int threads) {
  Index c = std::max<Index>(1, kChunkElems / std::max<Index>(per_sample, 1));
  // enough tasks to keep the threads busy
  const Index want = (batch + 4 * threads - 1) / (4 * Index(threads));
  if (threads > 1) c = std::min(c, std::max<Index>(want, 1));
  return std::min(c, std::max<Index>(batch, 1));
}

// Row-major C (m x n) = A (m x k) * op(B) + beta C, with B row-major (k x n), or (n x k) when
// `bt` (then op(B) = B^T).  Through linalg::gemm (the registered BLAS for large products).
template <class T>
void rm_gemm(const T* A, const T* B, T* C, Index m, Index n, Index k, bool bt, T beta) {
  Eigen::Map<const Mat<T>> At(A, k, m);  // A^T, column-major
  Eigen::Map<Mat<T>> Ct(C, n, m);        // C^T
  if (bt) {
    Eigen::Map<const Mat<T>> Bc(B, k, n);  // B^T
    linalg::gemm<T>('T', 'N', T(1), Bc, At, beta, Ct);
  } else {
    Eigen::Map<const Mat<T>> Bt(B, n, k);
    linalg::gemm<T>('N', 'N', T(1), Bt, At, beta, Ct);
  }
}

}  // namespace

int resolve_threads(int num_threads) {
  if (num_threads > 0) return num_threads;
  return int(std::min(std::max(std::thread::hardware_concurrency(), 1u), 8u));
}

template <class T>
void advance_left(const T* left, const LeftShape& ls, const T* core, const CoreShape& cs, T* out, int num_threads) {
  check_left(ls, cs);
  const Index A = cs.da, I = cs.i, J = cs.j, C = cs.db;
  const Index R = ls.jt / J;  // open input indices after this core
  const Index AJ = A * J, IC = I * C;
  const Index rows = ls.batch * ls.p;  // (b, p) blocks
  if (rows == 0) return;
  // M[(i, c), (a, j)] = core[a, i, j, c]
  RowMat<T> M(IC, AJ);
  for (Index a = 0; a < A; ++a)
    for (Index i = 0; i < I; ++i)
      for (Index j = 0; j < J; ++j)
        for (Index c = 0; c < C; ++c) M(i * C + c, a * J + j) = core[((a * I + i) * J + j) * C + c];
  const int threads = resolve_threads(num_threads);
  const Index per_block = AJ * R + IC * R;
  const Index chunk = chunk_of(rows, per_block, threads);
  const Index ntasks = (rows + chunk - 1) / chunk;
  parallel::for_each_task(ntasks, threads, [&](Index t, int) {
    const Index r0 = t * chunk, r1 = std::min(rows, r0 + chunk), m = r1 - r0;
    if (R == 1) {
      // the blocks are rows: out (m, IC) = S (m, AJ) M^T
      rm_gemm<T>(left + r0 * AJ, M.data(), out + r0 * IC, m, IC, AJ, true, T(0));
      return;
    }
    // gather the blocks side by side, one product, scatter back
    RowMat<T> Sg(AJ, m * R), Og(IC, m * R);
    for (Index q = 0; q < m; ++q)
      Sg.middleCols(q * R, R) = Eigen::Map<const RowMat<T>>(left + (r0 + q) * AJ * R, AJ, R);
    rm_gemm<T>(M.data(), Sg.data(), Og.data(), IC, m * R, AJ, false, T(0));
    for (Index q = 0; q < m; ++q)
      Eigen::Map<RowMat<T>>(out + (r0 + q) * IC * R, IC, R) = Og.middleCols(q * R, R);
  });
  cancel::check();
}

template <class T>
void extend_right(const T* core, const CoreShape& cs, const T* right, const RightShape& rs, T* out) {
  check_positive({cs.da, cs.i, cs.j, cs.db}, "core");
  check_positive({rs.c, rs.iq, rs.jq}, "right");
  if (cs.db != rs.c)
    throw invalid_argument("right: its bond " + std::to_string(rs.c) + " does not match the core's right bond " +
                           std::to_string(cs.db) + " (core " + dims({cs.da, cs.i, cs.j, cs.db}) + ")");
  const Index A = cs.da, I = cs.i, J = cs.j, C = cs.db, Q = rs.iq, S = rs.jq;
  // tmp[(a, i, j), (q, s)] = sum_c core[(a, i, j), c] right[c, (q, s)]
  Eigen::Map<const RowMat<T>> K(core, A * I * J, C);
  Eigen::Map<const RowMat<T>> Rm(right, C, Q * S);
  RowMat<T> tmp(A * I * J, Q * S);
  tmp.noalias() = K * Rm;
  // out[a, (i, q), (j, s)]
  for (Index a = 0; a < A; ++a)
    for (Index i = 0; i < I; ++i)
      for (Index q = 0; q < Q; ++q)
        for (Index j = 0; j < J; ++j) {
          const T* src = tmp.data() + ((a * I + i) * J + j) * Q * S + q * S;
          T* dst = out + (((a * I + i) * Q + q) * J + j) * S;
          std::copy(src, src + S, dst);
        }
}

template <class T>
void local_gradient(const T* left, const LeftShape& ls, const T* gy, const T* right, const RightShape& rs_in,
                    const CoreShape& cs, T* grad, int num_threads) {
  check_left(ls, cs);
  const RightShape rs = right ? rs_in : RightShape{1, 1, 1};
  check_positive({rs.c, rs.iq, rs.jq}, "right");
  if (rs.c != cs.db)
    throw invalid_argument("right: its bond " + std::to_string(rs.c) + " does not match the core's right bond " +
                           std::to_string(cs.db));
  if (ls.jt != cs.j * rs.jq)
    throw invalid_argument("left: its " + std::to_string(ls.jt) + " open input indices do not match the core's " +
                           "input mode times the right environment's, " + std::to_string(cs.j) + " * " +
                           std::to_string(rs.jq));
  const Index A = cs.da, I = cs.i, J = cs.j, C = cs.db, Q = rs.iq, S = rs.jq, P = ls.p;
  const Index AJ = A * J, IC = I * C;
  const Index out_cols = P * I * Q;
  // Rp[q, (c, s)] = right[c, q, s]
  RowMat<T> Rp(Q, C * S);
  if (right) {
    for (Index c = 0; c < C; ++c)
      for (Index q = 0; q < Q; ++q)
        for (Index s = 0; s < S; ++s) Rp(q, c * S + s) = right[(c * Q + q) * S + s];
  } else {
    Rp.setOnes();
  }
  const int threads = resolve_threads(num_threads);
  const Index per_sample = P * (AJ * S + 2 * IC * S);
  const Index chunk = chunk_of(ls.batch, per_sample, threads);
  const Index ntasks = ls.batch == 0 ? 0 : (ls.batch + chunk - 1) / chunk;
  std::vector<RowMat<T>> acc(size_t(threads), RowMat<T>::Zero(AJ, IC));
  parallel::for_each_task(ntasks, threads, [&](Index t, int th) {
    const Index b0 = t * chunk, b1 = std::min(ls.batch, b0 + chunk), m = b1 - b0;
    const Index cols = m * P * S;
    // Lg[(a, j), (b, p, s)] = left[b, p, a, j, s];  Ug[(i, c), (b, p, s)] = U[b, p, i, c, s]
    RowMat<T> Lg(AJ, cols), Ug(IC, cols), U(m * P * I, C * S);
    // U[(b, p, i), (c, s)] = sum_q gy[(b, p, i), q] Rp[q, (c, s)]: one product for the chunk
    rm_gemm<T>(gy + b0 * out_cols, Rp.data(), U.data(), m * P * I, C * S, Q, false, T(0));
    for (Index b = b0; b < b1; ++b)
      for (Index p = 0; p < P; ++p) {
        const Index col = ((b - b0) * P + p) * S;
        Lg.middleCols(col, S) = Eigen::Map<const RowMat<T>>(left + ((b * P + p) * AJ) * S, AJ, S);
        Ug.middleCols(col, S) = Eigen::Map<const RowMat<T>>(U.data() + ((b - b0) * P + p) * I * C * S, IC, S);
      }
    rm_gemm<T>(Lg.data(), Ug.data(), acc[size_t(th)].data(), AJ, IC, cols, true, T(1));
  });
  cancel::check();
  RowMat<T> total = RowMat<T>::Zero(AJ, IC);
  for (const auto& a : acc) total += a;
  // grad[a, i, j, c] = total[(a, j), (i, c)]
  for (Index a = 0; a < A; ++a)
    for (Index i = 0; i < I; ++i)
      for (Index j = 0; j < J; ++j)
        for (Index c = 0; c < C; ++c) grad[((a * I + i) * J + j) * C + c] = total(a * J + j, i * C + c);
}

template void advance_left<float>(const float*, const LeftShape&, const float*, const CoreShape&, float*, int);
template void advance_left<double>(const double*, const LeftShape&, const double*, const CoreShape&, double*, int);
template void extend_right<float>(const float*, const CoreShape&, const float*, const RightShape&, float*);
template void extend_right<double>(const double*, const CoreShape&, const double*, const RightShape&, double*);
template void local_gradient<float>(const float*, const LeftShape&, const float*, const float*, const RightShape&,
                                    const CoreShape&, float*, int);
template void local_gradient<double>(const double*, const LeftShape&, const double*, const double*,
                                     const RightShape&, const CoreShape&, double*, int);

}  // namespace sweep_env
}  // namespace tnfast
