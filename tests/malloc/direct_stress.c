/* cross_thread_stress.c against the preload library's functions called by names of their own
 * (direct_functions.cpp), so sanitizer builds, where no malloc can be preloaded, test them. */
#define malloc alloy_direct_malloc
#define free alloy_direct_free
#define realloc alloy_direct_realloc
#define memalign alloy_direct_memalign
#include "cross_thread_stress.c"
