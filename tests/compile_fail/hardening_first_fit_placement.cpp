// expect: randomized_placement cannot apply to this search policy: buddy
#include <alloc/alloy.hpp>
#include <policy/hardening.hpp>
namespace P = alloy::policy;
alloy::allocator<P::first_fit, P::hardened> heap;
