#include "default_matrix.hpp"

namespace alloy::bench::defaults {
void add_next_fit(registry& r) { slice<P::next_fit>::add_to(r); }
}  // namespace alloy::bench::defaults
