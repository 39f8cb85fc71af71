// Thin SVD for one scalar type (double); the template is in linalg_svd.hpp.  One type a translation
// unit: Eigen's SVDs are the heaviest code of the core to compile, and separate units build in parallel.
#include "linalg_svd.hpp"

namespace tnfast {
namespace linalg {
template void svd<double>(const CMatRef<double>&, Mat<double>&, Vec<real_t<double>>&, Mat<double>&);
}  // namespace linalg
}  // namespace tnfast
