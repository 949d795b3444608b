#include "CVKBSocket.h"
