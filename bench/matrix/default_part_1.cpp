// The default matrix's groups 1, 6, 11, ... (default_matrix.hpp deals them out).
#include "default_matrix.hpp"

namespace alloy::bench::defaults {
template <>
void add_part<1>(registry& r, std::size_t index) {
  add_groups_of_part<1>(r, index);
}
}  // namespace alloy::bench::defaults
