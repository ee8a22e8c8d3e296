// expect: align<N>: N must be a power of two
#include <alloc/alloy.hpp>
alloy::allocator<alloy::policy::align<24>> heap;
