// expect: two policies on one axis
#include <alloc/alloy.hpp>
alloy::allocator<alloy::policy::segregated_fit, alloy::policy::segregated_fit::with<4096>> heap;
