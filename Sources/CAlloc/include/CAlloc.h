// The allocation counter of vigil-node (alloc.c): malloc and friends are interposed so that every
// byte the process allocates is counted, as Redis's zmalloc counts used_memory. The accessors are
// declared in CSystem.h (with weak fallbacks there, for binaries that do not link this target).
#ifndef VIGIL_CALLOC_H
#define VIGIL_CALLOC_H
#endif
