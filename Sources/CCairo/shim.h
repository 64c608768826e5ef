// Cairo 2D drawing with PDF and PNG surfaces (Debian: libcairo2-dev).
#include <cairo.h>
#include <cairo-pdf.h>
