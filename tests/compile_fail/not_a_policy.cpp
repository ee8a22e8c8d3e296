// expect: an argument is not an Alloy policy
#include <alloc/alloy.hpp>
alloy::allocator<int, alloy::policy::segregated_fit> heap;
