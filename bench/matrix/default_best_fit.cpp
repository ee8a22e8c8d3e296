#include "default_matrix.hpp"

namespace alloy::bench::defaults {
void add_best_fit(registry& r) { slice<P::best_fit>::add_to(r); }
}  // namespace alloy::bench::defaults
