// The default matrix's groups 2, 7, 12, ... (default_matrix.hpp deals them out).
#include "default_matrix.hpp"

namespace alloy::bench::defaults {
template <>
void add_part<2>(registry& r, std::size_t index) {
  add_groups_of_part<2>(r, index);
}
}  // namespace alloy::bench::defaults
