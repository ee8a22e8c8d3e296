// expect: names an axis Alloy does not have
#include <alloc/alloy.hpp>
struct colour {};
struct red { using axis = colour; };
alloy::allocator<red> heap;
