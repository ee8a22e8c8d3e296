// expect: two policies on one axis
#include <alloc/alloy.hpp>
struct my_threads : alloy::policy::single_thread {};
alloy::allocator<alloy::policy::single_thread, my_threads> heap;
