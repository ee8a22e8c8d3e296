// expect: randomized_placement cannot apply to first_fit
#include <alloc/alloy.hpp>
#include <policy/hardening.hpp>
namespace P = alloy::policy;
alloy::allocator<P::first_fit, P::hardened> heap;
