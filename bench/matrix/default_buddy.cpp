#include "default_matrix.hpp"

namespace alloy::bench::defaults {
void add_buddy(registry& r) { slice<P::buddy>::add_to(r); }
}  // namespace alloy::bench::defaults
