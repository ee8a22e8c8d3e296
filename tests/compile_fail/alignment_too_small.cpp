// expect: N must be at least alignof\(void\*\)
#include <alloc/alloy.hpp>
alloy::allocator<alloy::policy::align<4>> heap;
