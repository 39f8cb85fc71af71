// Thin SVD for one scalar type (cdouble); the template is in linalg_svd.hpp.  One type a translation
// unit: Eigen's SVDs are the heaviest code of the core to compile, and separate units build in parallel.
#include "linalg_svd.hpp"

namespace tnfast {
namespace linalg {
template void svd<cdouble>(const CMatRef<cdouble>&, Mat<cdouble>&, Vec<real_t<cdouble>>&, Mat<cdouble>&);
}  // namespace linalg
}  // namespace tnfast
