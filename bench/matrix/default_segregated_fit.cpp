#include "default_matrix.hpp"

namespace alloy::bench::defaults {
void add_segregated_fit(registry& r) { slice<P::segregated_fit>::add_to(r); }
}  // namespace alloy::bench::defaults
