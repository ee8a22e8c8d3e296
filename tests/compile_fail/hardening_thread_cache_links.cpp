// expect: encoded_links and double_free_check cannot guard the blocks a thread cache
#include <alloc/alloy.hpp>
#include <policy/all.hpp>
namespace P = alloy::policy;
alloy::allocator<P::thread_local_cache, P::hardened::with<P::encoded_links>> heap;
