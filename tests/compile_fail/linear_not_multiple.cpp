// expect: Max must be a positive multiple of Step
#include <alloc/alloy.hpp>
alloy::allocator<alloy::policy::linear_classes<16, 1000>> heap;
