// libserialport 0.1.x (sigrok).
#include <libserialport.h>
