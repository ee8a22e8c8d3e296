// expect: every argument must be a mitigation
#include <alloc/alloy.hpp>
#include <policy/hardening.hpp>
namespace P = alloy::policy;
alloy::allocator<P::hardened::with<P::encoded_links, P::stats>> heap;
