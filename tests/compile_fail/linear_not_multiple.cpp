// expect: Max must be a positive multiple of Step
// follow-on errors: the policy asserts its own parameters, then fails its axis concept (not yet one message)
#include <alloc/alloy.hpp>
alloy::allocator<alloy::policy::linear_classes<16, 1000>> heap;
