// expect: N must be at least alignof\(void\*\)
// follow-on errors: the policy asserts its own parameters, then fails its axis concept (not yet one message)
#include <alloc/alloy.hpp>
alloy::allocator<alloy::policy::align<4>> heap;
