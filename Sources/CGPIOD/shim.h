// libgpiod: v1 (1.6, Debian 12, Raspberry Pi OS bookworm) by default; the LibgpiodV2
// package trait selects the v2 API of the same header (libgpiod 2.x, Debian 13).
#include <gpiod.h>
