// The control case (no "expect" line): a correct composition must compile, or the harness
// itself is broken and every other case here would pass for the wrong reason.
#include <alloc/alloy.hpp>
alloy::allocator<alloy::policy::segregated_fit, alloy::policy::pow2_classes<8, 256>> heap;
