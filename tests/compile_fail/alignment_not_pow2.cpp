// expect: align<N>: N must be a power of two
// follow-on errors: the policy asserts its own parameters, then fails its axis concept (not yet one message)
#include <alloc/alloy.hpp>
alloy::allocator<alloy::policy::align<24>> heap;
