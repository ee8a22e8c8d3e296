#include "default_matrix.hpp"

namespace alloy::bench::defaults {
template <>
void add_part<1>(registry& r) {
  add_slices_of_part<1>(r);
}
}  // namespace alloy::bench::defaults
