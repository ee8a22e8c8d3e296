// expect: randomized_placement cannot apply to this search policy: buddy
#include <alloc/alloy.hpp>
#include <policy/hardening.hpp>
namespace P = alloy::policy;
alloy::allocator<P::buddy, P::hardened::with<P::randomized_placement>> heap;
