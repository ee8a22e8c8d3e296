// A user's own type, made into a malloc library with alloy_add_malloc_library (README).
#pragma once
#include <alloc/allocator.hpp>
#include <policy/all.hpp>

using my_heap = alloy::allocator<alloy::policy::tlsf, alloy::policy::thread_local_cache>;
