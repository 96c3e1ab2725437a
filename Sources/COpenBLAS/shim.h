// OpenBLAS through pkg-config `openblas` (Debian: libopenblas-dev).
#include <cblas.h>
