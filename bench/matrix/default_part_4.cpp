// The default matrix's groups 4, 9, 14, ... (default_matrix.hpp deals them out).
#include "default_matrix.hpp"

namespace alloy::bench::defaults {
template <>
void add_part<4>(registry& r, std::size_t index) {
  add_groups_of_part<4>(r, index);
}
}  // namespace alloy::bench::defaults
