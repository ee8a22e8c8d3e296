// expect: the scan recognises a free block by its encoded link
#include <alloc/alloy.hpp>
#include <policy/hardening.hpp>
namespace P = alloy::policy;
alloy::allocator<P::hardened::with<P::double_free_scan>> heap;
