#include "default_matrix.hpp"

namespace alloy::bench::defaults {
void add_strong(registry& r) {
  strong::add_to(r);
  preload_design::add_to(r);
}
}  // namespace alloy::bench::defaults
