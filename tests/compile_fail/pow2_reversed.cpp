// expect: Min must not exceed Max
// follow-on errors: the policy asserts its own parameters, then fails its axis concept (not yet one message)
#include <alloc/alloy.hpp>
alloy::allocator<alloy::policy::pow2_classes<256, 8>> heap;
