// Thin SVD for one scalar type (float); the template is in linalg_svd.hpp.  One type a translation
// unit: Eigen's SVDs are the heaviest code of the core to compile, and separate units build in parallel.
#include "linalg_svd.hpp"

namespace tnfast {
namespace linalg {
template void svd<float>(const CMatRef<float>&, Mat<float>&, Vec<real_t<float>>&, Mat<float>&);
}  // namespace linalg
}  // namespace tnfast
