// expect: Min and S must be powers of two
// follow-on errors: the policy asserts its own parameters, then fails its axis concept (not yet one message)
#include <alloc/alloy.hpp>
alloy::allocator<alloy::policy::geometric_classes<16, 4096, 3>> heap;
