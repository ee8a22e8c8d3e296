#include "default_matrix.hpp"

namespace alloy::bench::defaults {
void add_tlsf(registry& r) { slice<P::tlsf>::add_to(r); }
}  // namespace alloy::bench::defaults
