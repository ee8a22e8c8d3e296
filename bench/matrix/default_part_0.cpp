#include "default_matrix.hpp"

namespace alloy::bench::defaults {
template <>
void add_part<0>(registry& r) {
  add_slices_of_part<0>(r);
}
}  // namespace alloy::bench::defaults
