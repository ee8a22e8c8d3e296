// The default matrix's groups 3, 8, 13, ... (default_matrix.hpp deals them out).
#include "default_matrix.hpp"

namespace alloy::bench::defaults {
template <>
void add_part<3>(registry& r, std::size_t index) {
  add_groups_of_part<3>(r, index);
}
}  // namespace alloy::bench::defaults
