// Applying a matrix product operator to a batch of vectors, forward and backward, as used by
// MPO layers (y = x W^T with W held as MPO cores).
//
// The operator is given as G "groups" (runs of merged MPO cores), group g being a core of shape
// (Da_g, I_g, J_g, Db_g) (Da_0 = Db_{G-1} = 1, Db_g = Da_{g+1}) held as the row-major matrix
//     M_g[(i, b), (a, j)] = core[a, i, j, b]        of shape (I_g Db_g) x (Da_g J_g).
// x is (batch, J_0 ... J_{G-1}) and y is (batch, I_0 ... I_{G-1}), C order.
//
// The batch is cut into chunks small enough for the intermediate states of a chunk to stay in
// cache; chunks are spread over threads.  Within a chunk the state before group g is stored as
// (I_<g, Da_g J_g, J_>g b) with the chunk's samples fastest, so every step is a plain product
// M_g @ state[a] with no transposition.  The backward pass recomputes a chunk's states (keeping
// nothing between the passes but x) and accumulates the gradients of every M_g.
#pragma once

#include <vector>

#include "tnfast/common.hpp"

namespace tnfast {
namespace mpo {

struct GroupShape {
  Index da, i, j, db;
};

// Throws invalid_argument unless the shapes chain (Db_g = Da_{g+1}, Da_0 = Db_last = 1, all >= 1).
void check_groups(const std::vector<GroupShape>& shapes);

// y (batch x prod I) = x (batch x prod J) applied through the groups.  num_threads <= 0: automatic.
template <class T>
void sweep_forward(const T* x, Index batch, const std::vector<const T*>& mats, const std::vector<GroupShape>& shapes,
                   T* y, int num_threads);

// Gradients for gy = dL/dy: dx (batch x prod J; skipped when null) and dmats[g] (same shape as
// M_g; overwritten).
template <class T>
void sweep_backward(const T* x, Index batch, const std::vector<const T*>& mats,
                    const std::vector<GroupShape>& shapes, const T* gy, T* dx, const std::vector<T*>& dmats,
                    int num_threads);

// The chunk size (samples) the sweeps use for these shapes; exposed for tests and benchmarks.
Index chunk_size(const std::vector<GroupShape>& shapes, Index batch, int threads, bool backward);

}  // namespace mpo
}  // namespace tnfast
