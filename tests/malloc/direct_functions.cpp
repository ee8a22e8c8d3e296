// The preload library's functions (malloc_functions over the default malloc heap) under names of
// their own, so a program can call them beside the C library's malloc: that is how the
// sanitizer builds test them, since a preloaded malloc and a sanitizer's allocator cannot both
// be the process malloc. cross_thread_stress.c is compiled against these names for that test.
#include <alloc/malloc_override.hpp>

#include "../../tools/malloc/default_heap.hpp"

namespace {
using functions = alloy::malloc_functions<alloy::malloc_heap>;
}

extern "C" {
void* alloy_direct_malloc(std::size_t n) { return functions::malloc(n); }
void alloy_direct_free(void* p) { functions::free(p); }
void* alloy_direct_realloc(void* p, std::size_t n) { return functions::realloc(p, n); }
void* alloy_direct_memalign(std::size_t align, std::size_t n) { return functions::memalign(align, n); }
}
