// Contraction of an MPS classifier with a batch of embedded inputs, forward and backward.
//
// The chain has N cores G_0 .. G_{N-1} of shapes (r_k, d_k, r_{k+1}), r_0 = r_N = 1.  Either all
// of them are input sites (no output site; N = n inputs, one output value per sample), or the
// core at `out_position` = c (0 <= c <= n, N = n + 1) is an output site of dimension C and the
// others are input sites.  Input j (0-based, j = k for k < c and j = k - 1 for k > c) of sample b
// is the feature vector F[b, j, :] (features of shape (batch, n, d), C order), and
//     out[b, y] = G_0[F_0] ... G_{c-1}[F_{c-1}] G_c[:, y, :] G_{c+1}[F_c] ... G_{N-1}[F_{n-1}],
// with G_k[F] = sum_p F[p] G_k[:, p, :].
//
// The forward pass keeps one environment per bond: the left environments L_0 .. L_c (products of
// the cores left of bond e) and the right ones R_{c+1} .. R_N (products of the cores right of bond
// e); without an output site every environment is a left one.  It also keeps the features
// transposed to the layout of the environments.  The backward pass takes them back and returns
// the gradient of every core for a given gradient of the output; the features get no gradient.
//
// Work is vectorized over samples: environments are stored (rows, padded batch) with the samples
// fastest, each site costs one small product of the core with the site's (environment x feature)
// rows, and the batch is cut into chunks spread over the core's threads.  Each chunk runs the
// whole chain in one pass, site by site.
#pragma once

#include <vector>

#include "tnfast/common.hpp"

namespace tnfast {
namespace mps {

struct CoreShape {
  Index rl, d, rr;
};

// A validated chain: shapes, output site and batch, and where each environment lives.
struct Chain {
  std::vector<CoreShape> shapes;  // N cores
  Index n_inputs = 0;             // n
  Index d = 0;                    // feature dimension of every input site
  Index out_position = -1;        // c, or -1 without an output site
  Index classes = 1;              // C (1 without an output site)
  Index batch = 0;                // B
  Index padded_batch = 0;         // B rounded up to a multiple of kBatchPad
  Index row_stride = 0;           // padded_batch + kRowSkew: distance of the rows of the saved buffer
  std::vector<Index> env_offset;  // N + 1 offsets into the saved buffer, one per environment
  Index feature_offset = 0;       // offset of the features, saved as (n d, padded batch)
  Index env_size = 0;             // values of the saved buffer (environments and features)

  Index num_cores() const { return Index(shapes.size()); }
  bool has_output() const { return out_position >= 0; }
  // The boundary between the left and the right part: c, or N without an output site.
  Index split() const { return has_output() ? out_position : num_cores(); }
};

// Environments are stored with this many samples per row at least (a multiple of every vector width).
constexpr Index kBatchPad = 64;
// Extra values between rows, so that the rows a kernel streams through at once do not all fall into
// the same cache sets (a row of 512 doubles is 4 KiB long).
constexpr Index kRowSkew = 16;

// Checks the shapes against each other and against the features (batch, n_inputs, d); throws
// invalid_argument with a message naming `cores`, `features` or `out_position` otherwise.
// out_position = -1: no output site.
Chain make_chain(const std::vector<CoreShape>& shapes, Index out_position, Index batch, Index n_inputs, Index d);

// out: batch x C (C order).  envs: chain.env_size values, kept for backward.  features: batch x n x d.
// num_threads <= 0: the hardware's threads (at most 8); small problems run on one thread.
template <class T>
void forward(const Chain& chain, const std::vector<const T*>& cores, const T* features, T* out, T* envs,
             int num_threads);

// envs: as left by forward.  grad_out: batch x C.  grads[k]: the gradient of core k (its shape, C
// order; overwritten).
template <class T>
void backward(const Chain& chain, const std::vector<const T*>& cores, const T* envs, const T* grad_out,
              const std::vector<T*>& grads, int num_threads);

}  // namespace mps
}  // namespace tnfast
