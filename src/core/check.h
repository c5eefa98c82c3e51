#pragma once
// Invariant checks. TP_CHECK is always on; TP_DCHECK only in debug builds.
#include <cstdio>
#include <cstdlib>

#define TP_CHECK(cond)                                                              \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

#ifdef NDEBUG
#define TP_DCHECK(cond) \
  do {                  \
  } while (0)
#else
#define TP_DCHECK(cond) TP_CHECK(cond)
#endif
