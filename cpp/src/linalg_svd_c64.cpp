// Thin SVD for one scalar type (cfloat); the template is in linalg_svd.hpp.  One type a translation
// unit: Eigen's SVDs are the heaviest code of the core to compile, and separate units build in parallel.
#include "linalg_svd.hpp"

namespace tnfast {
namespace linalg {
template void svd<cfloat>(const CMatRef<cfloat>&, Mat<cfloat>&, Vec<real_t<cfloat>>&, Mat<cfloat>&);
}  // namespace linalg
}  // namespace tnfast
