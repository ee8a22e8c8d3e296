// expect: randomized_placement cannot apply to this search policy
// segregated_fit shuffles its classes' fresh batches, but a large heap (here tlsf) places by size.
#include <alloc/alloy.hpp>
#include <policy/all.hpp>
namespace P = alloy::policy;
alloy::allocator<P::segregated_fit::with<0, P::tlsf>, P::hardened::with<P::randomized_placement>> heap;
