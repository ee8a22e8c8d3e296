// expect: Bytes must be a positive multiple of 1024
#include <alloc/alloy.hpp>
alloy::allocator<alloy::policy::static_arena<1000>> heap;
