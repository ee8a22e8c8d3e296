// expect: encoded_links in a thread cache need the heap's link codec
#include <alloc/alloy.hpp>
#include <policy/all.hpp>
namespace P = alloy::policy;
alloy::allocator<P::tlsf, P::thread_local_cache, P::hardened::with<P::encoded_links>> heap;
