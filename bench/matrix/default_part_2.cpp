#include "default_matrix.hpp"

namespace alloy::bench::defaults {
template <>
void add_part<2>(registry& r) {
  add_slices_of_part<2>(r);
}
}  // namespace alloy::bench::defaults
