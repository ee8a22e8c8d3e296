// expect: Min must not exceed Max
#include <alloc/alloy.hpp>
alloy::allocator<alloy::policy::pow2_classes<256, 8>> heap;
