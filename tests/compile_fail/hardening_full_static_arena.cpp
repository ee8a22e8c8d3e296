// expect: guard pages need a memory source that maps whole pages
#include <alloc/alloy.hpp>
#include <policy/hardening.hpp>
namespace P = alloy::policy;
alloy::allocator<P::static_arena<65536>, P::hardened> heap;
