// expect: Min and S must be powers of two
#include <alloc/alloy.hpp>
alloy::allocator<alloy::policy::geometric_classes<16, 4096, 3>> heap;
