// The default matrix's groups 0, 5, 10, ... (default_matrix.hpp deals them out).
#include "default_matrix.hpp"

namespace alloy::bench::defaults {
template <>
void add_part<0>(registry& r, std::size_t index) {
  add_groups_of_part<0>(r, index);
}
}  // namespace alloy::bench::defaults
