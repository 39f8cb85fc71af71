// Environments of a batch for DMRG-like training of an MPO layer y = x W^T, and the gradient of
// one core from them.
//
// The weight is an MPO with cores (Da, I, J, Db) (I an output mode, J an input mode).  Around a
// local core at position p:
//   * the left environment of the batch is the input contracted with the cores left of p,
//       left[b, P, a, Jt]     (P = product of their output modes, a = the bond into core p,
//                              Jt = the input modes not yet contracted, J_p slowest);
//     moving right by one site contracts it with one core (advance_left);
//   * the right environment is the merge of the cores right of p,
//       right[c, Iq, Jq]      (c = the bond out of core p, Iq / Jq their output / input modes);
//     moving left by one site merges one more core into it (extend_right);
//   * the gradient of the loss with respect to core p is
//       G[a, i, j, c] = sum_{b, P, Iq, Jq} left[b, P, a, (j, Jq)] * gy[b, (P, i, Iq)] * right[c, Iq, Jq]
//     with gy = dL/dy (local_gradient).
// Every array is row-major (C order).  The batch is cut into chunks spread over threads; the long
// loops stop on a cancellation request (tnfast/cancel.hpp).
#pragma once

#include "tnfast/common.hpp"

namespace tnfast {
namespace sweep_env {

// A core (da, i, j, db).
struct CoreShape {
  Index da, i, j, db;
};

// A left environment (batch, p, a, jt).
struct LeftShape {
  Index batch, p, a, jt;
};

// A right environment (c, iq, jq); the empty environment right of the last core is (1, 1, 1) with
// the value 1.
struct RightShape {
  Index c, iq, jq;
};

// out (batch, p * i, db, jt / j) = left (batch, p, da, jt) contracted with core (da, i, j, db).
// Throws invalid_argument unless left.a == core.da and core.j divides left.jt.
template <class T>
void advance_left(const T* left, const LeftShape& ls, const T* core, const CoreShape& cs, T* out, int num_threads);

// out (da, i * iq, j * jq) = core (da, i, j, db) merged with right (db, iq, jq).
// Throws invalid_argument unless core.db == right.c.
template <class T>
void extend_right(const T* core, const CoreShape& cs, const T* right, const RightShape& rs, T* out);

// grad (da, i, j, db) of the core at the local position from left (batch, p, da, j * jq),
// gy (batch, p * i * iq) and right (db, iq, jq) (right may be null at the last position: then
// db = iq = jq = 1).  Throws invalid_argument when the shapes do not chain.
template <class T>
void local_gradient(const T* left, const LeftShape& ls, const T* gy, const T* right, const RightShape& rs,
                    const CoreShape& cs, T* grad, int num_threads);

// Number of threads `num_threads` asks for (<= 0: the hardware's).
int resolve_threads(int num_threads);

}  // namespace sweep_env
}  // namespace tnfast
