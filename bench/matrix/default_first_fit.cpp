#include "default_matrix.hpp"

namespace alloy::bench::defaults {
void add_first_fit(registry& r) { slice<P::first_fit>::add_to(r); }
}  // namespace alloy::bench::defaults
