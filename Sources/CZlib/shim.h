// zlib inflate/deflate for gzip'd data sets and compressed NPZ members (Debian: zlib1g-dev).
#include <zlib.h>
