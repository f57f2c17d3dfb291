// libi2c (i2c-tools 4.x) and the kernel's i2c-dev interface: ioctl numbers and structs
// come from the kernel headers, never typed by hand. libi2c has no pkg-config file, so the
// module map links it by name.
#include <linux/types.h>
#include <sys/ioctl.h>
#include <linux/i2c.h>
#include <linux/i2c-dev.h>
#include <i2c/smbus.h>
